from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import token_views, views  # noqa: E402,F401

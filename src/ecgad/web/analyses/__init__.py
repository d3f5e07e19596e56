from flask import Blueprint

bp = Blueprint("analyses", __name__)

from . import views  # noqa: E402,F401

from flask import Blueprint

bp = Blueprint("monitor", __name__)

from . import views  # noqa: E402,F401

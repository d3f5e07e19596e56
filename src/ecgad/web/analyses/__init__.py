from flask import Blueprint

bp = Blueprint("analyses", __name__)

from . import beat_views, recording_views, review_views, views  # noqa: E402,F401

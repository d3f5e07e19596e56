"""The beat table of an analysis page, for beat files and recordings alike: filter, sort,
paginate, and links that keep the page's state."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, request, url_for
from sqlalchemy import func, select

from ..extensions import db
from ..models import Analysis
from ..util import ID_MAX, Page, page_arg

FILTERS = ("all", "anomalies")


def sorts(model) -> dict[str, tuple]:
    """Sort keys of the table (``-`` for descending), ties broken by position."""
    return {"number": (model.position,), "-number": (model.position.desc(),),
            "score": (model.score, model.position), "-score": (model.score.desc(), model.position),
            "confidence": (model.confidence, model.position),
            "-confidence": (model.confidence.desc(), model.position)}


def beat_at(model, analysis: Analysis, number: int):
    """Beat ``number`` (counted from 1) of the analysis; 404 when there is none."""
    if not 1 <= number <= ID_MAX:  # larger numbers would overflow the database's integers
        abort(404)
    beat = db.session.scalar(select(model).where(model.analysis_id == analysis.id, model.position == number - 1))
    if beat is None:
        abort(404)
    return beat


def selected_beat(model, analysis: Analysis):
    """The beat asked for with ``?beat=N`` (404 when there is none), else the highest-scoring one."""
    number = request.args.get("beat", type=int)
    if number is not None:
        return beat_at(model, analysis, number)
    return db.session.scalar(select(model).where(model.analysis_id == analysis.id)
                             .order_by(model.score.desc(), model.position).limit(1))


@dataclass
class Listing:
    beats: list
    page: Page
    only: str
    sort: str
    link: Callable[..., str]


def list_beats(model, analysis: Analysis, selected, per_page: int, default_only: str = "all") -> Listing:
    """One page of the analysis's beats as ``?only=``, ``?sort=`` and ``?page=`` ask."""
    only = request.args.get("only", default_only)
    only = only if only in FILTERS else default_only
    order = sorts(model)
    sort = request.args.get("sort", "number")
    sort = sort if sort in order else "number"
    query = select(model).where(model.analysis_id == analysis.id)
    if only == "anomalies":
        query = query.where(model.is_anomaly.is_(True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = Page.make(page_arg(), per_page, total)
    beats = db.session.scalars(query.order_by(*order[sort]).limit(page.per_page).offset(page.offset)).all()
    state = {"only": only if only != default_only else None, "sort": sort if sort != "number" else None,
             "beat": selected.number if selected else None, "page": page.number if page.number > 1 else None}

    def link(**changes) -> str:
        """This page's URL with some of its state changed (None drops a parameter)."""
        args = {k: v for k, v in {**state, **changes}.items() if v is not None}
        return url_for("analyses.show", analysis_id=analysis.id, **args)

    return Listing(beats, page, only, sort, link)

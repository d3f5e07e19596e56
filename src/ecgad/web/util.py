"""Small helpers for views."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from flask import Request as FlaskRequest
from flask import request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

ID_MAX = 2**31 - 1  # ids are 32-bit integers in PostgreSQL (SQLite allows 64 bits): larger ones exist nowhere


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` in every route: values above ``ID_MAX`` match no route (404) instead of
    overflowing the database driver (500)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def safe_next(target: str | None) -> str | None:
    """A redirect target only when it stays on this site (a path, no scheme or host) and can go
    into a Location header (no control characters: a CR or LF there would be a 5xx, or worse)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if not target.isprintable():
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def page_arg(name: str = "page") -> int:
    try:
        return max(1, int(request.args.get(name, "1")))
    except ValueError:
        return 1


class Request(FlaskRequest):
    """Flask's request, refusing a multipart body with a nameless part (``Content-Disposition: ;;;``):
    Werkzeug files it under the key None, which Flask-WTF and the views do not expect."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        if None in self.form or None in self.files:
            raise BadRequest("A part of the form has no name.")


def page_url(endpoint: str, number: int) -> str:
    """This page's URL at page ``number``, keeping its query. Arguments named like url_for's own
    (``_method``, ``_external``...) or like the route's are dropped: they would change or break the link."""
    args = {k: v for k, v in request.args.items() if not k.startswith("_") and k not in (request.view_args or {})}
    return url_for(endpoint, **{**args, **(request.view_args or {}), "page": number})


@dataclass
class Page:
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @classmethod
    def make(cls, number: int, per_page: int, total: int) -> Page:
        page = cls(number, per_page, total)
        page.number = min(max(1, number), page.pages)
        return page


def script_json(text: str) -> str:
    """JSON text made safe to place inside a <script type="application/json"> block."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def age(birth: date, on: date) -> str:
    """A person's age on ``on``, as a clinician writes it: years, or months under two years."""
    months = (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day)
    if months < 0:
        return "born later"
    if months < 24:
        return f"{months} month{'s' * (months != 1)}"
    return f"{months // 12} years"

"""A Python client of ecgad's REST API (``/api/v1``), on the standard library alone (urllib): a
program that only talks to a server needs neither torch nor Flask, nor any other package.

    from ecgad.client import Client, NotFound

    api = Client("http://127.0.0.1:8000", token)
    patient = api.create_patient("Ann Example", "MRN-001", sex="female")
    analysis = api.create_analysis(patient["id"], files=["100.hea", "100.dat", "100.atr"])
    page = api.get_analysis(analysis["id"], page=2, per_page=1000)

Every method returns the response's JSON as plain dicts and lists (``None`` for 204). An error
answer raises ``ApiError`` (a subclass per common status: ``NotFound``, ``ValidationFailed``...)
carrying the problem+json's ``status``, ``title``, ``detail``, ``type`` and ``errors``; no answer
at all (refused connection, reset, time-out) raises ``ConnectionFailed``, and then whether a write
took effect is unknown.
"""
from __future__ import annotations

import json
import mimetypes
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from http.client import HTTPException
from pathlib import Path
from typing import Any

API_PREFIX = "/api/v1"
CHUNK = 1 << 20  # bytes read from a file at a time while uploading it


class ApiError(Exception):
    """The server answered with an error: its problem+json (RFC 9457) as attributes.

    ``errors`` (field -> messages) is there when the input did not validate; ``body`` is the whole
    parsed answer (or its text, when it was not JSON); ``headers`` the response's headers."""

    def __init__(self, status: int, title: str, detail: str, type: str = "about:blank",
                 errors: dict | None = None, body: Any = None, headers: Mapping[str, str] | None = None):
        super().__init__(f"{status} {title}: {detail}")
        self.status, self.title, self.detail, self.type = status, title, detail, type
        self.errors = errors or {}
        self.body = body
        self.headers = dict(headers or {})


class BadRequest(ApiError):
    """400: the body is not readable JSON."""


class Unauthorized(ApiError):
    """401: no token, or one unknown, revoked, expired, or of a deactivated account."""


class Forbidden(ApiError):
    """403: the token's user may see this but not change it."""


class NotFound(ApiError):
    """404: nothing there, or not visible to the token's user."""


class MethodNotAllowed(ApiError):
    """405."""


class Conflict(ApiError):
    """409: such as a medical record number the doctor already has."""


class PayloadTooLarge(ApiError):
    """413: the body is over the server's limit; nothing was stored."""


class UnsupportedMediaType(ApiError):
    """415."""


class ValidationFailed(ApiError):
    """422: invalid input; ``errors`` says what is wrong with each field. Nothing was stored."""


class RateLimited(ApiError):
    """429: too many requests; ``retry_after`` is the seconds to wait (``None`` when not said)."""

    @property
    def retry_after(self) -> float | None:
        value = {k.lower(): v for k, v in self.headers.items()}.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


class ServerError(ApiError):
    """5xx: a fault on the server's side."""


class ServiceUnavailable(ServerError):
    """503: such as a model missing on the server."""


ERRORS: dict[int, type[ApiError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed, 409: Conflict,
    413: PayloadTooLarge, 415: UnsupportedMediaType, 422: ValidationFailed, 429: RateLimited, 503: ServiceUnavailable,
}


class ConnectionFailed(ConnectionError):
    """No answer from the server (refused, reset, timed out): a write may or may not have happened."""


def error_for(status: int, body: Any, headers: Mapping[str, str], reason: str = "") -> ApiError:
    """The ``ApiError`` subclass for ``status``, filled from a problem+json ``body`` (or from what there is)."""
    cls = ERRORS.get(status) or (ServerError if status >= 500 else ApiError)
    if isinstance(body, dict) and "status" in body:
        return cls(status, str(body.get("title") or reason), str(body.get("detail") or ""),
                   str(body.get("type") or "about:blank"), body.get("errors"), body, headers)
    text = body if isinstance(body, str) else json.dumps(body)
    return cls(status, reason or f"Error {status}", (text or "").strip()[:500], "about:blank", None, body, headers)


FileSpec = str | os.PathLike | tuple[str, bytes]


def _as_list(values: Any) -> list:
    """Lists from sequences or arrays (numpy's ``tolist``), without importing numpy."""
    return values.tolist() if hasattr(values, "tolist") else list(values)


class _Multipart:
    """A multipart/form-data body streamed from its files (a recording may be hundreds of MB)."""

    def __init__(self, fields: Sequence[tuple[str, str]], files: Sequence[tuple[str, FileSpec]]):
        self.boundary = "ecgad-" + secrets.token_hex(16)
        self.parts: list[bytes | Path] = []
        for name, value in fields:
            self.parts.append(self._head(name) + value.encode() + b"\r\n")
        for name, spec in files:
            if isinstance(spec, tuple):
                filename, content = spec
                self.parts += [self._head(name, filename), bytes(content), b"\r\n"]
            else:
                path = Path(spec)
                if not path.is_file():
                    raise FileNotFoundError(f"{path}: no such file")
                self.parts += [self._head(name, path.name), path, b"\r\n"]
        self.parts.append(f"--{self.boundary}--\r\n".encode())

    def _head(self, name: str, filename: str | None = None) -> bytes:
        quoted = name.replace('"', "%22")
        if filename is None:
            return f'--{self.boundary}\r\nContent-Disposition: form-data; name="{quoted}"\r\n\r\n'.encode()
        safe = filename.replace('"', "%22").replace("\r", " ").replace("\n", " ")
        kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return (f'--{self.boundary}\r\nContent-Disposition: form-data; name="{quoted}"; filename="{safe}"\r\n'
                f"Content-Type: {kind}\r\n\r\n").encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return sum(p.stat().st_size if isinstance(p, Path) else len(p) for p in self.parts)

    def __iter__(self) -> Iterator[bytes]:
        for part in self.parts:
            if isinstance(part, Path):
                with part.open("rb") as f:
                    while chunk := f.read(CHUNK):
                        yield chunk
            else:
                yield part


class Client:
    """ecgad's API at ``base_url`` (the server's root, such as ``http://127.0.0.1:8000``), acting as
    the user of ``token`` (``None``: only ``health`` works). ``timeout``: seconds to wait for an answer."""

    def __init__(self, base_url: str, token: str | None, *, timeout: float = 120.0):
        base = base_url.rstrip("/")
        if base.endswith(API_PREFIX):
            base = base[: -len(API_PREFIX)]
        scheme = urllib.parse.urlsplit(base).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an http:// or https:// address, not {base_url!r}")
        self.base_url = base
        self.token = token
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Client({self.base_url!r}, token={'...' if self.token else None})"

    # ------------------------------------------------------------------ transport
    def request(self, method: str, path: str, *, query: Mapping[str, Any] | None = None, json_body: Any = None,
                multipart: _Multipart | None = None, ok: Iterable[int] = ()) -> Any:
        """Send one request to ``/api/v1`` + ``path``; the answer's JSON, ``None`` for an empty answer.

        Statuses in ``ok`` are answers too (health's 503); other errors raise ``ApiError``."""
        url = self.base_url + API_PREFIX + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Accept": "application/json, application/problem+json", "User-Agent": "ecgad-client"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data: Any = None
        if json_body is not None:
            data = json.dumps(json_body, allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        elif multipart is not None:
            data = iter(multipart)
            headers["Content-Type"] = multipart.content_type
            headers["Content-Length"] = str(len(multipart))
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw, response_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            try:
                raw = exc.read()
            except (OSError, HTTPException):
                raw = b""
            status, response_headers = exc.code, exc.headers
            if status not in set(ok):
                raise error_for(status, _parse(raw, response_headers), dict(response_headers.items()),
                                exc.reason if isinstance(exc.reason, str) else "") from None
        except (urllib.error.URLError, OSError, HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise ConnectionFailed(f"{method} {url}: no answer from the server ({reason})") from exc
        return _parse(raw, response_headers) if status != 204 else None

    # ------------------------------------------------------------------ score, model, health
    def health(self) -> dict:
        """Liveness, the database and the models: ``{"status": "ok" | "degraded", ...}`` (no token needed)."""
        return self.request("GET", "/health", ok=(503,))

    def model(self) -> dict:
        """The beat and recording models: id, version, threshold, calibration, what they were trained on."""
        return self.request("GET", "/model")

    def score(self, beats: Iterable[Sequence[float]], *, detail: bool = False) -> dict:
        """Score ``beats`` (each a sequence of at least 16 samples; up to 10,000 beats); nothing is
        stored. ``detail``: each beat also gets its reconstruction and per-sample error."""
        return self.request("POST", "/score", query={"detail": 1} if detail else None,
                            json_body={"beats": [_as_list(b) for b in beats]})

    # ------------------------------------------------------------------ patients
    def list_patients(self, q: str = "", *, page: int = 1, per_page: int = 50) -> dict:
        """``{"items": [...], "page", "per_page", "total", "pages"}``: patients whose name or record
        number contains ``q`` (any case), by name."""
        return self.request("GET", "/patients", query={"q": q or None, "page": page, "per_page": per_page})

    def create_patient(self, name: str, identifier: str, *, birth_date: date | str | None = None,
                       sex: str = "unknown", notes: str = "") -> dict:
        """A new patient (doctors' tokens only); the stored patient with its ``id``.
        ``sex``: unknown, female, male or other; ``birth_date``: a date or YYYY-MM-DD."""
        return self.request("POST", "/patients", json_body={
            "name": name, "identifier": identifier, "birth_date": _iso(birth_date), "sex": sex, "notes": notes})

    def get_patient(self, patient_id: int) -> dict:
        return self.request("GET", f"/patients/{int(patient_id)}")

    def update_patient(self, patient_id: int, **changes: Any) -> dict:
        """Change the given fields (name, identifier, birth_date, sex, notes); the patient as stored."""
        if "birth_date" in changes:
            changes["birth_date"] = _iso(changes["birth_date"])
        return self.request("PATCH", f"/patients/{int(patient_id)}", json_body=changes)

    def delete_patient(self, patient_id: int) -> None:
        """Delete the patient with all its analyses."""
        self.request("DELETE", f"/patients/{int(patient_id)}")

    # ------------------------------------------------------------------ analyses
    def create_analysis(self, patient_id: int, beats: Iterable[Sequence[float]] | None = None, *,
                        filename: str | None = None, files: Sequence[FileSpec] | None = None,
                        fs: float | None = None, lead: str | int | None = None) -> dict:
        """Analyse and store, for the patient: either ``beats`` (as ``score`` takes them; ``filename``
        names the analysis) or a recording's ``files`` (paths, or ``(name, bytes)`` pairs: an EDF, a CSV
        or TSV, or a WFDB record's .hea with the signal files it names and optionally its .atr; ``fs`` in
        Hz for CSV/TSV without a time column; ``lead``: a name such as II or MLII, or a number from 0).
        Returns the stored analysis (``id``, ``created_at``, ``kind``, ``summary``, ``warnings``)."""
        path = f"/patients/{int(patient_id)}/analyses"
        if (beats is None) == (files is None):
            raise ValueError("give either beats or files")
        if beats is not None:
            if fs is not None or lead is not None:
                raise ValueError("fs and lead go with files, not beats")
            body: dict[str, Any] = {"beats": [_as_list(b) for b in beats]}
            if filename is not None:
                body["filename"] = filename
            return self.request("POST", path, json_body=body)
        if not files:
            raise ValueError("files is empty: give the recording's files")
        fields = [("fs", repr(float(fs)))] if fs is not None else []
        if lead is not None:
            fields.append(("lead", str(lead)))
        return self.request("POST", path, multipart=_Multipart(fields, [("files", f) for f in files]))

    def list_analyses(self, patient_id: int, *, page: int = 1, per_page: int = 50) -> dict:
        """``{"items": [...], "page", "per_page", "total", "pages"}``, newest first."""
        return self.request("GET", f"/patients/{int(patient_id)}/analyses",
                            query={"page": page, "per_page": per_page})

    def get_analysis(self, analysis_id: int, *, page: int | None = None, per_page: int | None = None) -> dict:
        """The analysis with ``beats`` (one entry per beat and its verdict): all of a beat analysis's; a
        recording's by page (``beats_page`` says which: ``page``, ``per_page``, ``total``, ``pages``)."""
        return self.request("GET", f"/analyses/{int(analysis_id)}", query={"page": page, "per_page": per_page})

    def timeline(self, analysis_id: int, start: float, end: float) -> dict:
        """A recording's signal (``signal``: x in s, y in mV) and beats between ``start`` and ``end``
        (seconds; clamped to the recording and the longest window); a null is a missing value."""
        return self.request("GET", f"/analyses/{int(analysis_id)}/timeline", query={"start": start, "end": end})

    def delete_analysis(self, analysis_id: int) -> None:
        self.request("DELETE", f"/analyses/{int(analysis_id)}")


def _iso(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def _parse(raw: bytes, headers) -> Any:
    """JSON when the answer says it is JSON (or problem+json), else its text."""
    if not raw:
        return None
    kind = (headers.get("Content-Type") or "").split(";")[0].strip().lower() if headers is not None else ""
    text = raw.decode("utf-8", errors="replace")
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text

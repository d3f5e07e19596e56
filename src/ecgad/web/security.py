"""Passwords (argon2id), security headers and permission helpers."""
from __future__ import annotations

from functools import wraps

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import Flask, abort, current_app, request
from flask_login import current_user

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
# zxcvbn's score (0-4): 3 is "safely unguessable" (about 10^8 guesses or more).
MIN_PASSWORD_SCORE = 3
_ZXCVBN_MAX = 72  # zxcvbn refuses longer input (and gets slow); the first 72 characters decide
_APP_WORDS = ("ecgad", "ecg", "heart", "heartbeat", "doctor", "patient", "admin")


class PasswordPolicyError(ValueError):
    pass


def check_password_policy(password: str, email: str | None = None, name: str | None = None) -> None:
    """Raise ``PasswordPolicyError`` with a message for people when a new password is unacceptable.

    The one place for the rules: length, not the email address, and not easy to guess according to
    zxcvbn (common passwords, repeats, sequences, keyboard patterns, the person's own name or address).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"The password must be at most {MAX_PASSWORD_LENGTH} characters long.")
    if email and password.strip().lower() == email.strip().lower():
        raise PasswordPolicyError("The password must not be the email address.")
    from zxcvbn import zxcvbn

    personal = [email or "", (email or "").partition("@")[0], *(name or "").split()]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=[w for w in personal if w] + list(_APP_WORDS))
    if result["score"] < MIN_PASSWORD_SCORE:
        feedback = result.get("feedback") or {}
        hints = " ".join(part for part in [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
                         if part)
        raise PasswordPolicyError("This password is too easy to guess: "
                                  + (hints or "a few unrelated words make a strong one."))


def hasher(app: Flask | None = None) -> PasswordHasher:
    """The argon2id hasher with this app's parameters (``ARGON2_*`` config)."""
    app = app or current_app
    cached = app.extensions.get("ecgad.hasher")
    if cached is None:
        cfg = app.config
        cached = PasswordHasher(time_cost=int(cfg["ARGON2_TIME_COST"]), memory_cost=int(cfg["ARGON2_MEMORY_COST"]),
                                parallelism=int(cfg["ARGON2_PARALLELISM"]), type=Type.ID)
        app.extensions["ecgad.hasher"] = cached
    return cached


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return hasher().check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


_DUMMY: dict[int, str] = {}


def burn_time(password: str) -> None:
    """Verify against a throw-away hash, so unknown accounts take as long as known ones."""
    h = hasher()
    key = id(h)
    if key not in _DUMMY:
        _DUMMY[key] = h.hash("not a real password, only for timing")
    verify_password(_DUMMY[key], password)


# ---------------------------------------------------------------- headers
# Served alike to everyone and changed only with the package: browsers may keep them (see main.views).
CACHED_ENDPOINTS = ("static", "main.vendor_plotly", "main.vendor_plotly_css", "main.vendor_plotly_injected_css")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Patient data must not linger in shared caches or the browser's history cache.
    if request.endpoint not in CACHED_ENDPOINTS:
        headers.setdefault("Cache-Control", "no-store")
    return response


# ---------------------------------------------------------------- permissions
def admin_required(view):
    """For views only admins may use: others get 403 (anonymous users go to the login page)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def doctor_required(view):
    """For views that change patients' records: doctors only (admins read, they do not treat)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if current_user.role != "doctor":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def client_ip() -> str | None:
    return (request.remote_addr or None) if request else None

"""Personal API tokens: create, list, revoke (account page and ``ecgad tokens``), and check one
that a request carries (``api/auth.py``).

A token is 32 random bytes (``secrets.token_urlsafe``) behind the ``ecgad_`` prefix; only its
SHA-256 is stored. A fast hash is right here and argon2 is not: argon2's cost protects guessable
secrets (passwords) against guessing, and nobody guesses 256 random bits, while a slow hash would
make every API request slow.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import audit
from .extensions import db
from .models import ApiToken, User, utcnow

PREFIX = "ecgad_"
MAX_NAME = 100
MAX_EXPIRY_DAYS = 3650
MAX_TOKEN_LENGTH = 200  # a longer Authorization value is no token of ours: refused before hashing
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often


class TokenError(ValueError):
    """Why a token cannot be created or revoked, for people."""


@dataclass(frozen=True)
class Refusal:
    """Why a presented token does not authenticate: ``reason`` for the audit log, ``token`` when known."""

    reason: str
    token: ApiToken | None = None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def create(user: User, name: str, expires_days: float | None = None, *, via: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``: ``(row, the token itself)``; the token is shown once and never stored.
    Audited and committed. Raises TokenError for a bad name or expiry."""
    name = (name or "").strip()
    if not name:
        raise TokenError("give the token a name, such as the program that will use it")
    if len(name) > MAX_NAME or not name.isprintable():
        raise TokenError(f"the name must be printable and at most {MAX_NAME} characters long")
    if expires_days is not None and not 0 < expires_days <= MAX_EXPIRY_DAYS:
        raise TokenError(f"the expiry must be between 1 and {MAX_EXPIRY_DAYS} days")
    if not user.is_active:
        raise TokenError(f"{user.email} is deactivated")
    token = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(user_id=user.id, name=name, token_hash=digest(token), prefix=token[:len(PREFIX) + 6],
                   created_at=now, expires_at=now + timedelta(days=expires_days) if expires_days else None)
    db.session.add(row)
    db.session.flush()
    audit.record("token.create", "token", row.id, f"name={name}; user={user.email}"
                 + (f"; expires {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else "; no expiry")
                 + (f"; via {via}" if via else ""), actor=user)
    db.session.commit()
    return row, token


def of_user(user: User) -> list[ApiToken]:
    """``user``'s tokens, newest first (revoked and expired ones too: they say what happened)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke(token: ApiToken, *, actor: User | None = None, via: str = "") -> bool:
    """Revoke ``token`` now (False: it was revoked already). Audited and committed."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    audit.record("token.revoke", "token", token.id, f"name={token.name}; user={token.user.email}"
                 + (f"; via {via}" if via else ""), actor=actor or token.user)
    db.session.commit()
    return True


def authenticate(presented: str) -> ApiToken | Refusal:
    """The token row if ``presented`` is a live token of an active user (``last_used_at`` touched),
    else a Refusal. Unknown, revoked, expired and deactivated all answer alike to the caller."""
    if not presented.startswith(PREFIX) or len(presented) > MAX_TOKEN_LENGTH:
        return Refusal("unknown token")
    # the user in the same query: every API request reads it (one round trip, not two)
    row = db.session.scalar(select(ApiToken).options(joinedload(ApiToken.user))
                            .where(ApiToken.token_hash == digest(presented)))
    if row is None:
        return Refusal("unknown token")
    now = utcnow()
    state = row.state(now)
    if state != "active":
        return Refusal(f"{state} token", row)
    if not row.user.is_active:
        return Refusal("deactivated account", row)
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
        db.session.commit()  # before the view: its own work commits (or rolls back) on its own
    return row

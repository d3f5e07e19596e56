"""``ecgad tokens``: personal API tokens (the same as the account page's)."""
from __future__ import annotations

import click

from .common import fail
from .users import _web_app

VIA = "ecgad tokens"


@click.group()
def tokens() -> None:
    """Manage API tokens (same environment as `ecgad serve`)."""


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@tokens.command("create")
@click.option("--email", required=True, help="The account the token acts as.")
@click.option("--name", required=True, help="What the token is for, such as the program that uses it.")
@click.option("--expires-days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Days until it expires (default: never).")
def tokens_create(email: str, name: str, expires_days: float | None) -> None:
    """Create a token; it is printed once, alone on the last line, and never shown again."""
    from ecgad.web.accounts import AccountError, find_user
    from ecgad.web.tokens import TokenError, create

    app = _web_app()
    with app.app_context():
        try:
            row, token = create(find_user(email), name, expires_days, via=f"{VIA} create")
        except (AccountError, TokenError) as exc:
            fail(str(exc).rstrip("."))
        click.echo(f"created token {row.id} ({row.name}) for {email.strip().lower()}, expires {_when(row.expires_at)}; "
                   "it is shown once, below:", err=True)
        click.echo(token)


@tokens.command("list")
@click.option("--email", required=True, help="The account whose tokens to list.")
def tokens_list(email: str) -> None:
    """List an account's tokens: id, name, state, created, last used, expires (tab-separated)."""
    from ecgad.web.accounts import AccountError, find_user
    from ecgad.web.models import utcnow
    from ecgad.web.tokens import of_user

    app = _web_app()
    with app.app_context():
        try:
            user = find_user(email)
        except AccountError as exc:
            fail(str(exc).rstrip("."))
        now = utcnow()
        click.echo("id\tname\tstate\tcreated\tlast used\texpires")
        for row in of_user(user):
            click.echo(f"{row.id}\t{row.name}\t{row.state(now)}\t{_when(row.created_at)}\t{_when(row.last_used_at)}\t"
                       f"{_when(row.expires_at)}")


@tokens.command("revoke")
@click.argument("token_id", type=click.IntRange(min=1, max=2**31 - 1))
def tokens_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID (its id from `ecgad tokens list`): it stops working at once."""
    from ecgad.web.extensions import db
    from ecgad.web.models import ApiToken
    from ecgad.web.tokens import revoke

    app = _web_app()
    with app.app_context():
        row = db.session.get(ApiToken, token_id)
        if row is None:
            fail(f"there is no token {token_id}")
        if revoke(row, via=f"{VIA} revoke"):
            click.echo(f"revoked token {row.id} ({row.name}) of {row.user.email}")
        else:
            click.echo(f"token {row.id} ({row.name}) is revoked already")

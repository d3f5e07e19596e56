"""``ecgad users``: manage the web app's accounts."""
from __future__ import annotations

import sys

import click

from .common import database_problem, fail


@click.group()
def users() -> None:
    """Manage web accounts (same environment as `ecgad serve`)."""


def _web_app():
    from sqlalchemy.exc import SQLAlchemyError

    from ecgad.web import create_app
    from ecgad.web.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(database_problem(exc))


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password (at least 10 characters, not easy to guess)", hide_input=True,
                        confirmation_prompt=True)


_password_stdin = click.option("--password-stdin", is_flag=True,
                               help="Read the password from the first line of standard input.")
_email = click.option("--email", required=True, help="The account's sign-in email address.")


@users.command("create")
@_email
@click.option("--role", required=True, type=click.Choice(["admin", "doctor"]), help="admin or doctor.")
@click.option("--name", default="", help="Name shown in the app.")
@_password_stdin
def users_create(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an account (prompts for the password unless --password-stdin)."""
    password = _read_password(password_stdin)
    from ecgad.web.accounts import AccountError, create_user

    app = _web_app()
    with app.app_context():
        try:
            user = create_user(email, password, role, name, via="ecgad users create")
        except AccountError as exc:
            fail(str(exc).rstrip("."))
        click.echo(f"created {user.role} account {user.email}")


def _change_account(email: str, change) -> None:
    """Run ``change(user)`` on the account named by ``email``, in the app; errors exit 2."""
    from ecgad.web.accounts import AccountError, find_user

    app = _web_app()
    with app.app_context():
        try:
            change(find_user(email))
        except AccountError as exc:
            fail(str(exc).rstrip("."))


@users.command("set-password")
@_email
@_password_stdin
def users_set_password(email: str, password_stdin: bool) -> None:
    """Give an account a new password; its sessions are signed out (audited)."""
    from ecgad.web.accounts import set_password

    password = _read_password(password_stdin)

    def change(user) -> None:
        set_password(user, password, via="ecgad users set-password")
        click.echo(f"new password set for {user.email}; their sessions are signed out")

    _change_account(email, change)


@users.command("deactivate")
@_email
def users_deactivate(email: str) -> None:
    """Sign an account out and stop it signing in (nothing is deleted; audited)."""
    from ecgad.web.accounts import deactivate

    def change(user) -> None:
        if deactivate(user, via="ecgad users deactivate"):
            click.echo(f"deactivated {user.email}; their sessions are signed out")
        else:
            click.echo(f"{user.email} is deactivated already")

    _change_account(email, change)


@users.command("reactivate")
@_email
def users_reactivate(email: str) -> None:
    """Let a deactivated account sign in again (audited)."""
    from ecgad.web.accounts import reactivate

    def change(user) -> None:
        click.echo(f"reactivated {user.email}" if reactivate(user, via="ecgad users reactivate")
                   else f"{user.email} is active already")

    _change_account(email, change)


@users.command("list")
def users_list() -> None:
    """List the accounts: email, role, status."""
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import User

    app = _web_app()
    with app.app_context():
        for user in db.session.scalars(select(User).order_by(User.role, User.email)):
            click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'deactivated'}\t{user.name}")

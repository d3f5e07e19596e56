"""The account page's API tokens: create (the token is shown once), list, revoke."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from .. import tokens
from ..extensions import db
from ..forms import ConfirmForm
from ..models import ApiToken, utcnow
from . import bp
from .forms import TokenForm


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    user = current_user._get_current_object()
    return render_template("auth/tokens.html", form=form, new_token=new_token, tokens=tokens.of_user(user),
                           now=utcnow(), revoke_form=ConfirmForm()), status


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            _row, token = tokens.create(current_user._get_current_object(), form.name.data, form.expires_days.data,
                                        via="account page")
        except tokens.TokenError as exc:
            db.session.rollback()
            form.name.errors.append(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        else:
            return _page(TokenForm(formdata=None), new_token=token)
    return _page(form, status=400 if form.is_submitted() else 200)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != current_user.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        tokens.revoke(row, via="account page")
        flash(f"Token {row.name} is revoked: it no longer works.", "success")
    return redirect(url_for("auth.api_tokens"))

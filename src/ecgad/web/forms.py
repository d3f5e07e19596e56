"""Forms shared by several blueprints."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


def looks_like_email(value: str) -> bool:
    local, _, domain = value.rpartition("@")
    return bool(local and domain and "." in domain.strip(".") and not any(c.isspace() for c in value))


def email_shape(form, field) -> None:
    if not looks_like_email((field.data or "").strip()):
        raise ValidationError("Enter an email address like name@example.org.")


def new_password_fields():
    password = PasswordField("New password", validators=[
        DataRequired(message="Enter a new password."),
        Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
               message=f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")],
        description=f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words make a good one.")
    confirm = PasswordField("Repeat the new password", validators=[
        DataRequired(message="Repeat the new password."),
        EqualTo("password", message="The two passwords differ.")])
    return password, confirm


class EmailField(StringField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data:
            self.data = self.data.strip().lower()

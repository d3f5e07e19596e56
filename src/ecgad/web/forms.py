"""Forms shared by several blueprints."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import BooleanField, FloatField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, ValidationError

from ecgad.data.formats import ACCEPTED

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


# the two upload forms: shown on the patient page (patients), read by the analyses views
class UploadForm(FlaskForm):
    file = FileField("ECG file", validators=[FileRequired(message="Choose a file to upload.")],
                     description="CSV, TSV, text or JSON: one beat per row, up to 20 MB and 10,000 beats.")
    labelled = BooleanField("First column is a label (UCR format, like the ECG5000 files)")


class RecordingForm(FlaskForm):
    files = MultipleFileField(
        "Recording files", validators=[FileRequired(message="Choose the recording's files to upload.")],
        description=f"{ACCEPTED} Up to 24 hours and 256 MB.")
    fs = FloatField("Sampling rate (Hz)", validators=[Optional(), NumberRange(min=100, max=20000,
                    message="The sampling rate must be between 100 and 20,000 Hz.")],
                    description="Only for CSV or TSV files without a time column.")
    lead = StringField("Lead", validators=[Optional(), Length(max=64)],
                       description="Name (such as II or MLII) or number, counted from 0. Default: lead II if present, "
                                   "else the first lead.")

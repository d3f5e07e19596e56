from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..models import SEXES

try:  # WTForms >= 3.3 wants SelectChoice; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice

    SEX_CHOICES = [SelectChoice(value, label) for value, label in SEXES]
except ImportError:  # pragma: no cover
    SEX_CHOICES = list(SEXES)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _plausible_birth_date(form, field) -> None:
    if field.data is None:
        return
    if field.data > date.today():
        raise ValidationError("The birth date is in the future.")
    if field.data < date(1900, 1, 1):
        raise ValidationError("The birth date is before 1900.")


class PatientForm(FlaskForm):
    name = StringField("Name", filters=[_strip], validators=[
        DataRequired(message="Enter the patient's name."), Length(max=200)])
    identifier = StringField("Medical record number", filters=[_strip], validators=[
        DataRequired(message="Enter the medical record number."), Length(max=64)],
        description="Unique among your patients.")
    birth_date = DateField("Birth date", validators=[Optional(), _plausible_birth_date],
                           description="Optional.")
    sex = SelectField("Sex", choices=SEX_CHOICES, default="unknown")
    notes = TextAreaField("Notes", filters=[_strip], validators=[Optional(), Length(max=5000)],
                          description="Optional, at most 5,000 characters.")

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..forms import EmailField, email_shape, new_password_fields


class UserCreateForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter an email address."), Length(max=254),
                                            email_shape])
    name = StringField("Name", validators=[Optional(), Length(max=120)], filters=[lambda v: v.strip() if v else v])
    password, confirm = new_password_fields()


class ResetPasswordForm(FlaskForm):
    password, confirm = new_password_fields()


class ReassignForm(FlaskForm):
    """Choices: the active doctors other than the patients' own (set by the view)."""
    target = SelectField("Move the patients to", coerce=int, validate_choice=True,
                         validators=[InputRequired(message="Choose the doctor who takes the patients over.")])

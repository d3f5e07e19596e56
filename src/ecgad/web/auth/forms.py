from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import EmailField, new_password_fields


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter your email address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password."),
                                                     Length(max=1024)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        DataRequired(message="Enter your current password."), Length(max=1024)])
    password, confirm = new_password_fields()


class TokenForm(FlaskForm):
    name = StringField("Name", filters=[lambda v: v.strip() if isinstance(v, str) else v], validators=[
        DataRequired(message="Name the token, such as the program that will use it."), Length(max=100)],
        description="What the token is for, such as the program that will use it.")
    expires_days = IntegerField("Expires after (days)", validators=[
        Optional(), NumberRange(min=1, max=3650, message="Between 1 and 3,650 days.")],
        description="Optional: leave empty for a token that does not expire.")

"""Sign-in form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    login = StringField(_l("登录名"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("记住我"))

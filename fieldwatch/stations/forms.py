"""The station form: place, kind, villages served, the five haves, dates and people."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from fieldwatch.stations.labels import FIVE_HAVES_LABELS, KIND_LABELS


class StationForm(FlaskForm):
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("类型"), choices=list(KIND_LABELS.items()))
    lon = FloatField(
        _l("经度"),
        validators=[InputRequired(_l("请在地图上点选位置")), NumberRange(-180, 180)],
    )
    lat = FloatField(
        _l("纬度"),
        validators=[InputRequired(_l("请在地图上点选位置")), NumberRange(-90, 90)],
    )
    address = StringField(_l("地址"), validators=[Optional(), Length(max=300)])
    village_code = SelectField(_l("所在村(社区)"), choices=[], validate_choice=False)
    serves = SelectMultipleField(
        _l("服务的村(社区)"), choices=[], validate_choice=False, render_kw={"size": 10}
    )
    venue = BooleanField(FIVE_HAVES_LABELS["venue"])
    signage = BooleanField(FIVE_HAVES_LABELS["signage"])
    rules = BooleanField(FIVE_HAVES_LABELS["rules"])
    activities = BooleanField(FIVE_HAVES_LABELS["activities"])
    results = BooleanField(FIVE_HAVES_LABELS["results"])
    established_on = DateField(_l("设立日期"), validators=[Optional()])
    closed_on = DateField(_l("关闭日期"), validators=[Optional()])
    convener = StringField(_l("召集人"), validators=[Optional(), Length(max=100)])
    member_ids = SelectMultipleField(
        _l("联系的政协委员"), choices=[], coerce=int, validate_choice=False, render_kw={"size": 8}
    )
    local_members = TextAreaField(_l("议事成员"), validators=[Optional(), Length(max=2000)])

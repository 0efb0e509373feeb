"""Forms of the visit pages: the plan (saved from the planner), holding, cancelling.

The forms collect values and carry the CSRF token; the rules live in
`visits.services`, whose field errors are shown on these fields (`ERROR_FIELDS`).
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

FORM_CHOICES = [
    ("on_site", _l("现场协商")),
    ("meeting", _l("会场协商")),
    ("online", _l("网络协商")),
    ("written", _l("书面协商")),
    ("inspection", _l("视察调研")),
]

#: service error keys → the form field that shows them
ERROR_FIELDS = {
    "participants.members": "members",
    "participants.units": "units",
    "participants.residents": "residents",
    "start": "start_label",
    "start.lon": "start_label",
    "start.lat": "start_label",
    "stop_order": "stops",
    "issue_ids": "stops",
    "attendance.members": "members",
    "attendance.officials": "officials",
    "attendance.residents": "residents",
    "photo": "photos",
}


class VisitForm(FlaskForm):
    """The plan: topic, form, date, people; the stops and start come from the map (hidden)."""

    title = StringField(
        _l("走访主题"), validators=[DataRequired(_l("请填写走访主题")), Length(max=200)]
    )
    form = SelectField(_l("协商形式"), choices=FORM_CHOICES, default="on_site")
    planned_for = DateField(_l("走访日期"), validators=[Optional()])
    leader_id = SelectField(_l("带队领导"), choices=[], coerce=str, validate_choice=False)
    station_id = SelectField(_l("协商工作站"), choices=[], coerce=str, validate_choice=False)
    members = SelectMultipleField(_l("参加委员"), choices=[], coerce=int, validate_choice=False)
    units = SelectMultipleField(_l("参加部门"), choices=[], validate_choice=False)
    residents = IntegerField(
        _l("预计群众人数"), validators=[Optional(), NumberRange(0, 100_000)], default=0
    )
    #: JSON: [{"issue_id": n} | {"lon", "lat", "label"}] in route order
    stops = HiddenField(_l("走访点"))
    start_lon = HiddenField()
    start_lat = HiddenField()
    start_label = HiddenField(_l("出发点"))
    #: station:<id> | office | click | "" (how the start was chosen, to show it again)
    start_kind = HiddenField()


class HoldForm(FlaskForm):
    """Holding: date, attendance, opinions, photos; the agreed actions are per problem
    (`action-<issue id>-move`, `-unit`, `-due_on`, `-note`, `-answer_class`), built by the route."""

    held_on = DateField(_l("举行日期"), validators=[Optional()])
    members = IntegerField(_l("到会委员"), validators=[Optional(), NumberRange(0, 100_000)])
    officials = IntegerField(_l("部门人员"), validators=[Optional(), NumberRange(0, 100_000)])
    residents = IntegerField(_l("群众代表"), validators=[Optional(), NumberRange(0, 100_000)])
    opinions = TextAreaField(_l("协商意见"), validators=[Optional(), Length(max=10_000)])
    photos = MultipleFileField(_l("现场照片"))


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("取消原因"), validators=[DataRequired(_l("请填写取消原因")), Length(max=10_000)]
    )

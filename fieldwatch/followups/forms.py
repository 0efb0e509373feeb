"""Look-back forms: record on site (the no-JavaScript path), schedule, assign."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, MultipleFileField
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

FINDING_LABELS = {
    "solved": _l("已解决"),
    "partly": _l("部分解决"),
    "unsolved": _l("未解决"),
    "regressed": _l("反弹"),
}
SATISFACTION_LABELS = {
    "satisfied": _l("满意"),
    "basically_satisfied": _l("基本满意"),
    "dissatisfied": _l("不满意"),
}
KIND_LABELS = {
    "scheduled": _l("按期回头看"),
    "rework": _l("整改后回头看"),
    "extra": _l("加查"),
    "spot_check": _l("抽查"),
    "visit": _l("走访事项回头看"),
}
PHOTO_TYPES = ["jpg", "jpeg", "png", "webp"]


class RecordForm(FlaskForm):
    finding = RadioField(
        _l("现场情况"),
        choices=list(FINDING_LABELS.items()),
        validators=[InputRequired(_l("请选择现场情况"))],
    )
    satisfaction = RadioField(
        _l("群众评价"), choices=list(SATISFACTION_LABELS.items()), validators=[Optional()]
    )
    note = TextAreaField(_l("情况说明"), validators=[Optional(), Length(max=5000)])
    photos = MultipleFileField(
        _l("照片"), validators=[FileAllowed(PHOTO_TYPES, _l("只接受 JPEG、PNG 或 WebP 照片"))]
    )
    lon = HiddenField()
    lat = HiddenField()
    accuracy_m = HiddenField()
    client_id = HiddenField()


class ScheduleForm(FlaskForm):
    issue = StringField(
        _l("问题编号"),
        validators=[DataRequired(_l("请填写问题编号，如 FW-2026-000123")), Length(max=40)],
    )
    kind = SelectField(
        _l("类型"),
        choices=[("extra", KIND_LABELS["extra"]), ("spot_check", KIND_LABELS["spot_check"])],
    )
    due_on = DateField(_l("到期日"), validators=[InputRequired(_l("请选择到期日"))])
    assignee = SelectField(_l("指派给"), choices=[], validators=[Optional()])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("指派给"), choices=[], validators=[Optional()])
    due_on = DateField(_l("到期日"), validators=[Optional()])

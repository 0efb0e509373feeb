"""Issue forms: the phone report form (also works without JavaScript) and the moves."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from fieldwatch.extensions import db
from fieldwatch.models import Category, Unit


def no_nul(value):
    """Drop NUL characters (PostgreSQL text cannot hold them)."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class CleanForm(FlaskForm):
    """A form whose every field drops NUL characters."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            options["filters"] = [no_nul, *unbound_field.kwargs.get("filters", ())]
            return unbound_field.bind(form=form, **options)


def category_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Category).where(Category.active).order_by(Category.id))
    return [("", _l("请选择类别"))] + [(c.code, c.name) for c in rows]


def unit_choices(township_id: int | None = None) -> list[tuple[str, str]]:
    """County bureaux first, then the issue's own township office, then other offices."""
    rows = list(db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.id)))
    county = [u for u in rows if u.township_id is None]
    own = [u for u in rows if u.township_id is not None and u.township_id == township_id]
    others = [u for u in rows if u.township_id is not None and u.township_id != township_id]
    return [("", _l("请选择承办单位"))] + [(u.code, u.name) for u in county + own + others]


class ReportForm(CleanForm):
    """A new problem. Field names match the JSON API, so both report the same way."""

    category = SelectField(_l("类别"), validate_choice=False)
    title = StringField(
        _l("标题"),
        validators=[Length(max=200)],
        render_kw={"placeholder": _l("一句话说清问题，如：学校门口井盖松动"), "maxlength": 200},
    )
    description = TextAreaField(
        _l("描述"),
        validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 3, "placeholder": _l("具体位置、影响多少人、持续多久（可不填）")},
    )
    lon = StringField(_l("经度"), render_kw={"inputmode": "decimal", "autocomplete": "off"})
    lat = StringField(_l("纬度"), render_kw={"inputmode": "decimal", "autocomplete": "off"})
    accuracy_m = HiddenField()
    location_source = HiddenField(default="manual")
    observed_at = HiddenField()
    client_id = HiddenField()
    photos = MultipleFileField(_l("照片"))


class MoveForm(CleanForm):
    """One move of the lifecycle; the page shows only the fields the move needs."""

    move = HiddenField()
    unit = SelectField(_l("承办单位"), validate_choice=False)
    due_on = DateField(_l("办理期限"), validators=[Optional()])
    answer_class = RadioField(
        _l("答复类别"),
        choices=[
            ("A", _l("A 类：已解决或采纳")),
            ("B", _l("B 类：正在解决或已列入计划")),
            ("C", _l("C 类：暂不能解决，已说明")),
        ],  # fmt: skip
        validate_choice=False,
    )
    note = TextAreaField(
        _l("说明"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 2}
    )
    reason = TextAreaField(
        _l("理由"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 2}
    )
    duplicate_of = StringField(
        _l("与哪个问题重复"), render_kw={"placeholder": "FW-2026-000123", "autocomplete": "off"}
    )


class CommentForm(CleanForm):
    note = TextAreaField(_l("进展或补充"), validators=[Length(max=5000)], render_kw={"rows": 2})
    client_id = HiddenField()


class PhotoForm(CleanForm):
    photos = MultipleFileField(_l("补充照片"))


class FilterForm(CleanForm):
    """The list's filters (GET; no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("搜索"), render_kw={"placeholder": _l("标题或编号")})
    status = SelectField(_l("状态"), validate_choice=False)
    category = SelectField(_l("类别"), validate_choice=False)
    township = SelectField(_l("乡镇（街道）"), validate_choice=False)
    unit = SelectField(_l("承办单位"), validate_choice=False)
    overdue = BooleanField(_l("只看超期"))

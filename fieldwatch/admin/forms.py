"""Admin forms: users, categories, units, the base map, the ledger upload."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from fieldwatch.auth.services import EMAIL
from fieldwatch.models.users import ROLES

ROLE_LABELS = {
    "admin": _l("管理员"),
    "leader": _l("领导"),
    "member": _l("委员"),
    "supervisor": _l("督办"),
    "unit": _l("承办单位"),
}


class UserForm(FlaskForm):
    login = StringField(_l("登录名"), validators=[DataRequired(), Length(max=60)])
    name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("角色"), choices=[(r, ROLE_LABELS[r]) for r in ROLES])
    township = SelectField(_l("乡镇范围"), choices=[], validate_choice=False)
    unit = SelectField(_l("承办单位"), choices=[], validate_choice=False)
    sector = StringField(_l("界别"), validators=[Optional(), Length(max=60)])
    phone = StringField(_l("手机号"), validators=[Optional(), Length(max=40)])
    email = EmailField(
        _l("邮箱"),
        validators=[Optional(), Regexp(EMAIL, message=_l("邮箱格式不对")), Length(max=200)],
    )
    password = PasswordField(
        _l("初始密码"), validators=[Optional(), Length(min=8, max=200, message=_l("至少 8 位"))]
    )


class PasswordForm(FlaskForm):
    password = PasswordField(
        _l("新密码"), validators=[Optional(), Length(min=8, max=200, message=_l("至少 8 位"))]
    )


class CategoryForm(FlaskForm):
    code = StringField(_l("编码"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=100)])
    deadline_days = IntegerField(
        _l("办理期限（天）"), default=30, validators=[DataRequired(), NumberRange(1, 365)]
    )
    lookback_days = IntegerField(
        _l("回头看间隔（天）"), default=30, validators=[DataRequired(), NumberRange(1, 365)]
    )
    duplicate_radius_m = IntegerField(
        _l("查重半径（米）"), default=200, validators=[Optional(), NumberRange(0, 2000)]
    )
    active = BooleanField(_l("启用"), default=True)


class UnitForm(FlaskForm):
    code = StringField(_l("编码"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=100)])
    township = SelectField(_l("所属乡镇（乡镇办事处填写）"), choices=[], validate_choice=False)
    active = BooleanField(_l("启用"), default=True)


class BasemapForm(FlaskForm):
    kind = SelectField(
        _l("底图来源"),
        choices=[
            ("none", _l("不用在线底图（只显示边界和点位）")),
            ("tianditu", _l("天地图（需要密钥）")),
            ("osm", _l("OpenStreetMap")),
            ("amap", _l("高德地图（GCJ-02，自动纠偏显示）")),
            ("custom", _l("自定义瓦片地址")),
        ],
    )
    key = StringField(_l("天地图密钥"), validators=[Optional(), Length(max=64)])
    url = StringField(_l("瓦片地址"), validators=[Optional(), Length(max=500)])
    attribution = StringField(_l("版权说明"), validators=[Optional(), Length(max=200)])


class LedgerUploadForm(FlaskForm):
    file = FileField(
        _l("台账文件（.xlsx）"),
        validators=[
            FileRequired(_l("请选择文件")),
            FileAllowed(["xlsx"], _l("只支持 .xlsx 文件（WPS/Excel 另存为 .xlsx）")),
        ],
    )

"""The boundary upload form (the same choices as `fieldwatch areas import`)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

UPLOAD_SUFFIXES = ["geojson", "json", "zip", "gpkg"]


class ImportForm(FlaskForm):
    file = FileField(
        _l("边界文件"),
        validators=[
            FileRequired(_l("请选择文件")),
            FileAllowed(
                UPLOAD_SUFFIXES, _l("只接受 GeoJSON、Shapefile 压缩包 (.zip) 或 GeoPackage")
            ),
        ],
    )
    level = SelectField(
        _l("层级"), choices=[("township", _l("乡镇(街道)")), ("village", _l("村(社区)"))]
    )
    code_field = StringField(_l("编码字段"), validators=[Optional(), Length(max=60)])
    name_field = StringField(_l("名称字段"), validators=[Optional(), Length(max=60)])
    parent_field = StringField(_l("上级编码字段"), validators=[Optional(), Length(max=60)])
    kind_field = StringField(_l("类型字段"), validators=[Optional(), Length(max=60)])
    srid = IntegerField(
        _l("坐标系 EPSG 代码"), validators=[Optional(), NumberRange(min=1024, max=999999)]
    )
    encoding = StringField(_l("属性编码"), validators=[Optional(), Length(max=20)])

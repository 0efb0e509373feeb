"""Pages about places: townships, the villages of one township, the boundary upload."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from fieldwatch import nav, policy
from fieldwatch.areas import queries
from fieldwatch.areas.forms import ImportForm
from fieldwatch.areas.importer import FieldMap, import_areas, save_upload
from fieldwatch.areas.labels import kind_label
from fieldwatch.auth.services import audit
from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db

bp = Blueprint("areas", __name__, url_prefix="/areas")

#: which form field shows an importer error about each key
ERROR_FIELDS = {"file": "file", "level": "level", "srid": "srid", "code_field": "code_field",
                "name_field": "name_field", "parent_field": "parent_field",
                "kind_field": "kind_field", "kind": "file", "code": "file", "parent": "file"}  # fmt: skip


@bp.route("/")
@login_required
def index():
    """List the townships with their villages and communities."""
    policy.require(current_user, "areas.view")
    return render_template("areas/index.html", townships=queries.township_summaries())


@bp.route("/<code>")
@login_required
def township(code: str):
    """List the villages and communities of one township."""
    policy.require(current_user, "areas.view")
    area = queries.area_by_code(code)
    if area is None or area.level != "township":
        abort(404)
    return render_template("areas/township.html", township=area, places=queries.places_of(code))


@bp.route("/import", methods=["GET", "POST"], endpoint="import")
@login_required
def import_file():
    """Upload a boundary file: all its features are imported, or none."""
    policy.require(current_user, "areas.import")
    form = ImportForm()
    if form.validate_on_submit():
        path = save_upload(form.file.data)
        try:
            fields = FieldMap(
                form.code_field.data or None,
                form.name_field.data or None,
                form.parent_field.data or None,
                form.kind_field.data or None,
            )
            result = import_areas(
                path, form.level.data, fields, srid=form.srid.data,
                encoding=form.encoding.data or None,
            )  # fmt: skip
            audit("areas.import", current_user, "areas", None,
                  {"file": form.file.data.filename, "level": result.level,
                   "created": result.created, "updated": result.updated}, request.remote_addr)  # fmt: skip
            db.session.commit()
        except ValidationError as exc:
            db.session.rollback()
            _show_errors(form, exc)
            return render_template("areas/import.html", form=form), 422
        finally:
            path.unlink(missing_ok=True)
        flash(
            _("已导入 %(n)d 个：新增 %(created)d，更新 %(updated)d；有边界 %(polygons)d，仅有点位 %(points)d，修复 %(repaired)d。",
              n=result.total, created=result.created, updated=result.updated,
              polygons=result.polygons, points=result.points, repaired=result.repaired),
            "success",
        )  # fmt: skip
        return redirect(url_for("areas.index"))
    status = 422 if form.errors else 200
    return render_template("areas/import.html", form=form), status


def _show_errors(form: ImportForm, exc: ValidationError) -> None:
    """Put the importer's errors under the form fields they concern."""
    for key, messages in exc.errors.items():
        target = getattr(form, ERROR_FIELDS.get(key, "file"))
        target.errors = [*target.errors, *messages]
    if "file" not in exc.errors:
        form.file.errors = [exc.message, *form.file.errors]


def register_routes(app: Flask) -> None:
    from fieldwatch.api import register_blueprint
    from fieldwatch.areas.api import blp

    app.register_blueprint(bp)
    register_blueprint(app, blp)
    app.add_template_global(kind_label, "area_kind")
    nav.add(nav.NavItem("areas.index", _l("区划"), "areas.view", "fa-map", 65))

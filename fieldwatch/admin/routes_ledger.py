"""Admin pages for importing a problem ledger (台账): upload, map columns, check, import."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fieldwatch.admin import ledger, queries
from fieldwatch.admin.forms import LedgerUploadForm
from fieldwatch.admin.routes import actor, bp, needs
from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db
from fieldwatch.forms import form_status, put_errors


@bp.route("/import", methods=["GET", "POST"])
@needs("issues.import")
def ledger_upload():
    """Upload a ledger workbook (.xlsx)."""
    form = LedgerUploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            token = ledger.store_upload(upload.read(), upload.filename or "ledger.xlsx", actor())
        except ValidationError as exc:
            problems = put_errors(form, exc)
        else:
            return redirect(url_for("admin.ledger_map", token=token))
    return render_template("admin/ledger_upload.html", form=form, problems=problems), form_status()


def _mapping_from_form(headers: list[str]) -> dict[str, int | None]:
    mapping: dict[str, int | None] = {}
    for name in ledger.FIELDS:
        value = request.form.get(f"map-{name}", "")
        mapping[name] = (
            int(value)
            if value.isascii() and value.isdigit() and int(value) < len(headers)
            else None
        )
    return mapping


@bp.route("/import/<token>", methods=["GET", "POST"])
@needs("issues.import")
def ledger_map(token: str):
    """Map columns to fields, check every row (errors by row and field), then import all or none."""
    meta = ledger.upload_meta(token, actor())
    sheet = ledger.read_sheet(token)
    mapping = ledger.guess_mapping(sheet.headers)
    crs = request.form.get("crs", "wgs84")
    crs = crs if crs in ledger.CRS else "wgs84"
    default_category = request.form.get("default_category", "")
    checked = None
    problems: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        mapping = _mapping_from_form(sheet.headers)
        try:
            checked = ledger.check_rows(sheet, mapping, crs, default_category)
            if request.form.get("action") == "import" and not checked.errors:
                result = ledger.import_rows(sheet, checked, meta, actor())
                db.session.commit()
                ledger.discard(token)
                return render_template("admin/ledger_done.html", result=result, meta=meta)
        except ValidationError as exc:
            db.session.rollback()
            problems = exc.errors
            rows = getattr(exc, "rows", None)
            if rows is not None and checked is not None:
                checked.errors.extend(rows)
                checked.good = []
        if problems or (checked and checked.errors):
            status = 422
    categories = [c for c in queries.categories() if c.active]
    return render_template(
        "admin/ledger_map.html",
        token=token,
        meta=meta,
        sheet=sheet,
        sample=sheet.rows[:5],
        mapping=mapping,
        fields=ledger.FIELDS,
        crs_choices=ledger.CRS,
        crs=crs,
        default_category=default_category,
        categories=categories,
        checked=checked,
        problems=problems,
    ), status


@bp.post("/import/<token>/cancel")
@needs("issues.import")
def ledger_cancel(token: str):
    """Throw the upload away."""
    ledger.upload_meta(token, actor())
    ledger.discard(token)
    flash(_("已取消导入。"))
    return redirect(url_for("admin.ledger_upload"))

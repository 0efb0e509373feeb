"""Admin pages for the lists: problem categories, responsible units, the base-map tile source."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fieldwatch.admin import queries, services
from fieldwatch.admin.forms import BasemapForm, CategoryForm, UnitForm
from fieldwatch.admin.routes import actor, bp, needs, township_choices
from fieldwatch.exports import export_response
from fieldwatch.extensions import db
from fieldwatch.forms import form_status, submit
from fieldwatch.models import Category, Unit


# --- categories -------------------------------------------------------------------
@bp.route("/categories")
@needs("admin.lists")
def categories():
    """List problem categories with their deadlines; download as CSV or .xlsx."""
    items = queries.categories()
    counts = queries.category_issue_counts()
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        headers = [
            "编码",
            "名称",
            "英文名称",
            "办理期限（天）",
            "回头看间隔（天）",
            "查重半径（米）",
            "启用",
            "问题数",
        ]
        rows = (
            (
                c.code,
                c.name,
                c.name_en,
                c.deadline_days,
                c.lookback_days,
                c.duplicate_radius_m,
                c.active,
                counts.get(c.id, 0),
            )
            for c in items
        )
        return export_response(fmt, _("问题类别"), headers, rows)
    return render_template("admin/categories.html", items=items, counts=counts)


@bp.route("/categories/new", methods=["GET", "POST"], defaults={"category_id": None})
@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@needs("admin.lists")
def category_edit(category_id: int | None):
    """Create or change a category (name, deadline, look-back days, duplicate radius, active)."""
    category = None
    if category_id is not None:
        category = db.session.get(Category, category_id) or abort(404)
    form = CategoryForm(obj=category)
    done = submit(
        form,
        lambda: services.save_category(
            category,
            code=form.code.data if category is None else category.code,
            name=form.name.data,
            name_en=form.name_en.data,
            deadline_days=form.deadline_days.data,
            lookback_days=form.lookback_days.data,
            duplicate_radius_m=form.duplicate_radius_m.data or 0,
            active=form.active.data,
            actor=actor(),
        ),
    )
    if done:
        flash(_("已保存类别“%(name)s”。", name=done.value.name), "success")
        return redirect(url_for("admin.categories"))
    return render_template(
        "admin/category_form.html", form=form, category=category, problems=done.problems
    ), form_status()


# --- units ------------------------------------------------------------------------
@bp.route("/units")
@needs("admin.lists")
def units():
    """List responsible units (承办单位); download as CSV or .xlsx."""
    items = queries.units()
    staff = queries.unit_staff_counts()
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        headers = ["编码", "名称", "英文名称", "所属乡镇", "乡镇编码", "启用", "工作人员数"]
        rows = (
            (
                u.code,
                u.name,
                u.name_en,
                getattr(u.township, "name", ""),
                getattr(u.township, "code", ""),
                u.active,
                staff.get(u.id, 0),
            )
            for u in items
        )
        return export_response(fmt, _("承办单位"), headers, rows)
    return render_template("admin/units.html", items=items, staff=staff)


@bp.route("/units/new", methods=["GET", "POST"], defaults={"unit_id": None})
@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@needs("admin.lists")
def unit_edit(unit_id: int | None):
    """Create or change a unit (code, name, township office link, active)."""
    unit = None
    if unit_id is not None:
        unit = db.session.get(Unit, unit_id) or abort(404)
    form = UnitForm(obj=unit, township=getattr(getattr(unit, "township", None), "code", ""))
    form.township.choices = township_choices(_("— 县级部门（不属于乡镇）—"))
    done = submit(
        form,
        lambda: services.save_unit(
            unit,
            code=form.code.data if unit is None else unit.code,
            name=form.name.data,
            name_en=form.name_en.data,
            township_code=form.township.data or None,
            active=form.active.data,
            actor=actor(),
        ),
    )
    if done:
        flash(_("已保存承办单位“%(name)s”。", name=done.value.name), "success")
        return redirect(url_for("admin.units"))
    return render_template(
        "admin/unit_form.html", form=form, unit=unit, problems=done.problems
    ), form_status()


# --- base map ---------------------------------------------------------------------
@bp.route("/basemap", methods=["GET", "POST"])
@needs("admin.lists")
def basemap():
    """Choose the tile source every map uses (Setting "basemap")."""
    current = services.basemap()
    form = BasemapForm(data=current)
    done = submit(
        form,
        lambda: services.save_basemap(
            form.kind.data, form.key.data, form.url.data, form.attribution.data, actor=actor()
        ),
    )
    if done:
        flash(_("底图设置已保存。"), "success")
        return redirect(url_for("admin.basemap"))
    return render_template(
        "admin/basemap.html", form=form, current=current, problems=done.problems
    ), form_status()

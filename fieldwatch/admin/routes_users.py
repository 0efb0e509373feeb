"""Admin pages for users: list and search, create, edit role and scope, password, disable."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fieldwatch.admin import queries
from fieldwatch.admin.forms import ROLE_LABELS, PasswordForm, UserForm
from fieldwatch.admin.routes import (
    actor,
    bp,
    needs,
    page_number,
    township_choices,
)
from fieldwatch.auth import services as auth
from fieldwatch.errors_core import ValidationError
from fieldwatch.exports import export_response
from fieldwatch.extensions import db
from fieldwatch.forms import form_status, submit
from fieldwatch.models import User

EXPORT_HEADERS = [
    "登录名",
    "姓名",
    "角色",
    "乡镇范围",
    "承办单位",
    "界别",
    "手机号",
    "邮箱",
    "状态",
    "创建时间",
]


def _filters() -> dict:
    return {
        "q": (request.args.get("q") or "").strip() or None,
        "role": request.args.get("role") or None,
        "township": request.args.get("township") or None,
        "state": request.args.get("state") or None,
    }


def _choices(form: UserForm) -> None:
    form.township.choices = township_choices(_("— 全县（不限乡镇）—"))
    form.unit.choices = [("", _("— 无 —"))] + [
        (u.code, u.name) for u in queries.units() if u.active or u.code == form.unit.data
    ]


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/users")
@needs("admin.users")
def users():
    """List users with search and filters; download them as CSV or .xlsx."""
    filters = _filters()
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        rows = (
            (
                u.login,
                u.name,
                str(ROLE_LABELS.get(u.role, u.role)),
                getattr(u.township, "name", ""),
                getattr(u.unit, "name", ""),
                u.sector,
                u.phone,
                u.email,
                _("启用") if u.active else _("停用"),
                u.created_at,
            )
            for u in queries.all_users(**filters)
        )
        return export_response(fmt, _("用户"), EXPORT_HEADERS, rows)
    page = queries.users(**filters, page=page_number())
    return render_template(
        "admin/users.html",
        page=page,
        filters=filters,
        roles=ROLE_LABELS,
        townships=queries.townships(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@needs("admin.users")
def user_new():
    """Create a user; without a typed password one is generated and shown once."""
    form = UserForm()
    _choices(form)
    password = form.password.data or auth.generate_password()
    done = submit(
        form,
        lambda: auth.create_user(
            form.login.data,
            form.role.data,
            form.name.data,
            password,
            form.township.data or None,
            form.unit.data if form.role.data == "unit" else None,
            form.sector.data or None,
            (form.phone.data or "").strip() or None,
            (form.email.data or "").strip() or None,
            actor=actor(),
        ),
    )
    if done:
        user = done.value
        if form.password.data:
            flash(_("已创建用户 %(login)s。", login=user.login), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
        return _no_store(render_template("admin/password_shown.html", user=user, password=password))
    return render_template(
        "admin/user_form.html", form=form, user=None, problems=done.problems
    ), form_status()


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@needs("admin.users")
def user_edit(user_id: int):
    """Change a user's name, role, township or unit scope and contact."""
    user = _user_or_404(user_id)
    form = UserForm(
        obj=user,
        township=getattr(user.township, "code", ""),
        unit=getattr(user.unit, "code", ""),
    )
    form.login.data = user.login  # the login never changes
    _choices(form)
    done = submit(
        form,
        lambda: auth.update_user(
            user,
            name=form.name.data,
            role=form.role.data,
            township_code=form.township.data or None,
            unit_code=form.unit.data if form.role.data == "unit" else None,
            sector=form.sector.data,
            phone=form.phone.data,
            email=form.email.data,
            actor=actor(),
        ),
    )
    if done:
        flash(_("已保存。") if done.value else _("没有改动。"), "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        password_form=PasswordForm(formdata=None),
        problems=done.problems,
    ), form_status()


@bp.post("/users/<int:user_id>/password")
@needs("admin.users")
def user_password(user_id: int):
    """Set the typed password or generate one (shown once); the user's sessions end."""
    user = _user_or_404(user_id)
    form = PasswordForm()
    if not form.validate_on_submit():
        flash(" ".join(form.password.errors) or _("密码无效。"), "danger")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    typed = form.password.data or None
    password = auth.reset_password(user, typed, actor=actor())
    db.session.commit()
    if typed:
        flash(
            _("已为 %(login)s 设置新密码，其已登录的设备需重新登录。", login=user.login), "success"
        )
        return redirect(url_for("admin.user_edit", user_id=user.id))
    return _no_store(
        render_template("admin/password_shown.html", user=user, password=password, reset=True)
    )


@bp.post("/users/<int:user_id>/active")
@needs("admin.users")
def user_active(user_id: int):
    """Disable (ending sessions and revoking tokens) or enable a user."""
    user = _user_or_404(user_id)
    active = request.form.get("active") == "1"
    try:
        auth.set_active(user, active, actor=actor())
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(
            _("已启用 %(login)s。", login=user.login)
            if active
            else _("已停用 %(login)s，其所有登录和令牌已失效。", login=user.login),
            "success",
        )
    return redirect(url_for("admin.user_edit", user_id=user_id))

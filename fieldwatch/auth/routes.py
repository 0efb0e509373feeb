"""Sign in and out, language switch, API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from fieldwatch import policy
from fieldwatch.auth import services
from fieldwatch.auth.forms import LoginForm
from fieldwatch.extensions import db
from fieldwatch.i18n import LOCALES

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form and sign in."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        ip = request.remote_addr
        if services.locked_until([f"login:{form.login.data.lower()}", f"ip:{ip}"]):
            # a refused attempt during a lockout is a failure too: keep its trace
            services.audit("login_locked", None, "user", None, {"login": form.login.data}, ip=ip)
            db.session.commit()
            form.login.errors.append(_("尝试次数过多，请 15 分钟后再试。"))
            return render_template("auth/login.html", form=form), 429
        user = services.authenticate(form.login.data, form.password.data, ip)
        db.session.commit()
        if user is None:
            form.password.errors.append(_("登录名或密码不正确。"))
            return render_template("auth/login.html", form=form), 401
        login_user(user, remember=form.remember.data)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Sign out of this browser."""
    logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    """Sign out of every browser and revoke the API tokens."""
    services.logout_everywhere(current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("已在所有设备上退出。"))
    return redirect(url_for("auth.login"))


@bp.post("/lang/<code>")
def set_language(code: str):
    """Switch the interface language (remembered for the user)."""
    if code in LOCALES:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(
        _safe_next(request.form.get("next") or request.referrer and urlsplit(request.referrer).path)
    )


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """List the user's API tokens and make a new one."""
    policy.require(current_user, "api.token")
    new_token = None
    if request.method == "POST":
        new_token = services.issue_token(
            current_user._get_current_object(), request.form.get("name")
        )
        db.session.commit()
    return render_template("auth/tokens.html", tokens=current_user.tokens, new_token=new_token)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one API token."""
    policy.require(current_user, "api.token")
    services.revoke_token(token_id, current_user._get_current_object())
    db.session.commit()
    return redirect(url_for("auth.tokens"))

"""The account page where each user chooses which notifications they get, and how."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import Length, Optional, Regexp

from fieldwatch import policy
from fieldwatch.auth.services import EMAIL
from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db
from fieldwatch.notify import prefs

bp = Blueprint("notify", __name__)


class ContactForm(FlaskForm):
    email = EmailField(
        _l("邮箱"),
        validators=[Optional(), Regexp(EMAIL, message=_l("邮箱格式不对")), Length(max=200)],
    )
    phone = StringField(_l("手机号"), validators=[Optional(), Length(max=40)])


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def settings():
    """Show and save what the user is notified about, by which channel."""
    user = current_user._get_current_object()
    policy.require(current_user, "users.edit", user)  # one's own contact details
    form = ContactForm(obj=user)
    chosen = prefs.prefs_for(user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and form.validate_on_submit():
        user.email = (form.email.data or "").strip() or None
        user.phone = (form.phone.data or "").strip() or None
        chosen = {
            kind: {
                "on": request.form.get(f"{kind}-on") == "1",
                "channel": request.form.get(f"{kind}-channel") or "",
            }
            for kind in prefs.KINDS
        }
        try:
            prefs.save_prefs(user, chosen)
        except ValidationError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash(_("通知设置已保存。"), "success")
            return redirect(url_for("notify.settings"))
    status = 422 if (errors or form.errors) else 200
    return render_template(
        "notify/settings.html",
        form=form,
        chosen=chosen,
        kinds=prefs.KINDS,
        channels=prefs.CHANNELS,
        errors=errors,
        email_ready=prefs.email_configured(),
        webhook_ready=prefs.webhook_configured(),
    ), status

"""The admin blueprint, its home page and helpers shared by the admin pages."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from fieldwatch import clock, policy
from fieldwatch.admin import queries

bp = Blueprint("admin", __name__, url_prefix="/admin")


def needs(action: str):
    """Sign-in required, then the policy's `action` (403 otherwise)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            policy.require(current_user, action)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def actor():
    return current_user._get_current_object()


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def township_choices(blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [(t.code, f"{t.name}（{t.code}）") for t in queries.townships()]


@bp.route("/")
@needs("admin.users")
def index():
    """Show the administration home: what there is to manage, with counts."""
    from fieldwatch.privacy.services import last_purge, retention_days

    row = last_purge()
    purge = row and {
        "at": clock.local(row.at).strftime("%Y-%m-%d %H:%M"),
        "issues": (row.data or {}).get("issues", 0),
    }
    return render_template(
        "admin/index.html",
        counts=queries.counts(),
        retention_days=retention_days(),
        last_purge=purge,
    )

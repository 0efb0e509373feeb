"""Home page and template context."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from flask_babel import get_locale
from flask_login import current_user, login_required

from fieldwatch import clock, nav, policy

bp = Blueprint("main", __name__)

ROLE_NAMES = {
    "admin": "管理员",
    "leader": "领导",
    "member": "委员",
    "supervisor": "督办",
    "unit": "承办单位",
}


def inject() -> dict:
    """Give every template the navigation, the CSP nonce and the policy."""
    user = current_user if current_user.is_authenticated else None
    return {
        "nav_items": nav.items_for(user) if user else [],
        "csp_nonce": getattr(g, "csp_nonce", ""),
        "can": lambda action, obj=None: policy.can(current_user, action, obj),
        "role_names": ROLE_NAMES,
        "locale": str(get_locale() or "zh"),
        "local_time": clock.local,
    }


@bp.route("/")
@login_required
def index():
    """Show the main map: places, stations, problems, visits and look-backs for the view."""
    from fieldwatch.map.page import main_map_context

    policy.require(current_user, "map.view")
    return render_template("main/index.html", **main_map_context())

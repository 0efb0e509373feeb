"""`/todos` (我的待办): one page per user with what is theirs to do now."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, current_app, render_template
from flask_login import current_user, login_required

from fieldwatch import policy
from fieldwatch.followups import queries as followup_queries
from fieldwatch.followups.present import queue_messages
from fieldwatch.todos import queries

bp = Blueprint("todos", __name__, url_prefix="/todos")


@bp.route("/")
@login_required
def index():
    """Show the user's to-dos, by role; the offline queue is listed by the page's script."""
    policy.require(current_user, "todos.view")
    user = current_user
    scope = followup_queries.Scope.of(user)
    sections: dict = {}
    if policy.can(user, "followups.record"):
        if user.role == "member":
            # a member's: assigned to them, or open to anyone in their scope
            sections["lookbacks"] = followup_queries.followups(
                scope, "pending", limit=200, mine_or_open_for=user.id, recordable=True
            )[0]
        else:
            sections["lookbacks"] = followup_queries.followups(
                scope, "pending", limit=200, assignee_id=user.id, recordable=True
            )[0]
    if user.role in ("supervisor", "admin"):
        sections["overdue"] = followup_queries.followups(
            scope, "overdue", limit=200, recordable=True
        )[0]
        sections["class_c"] = followup_queries.class_c_to_review(scope)
    if user.role == "unit" and user.unit_id:
        sections["unit_problems"] = queries.unit_problems(user.unit_id)
    if user.role == "leader":
        sections["reopened"] = queries.reopened_problems(user.township_id)
    queue_js = (Path(current_app.static_folder) / "js" / "offline-queue.js").exists()
    return render_template(
        "todos/index.html",
        sections=sections,
        soon_days=queries.SOON_DAYS,
        queue_js=queue_js,
        queue_messages=queue_messages(),
    )


def register_routes(app: Flask) -> None:
    app.register_blueprint(bp)

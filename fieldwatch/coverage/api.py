"""`GET /api/v1/coverage?as_of=&visited_since=`: coverage per township and county totals."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from fieldwatch import clock, datacache, policy
from fieldwatch.coverage import queries
from fieldwatch.errors_core import ValidationError

blp = Blueprint("coverage_api", __name__, url_prefix="/coverage", description="Coverage")


class CoverageQuery(Schema):
    as_of = fields.Date(metadata={"description": "the date (default today, local)"})
    visited_since = fields.Date(metadata={"description": "start of the visit period"})
    township = fields.String(metadata={"description": "only this township (code)"})


#: dates the reckoning can handle (a 90-day window before year 1 does not exist)
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def check_period(as_of, since) -> None:
    """Refuse a period that starts after it ends, or dates outside 1900–2999."""
    for field, value in (("as_of", as_of), ("visited_since", since)):
        if value is not None and not EARLIEST <= value <= LATEST:
            message = f"日期超出范围 {EARLIEST}…{LATEST} (out of range)"
            raise ValidationError(message, {field: [message]})
    if since is not None and since > as_of:
        raise ValidationError(
            "走访统计的起始日期晚于截至日期",
            {"visited_since": ["不能晚于 as_of (must not be after as_of)"]},
        )


@blp.route("")
@login_required
@blp.arguments(CoverageQuery, location="query")
def coverage(args):
    """Return `{as_of, townships: [{code, name, has_platform, villages, communities, covered,
    coverage_pct, visited, uncovered}], totals}`."""
    policy.require(current_user, "coverage.view")
    as_of = args.get("as_of") or clock.today()
    since = args.get("visited_since")
    check_period(as_of, since)
    township = args.get("township")
    # the province's answer is ~1 MB of JSON: keep the text with the answer it came from
    body = datacache.coverage.get(
        ("json", as_of, since, township),
        lambda: current_app.json.dumps(
            queries.coverage_by_township(as_of, since, township).as_json()
        ),
    )
    return current_app.response_class(body + "\n", mimetype="application/json")

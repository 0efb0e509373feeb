"""Visit fixtures: people, problems at hand-placed points in the small county, a clock."""

from datetime import UTC, date, datetime

import pytest

from fieldwatch.extensions import db
from fieldwatch.issues import services as issues

#: 10:00 in Shanghai on Tuesday 10 March 2026
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)


class FakeFollowup:
    id = None
    finding = "solved"


@pytest.fixture(autouse=True)
def _clock(app, freeze):
    """Every visit test runs on Tuesday 10 March 2026 (Shanghai) unless it moves the clock."""
    freeze(NOW)


@pytest.fixture
def people(app):
    """One user per role (no password: tests sign in by session or token, and scrypt is slow)."""
    from fieldwatch.auth.services import create_user

    specs = {
        "admin": ("admin", None),
        "leader": ("leader", None),
        "supervisor": ("supervisor", None),
        "member": ("member", None),
        "member2": ("member", None),
        "unit": ("unit", "water"),
    }
    made = {
        key: create_user(f"v_{key}", role, f"测试{key}", None, None, unit)
        for key, (role, unit) in specs.items()
    }
    db.session.commit()
    return made


@pytest.fixture
def make_issue(app, small_county, people, freeze):
    """make_issue(lon, lat, status="reported", title=...): a problem walked to `status`."""
    freeze(NOW)
    counter = iter(range(1, 1000))

    def make(lon=104.02, lat=30.05, status="reported", title=None, category="roads"):
        issue, _ = issues.report_issue(
            people["member"],
            title=title or f"问题 {next(counter)}",
            category=category,
            lon=lon,
            lat=lat,
        )
        path = {
            "reported": [],
            "accepted": [("accepted", {})],
            "in_progress": [("accepted", {}), ("in_progress", {"unit": "water"})],
            "resolved": [
                ("accepted", {}),
                ("in_progress", {"unit": "water"}),
                ("resolved", {"answer_class": "A", "note": "已修复"}),
            ],
            "closed": [
                ("accepted", {}),
                ("in_progress", {"unit": "water"}),
                ("resolved", {"answer_class": "A", "note": "已修复"}),
                ("closed", {"followup": FakeFollowup()}),
            ],
            "rejected": [("rejected", {"reason": "不属于职责范围"})],
        }
        if status == "duplicate":
            first, _ = issues.report_issue(
                people["member"], title="原问题", category=category, lon=lon + 0.001, lat=lat
            )
            issues.transition(issue, "duplicate", people["admin"], duplicate_of=first.id)
        else:
            for to, extra in path[status]:
                issues.transition(issue, to, people["admin"], **extra)
        assert issue.status == status
        return issue

    return make

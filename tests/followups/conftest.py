"""Look-back fixtures: people, problems walked through the lifecycle at chosen times, points."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pyproj import Geod
from sqlalchemy import select

from fieldwatch.extensions import db
from fieldwatch.issues import services as issues
from fieldwatch.models import Followup

#: 10:00 in Shanghai on Tuesday 10 March 2026
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
GEOD = Geod(ellps="WGS84")


def at(month: int, day: int, hour_utc: int = 2) -> datetime:
    """An instant in 2026 (02:00 UTC = 10:00 in Shanghai)."""
    return datetime(2026, month, day, hour_utc, 0, tzinfo=UTC)


def metres_north(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """The point `metres` due north of (lon, lat), geodesically."""
    x, y, _ = GEOD.fwd(lon, lat, 0, metres)
    return x, y


def pending(issue) -> list[Followup]:
    """The look-backs of an issue not done yet, oldest first."""
    return list(
        db.session.scalars(
            select(Followup)
            .where(Followup.issue_id == issue.id, Followup.done_at.is_(None))
            .order_by(Followup.id)
        )
    )


@pytest.fixture(autouse=True)
def _clock(app, freeze):
    """Every look-back test starts on Tuesday 10 March 2026 (Shanghai)."""
    freeze(NOW)


@pytest.fixture
def people(make_user, small_county):
    return {
        "admin": make_user("admin"),
        "leader": make_user("leader"),
        "supervisor": make_user("supervisor"),
        "member": make_user("member"),
        "member2": make_user("member"),
        "unit": make_user("unit", unit="water"),
        "transport": make_user("unit", unit="transport"),
        "member_t2": make_user("member", township="512099002000"),
        "supervisor_t2": make_user("supervisor", township="512099002000"),
    }


@pytest.fixture
def make_issue(app, small_county, people):
    """make_issue(status, answer_class=, lon=, lat=, unit=, category=, due_on=, planned=).

    Walks a new problem at the current (frozen) time to `status`: reported,
    accepted, in_progress or resolved (with the answer class; class B with a
    `planned` date).
    """
    counter = iter(range(1, 10_000))

    def make(
        status="resolved",
        answer_class="A",
        lon=104.02,
        lat=30.05,
        unit="water",
        category="roads",
        due_on=None,
        planned=None,
        title=None,
    ):
        issue, _ = issues.report_issue(
            people["member"],
            title=title or f"井盖松动 {next(counter)}",
            category=category,
            lon=lon,
            lat=lat,
        )
        steps = ["accepted", "in_progress", "resolved"]
        for step in steps[: steps.index(status) + 1] if status in steps else []:
            if step == "accepted":
                issues.transition(issue, "accepted", people["admin"])
            elif step == "in_progress":
                issues.transition(issue, "in_progress", people["admin"], unit=unit, due_on=due_on)
            else:
                issues.transition(
                    issue,
                    "resolved",
                    people["unit"] if unit == "water" else people["transport"],
                    answer_class=answer_class,
                    note="已修复" if answer_class != "C" else "暂不具备条件，已向群众解释",
                    due_on=planned,
                )
        return issue

    return make


class Helpers:
    """The helpers above, for tests (pytest's importlib mode cannot import conftest)."""

    NOW = NOW
    TODAY = TODAY
    at = staticmethod(at)
    north = staticmethod(metres_north)
    pending = staticmethod(pending)


@pytest.fixture
def lb() -> Helpers:
    return Helpers()

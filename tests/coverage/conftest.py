"""Small places with known coverage answers: stations, held visits and look-backs."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

V11, V12, V21, V22 = "512099001001", "512099001002", "512099002001", "512099002002"
T1, T2 = "512099001000", "512099002000"


class Builder:
    """Make stations, held visits and done look-backs in the small county."""

    def __init__(self, county):
        self.county = county

    def station(self, kind="rural", lon=104.02, lat=30.05, established_on=date(2020, 1, 1),
                closed_on=None, **extra):  # fmt: skip
        from fieldwatch.extensions import db
        from fieldwatch.stations.services import create_station

        station = create_station(f"站{lon}{lat}{kind}", kind, lon, lat,
                                 established_on=established_on, closed_on=closed_on, **extra)  # fmt: skip
        db.session.commit()
        return station

    def visit(self, village: str, held_on: date | None, status: str = "held"):
        from fieldwatch.extensions import db
        from fieldwatch.geo import point_element
        from fieldwatch.models import Visit, VisitStop

        area = self.county.villages[_key(village)]
        visit = Visit(title="走访", form="on_site", status=status, planned_for=held_on or date(2025, 1, 1),
                      held_on=held_on if status == "held" else None, participants={})  # fmt: skip
        visit.stops = [VisitStop(position=0, location=point_element(104.0, 30.0), area_id=area.id,
                                 township_id=area.parent_id)]  # fmt: skip
        db.session.add(visit)
        db.session.commit()
        return visit

    def lookback(self, village: str, done_at: datetime | None, due_on: date = date(2025, 1, 1)):
        from fieldwatch.extensions import db
        from fieldwatch.models import Followup

        area = self.county.villages[_key(village)]
        holder = self.visit(village, None, status="planned")
        followup = Followup(visit_id=holder.id, kind="visit", due_on=due_on, done_at=done_at,
                            area_id=area.id, township_id=area.parent_id)  # fmt: skip
        db.session.add(followup)
        db.session.commit()
        return followup


def _key(code: str) -> str:
    return {V11: "V11", V12: "V12", V21: "V21", V22: "V22"}[code]


@pytest.fixture
def build(small_county) -> Builder:
    return Builder(small_county)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)

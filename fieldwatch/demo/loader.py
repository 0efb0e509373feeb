"""Load the demo county through the services (idempotent)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from fieldwatch.areas.services import upsert_area
from fieldwatch.auth.services import create_user
from fieldwatch.demo.county import build_county
from fieldwatch.extensions import db
from fieldwatch.models import Area, Station, Unit, User
from fieldwatch.stations.services import create_station

DEMO_PASSWORD = "demo-pass-2026"
SEED = 2026


def _township_offices(townships) -> None:
    """Each township's office is a responsible unit too (乡镇/街道办)."""
    for place in townships:
        code = f"office_{place.code}"
        if db.session.scalar(select(Unit.id).where(Unit.code == code)) is None:
            area = db.session.scalar(select(Area).where(Area.code == place.code))
            suffix = "办事处" if place.kind == "subdistrict" else "人民政府"
            db.session.add(Unit(code=code, name=f"{place.name}{suffix}", township_id=area.id))
    db.session.flush()


def load_demo(seed: int = SEED, extras: bool = True) -> dict[str, int]:
    """Load places, stations and users of the demo county, then each area's demo extras."""
    county = build_county(seed)
    upsert_area(
        county.county.code,
        county.county.name,
        "county",
        None,
        None,
        county.county.boundary,
        county.county.location,
    )
    for place in county.townships:
        upsert_area(
            place.code,
            place.name,
            "township",
            place.kind,
            place.parent_code,
            place.boundary,
            place.location,
        )
    for place in county.villages:
        upsert_area(
            place.code,
            place.name,
            "village",
            place.kind,
            place.parent_code,
            place.boundary,
            place.location,
        )
    _township_offices(county.townships)
    for demo_user in county.users:
        if db.session.scalar(select(User.id).where(User.login == demo_user.login)) is None:
            create_user(
                demo_user.login,
                demo_user.role,
                demo_user.name,
                DEMO_PASSWORD,
                demo_user.township_code,
                demo_user.unit_code,
                demo_user.sector,
            )
    if db.session.scalar(select(func.count(Station.id))) == 0:
        members = db.session.scalars(select(User.id).where(User.role == "member")).all()
        for index, plan in enumerate(county.stations):
            create_station(
                plan.name,
                plan.kind,
                plan.location.x,
                plan.location.y,
                village_code=plan.village_code,
                serves=list(plan.serves),
                established_on=plan.established_on,
                closed_on=plan.closed_on,
                five_haves=plan.five_haves,
                convener=plan.convener,
                address=plan.address,
                member_ids=[members[(index + k) % len(members)] for k in range(3)]
                if members
                else None,
            )
    db.session.commit()
    if extras:
        for extra in demo_extras():
            extra(seed)
            db.session.commit()
        _history_delivered()
    return {
        "townships": len(county.townships),
        "villages": len(county.villages),
        "stations": db.session.scalar(select(func.count(Station.id))),
        "users": db.session.scalar(select(func.count(User.id))),
    }


def _history_delivered() -> None:
    """Mark the messages the demo's made-up history queued as delivered when they were made.

    Otherwise the first `fieldwatch notify` on a demo would mail hundreds of old
    events to the demo's made-up people.
    """
    from fieldwatch.models import OutboxMessage

    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None))
        .values(sent_at=OutboxMessage.created_at, claimed_at=OutboxMessage.created_at)
    )
    db.session.commit()


def demo_extras():
    """Return each area's demo loader (problems, visits, look-backs) that exists, in order."""
    import importlib

    loaders = []
    for module in ("fieldwatch.issues.demo", "fieldwatch.followups.demo", "fieldwatch.visits.demo"):
        try:
            loaders.append(importlib.import_module(module).load)
        except ModuleNotFoundError as exc:
            if not (exc.name and module.startswith(exc.name)):
                raise
    return loaders

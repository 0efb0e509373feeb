"""The access matrix's world: two townships, a user of every role, an object of every kind
in each township, built once per module and rolled back at its end.

The module holds one connection with an open transaction (the `app` fixture's idea at
module scope); every test runs inside a savepoint on it that is rolled back, so a write
one cell makes is never seen by the next.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from shapely.geometry import Point, box

PASSWORD = "test-pass-123"
T1, T2 = "512099001000", "512099002000"
#: a point in each township's first village (T1: polygons, T2: office points only)
SPOT = {"own": (104.02, 30.05), "other": (104.12, 30.05)}
UNIT_OF = {"own": "water", "other": "transport"}


@dataclass
class World:
    """Ids and refs only (ORM objects do not outlive a request's session)."""

    users: dict = field(default_factory=dict)  # role -> user id
    logins: dict = field(default_factory=dict)  # role -> login
    ids: dict = field(default_factory=dict)  # (kind, scope) -> id or ref
    secrets: dict = field(default_factory=dict)  # role -> API token
    connection: object = None


def jpeg() -> io.BytesIO:
    """A fresh small JPEG to upload (a file object is spent by one request)."""
    from fieldwatch.photos.samples import sample_image

    return io.BytesIO(sample_image())


def _walk(reporter, office, unit_staff, unit: str, title: str, status: str, lon, lat):
    """Report a problem (with a resident's contact) and walk it to `status`."""
    from fieldwatch.issues import services as issues

    issue, _ = issues.report_issue(
        reporter,
        title=title,
        category="roads",
        lon=lon,
        lat=lat,
        contact_name="王大爷",
        contact_phone="13800000000",
    )
    steps = ("accepted", "in_progress", "resolved")
    for step in steps[: steps.index(status) + 1] if status in steps else ():
        if step == "accepted":
            issues.transition(issue, "accepted", office)
        elif step == "in_progress":
            issues.transition(issue, "in_progress", office, unit=unit)
        else:  # class A: a look-back is scheduled
            issues.transition(issue, "resolved", unit_staff, answer_class="A", note="已修复")
    return issue


def _build(world: World) -> None:
    from fieldwatch import clock
    from fieldwatch.areas.services import upsert_area
    from fieldwatch.auth.services import create_user, issue_token
    from fieldwatch.extensions import db
    from fieldwatch.models import Category, Followup, Unit
    from fieldwatch.photos.services import attach_photo
    from fieldwatch.stations.services import create_station
    from fieldwatch.visits.services import create_visit, hold

    county = upsert_area(
        "512099000000", "测试县", "county", None, None, box(104.0, 30.0, 104.2, 30.1)
    )
    upsert_area(T1, "东风镇", "township", "town", county.code, box(104.0, 30.0, 104.1, 30.1))
    upsert_area(T2, "西岭乡", "township", "xiang", county.code, box(104.1, 30.0, 104.2, 30.1))
    upsert_area("512099001001", "红星村", "village", "village", T1, box(104.0, 30.0, 104.05, 30.1))
    upsert_area(
        "512099001002", "新华社区", "village", "community", T1, box(104.05, 30.0, 104.1, 30.1)
    )
    upsert_area("512099002001", "石桥村", "village", "village", T2, None, Point(104.12, 30.05))
    upsert_area("512099002002", "柳湾村", "village", "village", T2, None, Point(104.18, 30.05))

    people = {
        "admin": ("admin", None, None),
        "leader": ("leader", T1, None),  # a township's leader (带队领导 of 东风镇)
        "leader_county": ("leader", None, None),  # a county-wide leader (主席会成员)
        "member": ("member", T1, None),
        "supervisor": ("supervisor", None, None),
        "unit": ("unit", None, "water"),
        # not matrix columns: the other township's people and the other unit
        "leader_t2": ("leader", T2, None),
        "member_t2": ("member", T2, None),
        "unit_other": ("unit", None, "transport"),
        "supervisor_t1": ("supervisor", T1, None),
    }
    users = {}
    for key, (role, township, unit) in people.items():
        users[key] = create_user(f"mx_{key}", role, None, PASSWORD, township, unit)
        world.logins[key] = users[key].login
    db.session.flush()
    world.users = {k: u.id for k, u in users.items()}
    from fieldwatch.models import ApiToken

    for key, user in users.items():
        world.secrets[key] = issue_token(user)
    db.session.flush()
    for key, user in users.items():
        world.ids["token", key] = db.session.scalar(
            db.select(ApiToken.id).where(ApiToken.user_id == user.id)
        )

    reporter = {"own": users["member"], "other": users["member_t2"]}
    for scope in ("own", "other"):
        lon, lat = SPOT[scope]
        unit_staff = users["unit" if scope == "own" else "unit_other"]

        def report(
            title: str, status: str, n: int, scope=scope, lon=lon, lat=lat, staff=unit_staff
        ):
            return _walk(
                reporter[scope],
                users["admin"],
                staff,
                UNIT_OF[scope],
                title,
                status,
                lon + n * 0.001,
                lat,
            )

        reported = report("路灯不亮", "reported", 1)
        working = report("井盖松动", "in_progress", 2)
        resolved = report("积水严重", "resolved", 3)
        world.ids["reported", scope] = reported.ref
        world.ids["issue", scope] = working.ref
        world.ids["issue_id", scope] = working.id
        world.ids["resolved", scope] = resolved.ref
        followup = db.session.scalar(
            db.select(Followup).where(Followup.issue_id == resolved.id, Followup.done_at.is_(None))
        )
        followup.due_on = clock.today() - timedelta(days=2)  # overdue: on every board and list
        world.ids["followup", scope] = followup.id
        photo, _ = attach_photo(working, jpeg(), reporter[scope])
        world.ids["photo", scope] = photo.id

        township = T1 if scope == "own" else T2
        station = create_station(
            f"{'东风' if scope == 'own' else '西岭'}协商工作站",
            "rural",
            lon,
            lat + 0.01,
        )
        world.ids["station", scope] = station.id
        db.session.flush()
        if scope == "own":
            visit = create_visit(
                users["leader"],
                title="东风镇积水现场协商",
                planned_for="2099-01-01",
                issue_ids=[working.id],
                participants={"members": [users["member"].id], "units": ["water"]},
            )
        else:
            visit = create_visit(
                users["leader_t2"],
                title="西岭乡井盖现场协商",
                planned_for="2099-01-01",
                issue_ids=[working.id],
                participants={"members": [users["member_t2"].id], "units": ["transport"]},
            )
        world.ids["visit", scope] = visit.id
        world.ids["township", scope] = township
    # a meeting the county leader held at 东风's station, inviting nobody from the matrix
    held = create_visit(
        users["leader_county"],
        title="县领导闭门协商议题",
        form="meeting",
        planned_for=clock.today().isoformat(),
        station_id=world.ids["station", "own"],
    )
    hold(held, None, None, "同意", [], users["leader_county"])
    world.ids["held_visit", "own"] = held.id
    world.ids["unit", "own"] = db.session.scalar(db.select(Unit.id).where(Unit.code == "water"))
    world.ids["user", "other"] = users["member_t2"].id
    world.ids["category", "own"] = db.session.scalar(
        db.select(Category.id).where(Category.code == "roads")
    )
    db.session.commit()


@pytest.fixture(scope="module")
def world(_app):
    """The matrix's people and objects, in one transaction rolled back after the module."""
    from fieldwatch.extensions import db

    with _app.app_context():
        engines = db.engines
        saved = dict(engines)
        opened = []
        for key, engine in saved.items():
            connection = engine.connect()
            opened.append((connection, connection.begin()))
            engines[key] = connection
        factory = db.session.session_factory
        saved_mode = factory.kw.get("join_transaction_mode")
        factory.kw["join_transaction_mode"] = "create_savepoint"
        db.session.remove()
        built = World(connection=opened[0][0])
        try:
            _build(built)
            db.session.remove()
            yield built
        finally:
            db.session.remove()
            for connection, transaction in opened:
                transaction.rollback()
                connection.close()
            engines.update(saved)
            if saved_mode is None:
                factory.kw.pop("join_transaction_mode", None)
            else:
                factory.kw["join_transaction_mode"] = saved_mode


@pytest.fixture
def cell(world):
    """Each cell in its own savepoint, rolled back: no cell sees another's writes."""
    from fieldwatch.extensions import db

    savepoint = world.connection.begin_nested()
    try:
        yield world
    finally:
        db.session.remove()
        if savepoint.is_active:
            savepoint.rollback()


@pytest.fixture(scope="module")
def clients(_app, world):
    """One signed-in test client per role (session cookie), and one anonymous."""
    out = {}
    for role in [*world.users, "anon"]:
        client = _app.test_client()
        if role != "anon":
            with client.session_transaction() as session:
                session["_user_id"] = f"{world.users[role]}:0"
                session["_fresh"] = True
        out[role] = client
    return out

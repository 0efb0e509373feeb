"""Privacy (PIPL): a resident's name and phone and the reporter's name reach only the
roles that act on them (`issues.view_contact`), and never OGC, Open311 or tiles.

A recognisable name and phone are planted in a problem; every read endpoint is
fetched as each role and its bytes (decoded: JSON, CSV, .xlsx, vector tiles) searched.
"""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, date, datetime, timedelta

import pytest

RESIDENT = "欧阳秘密"
PHONE = "13987654321"
REPORTER = "司马报告"
SECRETS = (RESIDENT, PHONE, REPORTER)
LON, LAT = 104.02, 30.05
ALLOWED = ("admin", "leader", "supervisor")
NOT_ALLOWED = ("member", "unit")


@pytest.fixture
def planted(app, small_county, make_user):
    """A problem from a resident (name, phone) reported by a member, with a look-back."""
    from fieldwatch.extensions import db
    from fieldwatch.issues.services import report_issue
    from fieldwatch.models import Followup, Unit

    reporter = make_user("member", name=REPORTER)
    issue, _ = report_issue(
        reporter,
        title="井盖松动",
        category="roads",
        lon=LON,
        lat=LAT,
        description="路口井盖松动",
        contact_name=RESIDENT,
        contact_phone=PHONE,
        source="hotline",
    )
    issue.unit_id = db.session.query(Unit.id).filter_by(code="water").scalar()
    issue.status = "in_progress"
    db.session.add(
        Followup(
            issue_id=issue.id,
            due_on=date(2026, 12, 1),
            area_id=issue.area_id,
            township_id=issue.township_id,
        )
    )
    db.session.commit()
    return issue


def tile_xy(z: int, lon: float, lat: float) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def readable(response) -> str:
    """The response as text: JSON and CSV as they are, .xlsx cells, vector tile properties."""
    data = response.get_data()
    response.close()
    ctype = response.mimetype
    if ctype.endswith("spreadsheetml.sheet"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]
        book.close()
        return "\n".join(cells)
    if response.status_code == 200 and response.request.path.endswith(".pbf"):
        import mapbox_vector_tile

        if not data:
            return ""
        return repr(mapbox_vector_tile.decode(data)) + data.decode("utf-8", "replace")
    text = data.decode("utf-8", "replace")
    if ctype.endswith("json") and text.strip():
        return json.dumps(json.loads(text), ensure_ascii=False)  # \u escapes hide Chinese
    return text


def read_urls(issue, token: str) -> list[str]:
    x, y = tile_xy(16, LON, LAT)
    bbox = f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}"
    return [
        "/api/v1/issues",
        f"/api/v1/issues?bbox={bbox}",
        f"/api/v1/issues/{issue.id}",
        f"/api/v1/issues/{issue.ref}",
        f"/api/v1/issues/nearby?lon={LON}&lat={LAT}",
        f"/api/v1/map/layers/issues?bbox={bbox}&zoom=16",
        f"/api/v1/map/layers/issues?bbox={bbox}&zoom=8",
        f"/api/v1/map/layers/followups?bbox={bbox}&zoom=16",
        "/api/v1/map/search?q=井盖",
        f"/api/v1/places/history?lon={LON}&lat={LAT}",
        "/api/v1/followups",
        "/api/v1/followups?state=due",
        f"/api/v1/visits/candidates?bbox={bbox}",
        "/ogc/collections/issues/items",
        f"/ogc/collections/issues/items/{issue.id}",
        "/ogc/collections/followups/items",
        f"/open311/v2/requests.json?api_key={token}",
        f"/open311/v2/requests/{issue.ref}.json?api_key={token}",
        f"/tiles/issues/16/{x}/{y}.pbf",
        f"/tiles/issues/10/{tile_xy(10, LON, LAT)[0]}/{tile_xy(10, LON, LAT)[1]}.pbf",
        f"/tiles/followups/16/{x}/{y}.pbf",
        "/",
        "/issues",
        "/issues?format=csv",
        "/issues?format=xlsx",
        f"/issues/{issue.ref}",
        f"/places?lon={LON}&lat={LAT}",
        "/followups/",
        "/followups/?format=csv",
        "/followups/?format=xlsx",
        "/todos/",
        "/visits/plan",
    ]


#: where the allowed roles must find the contact (so the search above can fail)
SHOWN_TO_STAFF = (
    "/api/v1/issues/{id}",
    "/issues/{ref}",
    "/issues?format=csv",
    "/issues?format=xlsx",
)
NEVER = ("/ogc", "/open311", "/tiles")


@pytest.mark.parametrize("role", ALLOWED + NOT_ALLOWED)
def test_contact_only_where_the_role_may_see_it(client, login_as, token_for, planted, role):
    user = login_as(role, unit="water" if role == "unit" else None)
    token = token_for(user)["Authorization"].split()[1]
    seen = {}
    assert client.get(f"/api/v1/issues/{planted.id}").status_code == 200  # sees the problem
    for url in read_urls(planted, token):
        response = client.get(url)
        assert response.status_code in (200, 204, 403, 404), (url, response.status_code)
        text = readable(response)
        found = [s for s in SECRETS if s in text]
        if found:
            seen[url] = found
    for url, found in seen.items():
        assert not url.startswith(NEVER), (role, url, found)
    if role in NOT_ALLOWED:
        assert seen == {}, (role, seen)
    else:
        for pattern in SHOWN_TO_STAFF:
            url = pattern.format(id=planted.id, ref=planted.ref)
            assert set(seen.get(url, ())) >= {RESIDENT, PHONE}, (role, url, seen)


def test_anonymous_public_layers_carry_no_contact(app, client, planted):
    app.config["PUBLIC_LAYERS"], saved = True, app.config["PUBLIC_LAYERS"]
    try:
        for url in read_urls(planted, "no-token"):
            if url.startswith(NEVER):
                text = readable(client.get(url))
                assert not [s for s in SECRETS if s in text], url
    finally:
        app.config["PUBLIC_LAYERS"] = saved


# --- retention -------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _commands():
    from fieldwatch.cli import _register_feature_commands

    _register_feature_commands()  # as `fieldwatch` itself does


def closed_issue(make_user, *, closed_days_ago: int, now: datetime, **extra):
    from fieldwatch.extensions import db
    from fieldwatch.issues.services import report_issue

    issue, _ = report_issue(
        make_user("member"),
        title="占道",
        category="roads",
        lon=LON,
        lat=LAT,
        contact_name=RESIDENT,
        contact_phone=PHONE,
        source="hotline",
    )
    issue.status = extra.get("status", "closed")
    if issue.status in ("closed", "rejected", "duplicate"):
        issue.closed_at = now - timedelta(days=closed_days_ago)
    issue.updated_at = now - timedelta(days=closed_days_ago)
    db.session.commit()
    return issue


def test_purge_erases_contacts_of_problems_closed_longer_than_the_retention(
    app, runner, make_user, small_county, freeze
):
    from sqlalchemy import select

    from fieldwatch.extensions import db
    from fieldwatch.models import AuditLog, Issue

    now = datetime(2027, 6, 1, 2, 0, tzinfo=UTC)
    freeze(now)
    old = closed_issue(make_user, closed_days_ago=400, now=now)
    recent = closed_issue(make_user, closed_days_ago=100, now=now)
    still_open = closed_issue(make_user, closed_days_ago=900, now=now, status="in_progress")
    rejected = closed_issue(make_user, closed_days_ago=366, now=now, status="rejected")

    dry = runner.invoke(["privacy", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2" in dry.output
    db.session.expire_all()
    assert db.session.get(Issue, old.id).contact_phone == PHONE

    result = runner.invoke(["privacy", "purge"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    for issue, erased in ((old, True), (rejected, True), (recent, False), (still_open, False)):
        row = db.session.get(Issue, issue.id)
        assert (row.contact_name is None and row.contact_phone is None) is erased, issue.id
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "privacy.purge").order_by(AuditLog.id.desc())
    )
    assert row.data["issues"] == 2 and row.data["retention_days"] == 365

    again = runner.invoke(["privacy", "purge"])
    assert again.exit_code == 0 and "0" in again.output


def test_purge_follows_the_setting_and_is_all_or_nothing(
    app, runner, make_user, small_county, freeze, monkeypatch
):
    from fieldwatch.extensions import db
    from fieldwatch.models import Issue
    from fieldwatch.privacy import services

    now = datetime(2027, 6, 1, 2, 0, tzinfo=UTC)
    freeze(now)
    issue = closed_issue(make_user, closed_days_ago=40, now=now)
    monkeypatch.setitem(app.config, "CONTACT_RETENTION_DAYS", 30)

    def broken_audit(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "audit", broken_audit)
    result = runner.invoke(["privacy", "purge"])
    assert result.exit_code != 0
    db.session.rollback()
    assert db.session.get(Issue, issue.id).contact_phone == PHONE
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "CONTACT_RETENTION_DAYS", 30)
    assert runner.invoke(["privacy", "purge"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).contact_phone is None


def test_retention_setting_is_read_from_the_environment(monkeypatch, tmp_path):
    from fieldwatch import config

    monkeypatch.setenv("FIELDWATCH_DATABASE_URL", "postgresql:///unused")
    monkeypatch.setenv("FIELDWATCH_INSTANCE", str(tmp_path))
    assert config.from_environment()["CONTACT_RETENTION_DAYS"] == 365
    monkeypatch.setenv("FIELDWATCH_CONTACT_RETENTION_DAYS", "90")
    assert config.from_environment()["CONTACT_RETENTION_DAYS"] == 90


def test_the_daily_timer_runs_the_purge():
    from fieldwatch import ROOT

    units = "\n".join(p.read_text() for p in (ROOT / "deploy").rglob("*") if p.is_file())
    assert "privacy purge" in units


def test_admin_home_shows_the_retention_and_the_last_purge(
    app, client, login_as, runner, make_user, small_county, freeze
):
    now = datetime(2027, 6, 1, 2, 0, tzinfo=UTC)
    freeze(now)
    login_as("admin")
    text = client.get("/admin/").get_data(as_text=True)
    assert "365 天后自动清除" in text and "还没有清除过" in text
    closed_issue(make_user, closed_days_ago=400, now=now)
    assert runner.invoke(["privacy", "purge"]).exit_code == 0
    text = client.get("/admin/").get_data(as_text=True)
    assert "上次清除：2027-06-01 10:00，1 个问题" in text

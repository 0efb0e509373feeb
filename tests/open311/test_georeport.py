"""Open311 GeoReport v2 in process: services, POST through report_issue, GET filters, field list, errors, privacy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from fieldwatch.extensions import db
from fieldwatch.issues import services
from fieldwatch.models import Issue

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
#: GeoReport v2's fields of a service request (GET requests)
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}


def _w3c(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, value
    return moment


@pytest.fixture
def hotline(app, small_county, make_user, token_for, freeze):
    """A hotline system's account (a member) and its api_key."""
    freeze(NOW)
    user = make_user("member", login="hotline", name="12345 热线")
    headers = token_for(user)
    return user, headers["Authorization"][7:]


def _post(client, key, **fields):
    data = {
        "api_key": key,
        "service_code": "roads",
        "lat": "30.05",
        "long": "104.02",
        "description": "路面塌陷\n学校门口，约两米宽",
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post("/open311/v2/requests.json", data=data)


def test_discovery_and_services_with_and_without_json(client, app):
    for path in ("/open311/v2/discovery", "/open311/v2/discovery.json"):
        body = client.get(path).get_json()
        (endpoint,) = body["endpoints"]
        assert endpoint["url"].endswith("/open311/v2")
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["formats"] == ["application/json"]
    services_list = client.get("/open311/v2/services.json").get_json()
    assert services_list == client.get("/open311/v2/services").get_json()
    codes = {s["service_code"] for s in services_list}
    assert {"roads", "drainage", "sanitation", "other"} <= codes
    for service in services_list:
        assert set(service) == SERVICE_FIELDS
        assert service["metadata"] is False and service["type"] == "realtime"
    roads = next(s for s in services_list if s["service_code"] == "roads")
    assert roads["service_name"] == "道路交通" and "Roads" in roads["description"]
    definition = client.get("/open311/v2/services/roads.json")
    assert definition.get_json() == {"service_code": "roads", "attributes": []}


def test_xml_is_refused_with_a_georeport_error(client, app):
    for path in (
        "/open311/v2/services.xml",
        "/open311/v2/requests.xml",
        "/open311/v2/discovery.xml",
    ):
        response = client.get(path)
        assert response.status_code == 400
        assert response.get_json() == [
            {"code": 400, "description": "format not supported: use .json (只提供 JSON)"}
        ]
    missing = client.get("/open311/v2/nothing.json")
    assert missing.status_code == 404 and missing.get_json()[0]["code"] == 404


def test_post_creates_a_problem_through_the_reporting_service(client, hotline):
    user, key = hotline
    response = _post(
        client,
        key,
        first_name="四",
        last_name="李",
        email="lisi@example.com",
        phone="13912345678",
        address_string="人民路 1 号",
        media_url="http://example.com/a.jpg",
        client_id="hotline-0001",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    (answer,) = response.get_json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    ref = answer["service_request_id"]
    assert ref.startswith("FW-2026-")
    issue = db.session.scalar(select(Issue).where(Issue.ref == ref))
    assert issue.source == "open311" and issue.reporter_id == user.id
    assert issue.title == "路面塌陷" and issue.category.code == "roads"
    assert issue.area.code == "512099001001" and issue.township.code == "512099001000"
    assert issue.address == "人民路 1 号"
    assert issue.contact_name == "李 四 <lisi@example.com>"
    assert issue.contact_phone == "13912345678"
    # the same client_id again: the same request, 200, nothing new
    again = _post(client, key, client_id="hotline-0001")
    assert again.status_code == 200
    assert again.get_json()[0]["service_request_id"] == ref
    assert db.session.query(Issue).count() == 1


def test_post_notices_similar_problems_nearby(client, hotline):
    _, key = hotline
    first = _post(client, key).get_json()[0]["service_request_id"]
    second = _post(client, key, lat="30.0501").get_json()[0]
    assert first in second["service_notice"]


def test_post_errors_are_georeport_arrays(client, hotline, make_user, token_for):
    _, key = hotline
    cases = [
        ({"api_key": None}, 403),
        ({"api_key": "fw_wrong"}, 403),
        ({"service_code": "teleport"}, 400),
        ({"service_code": None}, 400),
        ({"lat": None}, 400),
        ({"long": "200"}, 400),
        ({"lat": "north"}, 400),
        ({"client_id": "bad id!"}, 400),
        ({"phone": "1" * 41}, 400),
    ]
    for fields, status in cases:
        response = _post(client, key, **fields)
        assert response.status_code == status, (fields, response.get_data(as_text=True))
        (error,) = response.get_json()
        assert set(error) == {"code", "description"} and error["code"] == status
    unit_key = token_for(make_user("unit", unit="water"))["Authorization"][7:]
    assert _post(client, unit_key).status_code == 403
    other_key = token_for(make_user("member"))["Authorization"][7:]
    assert _post(client, key, client_id="shared-000001").status_code == 201
    taken = _post(client, other_key, client_id="shared-000001")
    assert taken.status_code == 409 and taken.get_json()[0]["code"] == 409
    assert db.session.query(Issue).count() == 1


def test_post_with_a_bearer_header_but_not_a_session(client, hotline, login_as):
    _, key = hotline
    response = client.post(
        "/open311/v2/requests",
        data={"service_code": "roads", "lat": "30.05", "long": "104.02", "description": "x"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201
    login_as("member")
    by_cookie = client.post(
        "/open311/v2/requests",
        data={"service_code": "roads", "lat": "30.05", "long": "104.02", "description": "x"},
    )
    assert by_cookie.status_code == 403  # a cookie alone could be a cross-site form


@pytest.fixture
def reported(hotline, make_user, freeze):
    """Problems of several ages and states."""
    user, key = hotline
    admin = make_user("admin")
    made = {}
    for name, days_ago, category, lon in (
        ("old", 100, "roads", 104.02),
        ("recent", 10, "roads", 104.03),
        ("drain", 5, "drainage", 104.07),
        ("closed", 3, "sanitation", 104.15),
    ):
        freeze(NOW - timedelta(days=days_ago))
        made[name], _ = services.report_issue(
            user,
            title=f"{name} 问题",
            category=category,
            lon=lon,
            lat=30.05,
            description="详情",
            source="open311",
            contact_name="王小明",
            contact_phone="13800001111",
        )
    freeze(NOW)
    services.transition(made["drain"], "accepted", admin)
    services.transition(made["drain"], "in_progress", admin, unit="water", due_on=date(2026, 4, 1))
    services.transition(made["closed"], "rejected", admin, reason="不属实")
    db.session.commit()
    return made, key


def _refs(body) -> set[str]:
    return {r["service_request_id"] for r in body}


def test_get_requests_fields_follow_the_georeport_list(client, reported):
    made, key = reported
    response = client.get(f"/open311/v2/requests.json?api_key={key}")
    assert response.status_code == 200
    body = response.get_json()
    assert _refs(body) == {made[n].ref for n in ("recent", "drain", "closed")}  # 90 days
    for item in body:
        assert set(item) == REQUEST_FIELDS
        assert item["status"] in ("open", "closed")
        _w3c(item["requested_datetime"]) and _w3c(item["updated_datetime"])
    drain = next(r for r in body if r["service_request_id"] == made["drain"].ref)
    assert drain["status"] == "open" and drain["status_notes"] == "in_progress"
    assert drain["service_code"] == "drainage" and drain["service_name"] == "排水防涝"
    assert drain["agency_responsible"]  # the unit's name
    assert drain["expected_datetime"] == "2026-04-01T23:59:59+08:00"
    assert drain["lat"] == pytest.approx(30.05) and drain["long"] == pytest.approx(104.07)
    assert drain["description"] == "drain 问题\n详情"
    closed = next(r for r in body if r["service_request_id"] == made["closed"].ref)
    assert closed["status"] == "closed" and closed["status_notes"] == "rejected"
    # newest first
    assert [r["service_request_id"] for r in body][0] == made["closed"].ref


def test_get_requests_never_carries_contact_data(client, reported):
    _, key = reported
    text = client.get(f"/open311/v2/requests.json?api_key={key}")
    for secret in ("王小明", "13800001111", "hotline", "12345 热线"):
        assert secret not in text.get_data(as_text=True)


def test_get_requests_filters(client, reported):
    made, key = reported
    base = f"/open311/v2/requests?api_key={key}"
    assert _refs(client.get(f"{base}&status=open").get_json()) == {
        made["recent"].ref,
        made["drain"].ref,
    }
    assert _refs(client.get(f"{base}&status=closed").get_json()) == {made["closed"].ref}
    assert _refs(client.get(f"{base}&service_code=roads").get_json()) == {made["recent"].ref}
    assert _refs(client.get(f"{base}&service_code=roads,drainage").get_json()) == {
        made["recent"].ref,
        made["drain"].ref,
    }
    window = "start_date=2025-11-25T00:00:00%2B08:00&end_date=2026-01-01T00:00:00Z"
    assert _refs(client.get(f"{base}&{window}").get_json()) == {made["old"].ref}
    ids = f"{made['old'].ref},{made['drain'].ref}"
    by_id = client.get(f"{base}&service_request_id={ids}&status=closed").get_json()
    assert _refs(by_id) == {made["old"].ref, made["drain"].ref}  # other filters ignored


def test_get_requests_bad_filters_are_400(client, reported):
    _, key = reported
    base = f"/open311/v2/requests.json?api_key={key}"
    for query in (
        "status=pending",
        "start_date=yesterday",
        "start_date=2025-01-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
        "start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z",
    ):
        response = client.get(f"{base}&{query}")
        assert response.status_code == 400, query
        assert response.get_json()[0]["code"] == 400


def test_get_one_request_by_ref(client, reported):
    made, key = reported
    ref = made["drain"].ref
    for suffix in ("", ".json"):
        response = client.get(f"/open311/v2/requests/{ref}{suffix}?api_key={key}")
        assert response.status_code == 200
        (item,) = response.get_json()
        assert item["service_request_id"] == ref and set(item) == REQUEST_FIELDS
    missing = client.get(f"/open311/v2/requests/FW-1999-000001.json?api_key={key}")
    assert missing.status_code == 404 and missing.get_json()[0]["code"] == 404
    assert client.get(f"/open311/v2/requests/{ref}.xml?api_key={key}").status_code == 400


def test_reading_requests_needs_a_key_and_follows_scope(client, reported, make_user, token_for):
    made, _ = reported
    assert client.get("/open311/v2/requests.json").status_code == 403
    assert client.get("/open311/v2/requests.json?api_key=fw_nope").status_code == 403
    unit_key = token_for(make_user("unit", unit="water"))["Authorization"][7:]
    body = client.get(f"/open311/v2/requests.json?api_key={unit_key}").get_json()
    assert _refs(body) == {made["drain"].ref}
    hidden = client.get(f"/open311/v2/requests/{made['recent'].ref}.json?api_key={unit_key}")
    assert hidden.status_code == 404
    scoped = token_for(make_user("leader", township="512099002000"))
    body = client.get("/open311/v2/requests.json", headers=scoped).get_json()
    assert _refs(body) == {made["closed"].ref}

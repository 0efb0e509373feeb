"""An Open311 client against a running server: form-encoded POSTs with api_key, GETs by id and filters."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from .test_georeport import REQUEST_FIELDS


class Client:
    """What a hotline system does: urllib, form fields, JSON back."""

    def __init__(self, base: str):
        self.base = base

    def call(self, path: str, form: dict | None = None, query: dict | None = None):
        url = f"{self.base}/open311/v2/{path}"
        if query:
            url += "?" + urlencode(query)
        data = urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data)
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers["Content-Type"], json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], json.load(error)


@pytest.fixture(scope="module")
def hotline(module_live_server):
    made = module_live_server.cli("users", "create", "hotline", "--role", "member")
    assert made.returncode == 0, made.stderr
    token = module_live_server.cli("users", "token", "hotline")
    assert token.returncode == 0, token.stderr
    return Client(module_live_server.url), token.stdout.strip().splitlines()[-1]


def _contact_in_db(server, ref: str) -> tuple:
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT i.contact_name, i.contact_phone, i.source, v.code "
                    "FROM issues i LEFT JOIN areas v ON v.id = i.area_id WHERE i.ref = :ref"
                ),
                {"ref": ref},
            ).one()
    finally:
        engine.dispose()


def test_a_client_reports_reads_and_retries(module_live_server, hotline):
    client, key = hotline
    status, _, services = client.call("services.json")
    assert status == 200
    code = services[0]["service_code"]
    # a point inside a demo township
    lon, lat = 104.6520082, 30.1206922
    form = {
        "api_key": key,
        "service_code": code,
        "lat": str(lat),
        "long": str(lon),
        "description": "井盖松动\n小学门口",
        "first_name": "四",
        "last_name": "李",
        "phone": "13912345678",
        "client_id": "hotline-live-0001",
    }
    status, content_type, created = client.call("requests.json", form)
    assert status == 201, created
    assert content_type.startswith("application/json")
    (answer,) = created
    ref = answer["service_request_id"]
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    name, phone, source, village = _contact_in_db(module_live_server, ref)
    assert (name, phone, source) == ("李 四", "13912345678", "open311")
    assert village is not None  # placed in its village by point-in-polygon

    # the same report again (a retry after a timeout): the same request, nothing new
    status, _, again = client.call("requests.json", form)
    assert status == 200 and again[0]["service_request_id"] == ref

    # by id, with and without .json
    for path in (f"requests/{ref}.json", f"requests/{ref}"):
        status, _, found = client.call(path, query={"api_key": key})
        assert status == 200
        (item,) = found
        assert set(item) == REQUEST_FIELDS
        assert item["service_request_id"] == ref and item["status"] == "open"
        assert item["status_notes"] == "reported" and item["service_code"] == code
        assert item["lat"] == pytest.approx(lat) and item["long"] == pytest.approx(lon)
        assert "13912345678" not in json.dumps(item, ensure_ascii=False)

    # by filters
    status, _, listed = client.call(
        "requests.json", query={"api_key": key, "service_code": code, "status": "open"}
    )
    assert status == 200 and ref in {r["service_request_id"] for r in listed}
    status, _, closed = client.call("requests.json", query={"api_key": key, "status": "closed"})
    assert status == 200 and ref not in {r["service_request_id"] for r in closed}
    status, _, old = client.call(
        "requests.json",
        query={
            "api_key": key,
            "start_date": "2020-01-01T00:00:00+08:00",
            "end_date": "2020-03-01T00:00:00+08:00",
        },
    )
    assert status == 200 and old == []
    status, _, many = client.call(
        "requests.json", query={"api_key": key, "service_request_id": f"{ref},FW-1999-000001"}
    )
    assert [r["service_request_id"] for r in many] == [ref]


def test_a_client_gets_georeport_errors(hotline):
    client, key = hotline
    good = {"api_key": key, "service_code": "roads", "lat": "30.12", "long": "104.65"}
    for form, status in (
        ({**good, "api_key": "fw_not-a-token"}, 403),
        ({k: v for k, v in good.items() if k != "api_key"}, 403),
        ({**good, "service_code": "teleport"}, 400),
        ({**good, "lat": ""}, 400),
    ):
        got, content_type, body = client.call("requests.json", form)
        assert got == status, body
        assert content_type.startswith("application/json")
        assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]
    got, _, body = client.call("requests/FW-1999-000001.json", query={"api_key": key})
    assert got == 404 and body[0]["code"] == 404
    got, _, body = client.call("requests.json", query={"api_key": "fw_nope"})
    assert got == 403
    got, _, body = client.call("requests.xml", query={"api_key": key})
    assert got == 400 and "use .json" in body[0]["description"]

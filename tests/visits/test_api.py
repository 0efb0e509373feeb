"""`/api/v1/visits` exactly as DESIGN.md: plan, read, reorder, hold, cancel; errors in shape."""

from datetime import timedelta

import pytest
from pyproj import Geod

from fieldwatch.extensions import db
from fieldwatch.models import Issue, Visit

from .conftest import TODAY

GEOD = Geod(ellps="WGS84")
API = "/api/v1/visits"


def km(a, b):
    return GEOD.inv(a[0], a[1], b[0], b[1])[2] / 1000.0


class SameSite:
    """The test client as a page of this site would call the API (cookie + same origin)."""

    def __init__(self, client):
        self.client = client

    def __getattr__(self, name):
        method = getattr(self.client, name)
        if name not in ("get", "post", "patch", "delete", "put"):
            return method

        def call(*args, headers=None, **kwargs):
            headers = {"Sec-Fetch-Site": "same-origin", **(headers or {})}
            return method(*args, headers=headers, **kwargs)

        return call


@pytest.fixture
def client(client):
    return SameSite(client)


@pytest.fixture
def three(make_issue):
    return (
        make_issue(104.01, 30.05),
        make_issue(104.03, 30.05, status="accepted"),
        make_issue(104.05, 30.06),
    )


def body(**values):
    values.setdefault("title", "东风镇积水点现场协商")
    values.setdefault("form", "on_site")
    values.setdefault("planned_for", (TODAY + timedelta(days=7)).isoformat())
    return values


def test_post_returns_201_with_the_route(client, login_as, people, three):
    a, b, c = three
    login_as(people["leader"])
    response = client.post(
        API,
        json=body(
            issue_ids=[a.id, c.ref, b.id],
            start={"lon": 104.0, "lat": 30.05},
            start_label="政协办公室",
            participants={"members": [people["member"].id], "units": ["water"], "residents": 8},
        ),
    )
    assert response.status_code == 201, response.json
    visit = response.json
    assert response.headers["Location"].endswith(f"/api/v1/visits/{visit['id']}")
    assert visit["status"] == "planned" and visit["form"] == "on_site"
    assert visit["planned_for"] == (TODAY + timedelta(days=7)).isoformat()
    assert visit["issue_ids"] == [a.id, c.id, b.id]
    assert set(visit["route"]) == {"stops", "total_km"}
    stops = visit["route"]["stops"]
    assert [set(s) for s in stops] == [{"issue_id", "lon", "lat", "km_from_previous"}] * 3
    points = [(104.0, 30.05), (104.01, 30.05), (104.05, 30.06), (104.03, 30.05)]
    legs = [km(p, q) for p, q in zip(points, points[1:], strict=False)]
    assert [s["km_from_previous"] for s in stops] == pytest.approx(legs, abs=1e-9)
    assert visit["route"]["total_km"] == pytest.approx(sum(legs), abs=1e-9)
    assert visit["start"] == {"lon": 104.0, "lat": 30.05, "label": "政协办公室"}
    assert visit["participants"] == {
        "members": [people["member"].id],
        "units": ["water"],
        "residents": 8,
    }
    assert visit["stops"][0]["village"] == "红星村" and visit["township"] == "东风镇"

    got = client.get(f"{API}/{visit['id']}")
    assert got.status_code == 200 and got.json["route"] == visit["route"]


def test_patch_stop_order_reorders(client, login_as, people, three):
    a, b, c = three
    login_as(people["leader"])
    visit = client.post(API, json=body(issue_ids=[a.id, b.id, c.id])).json
    response = client.patch(f"{API}/{visit['id']}", json={"stop_order": [c.id, a.id, b.id]})
    assert response.status_code == 200, response.json
    assert [s["issue_id"] for s in response.json["route"]["stops"]] == [c.id, a.id, b.id]
    assert response.json["route"]["stops"][0]["km_from_previous"] == 0  # no start
    bad = client.patch(f"{API}/{visit['id']}", json={"stop_order": [a.id]})
    assert bad.status_code == 422 and "stop_order" in bad.json["errors"]
    renamed = client.patch(f"{API}/{visit['id']}", json={"title": "改期后的主题"})
    assert renamed.json["title"] == "改期后的主题"
    assert renamed.json["issue_ids"] == [c.id, a.id, b.id]


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"planned_for": (TODAY - timedelta(days=1)).isoformat()}, "planned_for", "已经过去"),
        ({"issue_ids": []}, "issue_ids", "至少需要一个走访点"),
        ({"issue_ids": "closed"}, "issue_ids", "不能作为走访点"),
        ({"planned_for": "tomorrow"}, "planned_for", ""),
        ({"form": "picnic"}, "form", ""),
        ({"title": None}, "title", ""),
    ],
)
def test_invalid_plans_are_422_with_field_messages(
    client, login_as, people, make_issue, values, field, words
):
    login_as(people["leader"])
    if values.get("issue_ids") == "closed":
        values = {"issue_ids": [make_issue().id, make_issue(104.02, 30.06, status="closed").id]}
    response = client.post(API, json=body(**values))
    assert response.status_code == 422
    assert set(response.json) == {"error", "message", "errors"}
    assert response.json["error"] == "invalid"
    assert field in response.json["errors"]
    assert words in " ".join(response.json["errors"][field])
    assert db.session.query(Visit).count() == 0


def test_hold_applies_actions_or_names_the_bad_one(client, login_as, people, three):
    a, b, c = three
    login_as(people["leader"])
    visit = client.post(API, json=body(issue_ids=[a.id, b.id], planned_for=TODAY.isoformat())).json
    url = f"{API}/{visit['id']}/hold"
    held = {
        "held_on": TODAY.isoformat(),
        "attendance": {"members": 4, "officials": 2, "residents": 15},
        "opinions": "两处积水点由水务局限期整改。",
    }
    bad = client.post(
        url,
        json={
            **held,
            "actions": [
                {"issue_id": a.id, "to": "accepted"},
                {"issue_id": b.id, "to": "resolved"},  # b is only accepted: a conflict
            ],
        },
    )
    assert bad.status_code == 409
    assert "actions.1" in bad.json["errors"] and "第 2 项" in bad.json["message"]
    assert db.session.get(Issue, a.id).status == "reported"
    assert client.get(f"{API}/{visit['id']}").json["status"] == "planned"

    due = (TODAY + timedelta(days=30)).isoformat()
    good = client.post(
        url,
        json={
            **held,
            "actions": [
                {"issue_id": a.id, "to": "accepted", "note": "属实"},
                {"issue_id": a.id, "to": "in_progress", "unit": "water", "due_on": due},
                {"issue_id": b.ref, "to": "in_progress", "unit": "transport"},
            ],
        },
    )
    assert good.status_code == 200, good.json
    assert good.json["status"] == "held" and good.json["held_on"] == TODAY.isoformat()
    assert good.json["attendance"] == {"members": 4, "officials": 2, "residents": 15}
    assert [x["to"] for x in good.json["actions"]] == ["accepted", "in_progress", "in_progress"]
    a, b = db.session.get(Issue, a.id), db.session.get(Issue, b.id)
    assert (a.status, a.unit.code, a.due_on.isoformat()) == ("in_progress", "water", due)
    assert (b.status, b.unit.code) == ("in_progress", "transport")
    again = client.post(url, json=held)
    assert again.status_code == 409


def test_cancel_needs_a_reason_and_keeps_it(client, login_as, people, three):
    login_as(people["leader"])
    visit = client.post(API, json=body(issue_ids=[three[0].id])).json
    missing = client.post(f"{API}/{visit['id']}/cancel", json={"reason": " "})
    assert missing.status_code == 422 and "reason" in missing.json["errors"]
    done = client.post(f"{API}/{visit['id']}/cancel", json={"reason": "汛期，改期"})
    assert done.status_code == 200
    assert done.json["status"] == "cancelled" and done.json["cancel_reason"] == "汛期，改期"
    assert client.patch(f"{API}/{visit['id']}", json={"title": "x"}).status_code == 409


def test_who_may_do_what(app, people, make_user, three, token_for):
    """By API token (no cookie): each role's rights on visits."""
    client = app.test_client()
    a = three[0]

    def as_(user):
        return token_for(user)

    leader = as_(people["leader"])
    invited = client.post(
        API,
        json=body(
            issue_ids=[a.id],
            participants={"members": [people["member"].id], "units": ["water"]},
        ),
        headers=leader,
    ).json
    private = client.post(
        API, json=body(issue_ids=[a.id], title="未邀请任何人"), headers=leader
    ).json

    # supervisors see every visit but may not plan, hold or cancel
    sup = as_(people["supervisor"])
    assert client.get(f"{API}/{private['id']}", headers=sup).status_code == 200
    assert client.post(API, json=body(issue_ids=[a.id]), headers=sup).status_code == 403
    hold = client.post(f"{API}/{private['id']}/hold", json={}, headers=sup)
    assert hold.status_code == 403
    # members see the visits they are invited to
    member = as_(people["member"])
    assert client.get(f"{API}/{invited['id']}", headers=member).status_code == 200
    assert client.get(f"{API}/{private['id']}", headers=member).status_code == 404
    listed = client.get(API, headers=member).json["items"]
    assert [v["id"] for v in listed] == [invited["id"]]
    assert (
        client.post(
            f"{API}/{invited['id']}/cancel", json={"reason": "x"}, headers=member
        ).status_code
        == 403
    )
    # unit staff see the visits listing their unit
    water = as_(people["unit"])
    assert [v["id"] for v in client.get(API, headers=water).json["items"]] == [invited["id"]]
    other = as_(make_user("unit", unit="transport"))
    assert client.get(API, headers=other).json["items"] == []
    # admins may plan too; nobody signed in gets 401 in our shape
    assert (
        client.post(API, json=body(issue_ids=[a.id]), headers=as_(people["admin"])).status_code
        == 201
    )


def test_anonymous_is_401(app):
    response = app.test_client().get(API)
    assert response.status_code == 401 and set(response.json) == {"error", "message", "errors"}


def test_list_filters_and_paging(client, login_as, people, three):
    login_as(people["leader"])
    ids = [
        client.post(
            API,
            json=body(
                issue_ids=[three[0].id],
                planned_for=(TODAY + timedelta(days=d)).isoformat(),
                title=f"第{d}天",
            ),
        ).json["id"]
        for d in (1, 15, 40)
    ]
    client.post(f"{API}/{ids[0]}/cancel", json={"reason": "改期"})
    march = client.get(f"{API}?month=2026-03").json["items"]
    assert sorted(v["id"] for v in march) == sorted(ids[:2])
    assert [v["id"] for v in client.get(f"{API}?status=cancelled").json["items"]] == [ids[0]]
    page = client.get(f"{API}?limit=2")
    assert len(page.json["items"]) == 2 and page.json["next"]
    rest = client.get(page.json["next"])
    assert len(rest.json["items"]) == 1 and rest.json["next"] is None
    assert client.get(f"{API}?month=2026-13").status_code == 422


def test_candidates_batches_and_route_helpers(client, login_as, people, three, small_county):
    a, b, c = three
    login_as(people["leader"])
    fc = client.get(f"{API}/candidates?township=512099001000&bbox=104.0,30.0,104.1,30.1")
    assert fc.status_code == 200 and fc.headers["Content-Type"] == "application/geo+json"
    assert fc.json["type"] == "FeatureCollection"
    assert sorted(f["id"] for f in fc.json["features"]) == sorted([a.id, b.id, c.id])
    assert client.get(f"{API}/candidates?status=accepted").json["features"][0]["id"] == b.id
    assert client.get(f"{API}/candidates?township=999").status_code == 422
    batches = client.get(f"{API}/batches?eps_m=2500").json
    assert batches["batches"][0]["issue_ids"] == sorted([a.id, b.id, c.id])
    route = client.post(
        f"{API}/route",
        json={
            "start": {"lon": 104.06, "lat": 30.05},
            "stops": [{"issue_id": a.id}, {"issue_id": c.id}, {"issue_id": b.id}],
        },
    ).json
    assert route["order"] == [1, 2, 0]
    assert [s["issue_id"] for s in route["route"]["stops"]] == [c.id, b.id, a.id]
    member = people["member"]
    login_as(member)
    assert client.get(f"{API}/candidates").status_code == 403


def test_photos_of_a_visit(client, people, three, token_for, app):
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 40)).save(buffer, "JPEG")
    leader = token_for(people["leader"])
    visit = client.post(
        API,
        json=body(issue_ids=[three[0].id], participants={"members": [people["member"].id]}),
        headers=leader,
    ).json

    def send(headers, client_id="visit-photo-0001"):
        return client.post(
            f"{API}/{visit['id']}/photos",
            data={"photo": (BytesIO(buffer.getvalue()), "site.jpg"), "client_id": client_id},
            headers=headers,
            content_type="multipart/form-data",
        )

    member = token_for(people["member"])
    first = send(member)
    assert first.status_code == 201, first.json
    assert first.json["visit_id"] == visit["id"] and first.json["thumb_url"]
    assert send(member).status_code == 200  # the same client_id again
    assert send(token_for(people["member2"]), "visit-photo-0002").status_code == 404  # not invited
    bad = client.post(
        f"{API}/{visit['id']}/photos",
        data={"photo": (BytesIO(b"not a picture"), "x.jpg")},
        headers=leader,
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "photo" in bad.json["errors"]


def test_nul_characters_are_422_not_500(client, login_as, people, three):
    login_as(people["leader"])
    response = client.post(API, json=body(title="a\u0000b", issue_ids=[three[0].id]))
    assert response.status_code == 422 and response.json["error"] == "invalid"
    assert client.get(f"{API}/candidates?category=a%00b").status_code == 422
    page = client.post("/visits/plan", data={"title": "a\x00b"})
    assert page.status_code == 422

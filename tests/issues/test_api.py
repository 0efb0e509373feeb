"""The issue JSON API as DESIGN.md says: reports, idempotent client_id, duplicates, moves, scope."""

import io

import pytest
from sqlalchemy import func, select

from fieldwatch.extensions import db
from fieldwatch.models import Issue, IssueEvent, Photo
from fieldwatch.photos.samples import sample_image

#: a browser page of our own (cookie-authenticated writes must be same-origin)
SAME = {"Sec-Fetch-Site": "same-origin"}
#: ~120 m east of (104.02, 30.05) at this latitude
EAST_120M = 104.02 + 120 / (111_320 * 0.8660)


def report(client, **values):
    body = {"title": "下水道堵塞", "category": "drainage", "lon": 104.02, "lat": 30.05}
    body.update(values)
    return client.post("/api/v1/issues", json=body, headers=SAME)


def count(**where) -> int:
    query = select(func.count(Issue.id))
    for key, value in where.items():
        query = query.where(getattr(Issue, key) == value)
    return db.session.scalar(query)


@pytest.fixture
def member(login_as, small_county):
    return login_as("member")


def test_report_answers_201_with_the_feature(client, member, small_county):
    response = report(
        client,
        accuracy_m=8.5,
        location_source="gps",
        observed_at="2026-03-10T09:15:00+08:00",
        description="雨后积水",
        client_id="abcdef0123456789",
    )
    assert response.status_code == 201, response.json
    feature = response.json
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [104.02, 30.05]}
    props = feature["properties"]
    assert props["status"] == "reported"
    assert props["ref"].startswith("FW-")
    assert props["village_code"] == "512099001001"
    assert props["township_code"] == "512099001000"
    assert props["location_source"] == "gps" and props["accuracy_m"] == 8.5
    assert props["observed_at"].startswith("2026-03-10T01:15:00")
    assert props["possible_duplicates"] == []
    assert "reporter" not in props  # a member does not see names


def test_possible_duplicates_nearest_first_never_itself(client, member, small_county):
    far = report(client, lon=EAST_120M, title="较远的积水").json["properties"]
    near = report(client, lon=104.0205, title="较近的积水").json["properties"]
    report(client, category="sanitation", lon=104.0201, title="别的类别")
    third = report(client, title="又一个")
    props = third.json["properties"]
    refs = [d["ref"] for d in props["possible_duplicates"]]
    assert refs == [near["ref"], far["ref"]]
    assert props["ref"] not in refs
    first = props["possible_duplicates"][0]
    assert set(first) == {"id", "ref", "title", "status", "distance_m", "thumb_url"}
    assert first["distance_m"] == pytest.approx(48, abs=2)


def test_duplicate_radius_is_the_categorys(client, member, small_county):
    # drainage: 150 m, safety: 100 m; both pairs 120 m apart
    report(client, category="drainage", lon=EAST_120M)
    report(client, category="safety", lon=EAST_120M, title="井盖松动")
    drainage = report(client, category="drainage").json["properties"]
    safety = report(client, category="safety", title="井盖松动").json["properties"]
    assert len(drainage["possible_duplicates"]) == 1
    assert safety["possible_duplicates"] == []
    nearby = client.get("/api/v1/issues/nearby?lon=104.02&lat=30.05&category=safety")
    assert [f["properties"]["ref"] for f in nearby.json["features"]] == [safety["ref"]]
    assert nearby.json["radius_m"] == 100
    wide = client.get("/api/v1/issues/nearby?lon=104.02&lat=30.05&category=safety&radius=200")
    assert len(wide.json["features"]) == 2
    anything = client.get("/api/v1/issues/nearby?lon=104.02&lat=30.05")
    assert anything.json["radius_m"] == 250 and len(anything.json["features"]) == 4
    distances = [f["properties"]["distance_m"] for f in anything.json["features"]]
    assert distances == sorted(distances)


def test_nearby_refuses_radius_over_2000_and_bad_points(client, member):
    too_far = client.get("/api/v1/issues/nearby?lon=104.02&lat=30.05&radius=2001")
    assert too_far.status_code == 422 and "radius" in too_far.json["errors"]
    bad = client.get("/api/v1/issues/nearby?lon=104.02&lat=95")
    assert bad.status_code == 422 and "lat" in bad.json["errors"]
    unknown = client.get("/api/v1/issues/nearby?lon=104.02&lat=30.05&category=nope")
    assert unknown.status_code == 422 and "category" in unknown.json["errors"]


def test_same_client_id_same_user_200_other_user_409(client, login_as, small_county):
    first_user = login_as("member")
    first = report(client, client_id="queue-0123456789abcdef")
    again = report(client, client_id="queue-0123456789abcdef", title="改了标题也一样")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["id"] == first.json["id"]
    assert again.json["properties"]["title"] == "下水道堵塞"
    login_as("member")
    other = report(client, client_id="queue-0123456789abcdef")
    assert other.status_code == 409
    assert other.json["error"] == "conflict" and "client_id" in other.json["errors"]
    assert count(client_id="queue-0123456789abcdef") == 1
    assert first_user.id == db.session.get(Issue, first.json["id"]).reporter_id


@pytest.mark.parametrize(
    "values, field",
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"category": "no-such-thing"}, "category"),
        ({"lon": 200}, "lon"),
        ({"lat": "abc"}, "lat"),
        ({"lon": None}, "lon"),
    ],
    ids=["empty-title", "null-title", "unknown-category", "lon-range", "lat-text", "no-lon"],
)
def test_invalid_values_get_field_messages_and_create_nothing(client, member, values, field):
    before = count()
    body = {"title": "积水", "category": "drainage", "lon": 104.02, "lat": 30.05, **values}
    body = {k: v for k, v in body.items() if v is not None}
    response = client.post("/api/v1/issues", json=body, headers=SAME)
    assert response.status_code == 422, response.json
    assert response.json["error"] == "invalid"
    assert response.json["errors"][field], response.json
    assert count() == before


def test_unparseable_json_is_400(client, member, small_county):
    response = client.post(
        "/api/v1/issues",
        data=b'{"title": "x",',
        headers={**SAME, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"
    ref = report(client).json["properties"]["ref"]
    for path in ("transitions", "comments"):
        broken = client.post(
            f"/api/v1/issues/{ref}/{path}",
            data=b"{not json",
            headers={**SAME, "Content-Type": "application/json"},
        )
        assert broken.status_code == 400, path


def test_multipart_with_photos_in_one_request(client, member, small_county):
    response = client.post(
        "/api/v1/issues",
        data={
            "title": "垃圾堆放",
            "category": "sanitation",
            "lon": "104.03",
            "lat": "30.04",
            "client_id": "multipart-0001",
            "photos": [
                (io.BytesIO(sample_image(lonlat=(104.03, 30.04))), "a.jpg"),
                (io.BytesIO(sample_image("PNG")), "b.png"),
            ],
        },
        headers=SAME,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    photos = response.json["properties"]["photos"]
    assert len(photos) == 2
    assert response.json["properties"]["thumb_url"] == photos[0]["thumb_url"]


@pytest.mark.parametrize(
    "upload, words",
    [
        ((b"GIF89a" + b"\0" * 64, "x.gif"), "JPEG、PNG 或 WebP"),
        ((b"\xff\xd8\xff\xe0 not a jpeg at all", "fake.jpg"), "不是有效的图片"),
        ("big", "太大"),
    ],
    ids=["wrong-type", "fake-jpeg", "too-big"],
)
def test_a_bad_photo_means_nothing_is_created(client, member, app, upload, words):
    if upload == "big":
        raw = sample_image(size=(300, 300))
        app.config["MAX_PHOTO_BYTES"] = len(raw) - 1
        upload = (raw, "big.jpg")
    try:
        response = client.post(
            "/api/v1/issues",
            data={
                "title": "坏照片测试",
                "category": "sanitation",
                "lon": "104.03",
                "lat": "30.04",
                "photos": [
                    (io.BytesIO(sample_image()), "good.jpg"),
                    (io.BytesIO(upload[0]), upload[1]),
                ],
            },
            headers=SAME,
            content_type="multipart/form-data",
        )
    finally:
        app.config["MAX_PHOTO_BYTES"] = 15 * 1024 * 1024
    assert response.status_code == 422, response.json
    assert any(words in m for m in response.json["errors"]["photos"])
    assert count(title="坏照片测试") == 0
    assert db.session.scalar(select(func.count(Photo.id))) == 0


def test_add_photo_and_comment_are_idempotent(client, login_as, small_county):
    login_as("member")
    issue_id = report(client).json["id"]
    photo = lambda cid: client.post(  # noqa: E731
        f"/api/v1/issues/{issue_id}/photos",
        data={"photo": (io.BytesIO(sample_image()), "p.jpg"), "client_id": cid},
        headers=SAME,
        content_type="multipart/form-data",
    )
    first = photo("photo-cid-0001")
    assert first.status_code == 201 and first.json["issue_id"] == issue_id
    assert first.json["thumb_url"].endswith("/thumb")
    assert photo("photo-cid-0001").json["id"] == first.json["id"]
    assert photo("photo-cid-0001").status_code == 200
    comment = lambda cid: client.post(  # noqa: E731
        f"/api/v1/issues/{issue_id}/comments",
        json={"note": "现场又看了一次", "client_id": cid},
        headers=SAME,
    )
    made = comment("note-cid-0001")
    assert made.status_code == 201 and comment("note-cid-0001").status_code == 200
    login_as("member")
    assert photo("photo-cid-0001").status_code == 409
    assert comment("note-cid-0001").status_code == 409
    empty = client.post(f"/api/v1/issues/{issue_id}/comments", json={"note": " "}, headers=SAME)
    assert empty.status_code == 422 and "note" in empty.json["errors"]
    missing = client.post(
        f"/api/v1/issues/{issue_id}/photos",
        data={},
        headers=SAME,
        content_type="multipart/form-data",
    )
    assert missing.status_code == 422 and "photo" in missing.json["errors"]
    comments = db.session.scalar(
        select(func.count(IssueEvent.id)).where(
            IssueEvent.issue_id == issue_id, IssueEvent.kind == "comment"
        )
    )
    assert comments == 1


def test_transitions_200_409_403_422(client, login_as, small_county):
    login_as("member")
    ref = report(client).json["properties"]["ref"]
    move = lambda **body: client.post(f"/api/v1/issues/{ref}/transitions", json=body, headers=SAME)  # noqa: E731
    assert move(to="accepted").status_code == 403  # a member may not
    login_as("leader")
    assert move(to="resolved", answer_class="A", note="x").status_code == 409
    accepted = move(to="accepted")
    assert accepted.status_code == 200 and accepted.json["properties"]["status"] == "accepted"
    missing = move(to="in_progress")
    assert missing.status_code == 422 and "unit" in missing.json["errors"]
    assigned = move(to="in_progress", unit="water", due_on="2099-01-01")
    assert assigned.json["properties"]["unit"] == "water"
    assert assigned.json["properties"]["due_on"] == "2099-01-01"
    assert move(to="nonsense").status_code == 422
    login_as("unit", unit="water")
    no_note = move(to="resolved", answer_class="A")
    assert no_note.status_code == 422 and "note" in no_note.json["errors"]
    done = move(to="resolved", answer_class="A", note="已疏通")
    assert done.status_code == 200 and done.json["properties"]["status"] == "resolved"


def test_list_is_scoped_and_paged_without_names_for_members(client, login_as, small_county):
    login_as("member")
    refs = [report(client, title=f"问题{i}").json["properties"]["ref"] for i in range(3)]
    report(client, title="西岭乡的问题", lon=104.15)
    login_as("leader")
    client.post(f"/api/v1/issues/{refs[0]}/transitions", json={"to": "accepted"}, headers=SAME)
    client.post(
        f"/api/v1/issues/{refs[0]}/transitions",
        json={"to": "in_progress", "unit": "water"},
        headers=SAME,
    )
    everything = client.get("/api/v1/issues?limit=2")
    assert everything.json["numberMatched"] == 4 and len(everything.json["features"]) == 2
    assert everything.json["features"][0]["properties"]["reporter"]  # staff see the reporter
    next_url = [link for link in everything.json["links"] if link["rel"] == "next"][0]["href"]
    second = client.get(next_url)
    assert len(second.json["features"]) == 2
    assert not [link for link in second.json["links"] if link["rel"] == "next"]
    login_as("unit", unit="water")
    unit_rows = client.get("/api/v1/issues").json["features"]
    assert [f["properties"]["ref"] for f in unit_rows] == [refs[0]]
    assert client.get(f"/api/v1/issues/{refs[1]}").status_code == 404
    login_as("supervisor", township="512099002000")
    township_rows = client.get("/api/v1/issues").json["features"]
    assert [f["properties"]["title"] for f in township_rows] == ["西岭乡的问题"]
    login_as("member")
    rows = client.get("/api/v1/issues?status=in_progress&township=512099001000").json["features"]
    assert [f["properties"]["ref"] for f in rows] == [refs[0]]
    assert "reporter" not in rows[0]["properties"] and "contact_phone" not in rows[0]["properties"]
    bbox = client.get("/api/v1/issues?bbox=104.1,30.0,104.2,30.1").json
    assert bbox["numberMatched"] == 1
    assert client.get("/api/v1/issues?status=bogus").status_code == 422
    assert client.get("/api/v1/issues?township=999").status_code == 422


def test_one_issue_by_id_or_ref_with_timeline(client, member, small_county):
    made = report(client).json
    by_id = client.get(f"/api/v1/issues/{made['id']}")
    by_ref = client.get(f"/api/v1/issues/{made['properties']['ref'].lower()}")
    assert by_id.json["id"] == by_ref.json["id"] == made["id"]
    events = by_id.json["properties"]["events"]
    assert [e["move"] for e in events] == ["report"]
    assert client.get("/api/v1/issues/FW-1999-000001").status_code == 404


def test_signed_out_401_and_cross_site_cookie_write_refused(client, login_as, small_county):
    assert client.get("/api/v1/issues").status_code == 401
    login_as("member")
    cross = client.post(
        "/api/v1/issues",
        json={"title": "t", "category": "drainage", "lon": 104.02, "lat": 30.05},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    assert count() == 0


def test_token_write_needs_no_origin(client, make_user, token_for, small_county):
    user = make_user("member")
    response = client.post(
        "/api/v1/issues",
        json={"title": "令牌上报", "category": "roads", "lon": 104.02, "lat": 30.05},
        headers=token_for(user),
    )
    assert response.status_code == 201


def test_unit_staff_may_not_report(client, login_as, small_county):
    login_as("unit", unit="water")
    assert report(client).status_code == 403


def test_categories_and_units_lists(client, member):
    categories = client.get("/api/v1/categories").json
    drainage = [c for c in categories["items"] if c["code"] == "drainage"][0]
    assert drainage["duplicate_radius_m"] == 150 and categories["next"] is None
    units = client.get("/api/v1/units?limit=3").json
    assert len(units["items"]) == 3 and units["next"].endswith("offset=3")


def test_everything_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/api/v1/issues",
        "/api/v1/issues/nearby",
        "/api/v1/issues/{ident}",
        "/api/v1/issues/{ident}/photos",
        "/api/v1/issues/{ident}/comments",
        "/api/v1/issues/{ident}/transitions",
        "/api/v1/categories",
        "/api/v1/units",
    ):
        assert path in paths, path
    post = paths["/api/v1/issues"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json", "multipart/form-data"}


def test_nul_characters_are_refused_not_a_server_error(client, member, small_county):
    bad = report(client, category="drain\x00age", title="a\x00b")
    assert bad.status_code == 422
    assert set(bad.json["errors"]) >= {"category", "title"}
    listed = client.get("/api/v1/issues?category=x%00y")
    assert listed.status_code == 422

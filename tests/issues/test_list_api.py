"""`GET /api/v1/issues`: the list's features (written by PostGIS), paging and numberMatched."""

import io

from fieldwatch import counting
from fieldwatch.photos.samples import sample_image

SAME = {"Sec-Fetch-Site": "same-origin"}
CONTACT_KEYS = {"reporter", "contact_name", "contact_phone"}


def report(client, **values):
    body = {"title": "下水道堵塞", "category": "drainage", "lon": 104.02, "lat": 30.05}
    body.update(values)
    response = client.post("/api/v1/issues", json=body, headers=SAME)
    assert response.status_code == 201, response.json
    return response.json


def test_list_features_carry_the_list_properties_and_match_the_detail(
    client, login_as, small_county
):
    login_as("member")
    made = report(
        client,
        title="路灯不亮",
        description="长" * 4000,
        lon=104.0312345,
        lat=30.05,
        accuracy_m=8.5,
        location_source="gps",
        observed_at="2026-03-01T09:30:15.25+08:00",
    )
    ref = made["properties"]["ref"]
    photo = client.post(
        f"/api/v1/issues/{ref}/photos",
        data={"photo": (io.BytesIO(sample_image()), "a.jpg")},
        headers=SAME,
    )
    assert photo.status_code == 201
    listed = client.get("/api/v1/issues")
    assert listed.status_code == 200 and listed.mimetype == "application/json"
    (feature,) = listed.json["features"]
    props = feature["properties"]
    detail = client.get(f"/api/v1/issues/{ref}").json
    # the detail's properties but its photos, timeline and next moves (the list has the
    # first photo's thumb_url); no contacts for a member
    assert set(props) == set(detail["properties"]) - {"photos", "events", "next_moves"}
    assert not set(props) & CONTACT_KEYS
    assert feature["id"] == detail["id"] and feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [104.0312345, 30.05]}
    for key in set(props) - {"thumb_url"}:
        assert props[key] == detail["properties"][key], key
    assert props["description"] == "长" * 4000
    assert props["thumb_url"] == photo.json["thumb_url"] == detail["properties"]["thumb_url"]
    assert (props["village_code"], props["township_code"]) == ("512099001001", "512099001000")
    assert props["observed_at"] == "2026-03-01T01:30:15.250000+00:00"
    assert (props["accuracy_m"], props["location_source"]) == (8.5, "gps")
    assert "路灯不亮" in listed.get_data(as_text=True)  # UTF-8, not \\u escapes
    login_as("leader")
    staff = client.get("/api/v1/issues").json["features"][0]["properties"]
    assert set(staff) == set(props) | CONTACT_KEYS and staff["reporter"]


def test_overdue_and_unit_in_the_list(client, login_as, small_county, freeze):
    from datetime import UTC, datetime

    freeze(datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    login_as("leader")
    ref = report(client)["properties"]["ref"]
    move = lambda **body: client.post(f"/api/v1/issues/{ref}/transitions", json=body, headers=SAME)  # noqa: E731
    assert move(to="accepted").status_code == 200
    assert move(to="in_progress", unit="water", due_on="2026-03-05").status_code == 200
    freeze(datetime(2026, 3, 9, 2, 0, tzinfo=UTC))
    props = client.get("/api/v1/issues?overdue=true").json["features"][0]["properties"]
    assert (props["unit"], props["due_on"], props["overdue"]) == ("water", "2026-03-05", True)
    assert props == {
        k: v
        for k, v in client.get(f"/api/v1/issues/{ref}").json["properties"].items()
        if k in props
    }


def test_pages_link_next_and_count_only_when_cheap(client, login_as, small_county, monkeypatch):
    login_as("member")
    refs = [report(client, title=f"问题{i}")["properties"]["ref"] for i in range(5)]
    first = client.get("/api/v1/issues?limit=2").json
    assert first["numberMatched"] == 5 and first["numberReturned"] == 2
    assert [f["properties"]["ref"] for f in first["features"]] == refs[::-1][:2]  # newest first
    seen = []
    page = first
    while True:
        seen += [f["properties"]["ref"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        page = client.get(nxt[0]).json
    assert seen == refs[::-1]
    assert page["numberMatched"] == 5  # the last page knows without counting
    # past the cap there is no count, but still a next page
    monkeypatch.setattr(counting, "CAP", 3)
    capped = client.get("/api/v1/issues?limit=2").json
    assert "numberMatched" not in capped
    assert [link["rel"] for link in capped["links"]] == ["self", "next"]
    exact = client.get("/api/v1/issues?limit=5").json
    assert exact["numberMatched"] == 5 and len(exact["links"]) == 1


def test_the_planner_estimate_skips_the_count(client, login_as, small_county, monkeypatch):
    login_as("member")
    for i in range(3):
        report(client, title=f"问题{i}")
    monkeypatch.setattr(counting, "SLACK", 0.0001)  # any estimate is then "too many" ...
    monkeypatch.setattr(counting, "_has_statistics", lambda table: False)
    body = client.get("/api/v1/issues?limit=2").json
    assert body["numberMatched"] == 3  # ... but a table never analyzed has no estimate to trust
    monkeypatch.setattr(counting, "_has_statistics", lambda table: True)
    body = client.get("/api/v1/issues?limit=2").json
    assert "numberMatched" not in body and body["numberReturned"] == 2


def test_only_analyzed_tables_have_statistics(app):
    from sqlalchemy import text

    from fieldwatch.extensions import db

    db.session.execute(text("CREATE TEMP TABLE fw_never_analyzed (id int)"))
    db.session.execute(text("CREATE TEMP TABLE fw_analyzed (id int)"))
    db.session.execute(text("INSERT INTO fw_analyzed SELECT generate_series(1, 10)"))
    db.session.execute(text("ANALYZE fw_analyzed"))
    assert not counting._has_statistics("fw_never_analyzed")
    assert counting._has_statistics("fw_analyzed")


def test_filtered_first_page_is_counted(client, login_as, small_county):
    login_as("member")
    for i in range(4):
        report(client, title=f"积水 50%_{i}", lon=104.02 + i * 0.001)
    report(client, title="路灯不亮")
    query = "q=50%25_&status=reported,accepted&bbox=104.0,30.0,104.1,30.1&limit=3"
    body = client.get(f"/api/v1/issues?{query}").json
    assert body["numberReturned"] == 3 and body["numberMatched"] == 4
    assert all("50%_" in f["properties"]["title"] for f in body["features"])


def test_a_list_can_ask_for_only_the_properties_it_draws(client, login_as, small_county):
    login_as("member")
    made = report(client, title="井盖缺失", description="很长的说明" * 100)
    body = client.get("/api/v1/issues?properties=ref,status,category,title").json
    (feature,) = body["features"]
    assert feature["properties"] == {
        "ref": made["properties"]["ref"],
        "status": "reported",
        "category": "drainage",
        "title": "井盖缺失",
    }
    assert feature["id"] == made["id"] and feature["geometry"] == made["geometry"]
    assert "很长的说明" not in client.get("/api/v1/issues?properties=ref").get_data(as_text=True)


def test_unknown_properties_and_contacts_for_those_who_may_not_see_them_are_refused(
    client, login_as, small_county
):
    login_as("member")
    report(client)
    bad = client.get("/api/v1/issues?properties=ref,colour")
    assert bad.status_code == 422 and "colour" in bad.json["errors"]["properties"][0]
    # a member may not see the resident's phone: no way to ask for it either
    hidden = client.get("/api/v1/issues?properties=ref,contact_phone")
    assert hidden.status_code == 422 and "contact_phone" in hidden.json["errors"]["properties"][0]
    login_as("leader")
    staff = client.get("/api/v1/issues?properties=ref,contact_phone")
    assert staff.status_code == 200
    assert set(staff.json["features"][0]["properties"]) == {"ref", "contact_phone"}

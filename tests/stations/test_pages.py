"""The station register pages: list, detail with its map, and the admin's form."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from fieldwatch.extensions import db
from fieldwatch.models import Station
from fieldwatch.stations.services import create_station

V11, V12, V21 = "512099001001", "512099001002", "512099002001"


@pytest.fixture
def stations(app, small_county, make_user):
    members = [make_user("member", name=f"委员{i}").id for i in range(4)]
    a = create_station("红星村乡邻协商站", "rural", 104.02, 30.05, serves=[V11, V12],
                       five_haves=dict.fromkeys(("venue", "signage", "rules", "activities", "results"), True),
                       member_ids=members[:3], established_on=date(2020, 1, 1))  # fmt: skip
    b = create_station("西岭乡协商议事平台", "township_platform", 104.15, 30.05,
                       closed_on=date(2021, 1, 1), established_on=date(2019, 1, 1),
                       member_ids=members[:1])  # fmt: skip
    db.session.commit()
    return a, b


def test_list_with_badges_and_filters(client, login_as, stations):
    login_as("member")
    html = client.get("/stations/").get_data(as_text=True)
    assert "红星村乡邻协商站" in html and "西岭乡协商议事平台" in html
    assert "五有 5/5" in html and "五有 0/5" in html
    assert "村社微平台" in html and "镇街分平台" in html and "乡邻协商" in html
    assert "委员 1 人，少于 3" in html and "已关闭" in html
    assert "登记站点" not in html  # members do not edit
    html = client.get("/stations/?status=open").get_data(as_text=True)
    assert "红星村乡邻协商站" in html and "西岭乡协商议事平台" not in html
    html = client.get("/stations/?incomplete=1").get_data(as_text=True)
    assert "红星村乡邻协商站" not in html and "西岭乡协商议事平台" in html
    html = client.get("/stations/?q=nothing-like-this").get_data(as_text=True)
    assert "没有符合条件的站点" in html


def test_empty_register_says_what_to_do(client, login_as, small_county):
    login_as("admin")
    html = client.get("/stations/").get_data(as_text=True)
    assert "还没有登记站点" in html and 'href="/stations/new"' in html


def test_detail_has_a_local_map_and_the_villages_served(client, login_as, stations):
    login_as("leader")
    response = client.get(f"/stations/{stations[0].id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "红星村" in html and "新华社区" in html and V12 in html
    assert 'class="folium-map"' in html and "/static/vendor/leaflet/leaflet.js" in html
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "编辑" not in html  # a leader may not edit
    warn = client.get(f"/stations/{stations[1].id}").get_data(as_text=True)
    assert 'id="member-warning"' in warn and "平台只覆盖明确列出的村(社区)" in warn
    assert client.get("/stations/999999").status_code == 404


def test_only_admins_open_the_form(client, login_as, stations):
    login_as("leader")
    assert client.get("/stations/new").status_code == 403
    assert client.get(f"/stations/{stations[0].id}/edit").status_code == 403


def test_register_a_station_through_the_form(client, login_as, small_county):
    login_as("admin")
    page = client.get("/stations/new").get_data(as_text=True)
    assert "data-pin-picker" in page and "/static/js/pin-picker.js" in page
    response = client.post(
        "/stations/new",
        data={"name": "石桥村村务协商议事会", "kind": "village_council", "lon": "104.121",
              "lat": "30.051", "village_code": "", "venue": "y"},
    )  # fmt: skip
    assert response.status_code == 302
    station = db.session.scalar(select(Station).where(Station.name == "石桥村村务协商议事会"))
    assert response.location.endswith(f"/stations/{station.id}")
    assert station.area.code == V21 and [a.code for a in station.serves] == [V21]
    assert station.has_venue and not station.has_results


def test_form_errors_stay_on_their_fields(client, login_as, small_county):
    login_as("admin")
    response = client.post("/stations/new", data={"name": "", "kind": "rural", "lon": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        'data-field="name"' in html and 'data-field="lon"' in html and "请在地图上点选位置" in html
    )
    response = client.post(
        "/stations/new",
        data={"name": "站", "kind": "rural", "lon": "104.02", "lat": "30.05",
              "established_on": "2025-01-02", "closed_on": "2024-01-01"},
    )  # fmt: skip
    assert response.status_code == 422 and 'data-field="closed_on"' in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(Station.id)) is None


def test_edit_moves_and_warns_about_members(client, login_as, stations):
    login_as("admin")
    a = stations[0]
    page = client.get(f"/stations/{a.id}/edit").get_data(as_text=True)
    assert 'value="104.02"' in page and "member-warning" not in page  # 3 members: fine
    response = client.post(
        f"/stations/{a.id}/edit",
        data={"name": "改名站", "kind": "rural", "lon": "104.08", "lat": "30.05",
              "serves": [V11, V12], "member_ids": []},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    station = db.session.get(Station, a.id)
    assert station.name == "改名站" and station.area.code == V12 and station.members == []
    assert sorted(v.code for v in station.serves) == [V11, V12]
    page = client.get(f"/stations/{a.id}/edit").get_data(as_text=True)
    assert 'id="member-warning"' in page

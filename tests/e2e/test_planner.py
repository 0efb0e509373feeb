"""The visit planner in Debian Chromium: click problems on the map, see the numbered route
and the total distance, save the visit. Nothing is fetched from outside the app."""

import json
import urllib.request

import pytest
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
#: problems placed by hand in one township of the demo county (贤祠街道), ~600 m apart
PLACES = [(104.630, 30.120), (104.636, 30.124), (104.642, 30.119), (104.637, 30.114)]


def api(server, path, token, body=None):
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def problems(live_server):
    token = live_server.cli("users", "token", "member").stdout.strip().splitlines()[-1]
    made = [
        api(
            live_server,
            "/api/v1/issues",
            token,
            {"title": f"规划测试问题{k + 1}", "category": "drainage", "lon": lon, "lat": lat},
        )
        for k, (lon, lat) in enumerate(PLACES)
    ]
    townships = {
        api(live_server, f"/api/v1/areas/at?lon={lon}&lat={lat}", token)["township"]["code"]
        for lon, lat in PLACES
    }
    assert len(townships) == 1
    return made, townships.pop()


def test_plan_a_visit_by_clicking_problems(live_server, make_page, sign_in, problems):
    made, township = problems
    page = make_page(live_server)
    sign_in(page, "leader")
    page.goto("/visits/plan")
    page.select_option("#f-township", township)
    first = page.locator(f'path.fw-candidate[data-issue-id="{made[0]["id"]}"]')
    first.wait_for()
    assert "候选问题" in page.inner_text("#candidate-status")

    # pick three problems on the map, in an order that is not the shortest
    for count, feature in enumerate((made[0], made[2], made[1]), start=1):
        page.locator(f'path.fw-candidate[data-issue-id="{feature["id"]}"]').click()
        page.wait_for_function(
            "n => document.querySelectorAll('#stops li.fw-stop').length === n "
            "&& document.getElementById('route-total').dataset.km",
            arg=count,
        )
    numbers = page.locator(".leaflet-marker-pane .fw-stop-number").all_inner_texts()
    assert sorted(numbers) == ["1", "2", "3"]
    total_text = page.inner_text("#route-total")
    assert "公里" in total_text and "全程约" in total_text
    assert page.inner_text("#route-total-map") == total_text  # also on the map

    # the route drawn is the suggested (shortest) order, and its km are pyproj's
    stops = json.loads(page.input_value("#stops-field"))
    order = [s["issue_id"] for s in stops]
    by_id = {f["id"]: f["geometry"]["coordinates"] for f in made}
    points = [by_id[i] for i in order]
    km = sum(
        GEOD.inv(a[0], a[1], b[0], b[1])[2] / 1000 for a, b in zip(points, points[1:], strict=False)
    )
    assert float(page.get_attribute("#route-total", "data-km")) == pytest.approx(km, abs=0.001)
    assert f"{km:.2f}" in total_text
    assert order == [made[0]["id"], made[1]["id"], made[2]["id"]] or order == [
        made[2]["id"],
        made[1]["id"],
        made[0]["id"],
    ]

    # reorder by hand: the last stop moves up, the total changes
    page.locator("#stops li.fw-stop").nth(2).locator("button.fw-arrow-up").click()
    page.wait_for_function(
        "old => document.getElementById('route-total').dataset.km !== old",
        arg=page.get_attribute("#route-total", "data-km"),
    )
    assert json.loads(page.input_value("#stops-field"))[1]["issue_id"] == order[2]

    # save: the visit page shows the same numbered route
    page.fill("#title", "排水问题现场协商")
    page.click("#save-visit")
    page.wait_for_url("**/visits/*")
    assert "走访已保存" in page.inner_text("main")
    assert page.locator("#stops-table tbody tr").count() == 3
    assert "全程约" in page.inner_text("#route-total")
    assert page.locator(".leaflet-marker-pane .fw-stop-number").count() == 3
    assert page.outside == []
    assert page.js_errors == []


def test_planner_refuses_a_past_date_with_a_field_message(
    live_server, make_page, sign_in, problems
):
    made, township = problems
    page = make_page(live_server)
    sign_in(page, "leader")
    page.goto("/visits/plan")
    page.select_option("#f-township", township)
    page.locator(f'path.fw-candidate[data-issue-id="{made[3]["id"]}"]').click()
    page.wait_for_function("() => document.getElementById('route-total').dataset.km !== undefined")
    page.fill("#title", "过去的日期")
    page.fill("#planned_for", "2020-01-01")
    page.click("#save-visit")
    page.wait_for_load_state("networkidle")
    assert "已经过去" in page.inner_text('[data-field="planned_for"]')
    # the picked problem is still on the route, ready to save again
    page.wait_for_function("() => document.querySelectorAll('#stops li.fw-stop').length === 1")
    assert page.js_errors == [] and page.outside == []

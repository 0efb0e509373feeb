"""The station form in Chromium: a click on the map places the station."""

from __future__ import annotations


def test_click_the_map_to_place_a_new_station(live_server, make_page, sign_in):
    page = make_page(live_server)
    sign_in(page, "admin")
    page.goto("/stations/new")
    page.wait_for_load_state("networkidle")
    assert page.input_value("#lon") == ""

    page.locator(".folium-map").click()  # the middle of the county
    lon, lat = float(page.input_value("#lon")), float(page.input_value("#lat"))
    assert 104.4 < lon < 104.9 and 29.9 < lat < 30.3
    assert page.locator(".leaflet-marker-icon").count() == 1

    page.fill("#lat", f"{lat + 0.001:.6f}")  # typing moves the pin
    page.fill("#name", "测试村务协商议事会")
    page.select_option("#kind", "village_council")
    page.click("#station-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/stations/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit()
    assert "测试村务协商议事会" in page.inner_text("h1")
    assert page.locator("#served tbody tr").count() == 1  # it serves its own village
    assert page.outside == [] and page.js_errors == []

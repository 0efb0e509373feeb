"""The coverage page in Chromium: choropleth drawn, table and totals, villages on demand, print."""

from __future__ import annotations


def test_coverage_page_draws_the_choropleth_and_the_table(module_live_server, make_page, sign_in):
    page = make_page(module_live_server)
    sign_in(page, "leader")
    page.goto("/coverage")
    page.wait_for_load_state("networkidle")

    # 19 townships drawn by Leaflet as SVG paths, filled by coverage
    page.wait_for_function(
        "document.querySelectorAll('.folium-map path.leaflet-interactive').length >= 19"
    )
    fills = page.eval_on_selector_all(
        ".folium-map path.leaflet-interactive", "els => els.map(e => e.getAttribute('fill'))"
    )
    assert len(set(fills)) >= 3  # several coverage bands
    assert "#bdbdbd" not in fills  # every township has villages
    legend = page.inner_text(".fw-legend")
    assert "全覆盖" in legend

    rows = page.locator("#coverage-table tbody tr")
    assert rows.count() == 19
    assert page.locator("#coverage-table tbody tr.fully-covered").count() >= 1
    no_platform = page.locator("#coverage-table tbody td .badge.text-bg-danger")
    assert no_platform.count() == 1
    totals = page.inner_text("#coverage-table tfoot")
    assert "合计" in totals and "18/19" in totals
    summary = page.inner_text("#coverage-summary")
    assert "/402" in summary

    # the village layer is fetched for the view, on demand
    page.check("#show-villages")
    loaded = page.locator("[data-coverage-map][data-villages-loaded]")
    loaded.wait_for()
    assert int(loaded.get_attribute("data-villages-loaded")) == 402
    assert page.locator("path.village-uncovered").count() > 0
    assert page.locator("path.village-covered").count() > 0

    # printing: the map and controls go, the table and the uncovered names stay
    page.emulate_media(media="print")
    assert not page.is_visible(".coverage-map")
    assert page.is_visible("#coverage-table")
    assert page.locator("#coverage-table .collapse").first.is_visible()

    assert page.outside == []
    assert page.js_errors == []


def test_coverage_on_a_phone_and_an_earlier_date(module_live_server, make_page, sign_in):
    page = make_page(module_live_server, phone=True)
    sign_in(page, "member")
    page.goto("/coverage?as_of=2019-01-01")
    page.wait_for_load_state("networkidle")
    assert page.input_value("#as_of") == "2019-01-01"
    # before the platforms opened (2019-01-02 and later) nothing was covered
    assert "0/402" in page.inner_text("#coverage-summary")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1  # no sideways scrolling of the page (the table scrolls inside)
    assert page.outside == []
    assert page.js_errors == []

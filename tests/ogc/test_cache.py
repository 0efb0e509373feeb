"""Pages of the OGC `issues` layer are kept until a problem or a category is written."""

import pytest

from fieldwatch import datacache
from fieldwatch.extensions import db
from fieldwatch.issues import services
from fieldwatch.models import Category

ITEMS = "/ogc/collections/issues/items?limit=50"


@pytest.fixture
def cached(keep_answers):
    return keep_answers(datacache.ogc_issues)


def titles(client, headers, url=ITEMS) -> dict:
    body = client.get(url, headers=headers).json
    return {f["properties"]["ref"]: f["properties"] for f in body["features"]}


def test_kept_until_a_problem_or_a_category_is_written(client, world, make_user, token_for, cached):
    headers = token_for(world.people["admin"])
    pothole = world.issues["pothole"]
    first = titles(client, headers)
    assert pothole.ref in first
    hits = cached.hits
    assert titles(client, headers) == first
    assert cached.hits == hits + 1  # the second page came from the cache

    pothole.title = "坑洼 (已核实)"
    db.session.flush()
    assert titles(client, headers)[pothole.ref]["title"] == "坑洼 (已核实)"

    new, _ = services.report_issue(
        world.people["admin"], title="新问题", category="roads", lon=104.03, lat=30.05
    )
    db.session.flush()
    assert new.ref in titles(client, headers)

    category = db.session.get(Category, pothole.category_id)
    category.name = "改名的类别"
    db.session.flush()
    shown = titles(client, headers)[pothole.ref]
    assert "改名的类别" in str(shown.values())


def test_each_reader_scope_has_its_own_page(client, world, make_user, token_for, cached):
    everyone = titles(client, token_for(world.people["admin"]))
    t1 = make_user("leader", township="512099001000")
    mine = titles(client, token_for(t1))
    assert mine and set(mine) < set(everyone)
    assert {p["township_code"] for p in mine.values()} == {"512099001000"}
    # the admin's page, asked again, is still the whole county
    assert set(titles(client, token_for(world.people["admin"]))) == set(everyone)


def test_a_photo_or_a_renamed_unit_shows_on_the_kept_page(client, world, token_for, cached, app):
    import io

    from fieldwatch.models import Unit
    from fieldwatch.photos.samples import sample_image

    headers = token_for(world.people["admin"])
    drain = world.issues["drain"]
    before = titles(client, headers)[drain.ref]
    assert before["photo_count"] == 0
    added = client.post(
        f"/api/v1/issues/{drain.ref}/photos",
        data={"photo": (io.BytesIO(sample_image()), "a.jpg")},
        headers=headers,
    )
    assert added.status_code == 201
    assert titles(client, headers)[drain.ref]["photo_count"] == 1

    water = db.session.query(Unit).filter_by(code="water").one()
    water.name = "县水务局(新)"
    db.session.flush()
    assert "县水务局(新)" in str(titles(client, headers)[drain.ref].values())

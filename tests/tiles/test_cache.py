"""Issue tiles from zoom 12 on are kept until a problem or a category is written."""

import pytest

from fieldwatch import datacache
from fieldwatch.extensions import db
from fieldwatch.models import Category
from tests.tiles.test_tiles import decode, get_tile, tile_of


@pytest.fixture
def cached(keep_answers):
    return keep_answers(datacache.issue_tiles)


def props(client, z, x, y) -> dict:
    return {f["properties"]["ref"]: f["properties"] for f in decode(get_tile(client, "issues", z, x, y))["issues"]["features"]}  # fmt: skip


def test_kept_until_a_problem_or_category_is_written(client, login_as, mapdata, cached):
    login_as(mapdata.people["leader"])
    a = mapdata.issues["a"]
    z, x, y = tile_of(104.02, 30.05, 14)
    assert props(client, z, x, y)[a.ref]["title"] == "问题a"
    hits = cached.hits
    props(client, z, x, y)
    assert cached.hits == hits + 1

    a.title = "问题a (已核实)"
    db.session.flush()
    assert props(client, z, x, y)[a.ref]["title"] == "问题a (已核实)"

    roads = db.session.query(Category).filter_by(code="roads").one()
    roads.name = "道路与交通"
    db.session.flush()
    assert props(client, z, x, y)[a.ref]["category_name"] == "道路与交通"


def test_each_reader_scope_has_its_own_tile(client, login_as, mapdata, cached):
    z, x, y = tile_of(104.07, 30.03, 13)
    login_as(mapdata.people["leader"])
    assert mapdata.issues["c"].ref in props(client, z, x, y)
    # the water bureau's staff see only their problems (a, b): none in this tile
    login_as(mapdata.people["water"])
    assert get_tile(client, "issues", z, x, y).status_code == 204
    login_as(mapdata.people["transport"])
    assert set(props(client, z, x, y)) == {mapdata.issues["c"].ref}

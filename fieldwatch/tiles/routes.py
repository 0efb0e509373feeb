"""`/tiles/<layer>/<z>/<x>/<y>.pbf`: Mapbox Vector Tiles for our maps, QGIS and other clients.

An empty area answers 204 with no body (Leaflet.VectorGrid draws nothing for
it; QGIS does the same); an unknown layer is a 404 and a tile address outside
the zoom's grid a 400, both as JSON errors. Tiles carry an ETag and a short
private cache lifetime: they depend on who asks (unit staff see only their
department's problems).
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, request
from flask_babel import get_locale
from flask_login import current_user, login_required

from fieldwatch import clock, policy
from fieldwatch.errors_core import FieldwatchError, NotFound
from fieldwatch.map.queries import Reader
from fieldwatch.tiles import queries

bp = Blueprint("tiles", __name__, url_prefix="/tiles")

MVT = "application/vnd.mapbox-vector-tile"


class BadTile(FieldwatchError):
    """A tile address that is not on the zoom's grid (HTTP 400)."""

    status = 400
    code = "bad_request"


def parse_tile(z: str, x: str, y: str) -> tuple[int, int, int]:
    """Return (z, x, y) as ints, or raise BadTile naming the bad part."""
    errors: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for name, raw in (("z", z), ("x", x), ("y", y)):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 8:
            errors[name] = ["必须是非负整数 (a whole number ≥ 0)"]
        else:
            values[name] = int(raw)
    if "z" in values and values["z"] > queries.MAX_ZOOM:
        errors["z"] = [f"缩放级别 0–{queries.MAX_ZOOM} (zoom 0–{queries.MAX_ZOOM})"]
    elif "z" in values:
        size = 2 ** values["z"]
        for name in ("x", "y"):
            if name in values and values[name] >= size:
                errors[name] = [f"此缩放级别下为 0–{size - 1} (0–{size - 1} at this zoom)"]
    if errors:
        raise BadTile("瓦片地址无效 (invalid tile address)", errors)
    return values["z"], values["x"], values["y"]


@bp.route("/<layer>/<z>/<x>/<y>.pbf")
@login_required
def tile(layer: str, z: str, x: str, y: str):
    """Return one vector tile of a layer (204 when the area holds nothing)."""
    if layer not in queries.LAYERS:
        raise NotFound(f"没有这个图层: {layer} (no such layer)")
    z_, x_, y_ = parse_tile(z, x, y)
    policy.require(current_user, "map.tiles", layer)
    spec = queries.LAYERS[layer]
    data = spec.build(
        z_,
        x_,
        y_,
        Reader.of(current_user),
        clock.today(),
        english=str(get_locale() or "zh").startswith("en"),
        tz=current_app.config["FIELDWATCH_TIMEZONE"],
    )
    response = Response(data, status=200 if data else 204, mimetype=MVT)
    response.set_etag(hashlib.md5(data, usedforsecurity=False).hexdigest())
    response.headers["Cache-Control"] = f"private, max-age={spec.max_age}"
    response.vary.update(("Cookie", "Authorization"))
    return response.make_conditional(request)

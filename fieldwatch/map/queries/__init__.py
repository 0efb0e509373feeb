"""Map data for the current view: every layer bounded by a bbox, built as GeoJSON by PostGIS.

Each layer answers one question ("which problems are in this view, at this
zoom?") with one set-based statement that starts from the GiST index (`&&`
against the view's envelope) and lets PostGIS write the GeoJSON, so Python
only frames the FeatureCollection. Point layers thin themselves by zoom:

- at the lowest zooms (<= TOWNSHIP_ZOOM) one feature per township with counts;
- below the layer's `cluster_below` zoom, one feature per screen cell of about
  CELL_PX pixels (the grid `ST_SnapToGrid` would use, anchored at 0,0 so clusters do not
  jump while panning); a cell holding one point is that point;
- from `cluster_below` on, the points themselves, in pages of `limit`.

Rows are limited to what the reader may see, by the same rules as the
policy's `issues.view`, `visits.view` and `followups.view` (see `Reader`):
unit staff see their department's problems, township-scoped users their
township's; places and stations are open to every signed-in user.
"""

from fieldwatch.map.queries import tallies
from fieldwatch.map.queries.base import (
    CELL_PX,
    ENV,
    HISTORY_DAYS,
    MAX_FEATURES,
    OPEN,
    STATION_OPEN,
    TOWNSHIP_ZOOM,
    VILLAGE_MIN_ZOOM,
    LayerResult,
    Reader,
    pixel_degrees,
)
from fieldwatch.map.queries.places import (
    COVERAGE_PROPS,
    coverage_ctes,
    initial_extent,
    places_sql,
    served_cte,
    townships_in_view,
    villages_in_view,
)
from fieldwatch.map.queries.points import (
    FOLLOWUPS,
    ISSUES,
    STATIONS,
    PointLayer,
    followups_in_view,
    issues_in_view,
    point_layer,
    stations_in_view,
)
from fieldwatch.map.queries.search import search
from fieldwatch.map.queries.visits import VISIT_CTES, VISIT_PROPS, visits_in_view

#: the layers of /api/v1/map/layers/<name>, in drawing order
LAYERS = {
    "townships": townships_in_view,
    "villages": villages_in_view,
    "visits": visits_in_view,
    "stations": stations_in_view,
    "followups": followups_in_view,
    "issues": issues_in_view,
}


__all__ = [
    "CELL_PX",
    "COVERAGE_PROPS",
    "ENV",
    "FOLLOWUPS",
    "HISTORY_DAYS",
    "ISSUES",
    "LAYERS",
    "MAX_FEATURES",
    "OPEN",
    "STATIONS",
    "STATION_OPEN",
    "TOWNSHIP_ZOOM",
    "VILLAGE_MIN_ZOOM",
    "VISIT_CTES",
    "VISIT_PROPS",
    "LayerResult",
    "PointLayer",
    "Reader",
    "coverage_ctes",
    "followups_in_view",
    "initial_extent",
    "issues_in_view",
    "pixel_degrees",
    "places_sql",
    "point_layer",
    "search",
    "served_cte",
    "stations_in_view",
    "tallies",
    "townships_in_view",
    "villages_in_view",
    "visits_in_view",
]

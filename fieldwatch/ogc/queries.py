"""Reads for the OGC layers: a page of features, one feature, counts and extents.

PostGIS writes the GeoJSON (ST_AsGeoJSON) and PostgreSQL the properties
(json_build_object); the features come back as text and are joined, never
parsed, so a page costs little more than the SQL alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import text

from fieldwatch import clock, counting, datacache, policy
from fieldwatch.extensions import db
from fieldwatch.ogc.layers import Layer

#: numberMatched is given up to this many matches ...
COUNT_CAP = 10_000
#: ... when counting them takes at most this long
COUNT_BUDGET_MS = 20
#: seconds an extent is kept (per server process)
EXTENT_TTL = 300
#: above this many rows an extent comes from the planner's statistics (ST_EstimatedExtent)
ESTIMATE_ABOVE = 100_000
_extents: dict[tuple[str, str], tuple[float, tuple[float, float, float, float] | None]] = {}


@dataclass(frozen=True)
class Filters:
    """What the client asked for: a CRS84 box and a time interval (None = open end)."""

    bbox: tuple[float, float, float, float] | None = None
    interval: tuple[datetime | None, datetime | None] | None = None


def _row_limits(layer: Layer, user) -> tuple[str | None, dict]:
    """The conditions the view rules put on rows of issues, visits and look-backs."""
    if layer.id not in ("issues", "visits", "followups"):
        return None, {}
    if user is None or not getattr(user, "is_authenticated", False):
        return "false", {}
    if layer.id == "visits":
        # mirrors policy's visits.view: staff by township scope (or as leader),
        # members and units only where the visit invites them
        if user.role in policy.STAFF:
            if user.township_id is None:
                return None, {}
            return "(v.township_id = :scope_township OR v.leader_id = :scope_user)", {
                "scope_township": user.township_id,
                "scope_user": user.id,
            }
        if user.role == "unit":
            code = user.unit.code if user.unit is not None else ""
            return (
                "COALESCE(v.participants->'units', '[]') @> to_jsonb(CAST(:scope_unit AS text))",
                {"scope_unit": code},
            )
        return (
            "(v.leader_id = :scope_user OR COALESCE(v.participants->'members', '[]') "
            "@> to_jsonb(CAST(:scope_user AS integer)))",
            {"scope_user": user.id},
        )
    limits = policy.issue_rows(user)
    township = "f.township_id" if layer.id == "followups" else "i.township_id"
    if "unit_id" in limits:
        # a unit sees its own problems and the look-backs of its own work
        return "i.unit_id = :scope_unit", {"scope_unit": limits["unit_id"]}
    if "township_id" in limits:
        return f"{township} = :scope_township", {"scope_township": limits["township_id"]}
    return None, {}


def _where(layer: Layer, user, filters: Filters) -> tuple[list[str], dict]:
    """The WHERE clauses selecting the rows (one per part of a layer split for its box)."""
    conditions = list(layer.where)
    params: dict = {"today": clock.today(), "tz": current_app.config["FIELDWATCH_TIMEZONE"]}
    limit_sql, limit_params = _row_limits(layer, user)
    if limit_sql:
        conditions.append(limit_sql)
        params.update(limit_params)
    if filters.interval is not None and layer.when is not None:
        start, end, exclusive = layer.when
        low, high = filters.interval
        if high is not None:
            conditions.append(f"({start} IS NULL OR {start} <= :t_high)")
            params["t_high"] = high
        if low is not None:
            op = ">" if exclusive else ">="
            conditions.append(f"({end} IS NULL OR {end} {op} :t_low)")
            params["t_low"] = low
    if filters.bbox is None:
        return [" AND ".join(conditions) or "true"], params
    params.update(zip(("x1", "y1", "x2", "y2"), filters.bbox, strict=True))
    parts = layer.bbox_parts or (("true", layer.bbox_sql),)
    return [" AND ".join([*conditions, part, box]) for part, box in parts], params


def _feature_sql(layer: Layer) -> str:
    return (
        f"""'{{"type":"Feature","id":' || {layer.id_sql} || ',"geometry":' """
        f"""|| COALESCE(ST_AsGeoJSON({layer.geom_sql}, 7), 'null') """
        f"""|| ',"properties":' || {layer.props_sql()}::text || '}}'"""
    )


def _kept_key(layer: Layer, user, *parts) -> tuple | None:
    """The key under which an answer about the `issues` layer is kept (None: not kept).

    It holds all the answer depends on: the reader's row limits (the view rule's SQL
    and its values), the request's parts and the day (overdue is counted from it).
    """
    if layer.id != "issues":
        return None
    limit_sql, limit_params = _row_limits(layer, user)
    return (layer.id, limit_sql, tuple(sorted(limit_params.items())), clock.today(), *parts)


def features_page(layer: Layer, user, filters: Filters, limit: int, offset: int) -> list[str]:
    """Return one page of the layer's features (GeoJSON text each), in id order.

    Pages of problems are kept until a problem or a category is written
    (`datacache.ogc_issues`); the other layers are read each time.
    """
    key = _kept_key(layer, user, "page", filters.bbox, filters.interval, limit, offset)
    if key is None:
        return _features_page(layer, user, filters, limit, offset)
    return datacache.ogc_issues.get(
        key, lambda: _features_page(layer, user, filters, limit, offset)
    )


def _features_page(layer: Layer, user, filters: Filters, limit: int, offset: int) -> list[str]:
    """Read one page of the layer's features (GeoJSON text each), in id order.

    The page's ids come first (the filters on the driving table's indexes; joins the
    filters do not need are dropped by the planner), then only those rows are joined
    and rendered: rendering every match before the sort cost 4 ms per 450 matches.
    """
    wheres, params = _where(layer, user, filters)
    ids = [
        f"SELECT {layer.id_sql} AS id FROM {layer.from_sql} WHERE {where} ORDER BY {layer.id_sql}"
        for where in wheres
    ]
    if len(ids) == 1:
        page = f"{ids[0]} LIMIT :limit OFFSET :offset"
    else:
        # each part takes its own index (an OR of them would take none); then merge
        parts = " UNION ALL ".join(f"({sql} LIMIT :reach)" for sql in ids)
        page = f"SELECT id FROM ({parts}) parts ORDER BY id LIMIT :limit OFFSET :offset"
    sql = (
        f"SELECT {_feature_sql(layer)} AS feature FROM ({page}) page "
        f"JOIN {layer.table} ON {layer.id_sql} = page.id {layer.joins} ORDER BY {layer.id_sql}"
    )
    params.update(limit=limit, offset=offset, reach=limit + offset)
    return list(db.session.scalars(text(sql), params))


def feature(layer: Layer, user, fid: int) -> str | None:
    """Return one feature as GeoJSON text, or None when it does not exist or is not visible."""
    (where,), params = _where(layer, user, Filters())
    sql = (
        f"SELECT {_feature_sql(layer)} FROM {layer.from_sql} "
        f"WHERE {where} AND {layer.id_sql} = :fid"
    )
    params["fid"] = fid
    return db.session.scalar(text(sql), params)


def count_matched(layer: Layer, user, filters: Filters) -> int | None:
    """Return how many features match, or None past COUNT_CAP or COUNT_BUDGET_MS.

    Counting is cheap for most boxes and dear for a few (the problems under a city-wide
    box are tens of thousands of rows scattered over the table: 20-200 ms; the
    look-backs under one mean reading ~40,000 problems): the planner's estimate skips
    the count when it expects more than the cap, and a time budget stops the rest.
    Kept like the pages for problems.
    """
    key = _kept_key(layer, user, "count", filters.bbox, filters.interval)
    if key is None:
        return _count_matched(layer, user, filters)
    return datacache.ogc_issues.get(key, lambda: _count_matched(layer, user, filters))


def _count_matched(layer: Layer, user, filters: Filters) -> int | None:
    wheres, params = _where(layer, user, filters)
    sql = " UNION ALL ".join(f"SELECT 1 FROM {layer.from_sql} WHERE {where}" for where in wheres)
    used = {name: value for name, value in params.items() if f":{name}" in sql}
    return counting.count_matched(
        text(sql).bindparams(**used),
        layer.table.split()[0],
        cap=COUNT_CAP,
        budget_ms=COUNT_BUDGET_MS,
    )


def extent(layer: Layer) -> tuple[float, float, float, float] | None:
    """Return the layer's bounding box (all rows, whoever asks), kept EXTENT_TTL seconds."""
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], layer.id)
    now = time.monotonic()
    cached = _extents.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    source = layer.extent_sql
    if layer.estimate is not None:
        table, column = layer.estimate
        rows = db.session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)"), {"table": table}
        )
        if rows is not None and rows > ESTIMATE_ABOVE:
            # a scan of a million points takes ~0.2 s; the statistics answer at once
            # (about 95 % of the true box, refreshed by ANALYZE)
            source = f"SELECT COALESCE(ST_EstimatedExtent('{table}', '{column}'), ({source}))"
    row = db.session.execute(
        text(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ({source}) x(e)")
    ).one()
    box = None if row[0] is None else tuple(round(float(v), 7) for v in row)
    _extents[key] = (now + EXTENT_TTL, box)
    return box


def forget_extents() -> None:
    """Drop the cached extents (tests, or after a bulk import)."""
    _extents.clear()

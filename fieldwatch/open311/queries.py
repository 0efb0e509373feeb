"""Reads for Open311 GeoReport v2: services (our categories) and service requests (our issues)."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select, text

from fieldwatch import clock, policy
from fieldwatch.extensions import db
from fieldwatch.models import Category

#: closed in GeoReport terms: closed, rejected or merged as a duplicate
CLOSED = ("closed", "rejected", "duplicate")
#: at most this many requests in one answer (GeoReport's "first 1000 requests")
MAX_REQUESTS = 1000

#: GeoReport's `group`, by category code (categories admins add fall under 其他)
GROUPS = {
    "roads": "基础设施 Infrastructure",
    "drainage": "基础设施 Infrastructure",
    "utilities": "基础设施 Infrastructure",
    "sanitation": "环境 Environment",
    "greening": "环境 Environment",
    "pollution": "环境 Environment",
    "parking": "社区 Community",
    "old_estates": "社区 Community",
    "public_services": "社区 Community",
    "safety": "安全 Safety",
}


def services() -> list[dict]:
    """Return every active category as a GeoReport service."""
    rows = db.session.scalars(select(Category).where(Category.active).order_by(Category.id))
    return [service(c) for c in rows]


def service(category: Category) -> dict:
    english = f" ({category.name_en})" if category.name_en else ""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.name}{english}",
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(k for k in (category.code, category.name, category.name_en) if k),
        "group": GROUPS.get(category.code, "其他 Other"),
    }


def active_category(code: str | None) -> Category | None:
    if not code:
        return None
    return db.session.scalar(select(Category).where(Category.code == code, Category.active))


_REQUESTS = """
SELECT i.id, i.ref, i.status, i.title, i.description, i.address, i.due_on,
       i.created_at, i.updated_at, c.code AS service_code, c.name AS service_name,
       u.name AS agency, d.ref AS duplicate_of,
       ST_X(i.location) AS lon, ST_Y(i.location) AS lat
FROM issues i
JOIN categories c ON c.id = i.category_id
LEFT JOIN units u ON u.id = i.unit_id
LEFT JOIN issues d ON d.id = i.duplicate_of_id
WHERE {where}
ORDER BY i.created_at DESC, i.id DESC
LIMIT :max
"""


def find_requests(
    user,
    *,
    refs: list[str] | None = None,
    service_codes: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: set[str] | None = None,
) -> list[dict]:
    """Return the issues the user may see as GeoReport requests, newest first (at most 1000).

    With `refs` the other filters are ignored, as GeoReport says.
    """
    conditions: list[str] = []
    params: dict = {"max": MAX_REQUESTS}
    limits = policy.issue_rows(user)
    if "unit_id" in limits:
        conditions.append("i.unit_id = :scope_unit")
        params["scope_unit"] = limits["unit_id"]
    elif "township_id" in limits:
        conditions.append("i.township_id = :scope_township")
        params["scope_township"] = limits["township_id"]
    if refs is not None:
        ids = [r for r in refs if r.isascii() and r.isdigit() and len(r) < 10]  # an integer id
        conditions.append("(i.ref = ANY(:refs) OR i.id = ANY(CAST(:ids AS integer[])))")
        params.update(refs=[r.upper() for r in refs], ids=[int(r) for r in ids])
    else:
        if service_codes:
            conditions.append("c.code = ANY(:codes)")
            params["codes"] = service_codes
        if start is not None:
            conditions.append("i.created_at >= :start")
            params["start"] = start
        if end is not None:
            conditions.append("i.created_at <= :end")
            params["end"] = end
        if statuses and statuses != {"open", "closed"}:
            op = "IN" if statuses == {"closed"} else "NOT IN"
            conditions.append(f"i.status {op} :closed")
            params["closed"] = CLOSED
    sql = _REQUESTS.format(where=" AND ".join(conditions) or "true")
    rows = db.session.execute(text(sql), params).mappings().all()
    return [_as_request(row) for row in rows]


def _w3c(moment: datetime | None) -> str | None:
    return clock.local(moment).isoformat(timespec="seconds") if moment else None


def _as_request(row) -> dict:
    """One issue in GeoReport v2's field list (no contact: Open311 answers never carry it)."""
    expected = None
    if row["due_on"] is not None:
        # due "on" a day means by its end, in the county's zone
        expected = datetime.combine(row["due_on"], time(23, 59, 59), tzinfo=clock.zone())
    description = row["description"] or row["title"]
    if row["description"] and not row["description"].startswith(row["title"]):
        description = f"{row['title']}\n{row['description']}"
    return {
        "service_request_id": row["ref"],
        "status": "closed" if row["status"] in CLOSED else "open",
        "status_notes": row["status"],
        "service_name": row["service_name"],
        "service_code": row["service_code"],
        "description": description,
        "agency_responsible": row["agency"],
        "service_notice": f"duplicate of {row['duplicate_of']}" if row["duplicate_of"] else None,
        "requested_datetime": _w3c(row["created_at"]),
        "updated_datetime": _w3c(row["updated_at"]),
        "expected_datetime": expected.isoformat(timespec="seconds") if expected else None,
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": None,
    }

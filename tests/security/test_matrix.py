"""The access matrix, walked through HTTP: every route, every role, own and other township.

Read MATRIX as the spec. Columns are the people:

    adm   管理员 admin: the office (政协办公室), county-wide
    ldr   领导 leader of 东风镇 (township-scoped to T1)
    cty   领导 leader, county-wide (主席会成员)
    mbr   委员 member of 东风镇 (township-scoped to T1)
    sup   督办 supervisor (专委会), county-wide
    unt   承办单位 unit: staff of the water bureau (区水务局)
    anon  nobody signed in

Objects come in two scopes: `own` lives in 东风镇 (T1) and is the water bureau's work;
`other` lives in 西岭乡 (T2) and is the transport bureau's. `-` is for routes with no
object. Outcomes:

    ok     2xx, or a redirect that is not to the sign-in page (a page's "done")
    in     redirect to the sign-in page (pages, nobody signed in)
    401    sign in first (API, OGC, tiles)
    403    signed in, but your role may not
    404    not found: the object is outside what you may see (we never say it exists)
    409    access granted, but the object's state refuses (e.g. photo before the record)
    422    access granted, but a value refused (e.g. an id from another township)
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from fieldwatch import clock, policy

from .conftest import SPOT, T1, T2, jpeg

ROLES = ("admin", "leader", "leader_county", "member", "supervisor", "unit", "anon")
ORIGIN = {"Origin": "http://localhost"}


def photo_form(**extra):
    return lambda: {"photo": (jpeg(), "p.jpg", "image/jpeg"), **extra}


def photos_form(**extra):
    return lambda: {"photos": (jpeg(), "p.jpg", "image/jpeg"), **extra}


def soon(days: int = 7) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


OWN_LON, OWN_LAT = SPOT["own"]
RESOLVE = {"to": "resolved", "answer_class": "A", "note": "已修复"}
PAGE_RESOLVE = {"move": "resolve", "answer_class": "A", "note": "已修复"}
FINDING = {"finding": "solved", "lon": OWN_LON + 0.003, "lat": OWN_LAT, "note": "已修好"}
NEW_ISSUE = {"title": "路面塌陷", "category": "roads", "lon": OWN_LON, "lat": OWN_LAT}
STATION = {"name": "新站点", "kind": "rural", "lon": OWN_LON, "lat": OWN_LAT}
MEETING = {"title": "停车难协商", "form": "meeting", "planned_for": "2099-03-01"}

#: (method, path, scope, "adm ldr cty mbr sup unt anon", body, action)
#: `body` is JSON for /api/ paths and form data elsewhere (a callable for fresh files);
#: `action` names the policy action the row exercises (for the coverage check below).
# fmt: off
MATRIX = [
    # method  path                                           scope     adm ldr cty mbr sup unt anon
    # --- home, account, sign-in ------------------------------------------------------------
    ("GET",   "/",                                           "-",     "ok  ok  ok  ok  ok  ok  in ", None, "map.view"),
    ("GET",   "/account/tokens",                             "-",     "ok  ok  ok  ok  ok  ok  in ", None, "api.token"),
    ("POST",  "/account/tokens",                             "-",     "ok  ok  ok  ok  ok  ok  in ", {"name": "qgis"}, "api.token"),
    ("POST",  "/account/tokens/{token}/revoke",              "own",   "ok  ok  ok  ok  ok  ok  in ", {}, "api.token"),
    ("POST",  "/account/tokens/{token}/revoke",              "other", "404 404 404 404 404 404 in ", {}, "api.token"),
    ("GET",   "/account/notifications",                      "-",     "ok  ok  ok  ok  ok  ok  in ", None, "users.edit"),
    ("POST",  "/account/notifications",                      "-",     "ok  ok  ok  ok  ok  ok  in ", {}, "users.edit"),
    ("GET",   "/api/v1/me",                                  "-",     "ok  ok  ok  ok  ok  ok  401", None, None),
    # signing out lands on the sign-in page
    ("POST",  "/logout",                                     "-",     "in  in  in  in  in  in  in ", {}, None),
    ("POST",  "/logout/everywhere",                          "-",     "in  in  in  in  in  in  in ", {}, None),
    # --- the office's pages (admin only) ---------------------------------------------------
    ("GET",   "/admin/",                                     "-",     "ok  403 403 403 403 403 in ", None, "admin.users"),
    ("GET",   "/admin/users",                                "-",     "ok  403 403 403 403 403 in ", None, "admin.users"),
    ("GET",   "/admin/users?format=xlsx",                    "-",     "ok  403 403 403 403 403 in ", None, "admin.users"),
    ("GET",   "/admin/users/new",                            "-",     "ok  403 403 403 403 403 in ", None, "admin.users"),
    ("POST",  "/admin/users/new",                            "-",     "ok  403 403 403 403 403 in ",
     {"login": "newbie", "name": "新人", "role": "member", "password": "a-long-pass-2026"}, "admin.users"),
    ("GET",   "/admin/users/{user}",                         "other", "ok  403 403 403 403 403 in ", None, "admin.users"),
    ("POST",  "/admin/users/{user}",                         "other", "ok  403 403 403 403 403 in ",
     {"name": "改名", "role": "leader", "township": T2}, "admin.users"),
    ("POST",  "/admin/users/{user}/active",                  "other", "ok  403 403 403 403 403 in ", {"active": "0"}, "admin.users"),
    ("POST",  "/admin/users/{user}/password",                "other", "ok  403 403 403 403 403 in ",
     {"password": "another-pass-2026"}, "admin.users"),
    ("GET",   "/admin/categories",                           "-",     "ok  403 403 403 403 403 in ", None, "admin.lists"),
    ("GET",   "/admin/categories/new",                       "-",     "ok  403 403 403 403 403 in ", None, "admin.lists"),
    ("POST",  "/admin/categories/new",                       "-",     "ok  403 403 403 403 403 in ",
     {"code": "bridges", "name": "桥梁", "deadline_days": 30, "lookback_days": 30, "duplicate_radius_m": 100, "active": "y"},
     "admin.lists"),
    ("GET",   "/admin/categories/{category}",                "own",   "ok  403 403 403 403 403 in ", None, "admin.lists"),
    ("GET",   "/admin/units",                                "-",     "ok  403 403 403 403 403 in ", None, "admin.lists"),
    ("GET",   "/admin/units/new",                            "-",     "ok  403 403 403 403 403 in ", None, "admin.lists"),
    ("POST",  "/admin/units/new",                            "-",     "ok  403 403 403 403 403 in ", {"code": "mx_gas", "name": "燃气公司", "township": ""}, "admin.lists"),
    ("GET",   "/admin/units/{unit}",                         "own",   "ok  403 403 403 403 403 in ", None, "admin.lists"),
    ("GET",   "/admin/basemap",                              "-",     "ok  403 403 403 403 403 in ", None, "admin.lists"),
    ("GET",   "/admin/audit",                                "-",     "ok  403 403 403 403 403 in ", None, "admin.audit"),
    ("GET",   "/admin/audit?format=csv",                     "-",     "ok  403 403 403 403 403 in ", None, "admin.audit"),
    ("GET",   "/admin/notifications",                        "-",     "ok  403 403 403 403 403 in ", None, "admin.audit"),
    ("POST",  "/admin/notifications/999999/requeue",         "-",     "ok  403 403 403 403 403 in ", {}, "admin.audit"),
    ("GET",   "/admin/import",                               "-",     "ok  403 403 403 403 403 in ", None, "issues.import"),
    ("POST",  "/admin/import",                               "-",     "422 403 403 403 403 403 in ", {}, "issues.import"),
    ("GET",   "/admin/import/no-such-upload",                "-",     "404 403 403 403 403 403 in ", None, "issues.import"),
    ("POST",  "/admin/import/no-such-upload/cancel",         "-",     "404 403 403 403 403 403 in ", {}, "issues.import"),
    # --- places and stations ---------------------------------------------------------------
    ("GET",   "/areas/",                                     "-",     "ok  ok  ok  ok  ok  ok  in ", None, "areas.view"),
    ("GET",   "/areas/{township}",                           "own",   "ok  ok  ok  ok  ok  ok  in ", None, "areas.view"),
    ("GET",   "/areas/{township}",                           "other", "ok  ok  ok  ok  ok  ok  in ", None, "areas.view"),
    ("GET",   "/areas/import",                               "-",     "ok  403 403 403 403 403 in ", None, "areas.import"),
    ("POST",  "/areas/import",                               "-",     "422 403 403 403 403 403 in ", {"level": "township"}, "areas.import"),
    ("GET",   "/api/v1/areas",                               "-",     "ok  ok  ok  ok  ok  ok  401", None, "areas.view"),
    ("GET",   "/api/v1/areas/at?lon=104.02&lat=30.05",       "-",     "ok  ok  ok  ok  ok  ok  401", None, "areas.view"),
    ("GET",   "/stations/",                                  "-",     "ok  ok  ok  ok  ok  ok  in ", None, "stations.view"),
    ("GET",   "/stations/{station}",                         "own",   "ok  ok  ok  ok  ok  ok  in ", None, "stations.view"),
    ("GET",   "/stations/{station}",                         "other", "ok  ok  ok  ok  ok  ok  in ", None, "stations.view"),
    ("GET",   "/stations/new",                               "-",     "ok  403 403 403 403 403 in ", None, "stations.edit"),
    ("POST",  "/stations/new",                               "-",     "ok  403 403 403 403 403 in ", STATION, "stations.edit"),
    ("GET",   "/stations/{station}/edit",                    "own",   "ok  403 403 403 403 403 in ", None, "stations.edit"),
    ("POST",  "/stations/{station}/edit",                    "own",   "ok  403 403 403 403 403 in ", STATION, "stations.edit"),
    ("GET",   "/api/v1/stations",                            "-",     "ok  ok  ok  ok  ok  ok  401", None, "stations.view"),
    ("GET",   "/api/v1/stations/{station}",                  "other", "ok  ok  ok  ok  ok  ok  401", None, "stations.view"),
    ("POST",  "/api/v1/stations",                            "-",     "ok  403 403 403 403 403 401", STATION, "stations.edit"),
    ("PATCH", "/api/v1/stations/{station}",                  "own",   "ok  403 403 403 403 403 401", {"name": "改名站"}, "stations.edit"),
    ("GET",   "/coverage",                                   "-",     "ok  ok  ok  ok  ok  ok  in ", None, "coverage.view"),
    ("GET",   "/coverage.csv",                               "-",     "ok  ok  ok  ok  ok  ok  in ", None, "coverage.view"),
    ("GET",   "/coverage/villages.geojson",                  "-",     "ok  ok  ok  ok  ok  ok  in ", None, "coverage.view"),
    ("GET",   "/api/v1/coverage",                            "-",     "ok  ok  ok  ok  ok  ok  401", None, "coverage.view"),
    # --- problems: pages ----------------------------------------------------------------------
    ("GET",   "/issues",                                     "-",     "ok  ok  ok  ok  ok  ok  in ", None, "issues.view"),
    ("GET",   "/issues?format=csv",                          "-",     "ok  ok  ok  ok  ok  ok  in ", None, "issues.view_contact"),
    ("GET",   "/issues?format=xlsx",                         "-",     "ok  ok  ok  ok  ok  ok  in ", None, "issues.view_contact"),
    ("GET",   "/issues/new",                                 "-",     "ok  ok  ok  ok  ok  403 in ", None, "issues.report"),
    ("POST",  "/issues/new",                                 "-",     "ok  ok  ok  ok  ok  403 in ", NEW_ISSUE, "issues.report"),
    ("GET",   "/issues/{issue}",                             "own",   "ok  ok  ok  ok  ok  ok  in ", None, "issues.view"),
    ("GET",   "/issues/{issue}",                             "other", "ok  404 ok  404 ok  404 in ", None, "issues.view"),
    ("POST",  "/issues/{issue}/move",                        "own",   "ok  ok  ok  403 ok  ok  in ", PAGE_RESOLVE, "issues.transition"),
    ("POST",  "/issues/{issue}/move",                        "other", "ok  404 ok  404 ok  404 in ", PAGE_RESOLVE, "issues.transition"),
    ("POST",  "/issues/{issue}/comment",                     "own",   "ok  ok  ok  ok  ok  ok  in ", {"note": "已联系社区"}, "issues.comment"),
    ("POST",  "/issues/{issue}/comment",                     "other", "ok  404 ok  404 ok  404 in ", {"note": "已联系社区"}, "issues.comment"),
    ("POST",  "/issues/{issue}/photos",                      "own",   "ok  ok  ok  ok  ok  ok  in ", photos_form(), "issues.add_photo"),
    ("POST",  "/issues/{issue}/photos",                      "other", "ok  404 ok  404 ok  404 in ", photos_form(), "issues.add_photo"),
    ("GET",   "/photos/{photo}",                             "own",   "ok  ok  ok  ok  ok  ok  in ", None, "issues.view"),
    ("GET",   "/photos/{photo}",                             "other", "ok  404 ok  404 ok  404 in ", None, "issues.view"),
    ("GET",   "/photos/{photo}/thumb",                       "own",   "ok  ok  ok  ok  ok  ok  in ", None, "issues.view"),
    ("GET",   "/photos/{photo}/thumb",                       "other", "ok  404 ok  404 ok  404 in ", None, "issues.view"),
    # --- problems: API ------------------------------------------------------------------------
    ("GET",   "/api/v1/issues",                              "-",     "ok  ok  ok  ok  ok  ok  401", None, "issues.view"),
    ("GET",   "/api/v1/issues/nearby?lon=104.02&lat=30.05",  "-",     "ok  ok  ok  ok  ok  ok  401", None, "issues.view"),
    ("POST",  "/api/v1/issues",                              "-",     "ok  ok  ok  ok  ok  403 401", NEW_ISSUE, "issues.report"),
    ("GET",   "/api/v1/issues/{issue}",                      "own",   "ok  ok  ok  ok  ok  ok  401", None, "issues.view"),
    ("GET",   "/api/v1/issues/{issue}",                      "other", "ok  404 ok  404 ok  404 401", None, "issues.view"),
    ("POST",  "/api/v1/issues/{issue}/comments",             "own",   "ok  ok  ok  ok  ok  ok  401", {"note": "进展"}, "issues.comment"),
    ("POST",  "/api/v1/issues/{issue}/comments",             "other", "ok  404 ok  404 ok  404 401", {"note": "进展"}, "issues.comment"),
    ("POST",  "/api/v1/issues/{issue}/photos",               "own",   "ok  ok  ok  ok  ok  ok  401", photo_form(), "issues.add_photo"),
    ("POST",  "/api/v1/issues/{issue}/photos",               "other", "ok  404 ok  404 ok  404 401", photo_form(), "issues.add_photo"),
    ("POST",  "/api/v1/issues/{issue}/transitions",          "own",   "ok  ok  ok  403 ok  ok  401", RESOLVE, "issues.transition"),
    ("POST",  "/api/v1/issues/{issue}/transitions",          "other", "ok  404 ok  404 ok  404 401", RESOLVE, "issues.transition"),
    # a reported problem has no unit yet: its unit's staff cannot see it, nor move it
    ("POST",  "/api/v1/issues/{reported}/transitions",       "own",   "ok  ok  ok  403 ok  404 401", {"to": "accepted"}, "issues.transition"),
    ("POST",  "/api/v1/issues/{reported}/transitions",       "other", "ok  404 ok  404 ok  404 401", {"to": "accepted"}, "issues.transition"),
    ("GET",   "/api/v1/categories",                          "-",     "ok  ok  ok  ok  ok  ok  401", None, "lists.view"),
    ("GET",   "/api/v1/units",                               "-",     "ok  ok  ok  ok  ok  ok  401", None, "lists.view"),
    # --- visits (现场协商) ----------------------------------------------------------------------
    ("GET",   "/visits/",                                    "-",     "ok  ok  ok  ok  ok  ok  in ", None, "visits.view"),
    ("GET",   "/visits/plan",                                "-",     "ok  ok  ok  403 403 403 in ", None, "visits.plan"),
    ("POST",  "/visits/plan",                                "-",     "ok  ok  ok  403 403 403 in ", MEETING, "visits.plan"),
    ("GET",   "/visits/{visit}",                             "own",   "ok  ok  ok  ok  ok  ok  in ", None, "visits.view"),
    ("GET",   "/visits/{visit}",                             "other", "ok  404 ok  404 ok  404 in ", None, "visits.view"),
    ("GET",   "/visits/{visit}/print",                       "own",   "ok  ok  ok  ok  ok  ok  in ", None, "visits.view"),
    ("GET",   "/visits/{visit}/print",                       "other", "ok  404 ok  404 ok  404 in ", None, "visits.view"),
    ("GET",   "/visits/{visit}/edit",                        "own",   "ok  ok  ok  403 403 403 in ", None, "visits.plan"),
    ("GET",   "/visits/{visit}/edit",                        "other", "ok  404 ok  404 403 404 in ", None, "visits.plan"),
    ("POST",  "/visits/{visit}/edit",                        "own",   "ok  ok  ok  403 403 403 in ", MEETING, "visits.plan"),
    ("POST",  "/visits/{visit}/edit",                        "other", "ok  404 ok  404 403 404 in ", MEETING, "visits.plan"),
    ("POST",  "/visits/{visit}/hold",                        "own",   "ok  ok  ok  403 403 403 in ", {"opinions": "同意"}, "visits.hold"),
    ("POST",  "/visits/{visit}/hold",                        "other", "ok  404 ok  404 403 404 in ", {"opinions": "同意"}, "visits.hold"),
    ("POST",  "/visits/{visit}/cancel",                      "own",   "ok  ok  ok  403 403 403 in ", {"reason": "下雨"}, "visits.cancel"),
    ("POST",  "/visits/{visit}/cancel",                      "other", "ok  404 ok  404 403 404 in ", {"reason": "下雨"}, "visits.cancel"),
    ("GET",   "/api/v1/visits",                              "-",     "ok  ok  ok  ok  ok  ok  401", None, "visits.view"),
    ("POST",  "/api/v1/visits",                              "own",   "ok  ok  ok  403 403 403 401",
     {"title": "井盖协商", "form": "on_site", "planned_for": "2099-02-01", "issue_ids": ["{issue}"]}, "visits.plan"),
    # a township's leader may not put another township's problem on a route (IDOR: 422)
    ("POST",  "/api/v1/visits",                              "other", "ok  422 ok  403 403 403 401",
     {"title": "井盖协商", "form": "on_site", "planned_for": "2099-02-01", "issue_ids": ["{issue}"]}, "visits.plan"),
    ("GET",   "/api/v1/visits/{visit}",                      "own",   "ok  ok  ok  ok  ok  ok  401", None, "visits.view"),
    ("GET",   "/api/v1/visits/{visit}",                      "other", "ok  404 ok  404 ok  404 401", None, "visits.view"),
    ("PATCH", "/api/v1/visits/{visit}",                      "own",   "ok  ok  ok  403 403 403 401", {"title": "改期"}, "visits.plan"),
    ("PATCH", "/api/v1/visits/{visit}",                      "other", "ok  404 ok  404 403 404 401", {"title": "改期"}, "visits.plan"),
    ("POST",  "/api/v1/visits/{visit}/hold",                 "own",   "ok  ok  ok  403 403 403 401", {"opinions": "同意"}, "visits.hold"),
    ("POST",  "/api/v1/visits/{visit}/hold",                 "other", "ok  404 ok  404 403 404 401", {"opinions": "同意"}, "visits.hold"),
    ("POST",  "/api/v1/visits/{visit}/cancel",               "own",   "ok  ok  ok  403 403 403 401", {"reason": "下雨"}, "visits.cancel"),
    ("POST",  "/api/v1/visits/{visit}/cancel",               "other", "ok  404 ok  404 403 404 401", {"reason": "下雨"}, "visits.cancel"),
    ("POST",  "/api/v1/visits/{visit}/photos",               "own",   "ok  ok  ok  ok  403 403 401", photo_form(), "visits.add_photo"),
    ("POST",  "/api/v1/visits/{visit}/photos",               "other", "ok  404 ok  404 403 404 401", photo_form(), "visits.add_photo"),
    ("GET",   "/api/v1/visits/candidates",                   "-",     "ok  ok  ok  403 403 403 401", None, "visits.plan"),
    ("GET",   "/api/v1/visits/batches",                      "-",     "ok  ok  ok  403 403 403 401", None, "visits.plan"),
    ("POST",  "/api/v1/visits/route",                        "own",   "ok  ok  ok  403 403 403 401", {"stops": [{"issue_id": "{issue}"}]}, "visits.plan"),
    ("POST",  "/api/v1/visits/route",                        "other", "ok  422 ok  403 403 403 401", {"stops": [{"issue_id": "{issue}"}]}, "visits.plan"),
    # --- look-backs (回头看) ----------------------------------------------------------------------
    ("GET",   "/followups/",                                 "-",     "ok  ok  ok  ok  ok  ok  in ", None, "followups.view"),
    ("GET",   "/followups/?format=csv",                      "-",     "ok  ok  ok  ok  ok  ok  in ", None, "followups.view"),
    ("GET",   "/followups/?format=xlsx",                     "-",     "ok  ok  ok  ok  ok  ok  in ", None, "followups.view"),
    ("GET",   "/followups/?format=csv&table=breakdown",      "-",     "ok  ok  ok  403 ok  403 in ", None, "followups.board"),
    ("GET",   "/followups/{followup}",                       "own",   "ok  ok  ok  ok  ok  ok  in ", None, "followups.view"),
    ("GET",   "/followups/{followup}",                       "other", "ok  404 ok  404 ok  404 in ", None, "followups.view"),
    ("POST",  "/followups/{followup}",                       "own",   "403 ok  ok  ok  ok  403 in ", FINDING, "followups.record"),
    ("POST",  "/followups/{followup}",                       "other", "403 404 ok  404 ok  404 in ", FINDING, "followups.record"),
    ("POST",  "/followups/{followup}/assign",                "own",   "ok  403 403 403 ok  403 in ", {"assign-due_on": soon()}, "followups.schedule"),
    ("POST",  "/followups/{followup}/assign",                "other", "ok  404 403 404 ok  404 in ", {"assign-due_on": soon()}, "followups.schedule"),
    ("GET",   "/followups/new",                              "-",     "ok  403 403 403 ok  403 in ", None, "followups.schedule"),
    ("POST",  "/followups/new",                              "own",   "ok  403 403 403 ok  403 in ",
     {"issue": "{resolved}", "kind": "extra", "due_on": soon()}, "followups.schedule"),
    ("GET",   "/api/v1/followups",                           "-",     "ok  ok  ok  ok  ok  ok  401", None, "followups.view"),
    ("POST",  "/api/v1/followups",                           "own",   "ok  403 403 403 ok  403 401", {"issue_id": "{resolved}", "due_on": soon()}, "followups.schedule"),
    ("GET",   "/api/v1/followups/{followup}",                "own",   "ok  ok  ok  ok  ok  ok  401", None, "followups.view"),
    ("GET",   "/api/v1/followups/{followup}",                "other", "ok  404 ok  404 ok  404 401", None, "followups.view"),
    ("PATCH", "/api/v1/followups/{followup}",                "own",   "ok  403 403 403 ok  403 401", {"due_on": soon()}, "followups.schedule"),
    ("PATCH", "/api/v1/followups/{followup}",                "other", "ok  404 403 404 ok  404 401", {"due_on": soon()}, "followups.schedule"),
    ("POST",  "/api/v1/followups/{followup}/record",         "own",   "403 ok  ok  ok  ok  403 401", FINDING, "followups.record"),
    ("POST",  "/api/v1/followups/{followup}/record",         "other", "403 404 ok  404 ok  404 401", FINDING, "followups.record"),
    # photos follow the record: access granted shows as 409 "record it first"
    ("POST",  "/api/v1/followups/{followup}/photos",         "own",   "403 409 409 409 409 403 401", photo_form(), "followups.record"),
    ("POST",  "/api/v1/followups/{followup}/photos",         "other", "403 404 409 404 409 404 401", photo_form(), "followups.record"),
    # --- places, to-dos, the map ------------------------------------------------------------------
    ("GET",   "/places?lon=104.02&lat=30.05",                "-",     "ok  ok  ok  ok  ok  ok  in ", None, "places.view"),
    ("GET",   "/api/v1/places/history?lon=104.02&lat=30.05", "-",     "ok  ok  ok  ok  ok  ok  401", None, "places.view"),
    ("GET",   "/todos/",                                     "-",     "ok  ok  ok  ok  ok  ok  in ", None, "todos.view"),
    ("GET",   "/api/v1/map/layers/issues?bbox=104,30,104.2,30.1&zoom=14", "-",     "ok  ok  ok  ok  ok  ok  401", None, "map.layer"),
    ("GET",   "/api/v1/map/layers/secrets?bbox=104,30,104.2,30.1&zoom=14", "-",     "404 404 404 404 404 404 401", None, None),
    ("GET",   "/api/v1/map/search?q=井盖",                     "-",     "ok  ok  ok  ok  ok  ok  401", None, "map.view"),
    ("GET",   "/tiles/issues/12/3279/1702.pbf",              "-",     "ok  ok  ok  ok  ok  ok  401", None, "map.tiles"),
    ("GET",   "/tiles/stations/12/3279/1702.pbf",            "-",     "ok  ok  ok  ok  ok  ok  401", None, "map.tiles"),
    # --- OGC API - Features --------------------------------------------------------------------
    ("GET",   "/ogc",                                        "-",     "ok  ok  ok  ok  ok  ok  ok ", None, None),
    ("GET",   "/ogc/conformance",                            "-",     "ok  ok  ok  ok  ok  ok  ok ", None, None),
    ("GET",   "/ogc/api",                                    "-",     "ok  ok  ok  ok  ok  ok  ok ", None, None),
    # with no layer open to the public, the list asks a client to sign in
    ("GET",   "/ogc/collections",                            "-",     "ok  ok  ok  ok  ok  ok  401", None, "ogc.read"),
    ("GET",   "/ogc/collections/issues",                     "-",     "ok  ok  ok  ok  ok  ok  401", None, "ogc.read"),
    ("GET",   "/ogc/collections/issues/schema",              "-",     "ok  ok  ok  ok  ok  ok  401", None, "ogc.read"),
    ("GET",   "/ogc/collections/issues/items",               "-",     "ok  ok  ok  ok  ok  ok  401", None, "ogc.read"),
    ("GET",   "/ogc/collections/stations/items",             "-",     "ok  ok  ok  ok  ok  ok  401", None, "ogc.read"),
    ("GET",   "/ogc/collections/issues/items/{issue_id}",    "own",   "ok  ok  ok  ok  ok  ok  401", None, "ogc.read"),
    ("GET",   "/ogc/collections/issues/items/{issue_id}",    "other", "ok  404 ok  404 ok  404 401", None, "ogc.read"),
    ("GET",   "/ogc/collections/visits/items/{visit}",       "own",   "ok  ok  ok  ok  ok  ok  401", None, "ogc.read"),
    ("GET",   "/ogc/collections/visits/items/{visit}",       "other", "ok  404 ok  404 ok  404 401", None, "ogc.read"),
    ("GET",   "/ogc/collections/followups/items/{followup}", "own",   "ok  ok  ok  ok  ok  ok  401", None, "ogc.read"),
    ("GET",   "/ogc/collections/followups/items/{followup}", "other", "ok  404 ok  404 ok  404 401", None, "ogc.read"),
    # --- Open311 GeoReport v2 (GeoReport answers 403 for a missing api_key) ----------------------
    ("GET",   "/open311/v2/discovery.json",                  "-",     "ok  ok  ok  ok  ok  ok  ok ", None, None),
    ("GET",   "/open311/v2/discovery",                       "-",     "ok  ok  ok  ok  ok  ok  ok ", None, None),
    ("GET",   "/open311/v2/services.json",                   "-",     "ok  ok  ok  ok  ok  ok  ok ", None, None),
    ("GET",   "/open311/v2/services",                        "-",     "ok  ok  ok  ok  ok  ok  ok ", None, None),
    ("GET",   "/open311/v2/services/roads.json",             "-",     "ok  ok  ok  ok  ok  ok  ok ", None, None),
    ("GET",   "/open311/v2/nothing-here",                    "-",     "404 404 404 404 404 404 404", None, None),
    ("GET",   "/open311/v2/requests.json",                   "-",     "ok  ok  ok  ok  ok  ok  403", None, "issues.view"),
    ("GET",   "/open311/v2/requests",                        "-",     "ok  ok  ok  ok  ok  ok  403", None, "issues.view"),
    ("GET",   "/open311/v2/requests/{issue}.json",           "own",   "ok  ok  ok  ok  ok  ok  403", None, "issues.view"),
    ("GET",   "/open311/v2/requests/{issue}.json",           "other", "ok  404 ok  404 ok  404 403", None, "issues.view"),
    ("POST",  "/open311/v2/requests.json",                   "-",     "ok  ok  ok  ok  ok  403 403",
     {"api_key": "{api_key}", "service_code": "roads", "lat": OWN_LAT, "long": OWN_LON, "description": "路灯坏了"},
     "issues.report"),
    ("POST",  "/open311/v2/requests",                        "-",     "ok  ok  ok  ok  ok  403 403",
     {"api_key": "{api_key}", "service_code": "roads", "lat": OWN_LAT, "long": OWN_LON, "description": "路灯坏了"},
     "issues.report"),
    # --- open to everyone, by design ------------------------------------------------------------
    ("GET",   "/login",                                      "-",     "ok  ok  ok  ok  ok  ok  ok ", None, None),
    ("POST",  "/lang/en",                                    "-",     "ok  ok  ok  ok  ok  ok  ok ", {}, None),
    ("GET",   "/sw.js",                                      "-",     "ok  ok  ok  ok  ok  ok  ok ", None, None),
    ("GET",   "/api/v1/openapi.json",                        "-",     "ok  ok  ok  ok  ok  ok  ok ", None, None),
]
# fmt: on

#: URL rules with no matrix row, and why
UNLISTED = {
    "/static/<path:filename>": "the app's own scripts, styles and vendored Leaflet: public files",
}


def _cells():
    for method, path, scope, expected, body, action in MATRIX:
        outcomes = expected.split()
        assert len(outcomes) == len(ROLES), (method, path, scope)
        for role, outcome in zip(ROLES, outcomes, strict=True):
            yield pytest.param(
                method,
                path,
                scope,
                role,
                outcome,
                body,
                action,
                id=f"{method} {path} [{scope}] {role}",
            )


def _fill(value, world, scope: str, role: str):
    """Put the world's ids into a path or body template."""
    if isinstance(value, dict):
        return {k: _fill(v, world, scope, role) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world, scope, role) for v in value]
    if not isinstance(value, str) or "{" not in value:
        return value

    def one(match):
        name = match.group(1)
        if name == "api_key":
            return world.secrets.get(role, "")
        if name == "token":
            return str(
                world.ids["token", role if scope == "own" and role != "anon" else "leader_t2"]
            )
        return str(world.ids[name, scope if scope != "-" else "own"])

    return re.sub(r"\{(\w+)\}", one, value)


def request_cell(clients, world, method, path, scope, role, body):
    client = clients[role]
    if role != "anon":  # sign in again: a cell may have signed out (or out everywhere)
        with client.session_transaction() as session:
            session["_user_id"] = f"{world.users[role]}:0"
            session["_fresh"] = True
    url = _fill(path, world, scope, role)
    kwargs: dict = {"headers": dict(ORIGIN)}
    if callable(body):
        kwargs["data"] = body()
        kwargs["content_type"] = "multipart/form-data"
    elif body is not None:
        filled = _fill(body, world, scope, role)
        if url.startswith("/api/"):
            kwargs["json"] = filled
        else:
            kwargs["data"] = filled
    return client.open(url, method=method, **kwargs)


def outcome_of(response) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        return "in" if "/login" in response.headers.get("Location", "") else "ok"
    if 200 <= status < 300:
        return "ok"
    return str(status)


@pytest.fixture
def asked(monkeypatch):
    """The policy actions a request asks about (every `can`, also inside `require`)."""
    seen: list[str] = []
    original = policy.can

    def recording(user, action, obj=None):
        seen.append(action)
        return original(user, action, obj)

    monkeypatch.setattr(policy, "can", recording)
    return seen


@pytest.mark.parametrize(
    ("method", "path", "scope", "role", "expected", "body", "action"), list(_cells())
)
def test_cell(cell, clients, asked, method, path, scope, role, expected, body, action):
    response = request_cell(clients, cell, method, path, scope, role, body)
    got = outcome_of(response)
    detail = response.get_data(as_text=True)[:300] if got != expected else ""
    response.close()
    assert got == expected, f"{method} {path} [{scope}] as {role}: {response.status_code} {detail}"
    if action and role != "anon" and expected not in ("404", "401", "in"):
        # the row's action is what the route really asked (not just what the table claims)
        assert action in asked, f"{method} {path} never asked the policy {action!r}: {asked}"


#: the machine interfaces, walked again with a Bearer token instead of the session cookie
MACHINE = ("/api/", "/ogc", "/open311", "/tiles/")


def _token_cells():
    for param in _cells():
        method, path, scope, role, outcome, body, action = param.values
        if path.startswith(MACHINE) and role in ("leader", "member", "unit"):
            yield pytest.param(*param.values, id=f"token {param.id}")


@pytest.mark.parametrize(
    ("method", "path", "scope", "role", "expected", "body", "action"), list(_token_cells())
)
def test_cell_with_a_token(_app, cell, method, path, scope, role, expected, body, action):
    """A program holding a person's API token gets exactly what the person gets."""
    client = _app.test_client()  # no cookie, no Origin: a token needs neither
    url = _fill(path, cell, scope, role)
    kwargs: dict = {"headers": {"Authorization": f"Bearer {cell.secrets[role]}"}}
    if callable(body):
        kwargs.update(data=body(), content_type="multipart/form-data")
    elif body is not None:
        filled = _fill(body, cell, scope, role)
        kwargs["json" if url.startswith("/api/") else "data"] = filled
    response = client.open(url, method=method, **kwargs)
    got = outcome_of(response)
    response.close()
    assert got == expected, f"{method} {path} [{scope}] with {role}'s token: {response.status_code}"


# --- the matrix covers the app ------------------------------------------------------------------
def _rule_of(app, method: str, path: str) -> str:
    adapter = app.url_map.bind("localhost")
    rule, _ = adapter.match(path.split("?")[0].format_map(_Any()), method=method, return_rule=True)
    return rule.rule


class _Any(dict):
    def __missing__(self, key):
        return "1"


def test_every_url_rule_has_a_row(_app):
    """A new route without a matrix row (or a reason in UNLISTED) fails here."""
    covered = {_rule_of(_app, method, path) for method, path, *_ in MATRIX}
    missing = sorted(
        r.rule for r in _app.url_map.iter_rules() if r.rule not in covered | set(UNLISTED)
    )
    assert not missing, f"routes with no row in MATRIX: {missing}"


#: URL rules that ask the policy nothing, and why
NO_POLICY = {
    "/login": "the sign-in page, for everyone",
    "/lang/<code>": "the interface language, for everyone",
    "/logout": "one's own session",
    "/logout/everywhere": "one's own sessions",
    "/api/v1/me": "one's own profile",
    "/sw.js": "the offline service worker script",
    "/api/v1/openapi.json": "the API's description (no data)",
    "/ogc": "the OGC landing page (no data)",
    "/ogc/conformance": "the OGC conformance classes (no data)",
    "/ogc/api": "the OGC API description (no data)",
    "/open311/v2/discovery": "GeoReport's service description (no data)",
    "/open311/v2/discovery.<fmt>": "GeoReport's service description (no data)",
    "/open311/v2/services": "the categories as GeoReport services (no personal data)",
    "/open311/v2/services.<fmt>": "the categories as GeoReport services (no personal data)",
    "/open311/v2/services/<code>": "one category's definition (no personal data)",
    "/open311/v2/<path:rest>": "GeoReport's not-found answer",
}


def test_every_route_asks_the_policy_or_says_why_not(_app):
    """A row with an action proves (in test_cell) that the route really asks it."""
    asking = {_rule_of(_app, method, path) for method, path, *_, action in MATRIX if action}
    silent = {_rule_of(_app, method, path) for method, path, *_ in MATRIX} - asking
    assert sorted(silent - set(NO_POLICY)) == []
    assert sorted(set(NO_POLICY) - silent) == []  # the list stays true


def test_every_policy_action_is_exercised():
    """Each action the policy knows is named by at least one matrix row."""
    named = {action for *_, action in MATRIX if action}
    unused = sorted(set(policy.known_actions()) - named)
    assert not unused, f"policy actions no matrix row exercises: {unused}"
    unknown = sorted(named - set(policy.known_actions()) - policy.PUBLIC)
    assert not unknown, f"matrix rows name actions the policy does not know: {unknown}"


# --- fields a role may not set, and ids from another township (IDOR) ----------------------------
#: (who, method, path, scope, body, status, the field named in the error, or None)
#: A report never sets what the lifecycle or the server decides (422 naming the field, for
#: everyone); the priority is the office's triage; ids from another township are refused
#: as unknown (422 on the field) or not found (404), never used.
# fmt: off
FIELDS = [
    ("member",  "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "status": "closed"},         422, "status"),
    ("member",  "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "unit": "water"},            422, "unit"),
    ("member",  "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "due_on": "2030-01-01"},     422, "due_on"),
    ("member",  "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "answer_class": "A"},        422, "answer_class"),
    ("member",  "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "priority": "urgent"},       422, "priority"),
    ("member",  "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "reporter_id": 1},           422, "reporter_id"),
    ("member",  "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "township_code": T2},        422, "township_code"),
    ("member",  "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "village_code": "512099002001"}, 422, "village_code"),
    ("member",  "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "ref": "FW-2026-999999"},    422, "ref"),
    ("admin",   "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "status": "closed"},         422, "status"),
    ("leader",  "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "priority": "urgent"},       201, None),
    ("member",  "POST", "/api/v1/issues", "-", {**NEW_ISSUE, "priority": "normal"},       201, None),
    # a unit resolves its own work, but does not hand it to another unit (转办 is the office's)
    ("unit",    "POST", "/api/v1/issues/{issue}/transitions", "own",
     {"to": "in_progress", "unit": "transport"},                                            403, None),
    ("unit", "POST", "/issues/{issue}/move", "own", {"move": "reassign", "unit": "transport"}, 403, None),
    ("member", "POST", "/issues/{issue}/move", "own", {"move": "accept"}, 403, None),
    # another township's problem is no duplicate target for a township's leader
    ("leader",  "POST", "/api/v1/issues/{issue}/transitions", "own",
     {"to": "duplicate", "duplicate_of": "{other_issue}"},                                  422, "duplicate_of"),
    ("county",  "POST", "/api/v1/issues/{issue}/transitions", "own",
     {"to": "duplicate", "duplicate_of": "{other_issue}"},                                  200, None),
    # visits: another township's station or problem
    ("leader",  "POST", "/api/v1/visits", "-",
     {"title": "协商", "form": "meeting", "planned_for": "2099-02-01", "station_id": "{other_station}"}, 422, "station_id"),
    ("leader",  "POST", "/api/v1/visits", "-",
     {"title": "协商", "form": "meeting", "planned_for": "2099-02-01", "station_id": "{own_station}"},   201, None),
    ("leader",  "PATCH", "/api/v1/visits/{visit}", "own", {"issue_ids": ["{other_issue}"]},  422, "issue_ids"),
    ("leader",  "POST", "/api/v1/visits/{visit}/hold", "own",
     {"actions": [{"issue_id": "{other_issue}", "to": "accepted"}]},                        422, "actions.0.issue_id"),
    # a visit's status and outcome move only by hold and cancel; its township follows its stops
    ("leader", "PATCH", "/api/v1/visits/{visit}", "own", {"status": "held"}, 422, "status"),
    ("leader", "PATCH", "/api/v1/visits/{visit}", "own", {"township_code": T2}, 422, "township_code"),
    ("leader", "POST", "/api/v1/visits", "-", {**MEETING, "actions": []}, 422, "actions"),
    # look-backs: a township's supervisor schedules only what they may see
    ("sup_t1",  "POST", "/api/v1/followups", "-", {"visit_id": "{other_visit}", "due_on": "2099-01-01"}, 404, None),
    ("sup_t1",  "POST", "/api/v1/followups", "-", {"issue_id": "{other_resolved}", "due_on": "2099-01-01"}, 404, None),
    ("sup_t1",  "POST", "/api/v1/followups", "-", {"issue_id": "{own_resolved}", "due_on": "2099-01-01"}, 201, None),
    ("member",  "PATCH", "/api/v1/followups/{followup}", "own", {"assignee": "mx_member"},  403, None),
]
# fmt: on
WHO = {"county": "leader_county", "sup_t1": "supervisor_t1"}


def _fill_ids(value, world):
    """`{other_issue}`, `{own_station}`…: an object of a named scope, whatever the row's scope."""
    if isinstance(value, dict):
        return {k: _fill_ids(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_ids(v, world) for v in value]
    if isinstance(value, str):
        found = re.fullmatch(r"\{(own|other)_(\w+)\}", value)
        if found:
            return world.ids[found.group(2), found.group(1)]
    return value


@pytest.mark.parametrize(
    ("who", "method", "path", "scope", "body", "status", "field"),
    [pytest.param(*row, id=f"{row[0]} {row[1]} {row[2]} {sorted(row[4])}") for row in FIELDS],
)
def test_fields_and_ids(cell, clients, who, method, path, scope, body, status, field):
    role = WHO.get(who, who)
    response = request_cell(clients, cell, method, path, scope, role, _fill_ids(body, cell))
    data = response.get_json(silent=True) or {}
    assert response.status_code == status, data
    if field:
        assert field in data["errors"], data
        assert data["errors"][field] and all(data["errors"][field]), data


def test_the_report_form_ignores_fields_it_does_not_have(cell, clients):
    """The page form has no status, township or reporter: sent anyway, they change nothing."""
    from fieldwatch.extensions import db
    from fieldwatch.models import Area, Issue

    form = {**NEW_ISSUE, "title": "表单注入", "status": "closed", "township": T2}
    form.update(reporter_id=str(cell.users["admin"]), priority="urgent", unit="water")
    response = request_cell(clients, cell, "POST", "/issues/new", "-", "member", form)
    assert response.status_code == 302
    issue = db.session.scalar(db.select(Issue).where(Issue.title == "表单注入"))
    assert issue.status == "reported" and issue.priority == "normal" and issue.unit_id is None
    assert issue.reporter_id == cell.users["member"]
    assert db.session.get(Area, issue.township_id).code == T1  # from the point, not the form


def test_a_unit_resolving_cannot_move_the_work_elsewhere(cell, clients):
    """Resolve ignores a `unit` (DESIGN: each move takes what it requires); the unit stays."""
    from fieldwatch.extensions import db
    from fieldwatch.models import Issue, Unit

    body = {**RESOLVE, "unit": "transport"}
    response = request_cell(
        clients, cell, "POST", "/api/v1/issues/{issue}/transitions", "own", "unit", body
    )
    assert response.status_code == 200, response.get_json()
    issue = db.session.get(Issue, cell.ids["issue_id", "own"])
    assert issue.status == "resolved"
    assert db.session.get(Unit, issue.unit_id).code == "water"


def test_the_schedule_form_shows_nothing_of_another_townships_problem(cell, clients):
    other = request_cell(
        clients,
        cell,
        "GET",
        f"/followups/new?issue={cell.ids['resolved', 'other']}",
        "-",
        "supervisor_t1",
        None,
    )
    own = request_cell(
        clients,
        cell,
        "GET",
        f"/followups/new?issue={cell.ids['resolved', 'own']}",
        "-",
        "supervisor_t1",
        None,
    )
    assert other.status_code == own.status_code == 200
    assert "积水严重" in own.get_data(as_text=True)  # the problem's title, shown for one's own
    assert "积水严重" not in other.get_data(as_text=True)


# --- lists show only rows in scope ------------------------------------------------------------
#: every list, export and layer that carries problems, walked as each township-scoped or
#: unit-scoped person: their own township's (or unit's) problem is there, the other's is not
ROWS_LISTS = [
    "/api/v1/issues",
    "/issues",
    "/issues?format=csv",
    "/api/v1/followups",
    "/followups/",
    "/followups/?format=csv",
    "/ogc/collections/issues/items",
    "/ogc/collections/followups/items",
    "/open311/v2/requests.json",
    "/api/v1/map/layers/issues?bbox=104,30,104.2,30.1&zoom=16",
    "/api/v1/map/search?q=FW-",
]
#: lists whose own rows depend on the person (a to-do list): only "nothing of the other's"
ROWS_PERSONAL = ["/todos/"]


@pytest.mark.parametrize("role", ["leader", "member", "unit"])
@pytest.mark.parametrize("path", ROWS_LISTS + ROWS_PERSONAL)
def test_lists_hold_only_rows_in_scope(cell, clients, path, role):
    response = request_cell(clients, cell, "GET", path, "-", role, None)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    own = [cell.ids[kind, "own"] for kind in ("issue", "resolved")]
    other = [cell.ids[kind, "other"] for kind in ("issue", "resolved", "reported")]
    if path not in ROWS_PERSONAL:
        assert any(ref in body for ref in own), f"{path}: none of {own} shown to {role}"
    assert not [ref for ref in other if ref in body], f"{path} shows another township's rows"


VISIT_LISTS = ["/api/v1/visits", "/visits/?month=2099-01", "/ogc/collections/visits/items"]


def _visit_ids(path: str, response) -> set[int]:
    if path.startswith("/visits/"):
        return {
            int(n) for n in re.findall(r'href="/visits/(\d+)"', response.get_data(as_text=True))
        }
    data = response.get_json()
    return {int(row["id"]) for row in data.get("items") or data.get("features")}


@pytest.mark.parametrize("role", ["leader", "member", "unit"])
@pytest.mark.parametrize("path", VISIT_LISTS)
def test_visit_lists_hold_only_visits_in_scope(cell, clients, path, role):
    response = request_cell(clients, cell, "GET", path, "-", role, None)
    assert response.status_code == 200
    found = _visit_ids(path, response)
    assert cell.ids["visit", "own"] in found and cell.ids["visit", "other"] not in found


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/visits/candidates?bbox=104,30,104.2,30.1",
        f"/api/v1/visits/candidates?township={T2}",
        "/api/v1/visits/batches?bbox=104,30,104.2,30.1",
    ],
)
def test_the_planner_offers_only_the_leaders_township(cell, clients, path):
    response = request_cell(clients, cell, "GET", path, "-", "leader", None)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert not [s for s in ("issue", "resolved", "reported") if cell.ids[s, "other"] in body]
    if "township=" not in path:
        assert cell.ids["issue", "own"] in body


@pytest.mark.parametrize(
    ("role", "sees_other"), [("leader", False), ("member", False), ("unit", False), ("admin", True)]
)
def test_a_places_history_holds_only_rows_in_scope(cell, clients, role, sees_other):
    def issues_at(scope: str) -> set[int]:
        lon, lat = SPOT[scope]
        path = f"/api/v1/places/history?lon={lon + 0.002}&lat={lat}&radius=500"
        response = request_cell(clients, cell, "GET", path, "-", role, None)
        assert response.status_code == 200
        return {i["id"] for i in response.get_json()["items"] if i["type"] == "issue"}

    assert cell.ids["issue_id", "own"] in issues_at("own")
    assert (cell.ids["issue_id", "other"] in issues_at("other")) is sees_other


@pytest.mark.parametrize(("role", "sees"), [("member", False), ("unit", False), ("leader", True)])
def test_a_station_page_names_only_the_visits_one_may_see(cell, clients, role, sees):
    """A station lists the visits held there; a topic is shown only to who may see the visit."""
    response = request_cell(clients, cell, "GET", "/stations/{station}", "own", role, None)
    html = response.get_data(as_text=True)
    assert 'id="station-visits"' in html
    assert ("县领导闭门协商议题" in html) is sees


@pytest.mark.parametrize("action", policy.known_actions() + ["no.such.action"])
def test_the_policy_fails_closed(action):
    """Nobody signed in, a disabled account and an unknown action are refused, whatever the rule."""
    from types import SimpleNamespace

    from flask_login import AnonymousUserMixin

    assert not policy.can(None, action)
    assert not policy.can(AnonymousUserMixin(), action)
    disabled = SimpleNamespace(
        id=1, role="admin", township_id=None, unit_id=None, is_authenticated=True, active=False
    )
    assert not policy.can(disabled, action)
    admin = SimpleNamespace(
        id=1, role="admin", township_id=None, unit_id=None, is_authenticated=True, active=True
    )
    if action == "no.such.action":
        assert not policy.can(admin, action)


def _tile_xy(z: int, lon: float, lat: float) -> tuple[int, int]:
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.mark.parametrize(
    ("role", "sees_other"), [("leader", False), ("unit", False), ("county", True)]
)
def test_issue_tiles_hold_only_rows_in_scope(cell, clients, role, sees_other):
    """A problem tile, decoded: one's own problems are drawn, another township's are not."""
    import mapbox_vector_tile

    def refs_at(scope: str) -> set[str]:
        x, y = _tile_xy(14, *SPOT[scope])
        path = f"/tiles/issues/14/{x}/{y}.pbf"
        response = request_cell(clients, cell, "GET", path, "-", WHO.get(role, role), None)
        assert response.status_code in (200, 204)  # 204: an empty tile
        layers = mapbox_vector_tile.decode(response.data) if response.data else {}
        return {f["properties"].get("ref") for layer in layers.values() for f in layer["features"]}

    assert cell.ids["issue", "own"] in refs_at("own")
    assert (cell.ids["issue", "other"] in refs_at("other")) is sees_other


@pytest.mark.parametrize(("role", "offered"), [("leader", False), ("leader_county", True)])
def test_the_planner_offers_only_the_leaders_stations(cell, clients, role, offered):
    html = request_cell(clients, cell, "GET", "/visits/plan", "-", role, None).get_data(
        as_text=True
    )
    [choices] = re.findall(r'<select[^>]*name="station_id".*?</select>', html, re.S)
    assert "东风协商工作站" in choices
    assert ("西岭协商工作站" in choices) is offered


def test_a_visit_keeps_its_station_when_a_township_leader_edits_it(cell, clients):
    """A county leader put the visit at another township's station: editing keeps it."""
    path = "/api/v1/visits/{visit}"
    station = cell.ids["station", "other"]
    moved = request_cell(
        clients, cell, "PATCH", path, "own", "leader_county", {"station_id": station}
    )
    assert moved.status_code == 200, moved.get_json()
    kept = request_cell(
        clients, cell, "PATCH", path, "own", "leader", {"station_id": station, "title": "改题"}
    )
    assert kept.status_code == 200, kept.get_json()
    assert kept.get_json()["station_id"] == station
    page = request_cell(clients, cell, "GET", "/visits/{visit}/edit", "own", "leader", None)
    html = page.get_data(as_text=True)
    [choices] = re.findall(r'<select[^>]*name="station_id".*?</select>', html, re.S)
    assert "西岭协商工作站" in choices  # offered, so a save keeps it

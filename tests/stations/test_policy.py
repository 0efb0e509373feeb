"""Who may see and change stations, import places and read coverage."""

from __future__ import annotations

import pytest

from fieldwatch import policy

ROLES = ("admin", "leader", "member", "supervisor", "unit")


@pytest.mark.parametrize("role", ROLES)
def test_the_matrix(make_user, role):
    user = make_user(role)
    assert policy.can(user, "stations.view") and policy.can(user, "coverage.view")
    assert policy.can(user, "areas.view")
    assert policy.can(user, "stations.edit") == (role == "admin")  # a leader may not edit
    assert policy.can(user, "areas.import") == (role == "admin")


def test_anonymous_sees_nothing():
    for action in ("stations.view", "coverage.view", "stations.edit", "areas.import"):
        assert not policy.can(None, action)


def test_the_api_is_described(client, login_as):
    login_as("member")
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/areas", "/api/v1/areas/at", "/api/v1/stations",
                 "/api/v1/stations/{station_id}", "/api/v1/coverage"):  # fmt: skip
        assert path in paths
    assert {"get", "post"} <= set(paths["/api/v1/stations"])
    assert {"get", "patch"} <= set(paths["/api/v1/stations/{station_id}"])

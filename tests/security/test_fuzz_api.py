"""schemathesis over the OpenAPI document: no 5xx, no stack traces, for every operation.

Derandomized and bounded, so it is repeatable and quick; each operation runs
inside the usual rolled-back transaction, signed in as an admin by token.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def admin_headers(make_user, token_for):
    return token_for(make_user("admin"))


@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case, admin_headers):
    response = case.call(headers=admin_headers)
    case.validate_response(response, checks=(not_a_server_error,))
    assert "Traceback" not in response.text
    if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith(
        "application/json"
    ):
        body = response.json()
        assert {"error", "message", "errors"} <= set(body), body

"""schemathesis over the OpenAPI document: no 5xx, no stack traces, for every operation.

Derandomized and bounded, so it is repeatable and quick; each operation runs
inside the usual rolled-back transaction, signed in by token (an admin by default).

A longer, random run when hunting (each finding becomes a case in test_bad_input.py):

    FIELDWATCH_FUZZ_EXAMPLES=200 FIELDWATCH_FUZZ_ROLE=member \\
        .venv/bin/python -m pytest -q tests/security/test_fuzz_api.py --hypothesis-seed=7
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

schema = schemathesis.pytest.from_fixture("api_schema")
#: a long hunt is random; the suite's run is the same every time
EXAMPLES = int(os.environ.get("FIELDWATCH_FUZZ_EXAMPLES", "0"))
ROLE = os.environ.get("FIELDWATCH_FUZZ_ROLE", "admin")


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def admin_headers(make_user, token_for):
    return token_for(make_user(ROLE, unit="water" if ROLE == "unit" else None))


@schema.parametrize()
@settings(
    max_examples=EXAMPLES or 8,
    derandomize=not EXAMPLES,
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

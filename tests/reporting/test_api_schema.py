"""Schemathesis: generated requests to every API operation, checked against the OpenAPI schema.

Runs in CI like any other test: requests go straight to the WSGI application, no server needed.
Both valid (positive) and invalid (negative) requests are generated for each operation.
(The lazy ``schemathesis.pytest.from_fixture`` loader fails under pytest 9, so the operations
are walked here and each is driven by Hypothesis directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from tests.reporting.register_builders import Scene, published_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests sent straight to the WSGI application must not close the test's database
    connection when they finish (Django's own test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(settings, wsgi_in_test_transaction):
    settings.OPEN_DATA_API_RATE = "1000000/minute"
    cache.clear()
    scene = Scene()
    published_report(fund=scene.fund_a, title="Published impact")
    # fund, call and network take the identifier of an existing record, which a schema cannot
    # enumerate: an unknown one is a documented 400 naming the filter, so for schema-valid
    # requests 400 is accepted as well as 2xx and 404. Every other check runs as standard.
    config = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 400, 404]}}})
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=config)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_matches_the_schema(api_schema, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/awards/", "/api/v1/awards/{reference}/", "/api/v1/calls/",
                                              "/api/v1/calls/{slug}/", "/api/v1/reports/", "/api/v1/reports/{id}/"}
    tested = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate()

        try:
            check()
        except Unsatisfiable:
            # Only in negative mode: an operation whose parameters accept any string (or that
            # has none, like the root) has no schema-violating request to send.
            assert mode == GenerationMode.NEGATIVE
            continue
        tested.append(operation.path)
    expected = {"/api/v1/awards/", "/api/v1/calls/", "/api/v1/reports/", "/api/v1/reports/{id}/"}
    if mode == GenerationMode.POSITIVE:
        expected |= {"/api/v1/", "/api/v1/awards/{reference}/", "/api/v1/calls/{slug}/"}
    assert set(tested) >= expected

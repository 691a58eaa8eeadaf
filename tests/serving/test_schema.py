"""Property-based requests generated from the OpenAPI schema never get a server error."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from recommendations.world import API_KEY


@pytest.fixture
def api_schema(service):
    return schemathesis.openapi.from_url(f"{service}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_no_server_error(case):
    case.call_and_validate(headers={"X-API-Key": API_KEY}, checks=[not_a_server_error])

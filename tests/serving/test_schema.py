"""Property-based requests generated from the OpenAPI schema never get a server error, and every answer
conforms to the schema (the contract clients are generated from)."""

import schemathesis
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance
from hypothesis import HealthCheck, given, settings

from recommendations.world import API_KEY

EXAMPLES = 25  # per operation


def test_generated_requests_get_no_server_error_and_answers_match_the_schema(service):
    schema = schemathesis.openapi.from_url(f"{service}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/recommendations/{user_id}", "/events", "/feedback"}
    errors = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case) -> None:
            response = case.call(headers={"X-API-Key": API_KEY})
            if response.status_code >= 500:
                errors.append(f"{case.method} {case.formatted_path} {case.body!r}: {response.status_code} {response.text[:200]}")
            try:
                case.validate_response(response, checks=[response_schema_conformance])
            except (Failure, FailureGroup) as failure:
                errors.append(f"{case.method} {case.formatted_path}: answer off the schema: {str(failure)[:300]}")

        call()
    assert errors == []

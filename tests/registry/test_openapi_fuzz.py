"""Schemathesis against the registry's own OpenAPI document, over a real socket.

For every operation, a bounded number of generated requests, schema-valid and schema-
breaking, must get no 5xx, only documented status codes and content types, and bodies
that match the documented schemas; schema-breaking requests must be rejected with a 4xx.
Driven through ``APIOperation.as_strategy`` with Hypothesis directly because the
schemathesis pytest plugin's lazy fixture mode does not work with pytest 9.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from ._support import LiveServer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25


@pytest.mark.req("REG-004")
@pytest.mark.req("REG-070")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi_document(
    live_server: Callable[..., LiveServer], mode: GenerationMode
) -> None:
    server = live_server(rate_per_address=0, rate_per_did=0)
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS
    labels = []
    exercised: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=server.url, checks=checks)

        try:
            run()
        except Unsatisfiable:
            # nothing to break: an operation with no parameters and no body
            assert mode is GenerationMode.NEGATIVE
            assert not operation.path_parameters
            assert not operation.body
            assert not operation.query
            continue
        exercised.append(operation.label)
    assert "PUT /v1/agents/{did}" in exercised
    assert len(labels) >= 9

"""Schemathesis against the studio's OpenAPI schema: generated requests, fitting the schema and not, never
get a 500, and every answer matches the schema (status code, content type, body).

Each operation gets a bounded number of examples of each kind, so the test takes seconds, not minutes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode

from opencomposer.studio.server.app import create_app
from opencomposer.studio.settings import Settings

from .conftest import save_tiny_model

EXAMPLES_PER_OPERATION = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_gets_a_server_error_or_an_answer_outside_the_schema(home: Path, mode: GenerationMode) -> None:
    save_tiny_model(home / "models")
    # Schemathesis addresses the app as "testserver"; audio is left out, so its endpoint answers a quick 503.
    studio = Settings(home=home, web_dir=None, trusted_hosts=("testserver",), fluidsynth="no-such-synthesizer")
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(studio))
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) > 25

    for operation in operations:
        inputs = (operation.path_parameters, operation.query, operation.body)
        if mode is GenerationMode.NEGATIVE and not any(len(given) for given in inputs):
            continue  # nothing it takes can be made wrong

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
            case.call_and_validate(checks=CHECKS)

        call()

"""Schemathesis against the studio's OpenAPI schema: generated requests, fitting the schema and not, never
get a 500, and every answer matches the schema (status code, content type, body).

Each operation gets a bounded number of examples of each kind, so the test takes seconds, not minutes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
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

from .conftest import HAS_SYNTHESIZER, save_tiny_model

EXAMPLES_PER_OPERATION = int(os.environ.get("OPENCOMPOSER_FUZZ_EXAMPLES", "12"))
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


FUZZ_EXAMPLES = int(os.environ.get("OPENCOMPOSER_FUZZ_EXAMPLES", "8"))
"""Examples per operation of the fuzz with real ids; `make fuzz` raises it."""


@pytest.mark.slow
def test_requests_on_real_melodies_compositions_jobs_and_models_get_no_server_error(home: Path) -> None:
    """Schemathesis with the ids of things that exist fed in, so that requests reach past the 404s.

    Half the generated cases get a real melody, composition, job, model or dataset in their path and body;
    the operations that delete run last, so the others meet the real things first.
    """
    save_tiny_model(home / "models")
    app = create_app(Settings(home=home, web_dir=None, trusted_hosts=("testserver",)))  # with audio, where installed
    real = _make_real_things(app)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    served = {"errors": 0, "calls": 0}

    for operation in operations:

        @given(case=operation.as_strategy(GenerationMode.POSITIVE), fill=st.booleans())
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case: schemathesis.Case, fill: bool) -> None:  # type: ignore[type-arg]
            if fill:
                _fill(case, real)
            response = case.call()
            served["calls"] += 1
            assert response.status_code < 500 or (response.status_code == 503 and not HAS_SYNTHESIZER), (
                case.path,
                response.text[:500],
            )
            case.validate_response(response, checks=CHECKS[1:])

        call()
    assert served["calls"] >= len(operations)


def _make_real_things(app: Any) -> dict[str, str]:
    from .conftest import LOOPBACK, TestClient, midi_bytes, upload_dataset

    client = TestClient(app, base_url=LOOPBACK)
    melody = client.post("/api/melodies/upload", files={"file": ("tune.mid", midi_bytes())}).json()["id"]
    body = {"technique": "accompany", "model": "tiny", "melody_id": melody, "seed": 1}
    composition = client.post("/api/compositions", json=body).json()["id"]
    upload_dataset(client, "tiny-songs", pieces=2, bars=4)
    job_body = {"architecture": "unet", "dataset": "tiny-songs", "model_name": "fuzzed", "hyperparameters": {}}
    job = client.post("/api/jobs", json=job_body).json()["id"]
    return {
        "melody_id": melody,
        "composition_id": composition,
        "job_id": job,
        "model": "tiny",
        "dataset": "tiny-songs",
        "technique": "accompany",
        "architecture": "unet",
    }


def _fill(case: schemathesis.Case, real: dict[str, str]) -> None:  # type: ignore[type-arg]
    path = case.path_parameters or {}
    for key in path:
        if key in real:
            path[key] = real[key]
        elif key == "name":
            path[key] = real["dataset"] if "dataset" in case.path else real["model"]
        elif key == "step":
            path[key] = 0
    if isinstance(case.body, dict):
        for key in ("melody_id", "model", "dataset", "technique", "architecture"):
            if key in case.body:
                case.body[key] = real[key]

"""The web UI's API types are generated from the committed ``web/openapi.json``, which must be the studio's schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opencomposer.studio.server.app import create_app
from opencomposer.studio.settings import Settings

COMMITTED_SCHEMA = Path(__file__).resolve().parents[1] / "web" / "openapi.json"


def test_the_committed_openapi_schema_is_the_studios(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=tmp_path / "home", web_dir=None)
    # create_app points this process's registries at the home through these variables: restored after the test.
    for name, value in settings.environment().items():
        monkeypatch.setenv(name, value)
    app = create_app(settings)
    try:
        schema = json.loads(json.dumps(app.openapi()))
    finally:
        app.state.studio.store.close()
    committed = json.loads(COMMITTED_SCHEMA.read_text(encoding="utf-8"))
    assert schema == committed, "web/openapi.json is stale: run `make api-types` and commit what it writes"

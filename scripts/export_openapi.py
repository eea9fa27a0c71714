"""Write the studio's OpenAPI schema to ``web/openapi.json``, from which the web UI's API types are generated.

``make api-types`` runs this and then ``npm run api-types`` (openapi-typescript) in ``web/``; ``make lint`` runs
it with ``--check``, which writes nothing and fails when the schema differs from the committed one. The schema
is that of a studio on an empty temporary home without a built UI, written with
sorted keys, so that the same code always gives the same bytes::

    .venv/bin/python scripts/export_openapi.py            # writes web/openapi.json
    .venv/bin/python scripts/export_openapi.py --check    # exits 1 when web/openapi.json is stale
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from opencomposer.studio.server.app import create_app
from opencomposer.studio.settings import Settings

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "web" / "openapi.json"


def studio_openapi() -> dict[str, Any]:
    """The OpenAPI schema of a studio on an empty temporary home, as the server gives it at ``/openapi.json``."""
    with tempfile.TemporaryDirectory(prefix="opencomposer-openapi-") as home:
        app = create_app(Settings(home=Path(home), web_dir=None))
        try:
            return app.openapi()
        finally:
            app.state.studio.store.close()


def openapi_to_text(schema: dict[str, Any]) -> str:
    """`schema` as stable JSON text: sorted keys, two-space indents, one newline at the end."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, compare) ``web/openapi.json``; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed schema, write nothing")
    arguments = parser.parse_args(argv)
    text = openapi_to_text(studio_openapi())
    if not arguments.check:
        SCHEMA_PATH.write_text(text, encoding="utf-8")
        return 0
    committed = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.is_file() else ""
    if text == committed:
        return 0
    print(
        "web/openapi.json differs from the studio's API schema: run `make api-types`, then commit "
        "web/openapi.json and web/src/api-schema.d.ts.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())

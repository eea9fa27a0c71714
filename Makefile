# OpenComposer: every set-up step lives here, so a fresh Debian machine needs only `make studio` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: studio test lint typecheck unit bench fuzz clean system-deps test-deps web dist api-types

# Debian packages the project needs at run time; installed only when missing. FluidSynth and its General
# MIDI soundfont play compositions in the studio (without them, only the audio downloads are unavailable);
# Node.js and npm build the web UI.
system-deps:
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { \
		echo "Installing python3-venv (Debian) ..."; \
		apt-get update -qq && apt-get install -y -qq python3-venv; }
	@missing=""; \
	command -v fluidsynth >/dev/null 2>&1 || missing="$$missing fluidsynth"; \
	test -f /usr/share/sounds/sf2/FluidR3_GM.sf2 || missing="$$missing fluid-soundfont-gm"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "Installing$$missing (Debian) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Debian packages only the tests need: PostgreSQL, which the studio's store suite starts a throwaway server of,
# and Chromium, which the browser tests drive (never a downloaded browser).
test-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "Installing postgresql (Debian) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; }
	@test -x /usr/bin/chromium || { \
		echo "Installing chromium (Debian) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

$(PY): | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Reinstall when the project's dependencies change. torch==2.13.0 is the CPU build (see pyproject.toml).
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The web UI (Node.js 18 or newer and npm, which system-deps installs): `npm ci` when web/node_modules is missing
# or older than package-lock.json, then a Vite build into web/dist, which the studio serves.
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/package.json web/tsconfig.json web/vite.config.ts

web/node_modules/.package-lock.json: web/package-lock.json | system-deps
	cd web && npm ci --no-audit --no-fund

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

web: web/dist/index.html

# Starts the studio on http://127.0.0.1:8000/ (pass options with STUDIO_ARGS="--port 8080 --home DIR").
studio: $(STAMP) web | system-deps
	$(VENV)/bin/opencomposer studio $(STUDIO_ARGS)

# A source archive and a wheel in dist/, built as `python -m build` builds them (the wheel from the archive) but
# offline, with the setuptools of .venv. The wheel carries the built web UI and the shipped models:
# `pip install dist/opencomposer-0.1.0-py3-none-any.whl`, then `opencomposer studio`.
dist: $(STAMP) web
	rm -rf dist
	$(PY) -c 'from setuptools import build_meta; build_meta.build_sdist("dist")' >/dev/null
	$(PY) -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation --wheel-dir dist dist/opencomposer-*.tar.gz
	@ls -l dist

# The web UI's API types, generated from the studio's OpenAPI schema: web/openapi.json (scripts/export_openapi.py),
# then web/src/api-schema.d.ts (openapi-typescript), both committed; `make lint` fails when either is stale.
api-types: $(STAMP) web/node_modules/.package-lock.json
	$(PY) scripts/export_openapi.py
	cd web && npm run --silent api-types

lint: $(STAMP) web/node_modules/.package-lock.json
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(PY) scripts/export_openapi.py --check
	@cd web && npm run --silent api-types:check >/dev/null || { \
		echo "web/src/api-schema.d.ts differs from the types generated from web/openapi.json: run \`make api-types\`," \
			"then commit web/openapi.json and web/src/api-schema.d.ts." >&2; exit 1; }
	cd web && npm run --silent lint

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP) web | system-deps test-deps
	$(VENV)/bin/pytest -n 2 --durations=15

test: lint typecheck unit

# The reliability suite at a larger budget: schemathesis over every operation (generated requests, and requests
# on real melodies, compositions, jobs and models) and the attacks of tests/studio/test_attacks.py on a live studio.
FUZZ_EXAMPLES ?= 100
fuzz: $(STAMP) | system-deps test-deps
	OPENCOMPOSER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -p no:cacheprovider -W ignore::UserWarning \
		tests/studio/test_schema.py tests/studio/test_attacks.py tests/studio/test_security.py

bench: $(STAMP) web | test-deps
	@for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache web/dist web/node_modules

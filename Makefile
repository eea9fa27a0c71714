# OpenComposer: every set-up step lives here, so a fresh Debian machine needs only `make studio` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: studio test lint typecheck unit bench clean system-deps

# Debian packages the project needs at run or test time; installed only when missing.
system-deps:
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { \
		echo "Installing python3-venv (Debian) ..."; \
		apt-get update -qq && apt-get install -y -qq python3-venv; }

$(PY): | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Reinstall when the project's dependencies change. torch==2.13.0 is the CPU build (see pyproject.toml).
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

studio: $(STAMP)
	$(VENV)/bin/opencomposer --help

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -n 2 --durations=15

test: lint typecheck unit

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache

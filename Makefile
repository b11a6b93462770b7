# cchc-workbook: the two commands are `make demo` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KERNEL := cchc-workbook

.PHONY: install demo test lint format lab bench clean browser-deps

# (Re)install when the venv is missing or pyproject.toml changed; the kernel is registered
# inside the venv (--sys-prefix) so papermill and JupyterLab run the venv's Python.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools>=77" wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cchc demo

# ruff (style), import-linter (the pipeline's layers, no cycles) and mypy (types, strict):
# the settings of all three are in pyproject.toml.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

# The browser tests drive Debian's chromium (skipped, with one line saying so, when it is
# missing; .ci/run installs it) and inject axe-core from npm (test-only, git-ignored).
AXE_JS := tests/browser/node_modules/axe-core/axe.min.js
NPM := $(shell command -v npm 2>/dev/null)

$(AXE_JS): tests/browser/package.json tests/browser/package-lock.json
	@cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && touch $(CURDIR)/$@ \
		|| echo "npm ci in tests/browser failed: the accessibility checks will be skipped"

browser-deps: $(if $(NPM),$(AXE_JS))

# Two workers, one test file each at a time (module fixtures stay in one process); the demo
# slice and the rendered 2023-Q3 province are built once per session (tests/conftest.py).
test: lint browser-deps
	$(PY) -m pytest -n 2 --dist loadfile

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

# Benchmarks print figures and ratios (never timed tests); the whole set takes over an hour on
# 2 cores and needs the demo (make demo: its data and 2026-Q3 reports) and ~12 GB of disk (the
# 20M-row national CSV of bench_ingest is 5.9 GB, its ingested folder about 2 GB).
# bench_nation --quick tiles one province of the nation; without --quick it generates all
# 34 (~30M rows, ~0.4 GB, minutes) and renders an 80-report sample.
bench: $(STAMP)
	$(PY) bench/bench_synth.py
	$(PY) bench/bench_stats.py
	$(PY) bench/bench_runner.py
	$(PY) bench/bench_reports.py --data data/demo
	$(PY) bench/bench_reports.py --data data/demo --runner-only --reports 4 --runs 3 --keep-warm
	$(PY) bench/bench_overview.py --data data/demo
	$(PY) bench/bench_overview.py --data data/demo --period 2025-Q2
	$(PY) bench/bench_prepare.py --ingest 1000000
	$(PY) bench/bench_scale.py
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_ingest.py --rows 1000000
	$(PY) bench/bench_ingest.py --rows 20000000
	$(PY) bench/bench_snapshot.py --history 20000000 --snapshot 1000000 --only-upsert
	$(PY) bench/bench_downloads.py reports/demo/2026-Q3
	$(PY) bench/bench_nation.py --quick
	$(PY) bench/bench_data_growth.py --data data/demo --province 31 --out bench/out/growth-demo
	@if [ -f bench/out/national/dataset.json ]; then $(PY) bench/bench_data_growth.py \
		--data bench/out/national --province 12 --out bench/out/growth-national; \
	else echo "data growth on the nation: run bench/bench_nation.py (no --quick) first"; fi
	@if [ -f bench/out/national/dataset.json ]; then $(PY) bench/bench_province_export.py; \
	else echo "a province's export into the nation: run bench/bench_nation.py first"; fi

clean:
	rm -rf $(VENV) data/demo data/processed reports/demo .pytest_cache .ruff_cache
	rm -rf tests/browser/node_modules reports/test-screenshots

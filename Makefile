# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
PORT ?= 8000

.PHONY: run test setup setup-dev lint format typecheck pytest check-python bench-intake bench-exports bench-admin clean browser-deps screenshots

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $@

setup: $(RUNTIME_STAMP)
setup-dev: $(DEV_STAMP)

## make run: migrate, seed, create a local staff login, start web + Celery worker + beat.
run: setup
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} PORT=$(PORT) $(BIN)/python -m asana_leads.devserver

## make test: lint, type-check, then the whole suite (DATABASE_URL/REDIS_URL pick the services).
test: setup-dev lint typecheck pytest

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: setup-dev
	$(BIN)/mypy apps asana_leads

pytest: setup-dev browser-deps
	$(BIN)/pytest --create-db $(PYTEST_ARGS)

## browser-deps: axe-core (pinned in tests/browser/package-lock.json) for the accessibility
## checks of the browser tests; skipped, saying so, when npm is not installed.
AXE := tests/browser/node_modules/axe-core/axe.min.js
browser-deps:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(AXE); \
	else \
		echo "*** npm not found: axe-core NOT installed; the accessibility checks in tests/browser will SKIP (install Node.js and npm to run them) ***"; \
	fi

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --ignore-scripts --no-audit --no-fund
	touch $@

bench-intake: setup-dev
	$(BIN)/python bench/intake/run.py

## make bench-exports: 1M marketable contacts on PostgreSQL; COPY vs export_contacts CSV/XLSX.
bench-exports: setup-dev
	$(BIN)/python bench/exports/run.py $(BENCH_ARGS)
## make bench-admin: the admin at 1,000,000 leads on PostgreSQL (database bench_admin, seeded once).
bench-admin: setup-dev
	$(BIN)/python bench/admin/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache tests/browser/node_modules

## make screenshots: re-take the screenshots under docs/screenshots/ (the browser tests that take them).
screenshots: setup-dev browser-deps
	UPDATE_SCREENSHOTS=1 $(BIN)/pytest --create-db tests/browser/test_admin_triage.py tests/browser/test_forms_accessibility.py

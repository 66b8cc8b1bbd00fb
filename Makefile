# Carnet — the two commands a newcomer needs are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements/dev.lock
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
DEMO_PATIENTS ?= 40
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run test lint format lock bench clean definitions messages

help:
	@echo "make run      install, migrate ./var/carnet.sqlite3, seed demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test     lint + the whole suite (SQLite; PostgreSQL too when CARNET_TEST_POSTGRES_URL is set)"
	@echo "make install  the virtualenv from $(LOCK), the portal's npm assets from package-lock.json"
	@echo "make lint     ruff, mypy --strict, import-linter, alembic check"
	@echo "make lock     re-resolve the lock files from pyproject.toml"
	@echo "make bench    the benchmarks of bench/ (figures go to docs/benchmarks.md by hand)"
	@echo "make messages extract the portal's messages and update its fr/en catalogues"

install: $(STAMP) $(NODE_STAMP)

$(STAMP): $(LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is required"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The portal's front-end assets (the DSFR; axe-core for the browser tests), exactly as locked.
# The DSFR's preinstall script reads the project's acceptance of its terms in .dsfr.yml.
$(NODE_STAMP): package-lock.json package.json .dsfr.yml
	@command -v npm >/dev/null || { echo "npm is required (Node.js 20 or newer; see README.md)"; exit 1; }
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

run: install
	$(BIN)/carnet db upgrade
	$(BIN)/carnet demo seed --patients $(DEMO_PATIENTS) --if-empty
	$(BIN)/carnet serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	CARNET_ENVIRONMENT=test CARNET_DATA_DIR=$$(mktemp -d) $(BIN)/carnet db check

test: lint
	$(BIN)/python tests/run.py

format: install
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

lock:
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra dev -o requirements/dev.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras -o requirements/main.lock pyproject.toml

definitions: install
	$(BIN)/python scripts/fhir_definitions.py

messages: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ --sort-by-file --no-location --width 100 \
	  --project Carnet --copyright-holder "Carnet contributors" -o $(VENV)/messages.pot src/carnet/web
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d src/carnet/web/translations \
	  --width 100 --ignore-obsolete --no-fuzzy-matching --ignore-pot-creation-date

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache node_modules

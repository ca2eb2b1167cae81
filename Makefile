# Guanxi — the two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv
PY := .venv/bin/python
GX := .venv/bin/guanxi
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help env run test check lint format typecheck migrations-check openapi openapi-check bench messages

help:
	@echo "make run    install, migrate, load the demo workspace (first run), serve + job worker"
	@echo "make test   install and run the whole suite (SQLite, and PostgreSQL when reachable)"
	@echo "make check  ruff, mypy, makemigrations --check, OpenAPI diff, then the tests (= CI)"
	@echo "make bench  generate data at several scales and write BENCHMARKS.md"

# The environment: uv (installed with pip if missing) and the locked dependencies.
env:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@uv sync --frozen --quiet

run: env
	@HOST=$(HOST) PORT=$(PORT) scripts/run.sh

test: env
	@scripts/test.sh

lint: env
	.venv/bin/ruff format --check src
	.venv/bin/ruff check src

format: env
	.venv/bin/ruff format src
	.venv/bin/ruff check --fix src

typecheck: env
	.venv/bin/mypy src/guanxi

migrations-check: env
	GUANXI_ENV=test GUANXI_DATA_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run

openapi: env
	GUANXI_ENV=test GUANXI_DATA_DIR=$$(mktemp -d) $(PY) manage.py export_openapi --output docs/openapi.json

openapi-check: env
	GUANXI_ENV=test GUANXI_DATA_DIR=$$(mktemp -d) $(PY) manage.py export_openapi --check docs/openapi.json

messages: env
	cd src/guanxi && ../../$(PY) ../../manage.py makemessages -l en --no-obsolete && ../../$(PY) ../../manage.py compilemessages

check: lint typecheck migrations-check openapi-check test

bench: env
	$(GX) bench

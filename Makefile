# fundflow — two commands on a fresh machine: `make run` and `make test`.
# Needs only python3, pip and make: the virtualenv, uv and every dependency come from uv.lock.

PYTHON ?= python3
VENV   := .venv
UV_VERSION := 0.13.9
# Use a uv already on PATH; otherwise the one installed into the virtualenv.
UV     := $(shell command -v uv 2>/dev/null || echo $(VENV)/bin/uv)
BIN    := $(VENV)/bin

export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export DAGSTER_DISABLE_TELEMETRY := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: install run test ui generate bench clean

install: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@command -v uv >/dev/null 2>&1 || test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --inexact
	@touch $@

generate: install
	$(BIN)/fundflow generate --if-absent

run: generate
	$(BIN)/fundflow refresh

test: install
	$(BIN)/pytest

ui: install
	$(BIN)/fundflow ui

bench: install
	$(BIN)/python bench/bench_refresh.py

clean:
	rm -rf data/warehouse.duckdb data/serving data/reports data/dagster dbt_project/target

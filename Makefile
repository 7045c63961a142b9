# C360 — run `make help` for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv is installed with pip when missing; `python3 -m uv` needs no PATH or shim refresh.
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
RUN := $(UV) run --frozen
DEMO_CUSTOMERS ?= 10000
PORT ?= 8000
BENCH_SIZES ?= 100000,1000000

.PHONY: help install java demo data snapshot test lint format bench clean distclean

help: ## Show this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## Install uv (via pip) if missing and sync the locked environment into .venv
	@$(UV) --version >/dev/null 2>&1 || { echo "Installing uv with pip..."; python3 -m pip install --quiet uv; }
	@$(UV) sync --frozen

java: install ## Check that Java 17+ (needed by Spark) is installed
	@$(RUN) python -m c360_pipeline.java

data: java ## Generate mock data (DEMO_CUSTOMERS customers) unless a dataset exists
	@$(RUN) python -m mock_data --customers $(DEMO_CUSTOMERS) --if-missing

snapshot: data ## Build and publish a C360 snapshot from the demo data
	@$(RUN) c360-pipeline run

demo: snapshot ## Install, generate mock data, build the C360 snapshot and serve the API on PORT
	@echo "API docs: http://127.0.0.1:$(PORT)/docs   health: http://127.0.0.1:$(PORT)/health   (no credentials needed yet)"
	@$(RUN) c360-api serve --port $(PORT)

test: java ## Run the whole test suite (real Spark, DuckDB and HTTP)
	@$(RUN) pytest

lint: install ## ruff check, ruff format --check and mypy
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .
	@$(RUN) mypy

format: install ## Apply ruff's fixes and formatting
	@$(RUN) ruff check --fix .
	@$(RUN) ruff format .

bench: java ## Benchmarks at BENCH_SIZES customers (generation; pipeline build vs DuckDB) -> docs/benchmarks.md
	@$(RUN) python -m bench --sizes $(BENCH_SIZES) --output docs/benchmarks.md

clean: ## Remove caches and Spark scratch files (keeps data/ and .venv/)
	rm -rf .pytest_cache .mypy_cache .ruff_cache spark-warehouse metastore_db derby.log build dist
	find . -name __pycache__ -type d -prune -not -path "./.venv/*" -exec rm -rf {} +

distclean: clean ## Also remove data/ (generated data, snapshots) and .venv/
	rm -rf data .venv

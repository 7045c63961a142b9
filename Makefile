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

demo: snapshot ## Install, generate mock data, build the snapshot, print a demo admin key, serve on PORT
	@# One active demo key: each run revokes the previous one and prints the new key once.
	@key=$$($(RUN) c360-api keys create --org demo --scopes all --name demo-admin --replace) || exit 1; \
	echo ""; \
	echo "Demo API key (organisation demo, every scope; shown once, stored only as a hash):"; \
	echo "  $$key"; \
	echo "Try:"; \
	echo "  curl -s -H 'Authorization: Bearer $$key' 'http://127.0.0.1:$(PORT)/marketing/customer-health-overview'"; \
	echo "API docs: http://127.0.0.1:$(PORT)/docs (Authorize with the key)   health: http://127.0.0.1:$(PORT)/health"; \
	echo ""
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

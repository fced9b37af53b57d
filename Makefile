# orderhub — `make run` starts the hub with demo data, `make test` runs the test suite.
# Both set everything up first (venv, MariaDB/MySQL, Redis); see README.md.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Extra arguments for pytest (make test ARGS="-k grab") or the bench (make bench ARGS=...).
ARGS ?=
PYTEST_FLAGS ?= -ra
# The test suite's own throw-away database and Redis db: never the demo ones (orderhub, db 0).
TEST_MYSQL_URL ?= mysql://root@127.0.0.1:3306/orderhub_test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_ENV := MYSQL_URL='$(TEST_MYSQL_URL)' REDIS_URL='$(TEST_REDIS_URL)'

.PHONY: help setup services run test test-py test-js lint bench clean

help:
	@echo "make run     set up, start MariaDB/Redis if needed, migrate, seed, run the hub + WeChat sandbox"
	@echo "make test    set up, start MariaDB/Redis if needed, run the test suite (ARGS=... for pytest)"
	@echo "make lint    ruff check + ruff format --check"
	@echo "make bench   run the load benchmark (python -m load bench ARGS...)"
	@echo "make clean   remove .venv and caches (keeps var/: generated secrets)"

setup:
	@scripts/setup_venv.sh

services:
	@scripts/ensure_services.sh

run:
	@scripts/run.sh

test: setup
	@$(TEST_ENV) scripts/ensure_services.sh
	@$(MAKE) --no-print-directory test-py
	@$(MAKE) --no-print-directory test-js

# tests/conftest.py drops and recreates the test database per session.
# pytest's exit status 5 (no test collected) is a failure here, not a silent success.
test-py:
	@state_dir=$$(mktemp -d -t orderhub-test-state.XXXXXX); \
	trap 'rm -rf "$$state_dir"' EXIT; \
	rc=0; \
	$(TEST_ENV) ORDERHUB_STATE_DIR="$$state_dir" $(PY) -m pytest $(PYTEST_FLAGS) $(ARGS) || rc=$$?; \
	if [[ $$rc -eq 5 ]]; then echo "[orderhub] ERROR: pytest collected no tests (exit 5): failing" >&2; exit 1; fi; \
	exit $$rc

# ---- JS suites: the mini program's jest tests (miniprogram/, docs/miniprogram.md); console/ adds its own.
# scripts/ensure_node.sh installs Node.js and npm with apt when root and missing.
test-js:
	@scripts/ensure_node.sh
	cd miniprogram && npm ci --no-audit --no-fund && npm test

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The headline benchmark: the same clients against the hub and against a bare relay (load/bench.py).
bench: setup services
	$(PY) -m load bench $(ARGS)

clean:
	rm -rf $(VENV) build reports .pytest_cache .ruff_cache ./*.egg-info
	find . -name __pycache__ -type d -not -path './node_modules/*' -prune -exec rm -rf {} +

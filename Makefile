# OpsCenter: `make run` starts everything on one box; `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run setup test lint bench bench-sla vendor messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("OpsCenter needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

setup: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --quiet-signins

run: setup
	@echo ""
	@echo "OpsCenter is starting at http://127.0.0.1:$(PORT)/  (admin: /admin/, API docs: /api/v1/docs/)"
	@$(BIN)/python manage.py demo_signins
	@echo "Press Ctrl-C to stop the web server, the worker and beat."
	@echo ""
	PORT=$(PORT) $(BIN)/honcho start -f Procfile

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check .

messages: $(VENV)/.dev
	$(BIN)/python manage.py makemessages -l zh_Hant --ignore '.venv/*' --ignore 'var/*' --ignore 'bench/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

bench: $(VENV)/.runtime
	$(BIN)/python bench/incidents.py

# The SLA benchmarks on PostgreSQL (DATABASE_URL): 1,000,000 incidents with clocks, then the sweep and the dashboard.
bench-sla: $(VENV)/.runtime
	$(BIN)/python bench/sla_generate.py
	$(BIN)/python bench/sla_sweep.py
	$(BIN)/python bench/dashboard.py

vendor:
	bash scripts/vendor_assets.sh

clean:
	rm -rf var/staticfiles var/test-media .pytest_cache

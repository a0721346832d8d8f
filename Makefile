# Quick start: `make demo` runs the app with a demo survey; `make test` runs the tests.
# Both create the virtual environment and install requirements.txt themselves.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := survey_app
DEMO_RESPONSES ?= 2000
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: demo test venv db bench clean

# Reinstalls only when requirements.txt changes.
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

db: venv
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask seed-demo --responses $(DEMO_RESPONSES)
	$(BIN)/flask analyze community-trust
	@echo "Survey:  http://$(HOST):$(PORT)/s/community-trust"
	@echo "Results: http://$(HOST):$(PORT)/results/community-trust"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# TEST_DATABASE_URL=postgresql://... runs the same suite against PostgreSQL.
test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python bench/analyze.py

clean:
	rm -rf $(VENV) .pytest_cache

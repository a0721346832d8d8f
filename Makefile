# Quick start: `make demo` runs the app with a demo survey; `make test` runs the tests.
# Both create the virtual environment and install requirements.txt themselves.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := survey_app
DEMO_RESPONSES ?= 2000
HOST ?= 127.0.0.1
PORT ?= 5000

CATALOGUES := $(patsubst %.po,%.mo,$(wildcard survey_app/translations/*/LC_MESSAGES/messages.po))

.PHONY: demo test venv db bench clean translations translations-update

# Reinstalls only when requirements.txt changes.
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

# Compiled interface catalogues (.mo) from the translations kept in git (.po).
%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@

translations: $(CATALOGUES)

# After changing interface text: collect it and merge it into each .po, then translate the new entries.
translations-update: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --project survey_app -o survey_app/translations/messages.pot .
	$(BIN)/pybabel update -i survey_app/translations/messages.pot -d survey_app/translations --ignore-obsolete
	rm survey_app/translations/messages.pot

db: venv translations
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask seed-demo --responses $(DEMO_RESPONSES)
	$(BIN)/flask analyze community-trust
	$(BIN)/flask publish community-trust --if-unpublished
	@echo "Survey:  http://$(HOST):$(PORT)/s/community-trust"
	@echo "Results: http://$(HOST):$(PORT)/results/community-trust"
	@echo "Staff:   http://$(HOST):$(PORT)/staff/login"
	@cat instance/demo-admin.txt 2>/dev/null || true
	@# The job worker (imports, analyses, publishing) runs beside the server and stops with it; both
	@# make links with the address served here.
	PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(BIN)/flask jobs worker & worker=$$!; \
	trap 'kill -INT $$worker 2>/dev/null' EXIT INT TERM; \
	PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(BIN)/flask run --host $(HOST) --port $(PORT)

# TEST_DATABASE_URL=postgresql://... runs the same suite against PostgreSQL.
test: venv translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python bench/analyze.py

clean:
	rm -rf $(VENV) .pytest_cache

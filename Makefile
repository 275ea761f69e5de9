# BookShare — `make run` to start everything, `make test` to run the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test e2e lint format check bench migrate seed shell clean help

help:
	@echo "make run      set up (venv, .env, migrate, demo data) and start web, workers and beat"
	@echo "make test     run the whole test suite (browser tests skip without /usr/bin/chromium)"
	@echo "make e2e      run only the browser tests (e2e/, Chromium + axe-core)"
	@echo "make lint     ruff check + format check"
	@echo "make bench    run the benchmarks in bench/ (needs PostgreSQL + Redis)"

$(STAMP): requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed: install python3.11 and try again."; exit 1; }
	@test -x $(PY) || { echo "creating virtual environment in $(VENV) …"; $(PYTHON) -m venv $(VENV); }
	@echo "installing dependencies (first run takes a minute) …"
	@$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $(STAMP)

.env:
	@echo "writing .env for local development (DEBUG on, a fresh SECRET_KEY) …"
	@sed "s|^SECRET_KEY=.*|SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')|" .env.example > .env

migrate: $(STAMP) .env
	@$(PY) manage.py migrate --no-input -v 0
	@echo "database ready"

seed: migrate
	@$(PY) manage.py seed_demo

run: seed
	@$(PY) scripts/devserver.py --host $(HOST) --port $(PORT)

test: $(STAMP)
	@$(PY) -m pytest $(PYTEST_ARGS)

# Browser tests alone: Chromium (apt-get install chromium) driven by Playwright against
# web, workers and beat. Screenshots of failures land in var/e2e-artifacts/.
e2e: $(STAMP)
	@$(PY) -m pytest -m browser e2e $(PYTEST_ARGS)

lint: $(STAMP)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

format: $(STAMP)
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

check: $(STAMP)
	@$(PY) manage.py check

bench: $(STAMP)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

shell: $(STAMP) .env
	@$(PY) manage.py shell

clean:
	rm -rf var/broker var/cache var/test var/e2e-artifacts .pytest_cache

# Fund Portal: `make run` serves the portal with demo data; `make test` runs the whole suite.
# Both set up what they need (virtual environment, Python and npm packages, compiled assets)
# and skip every step whose inputs have not changed, so the second run is fast.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# pytest-xdist processes for `make test` (each with its own test database, Celery queue, clamd and
# browser); PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
ASSETS := static/compiled/main.css
FRONTEND_SOURCES := $(wildcard frontend/scss/*.scss frontend/js/* frontend/*.mjs)

.PHONY: run test setup migrate seed lint format worker clean help chromium lock upgrade

help:
	@echo "make run    set up and serve the portal on http://$(HOST):$(PORT) with demo data"
	@echo "make test   set up and run the whole test suite (lint, import layers, types, unit, browser)"
	@echo "make worker run a Celery worker and beat (needs CELERY_BROKER_URL)"
	@echo "make lock   pin the dependencies (requirements*.in) with hashes into requirements*.txt"
	@echo "make upgrade move the pins to the newest releases the .in ranges allow, then run make test"

run: setup migrate seed
	$(PY) manage.py runserver $(HOST):$(PORT)

setup: $(PY_STAMP) $(ASSETS)

$(PY_STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Fund Portal needs Python 3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	touch $@

# The .in files say which releases we accept; the .txt files pin exactly what is installed, with
# hashes, so every machine runs what CI tested. Runtime first: the dev lock is constrained by it.
PIP_COMPILE = $(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe
lock: $(PY_STAMP)
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

upgrade: $(PY_STAMP)
	$(PIP_COMPILE) --upgrade --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --upgrade --output-file requirements-dev.txt requirements-dev.in
	$(MAKE) test

# npm ci empties node_modules first: never do that through a symlink to a shared folder.
$(NODE_STAMP): package.json package-lock.json
	@if [ -L node_modules ]; then echo "node_modules is a link: leaving it as it is"; \
	else npm ci --no-audit --no-fund --loglevel=error; fi
	touch $@

$(ASSETS): $(NODE_STAMP) $(FRONTEND_SOURCES)
	npm run --silent build

migrate: $(PY_STAMP)
	$(PY) manage.py migrate --noinput

seed: $(PY_STAMP)
	$(PY) manage.py seed_demo

test: setup chromium
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/djlint templates --lint
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The browser tests drive Debian's chromium (nothing downloads a browser at run time).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Chromium: run 'sudo apt-get install chromium' (Debian/Ubuntu)."; exit 1; \
	  fi; }

lint: $(PY_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/djlint templates --lint

format: $(PY_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: $(PY_STAMP)
	$(VENV)/bin/celery -A fundportal worker -B -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler

clean:
	rm -rf $(VENV) node_modules static/compiled var db.sqlite3

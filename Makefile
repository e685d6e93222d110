# Two commands matter: `make run` (the whole system with demo data) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: run test chaos lint bench profile demo services db clean

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

services:
	@bash scripts/ensure-services.sh

# Migrations run as the database's owner (DATABASE_URL's user) and grant the application's role
# what it may do; every process of `make run` connects as that role, which owns no table.
export DATABASE_APP_ROLE ?= rastro_app
DATABASE_URL ?= postgres://localhost:5432/rastro
APP_DATABASE_URL ?= $(subst postgres://,postgres://$(DATABASE_APP_ROLE)@,$(DATABASE_URL))

db: $(INSTALLED) services
	$(PY) manage.py migrate --noinput -v0

run: db
	$(PY) manage.py collectstatic --noinput -v0
	DATABASE_URL=$(APP_DATABASE_URL) $(PY) manage.py seed_demo
	DATABASE_URL=$(APP_DATABASE_URL) $(PY) manage.py route_set --defaults
	@echo "Rastro:      http://127.0.0.1:8000/  (API docs /api/docs/, admin /admin/, metrics /metrics)"
	@echo "Legacy:      http://127.0.0.1:8090/legacy/    PSP sandbox: http://127.0.0.1:8091/charges"
	@echo "Ctrl-C stops every process."
	rm -rf var/prometheus && mkdir -p var/prometheus  # one /metrics across web and workers
	DATABASE_URL=$(APP_DATABASE_URL) PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/var/prometheus \
		$(VENV)/bin/honcho start -f Procfile

# The whole suite, chaos tests included, in parallel. Exit code 5 (nothing collected) is
# a selection with no tests in it, not a failure.
test: $(INSTALLED) services
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) || { rc=$$?; [ $$rc -eq 5 ] || exit $$rc; }

# The slow fault-injection tests alone (they also run inside `make test`).
chaos: $(INSTALLED) services
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) -m chaos || { rc=$$?; [ $$rc -eq 5 ] || exit $$rc; }

lint: $(INSTALLED) services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy retail strangler
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run -v0
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# Numbers, not tests: relay throughput and latency, the raw-SQL checkout ceiling, then the
# checkout load on grown databases (docs/performance.md). All go to bench-report.json; the
# chart to docs/performance.png.
bench: db
	$(PY) -m bench.relay
	$(PY) -m bench.raw_sql_ceiling
	$(PY) -m bench.checkout
	$(PY) -m bench.chart

# Where an order's CPU goes: flame graphs of gunicorn and both workers under load (var/profile/).
profile: db
	$(PY) -m bench.profile

# An end-to-end scenario against the running system (`make run` in another terminal).
demo: $(INSTALLED)
	$(PY) scripts/demo.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var

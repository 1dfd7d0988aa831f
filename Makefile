# yunzheng: two commands — `make run` (set up and serve on SQLite with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
THREADS ?= 4
PYTEST_WORKERS ?= 2
RUN_SETTINGS := config.settings.local

.PHONY: run serve setup test test-postgres test-sqlite lint format messages bench clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Dependencies come from the lock files (exact versions, checked by hash); the project itself is
# installed on top without dependencies. Stamps re-run the install when a lock file changes.
# After changing dependencies in pyproject.toml, run `make lock` and commit the lock files.
$(VENV)/.run-deps: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-deps: requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.run-deps

# Re-resolve pyproject.toml's ranges into the lock files (pip-tools; slow: it hashes every file).
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: $(VENV)/.dev-deps
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra dev -o requirements-dev.lock pyproject.toml

setup: $(VENV)/.run-deps
	DJANGO_SETTINGS_MODULE=$(RUN_SETTINGS) $(BIN)/python manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=$(RUN_SETTINGS) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DJANGO_SETTINGS_MODULE=$(RUN_SETTINGS) $(BIN)/python manage.py load_demo --base-url http://$(HOST):$(PORT)

run: setup serve

# The periodic work (core.scheduling) runs beside the web server: the scheduler enqueues jobs on
# time, the worker runs them; both stop with the server (Ctrl-C).
serve: $(VENV)/.run-deps
	@export DJANGO_SETTINGS_MODULE=$(RUN_SETTINGS); \
	$(BIN)/python manage.py run_scheduler & scheduler=$$!; \
	$(BIN)/python manage.py db_worker --interval 2 & worker=$$!; \
	trap 'kill $$scheduler $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn config.wsgi --config config/gunicorn.py \
	  --bind $(HOST):$(PORT) --workers $(WORKERS) --threads $(THREADS) --access-logfile -

test: $(VENV)/.dev-deps
	@./scripts/system-deps.sh
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-postgres:
	./scripts/ensure-postgres.sh
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/yunzheng $(MAKE) test

test-sqlite:
	DATABASE_URL= $(MAKE) test

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: $(VENV)/.dev-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Extract messages into each app's zh_Hans catalogue, then compile (needs GNU gettext).
messages: $(VENV)/.dev-deps
	for app in yunzheng/*/; do \
	  if [ -d $$app/templates ] || grep -rqs "gettext" $$app --include=*.py; then \
	    (cd $$app && mkdir -p locale && ../../$(BIN)/django-admin makemessages -l zh_Hans --no-obsolete --ignore 'tests/*'); \
	  fi; \
	done
	DJANGO_SETTINGS_MODULE=$(RUN_SETTINGS) $(BIN)/python manage.py compilemessages --ignore .venv

bench: $(VENV)/.dev-deps
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf var/ .mypy_cache .ruff_cache

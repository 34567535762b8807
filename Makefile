# The two commands: `make run` and `make test` (README). Everything else is optional.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
export SITE_URL ?= http://127.0.0.1:$(PORT)
DEMO_USER ?= demo
DEMO_PASSWORD ?= pixels-demo-2026
DEMO_EMAIL ?= demo@example.com
DEMO_POSTS ?= 600

.PHONY: run test lint format bench chaos clean lock

# requirements.txt is the lock of pyproject.toml (every group, exact versions,
# hashes): a fresh clone installs exactly what was tested.
$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	@touch $(STAMP)

# The application alone, as a server installs it (README, "Deploying"):
# bench.objectstore runs its worker from here.
DEPLOY_VENV := .venv-deploy
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed
$(DEPLOY_STAMP): deploy/requirements.txt
	@test -x $(DEPLOY_VENV)/bin/python || $(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r deploy/requirements.txt
	@touch $(DEPLOY_STAMP)

# After changing a pin in pyproject.toml: rewrite both locks (needs PyPI).
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --universal \
	--python-version 3.11 --annotation-style line --custom-compile-command "make lock" --quiet
lock: $(STAMP)
	$(LOCK) --extra dev --extra test -o requirements.txt
	$(LOCK) -o deploy/requirements.txt

# Development: DEBUG on (settings default to off) with the development key.
# Settings write nothing when imported (a read-only image must start), so the
# folders of the default SQLite database and of STATIC_ROOT are made here. The
# Procfile runs bare commands (uvicorn, celery) as a platform runs them, so
# .venv/bin goes first on PATH for honcho. Static files are collected as in a
# deployment (with DEBUG=0 they are served under hashed names).
run: $(STAMP)
	@set -e; \
	export PATH="$(CURDIR)/$(VENV)/bin:$$PATH"; \
	export DEBUG="$${DEBUG:-1}"; \
	mkdir -p var/static; \
	REDIS_URL="$$($(PY) manage.py dev_redis)"; export REDIS_URL; \
	$(PY) manage.py migrate --noinput -v 0; \
	$(PY) manage.py collectstatic --noinput -v 0; \
	$(PY) manage.py seed_demo --user "$(DEMO_USER)" --password "$(DEMO_PASSWORD)" \
	  --email "$(DEMO_EMAIL)" --posts $(DEMO_POSTS); \
	echo; echo "PMD runs at $(SITE_URL)/  (log in as $(DEMO_USER) / $(DEMO_PASSWORD); Ctrl+C stops)"; echo; \
	exec honcho start --port $(PORT) web worker beat

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP) $(DEPLOY_STAMP)
	$(PY) -m bench

clean:
	rm -rf var/ .pytest_cache .ruff_cache

chaos: $(STAMP)
	PMD_CHAOS_REPORT=bench/results/chaos.md $(PY) -m pytest -m fault -q -p no:randomly $(PYTEST_ARGS)

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

# The locks of pyproject.toml (exact versions, hashes), so a fresh clone
# installs exactly what was tested: requirements.txt is what running and
# developing need (the application, honcho, ruff, mypy), enough for `make run`
# and `make lint`; requirements-test.txt adds the test tools (pytest,
# Playwright, moto, schemathesis, locust ...) for `make test` and `make bench`.
# uv installs them: in parallel and from its cache, several times faster than
# pip on a first run. uv itself is pinned in requirements.txt; pip installs
# that one entry, with its hashes: the pip of $(PYTHON) when it has one (a venv
# without pip is made in a fraction of the seconds ensurepip takes), else the
# venv's own. The locks are complete, so nothing is resolved again
# (--no-deps), and every file is checked against its hash.
PIP_INSTALL := --quiet --disable-pip-version-check --require-hashes
UV := $(VENV)/bin/uv
UV_INSTALL := $(UV) pip install --quiet --python $(PY) --require-hashes --no-deps
$(UV):
	@set -e; \
	awk '/^uv==/ {found=1} found {print} found && !/\\$$/ {exit}' requirements.txt >.uv-pin.txt; \
	if $(PYTHON) -m pip --python $(PYTHON) --version >/dev/null 2>&1; then \
	  test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV); \
	  echo "$(PYTHON) -m pip --python $(PY) install uv (requirements.txt)"; \
	  $(PYTHON) -m pip --python $(PY) install $(PIP_INSTALL) --no-deps -r .uv-pin.txt; \
	else \
	  test -x $(PY) -a -x $(VENV)/bin/pip || $(PYTHON) -m venv $(VENV); \
	  echo "$(PY) -m pip install uv (requirements.txt)"; \
	  $(PY) -m pip install $(PIP_INSTALL) --no-deps -r .uv-pin.txt; \
	fi; \
	rm -f .uv-pin.txt

$(STAMP): requirements.txt | $(UV)
	$(UV_INSTALL) -r requirements.txt
	@touch $(STAMP)

# The test lock holds every pin of requirements.txt, so it stands for both.
TEST_STAMP := $(VENV)/.installed-test
$(TEST_STAMP): requirements-test.txt requirements.txt | $(UV)
	$(UV_INSTALL) -r requirements-test.txt
	@touch $(STAMP) $(TEST_STAMP)

# The application alone, as a server installs it (README, "Deploying"):
# bench.objectstore runs its worker from here.
DEPLOY_VENV := .venv-deploy
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed
$(DEPLOY_STAMP): deploy/requirements.txt
	@test -x $(DEPLOY_VENV)/bin/python || $(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip install $(PIP_INSTALL) -r deploy/requirements.txt
	@touch $(DEPLOY_STAMP)

# After changing a pin in pyproject.toml: rewrite the three locks (needs PyPI).
# The largest is resolved first and constrains the others, so a package in
# two locks has the same version (and hashes) in both:
# deploy/requirements.txt ⊂ requirements.txt ⊂ requirements-test.txt.
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --universal \
	--python-version 3.11 --annotation-style line --custom-compile-command "make lock" --quiet
lock: $(STAMP)
	$(LOCK) --extra dev --extra test -o requirements-test.txt
	$(LOCK) --extra dev -c requirements-test.txt -o requirements.txt
	$(LOCK) -c requirements-test.txt -o deploy/requirements.txt

# Development: DEBUG on (settings default to off) with the development key.
# Settings write nothing when imported (a read-only image must start), so the
# folders of the default SQLite database and of STATIC_ROOT are made here. The
# Procfile runs bare commands (uvicorn, celery) as a platform runs them, so
# .venv/bin goes first on PATH for honcho. Static files are collected as in a
# deployment (with DEBUG=0 they are served under hashed names), meanwhile
# the database is migrated (files and tables: neither waits for the other).
run: $(STAMP)
	@set -e; \
	export PATH="$(CURDIR)/$(VENV)/bin:$$PATH"; \
	export DEBUG="$${DEBUG:-1}"; \
	mkdir -p var/static; \
	REDIS_URL="$$($(PY) manage.py dev_redis)"; export REDIS_URL; \
	$(PY) manage.py collectstatic --noinput -v 0 & collecting=$$!; \
	$(PY) manage.py migrate --noinput -v 0; \
	wait $$collecting; \
	$(PY) manage.py seed_demo --user "$(DEMO_USER)" --password "$(DEMO_PASSWORD)" \
	  --email "$(DEMO_EMAIL)" --posts $(DEMO_POSTS); \
	echo; echo "PMD runs at $(SITE_URL)/  (log in as $(DEMO_USER) / $(DEMO_PASSWORD); Ctrl+C stops)"; echo; \
	exec honcho start --port $(PORT) web worker beat

test: $(TEST_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# mypy's Django plugin imports the settings, which want DEBUG or a key of their own.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(TEST_STAMP) $(DEPLOY_STAMP)
	$(PY) -m bench

clean:
	rm -rf var/ .pytest_cache .ruff_cache .mypy_cache

chaos: $(TEST_STAMP)
	PMD_CHAOS_REPORT=bench/results/chaos.md $(PY) -m pytest -m fault -q -p no:randomly $(PYTEST_ARGS)

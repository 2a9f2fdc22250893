# The two commands of the contract: `make run` and `make test`. Everything else is a step they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock requirements-test.lock pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres lint audit venv demo migrate messages clean

# requirements.lock is what runs in production; requirements-test.lock adds the tests' and linters' tools.
$(STAMP): requirements.lock requirements-test.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-test.lock
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

migrate: venv
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py demo

run: demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	# Links in proofs, QR codes and messages point at the address actually served.
	# One machine for trying it out: DEBUG on, so that the local cache and the secrets generated into var/ are
	# accepted (with DEBUG=0 serve refuses them: docs/deployment.md).
	DEBUG=$${DEBUG:-1} SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

# ruff (style, and PLC0415: imports at module top), the layers of docs/architecture.md (.importlinter),
# and no model change without its migration.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	TESTING=1 $(BIN)/python manage.py makemigrations --check --dry-run --verbosity 0

test: venv lint
	$(BIN)/python scripts/run_tests.py

# Known vulnerabilities in the runtime lock file (pip-audit); says loudly when it cannot ask the database.
audit: venv
	$(BIN)/python scripts/audit_dependencies.py requirements.lock

messages: venv
	$(BIN)/python manage.py makemessages --all --ignore=.venv --ignore=tests --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var

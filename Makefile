# Plural — run `make help` for the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
SIZE ?= M

.DEFAULT_GOAL := help
.PHONY: help install run test worker mail-gateway lint format migrate seed check-deploy clean bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned requirements

migrate: install ## Apply database migrations
	$(BIN)/python manage.py migrate --noinput

seed: migrate ## Load the demo data (idempotent)
	$(BIN)/python manage.py seed_demo --listings 600

run: seed ## Install, migrate, load demo data and serve on http://127.0.0.1:8000
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install ## Install and run the whole test suite
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

worker: install ## Run a Celery worker with beat on every queue (needs REDIS_URL)
	@test -n "$$REDIS_URL" || { echo "Set REDIS_URL to run workers; without it tasks run in the web process."; exit 1; }
	$(BIN)/celery -A marketplace worker --beat --loglevel=INFO -Q default,notifications,imports,recommendations

mail-gateway: install ## Serve SMTP for replies to message e-mails on 127.0.0.1:2525
	$(BIN)/python manage.py mail_gateway

lint: install ## Check style and common bugs with ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Reformat the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-deploy: install ## Run Django's deployment checks with production settings
	PLURAL_ENV=production $(BIN)/python manage.py check --deploy --fail-level WARNING

bench: migrate ## Measure every page against floors of the same run (SIZE=S|M|L, default M: needs PostgreSQL + Redis); report in var/bench/
	PLURAL_BENCH=1 $(BIN)/python manage.py bench --size $(SIZE)

clean: ## Remove the virtual environment and local data under var/
	rm -rf $(VENV) var

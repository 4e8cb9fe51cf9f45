# One entry point per job. Every target creates the virtual environment first, so a fresh
# clone needs nothing but python3 (and apt for the browser tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MODEL ?= models/mysfits-knn.json
DATA ?= data/answers.csv
PORT ?= 3000
ENDPOINT_PORT ?= 8080

.PHONY: run test bench lint format install browser clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,aws]'
	@touch $(STAMP)

install: $(STAMP)

## Debian's chromium for the Playwright tests (Playwright's own browser download cannot work here).
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: $(STAMP)
	$(VENV)/bin/mysfits serve --model $(MODEL) --data $(DATA) --port $(PORT) --endpoint-port $(ENDPOINT_PORT)

test: $(STAMP) browser
	$(VENV)/bin/ruff check src tests scripts benchmarks
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts benchmarks
	$(VENV)/bin/ruff format --check src tests scripts benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format src tests scripts benchmarks
	$(VENV)/bin/ruff check --fix src tests scripts benchmarks

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .ruff_cache

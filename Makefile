# One entry point per job. Every target creates the virtual environment first, so a fresh
# clone needs nothing but python3 (and apt for the browser tests).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MODEL ?= models/mysfits-knn.json
DATA ?= data/answers.csv
PORT ?= 3000
ENDPOINT_PORT ?= 8080

# Some machines' pip configs list package mirrors that do not exist; pip warns once per package.
PIP_NOISE := { grep -v "^WARNING: Location '.*' is ignored" || true; }

.PHONY: run test bench lint format install browser clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | $(PIP_NOISE)
	$(PY) -m pip install --quiet -e '.[dev,aws]' 2>&1 | $(PIP_NOISE)
	@touch $(STAMP)

install: $(STAMP)

## checkov (tests/templates/test_checkov.py) gets its own small virtualenv: checkov 3.x pins boto3==1.35.49,
## networkx<2.7 and packaging<24, which would downgrade what .venv's boto3, cfn-lint, moto and aws-sam-cli need.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

$(CHECKOV_STAMP):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION) 2>&1 | $(PIP_NOISE)
	@touch $(CHECKOV_STAMP)

.PHONY: checkov
checkov: $(CHECKOV_STAMP)
test: $(CHECKOV_STAMP)

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
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .ruff_cache

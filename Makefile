# One entry point per job. Every target creates the virtual environment first, so a fresh
# clone needs nothing but python3, a Python 3.10 for make test (pyenv's, or python3.10 on PATH), and apt for the
# browser tests.
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
# A SageMaker notebook instance's conda_python3 kernel runs Python 3.10, so make test also runs the unit tests and
# the notebook there, in a lean venv of its own. PYTHON310 names the interpreter; otherwise python3.10 on PATH, else
# pyenv's newest 3.10.x (pyenv's shims find it only if PYENV_VERSION lists it, so its versions folder is searched).
PYTHON310 ?=
VENV310 := .venv310
PY310 := $(VENV310)/bin/python
STAMP310 := $(VENV310)/.installed

# Some machines' pip configs list package mirrors that do not exist; pip warns once per package.
PIP_NOISE := { grep -v "^WARNING: Location '.*' is ignored" || true; }

.PHONY: run test test-py310 bench lint format install browser clean

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

$(STAMP310): pyproject.toml
	@test -x $(PY310) || { \
	  py=$$(for candidate in $(PYTHON310) python3.10 $$(ls -d "$$(pyenv root 2>/dev/null || echo "$$HOME/.pyenv")"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -rV); do \
	    "$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && { echo "$$candidate"; break; }; \
	  done); \
	  test -n "$$py" || { echo "make test needs Python 3.10 (the notebook instance's kernel): run 'pyenv install 3.10', or put python3.10 on PATH, or pass PYTHON310=/path/to/python3.10" >&2; exit 1; }; \
	  echo "creating $(VENV310) with $$py"; "$$py" -m venv $(VENV310); }
	$(PY310) -m pip install --quiet --upgrade pip 2>&1 | $(PIP_NOISE)
	$(PY310) -m pip install --quiet -e '.[kernel-check]' 2>&1 | $(PIP_NOISE)
	@# What the notebook's lifecycle script installs, [aws] included, must resolve on 3.10 too (not installed here).
	$(PY310) -m pip install --quiet --dry-run -e '.[aws]' 2>&1 | $(PIP_NOISE)
	@touch $(STAMP310)

## Debian's chromium for the Playwright tests (Playwright's own browser download cannot work here).
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: $(STAMP)
	$(VENV)/bin/mysfits serve --model $(MODEL) --data $(DATA) --port $(PORT) --endpoint-port $(ENDPOINT_PORT)

test: $(STAMP) $(STAMP310) browser
	$(VENV)/bin/ruff check src tests scripts benchmarks
	$(PY) -m pytest
	$(TEST_PY310)

## On Python 3.10: the unit tests, the notebook in local mode (it asserts that its kernel is 3.10), and the local
## endpoint's and gateway's tests over HTTP, since asyncio's timeouts are where 3.10 behaves differently.
TEST_PY310 = MYSFITS_KERNEL_PYTHON=3.10 $(PY310) -m pytest -q -p no:cacheprovider tests/unit tests/e2e/test_notebook.py \
	tests/integration/test_endpoint_lifecycle.py tests/integration/test_gateway_http.py
test-py310: $(STAMP310)
	$(TEST_PY310)

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts benchmarks
	$(VENV)/bin/ruff format --check src tests scripts benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format src tests scripts benchmarks
	$(VENV)/bin/ruff check --fix src tests scripts benchmarks

clean:
	rm -rf $(VENV) $(VENV310) $(CHECKOV_VENV) .aws-sam .pytest_cache .ruff_cache

# One entry point per job. Every target creates the virtual environment first, so a fresh
# clone needs nothing but python3, a Python 3.10 for make test (pyenv's, or python3.10 on PATH), and apt for the
# browser tests and for sam local (docker.io, debootstrap).
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
# Limits per source address on the POST routes (the template's, as its WAF rules apply them on AWS): off lifts them
# and e.g. 10x raises them, for a load test from one address.
CLIENT_LIMIT ?= on
# A SageMaker notebook instance's conda_python3 kernel runs Python 3.10, so make test also runs the unit tests and
# the notebook there, in a lean venv of its own. PYTHON310 names the interpreter; otherwise python3.10 on PATH, else
# pyenv's newest 3.10.x (pyenv's shims find it only if PYENV_VERSION lists it, so its versions folder is searched).
PYTHON310 ?=
VENV310 := .venv310
PY310 := $(VENV310)/bin/python
STAMP310 := $(VENV310)/.installed

# Some machines' pip configs list package mirrors that do not exist; pip warns once per package.
PIP_NOISE := { grep -v "^WARNING: Location '.*' is ignored" || true; }

.PHONY: run sam-local docker test check test-py310 bench mutate lint format install browser clean screenshots previews

# Two levels of install in the one .venv. make run needs only the package and its own dependencies (about 290 MB);
# every other target (tests, lint, benchmarks, sam local, the AWS path) installs the rest: the dev tools and the
# SageMaker SDK, `.[dev,aws]` (about 1.3 GB). The full install counts as the serving one too.
RUN_STAMP := $(VENV)/.installed-run

$(RUN_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | $(PIP_NOISE)
	$(PY) -m pip install --quiet -e . 2>&1 | $(PIP_NOISE)
	@touch $(RUN_STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | $(PIP_NOISE)
	$(PY) -m pip install --quiet -e '.[dev,aws]' 2>&1 | $(PIP_NOISE)
	@touch $(STAMP) $(RUN_STAMP)

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

run: $(RUN_STAMP)
	$(VENV)/bin/mysfits serve --model $(MODEL) --data $(DATA) --port $(PORT) --endpoint-port $(ENDPOINT_PORT) \
	  --client-limit $(CLIENT_LIMIT)

## Debian's docker.io and debootstrap for `make sam-local` and its tests (tests/e2e/test_sam_local.py): dockerd runs
## without a bridge and never pulls; the Lambda base image is built from Debian packages (src/mysfits/local/sam_local).
docker:
	@command -v dockerd >/dev/null && command -v debootstrap >/dev/null || { \
	  echo "installing Debian's docker.io and debootstrap for sam local"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null; }

## make sam-local: the Docker twin of make run. The API is `sam local start-api` on SAM_LOCAL_PORT, the function as
## `sam build` ships it, in a container; the page (calling that API) on SAM_LOCAL_PAGE_PORT; the model endpoint on
## ENDPOINT_PORT. Needs root and Docker Engine (it starts a loopback-only dockerd if none is running). With Docker
## Desktop or your own Docker Engine, run plain `sam local start-api` (README, "Running it with Docker").
SAM_LOCAL_PORT ?= 3001
SAM_LOCAL_PAGE_PORT ?= 3002
sam-local: $(STAMP) docker
	SAM_CLI_TELEMETRY=0 $(VENV)/bin/mysfits sam-local --model $(MODEL) --data $(DATA) --port $(SAM_LOCAL_PORT) \
	  --page-port $(SAM_LOCAL_PAGE_PORT) --endpoint-port $(ENDPOINT_PORT)

## make test: lint, then the Python 3.11 suite spread over pytest-xdist workers, with the Python 3.10 step running
## beside it (its output is printed when both are done). Most tests wait on servers, subprocesses or timeouts rather
## than compute, so three workers keep two cores busy; the heavy numeric tests are what sets the floor (see
## docs/benchmarks.md, "The test suite"). `--dist loadgroup` keeps tests that share one expensive fixture
## (marked xdist_group) on one worker. PYTEST_WORKERS=0 runs in one process. The 25 slowest tests are listed at the end.
PYTEST_WORKERS ?= 3
PYTEST_PARALLEL = -n $(PYTEST_WORKERS) --dist loadgroup --durations=25
TEST_LOG310 := .test-py310.log

test: $(STAMP) $(STAMP310) browser docker
	$(VENV)/bin/ruff check src tests scripts benchmarks tools
	@echo "Python 3.10 step started beside the main run (log: $(TEST_LOG310))"
	@$(TEST_PY310) > $(TEST_LOG310) 2>&1 & py310=$$!; \
	SAM_CLI_TELEMETRY=0 $(PY) -m pytest $(PYTEST_PARALLEL); main=$$?; \
	wait $$py310; py310=$$?; \
	echo "== Python 3.10 step (exit $$py310)"; tail -n 25 $(TEST_LOG310); \
	exit $$(( main != 0 ? main : py310 ))

## make check: the inner loop (lint; unit, contract and template tests, not the slow ones), about a minute.
check: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts benchmarks tools
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not slow" tests/unit tests/integration tests/templates

## The Python 3.10 step proves that a SageMaker notebook kernel (Python 3.10, and the numpy that resolves there, 2.2
## against 2.4 on 3.11) can import and run the package. What it has caught so far: asyncio.wait_for raising
## asyncio.TimeoutError on 3.10, which killed the endpoint's reload loop. So it runs
##   - tests/unit/test_every_module_imports.py: every module of both packages imports (3.10-only syntax or stdlib
##     names such as tomllib fail there in any module, reached by a test or not);
##   - the notebook, end to end in local mode (its first cell asserts that the kernel is 3.10);
##   - the endpoint's and gateway's tests over HTTP (the asyncio code, where 3.10 differs);
##   - the unit tests, except NOT_ON_PY310. Left out on 3.10, with why they add nothing there: the exact-table
##     checks of the compiled kNN against a brute-force reference (test_knn: 9 compiled-table cases, 2 one-walk
##     cases) and the tuning-quality checks (test_training: 4 cases). They run the same numpy calls at a larger scale
##     than the unit tests that stay (compile_table against neighbours, fit/predict, evaluation), and what they judge,
##     the algorithm's exactness and accuracy, does not depend on the interpreter. They take 3 of its 3.7 minutes.
##     All of them still run on 3.11.
##   Also left out: the tests of code that no notebook kernel runs, PY310_SKIPPED_DIRS below: the Lambda's package
##   (tests/unit/api: it runs on Python 3.13 on AWS and 3.11 here), the local gateway and the page it serves, and the
##   data loop's stores and retraining (commands of a local `mysfits serve`, not of the notebook). Their modules still
##   import on 3.10 (test_every_module_imports). Leaving them out frees the cores for the main run beside it.
PY310_SKIPPED_DIRS := tests/unit/api tests/unit/test_gateway_events.py tests/unit/test_gateway_local_values.py \
	tests/unit/test_gateway_static.py tests/unit/test_gateway_template.py tests/unit/test_page_content.py \
	tests/unit/test_choice_stores.py tests/unit/test_retrain.py tests/unit/test_poisoning_defences.py
NOT_ON_PY310 := tests/unit/test_knn.py::test_compiled_table_matches_direct_knn_on_every_cell \
	tests/unit/test_knn.py::test_one_walk_for_many_k_gives_each_k_its_exact_table \
	tests/unit/test_training.py::test_tuning_picks_the_encoding_that_fits_the_data \
	tests/unit/test_training.py::test_tuned_on_uniform_data_stays_within_a_point_of_chance \
	tests/unit/test_training.py::test_tuning_gets_within_one_and_a_half_points_of_bayes
TEST_PY310 = MYSFITS_KERNEL_PYTHON=3.10 $(PY310) -m pytest -q -p no:cacheprovider $(NOT_ON_PY310:%=--deselect %) \
	$(PY310_SKIPPED_DIRS:%=--ignore=%) \
	tests/unit tests/e2e/test_notebook.py tests/integration/test_endpoint_lifecycle.py tests/integration/test_gateway_http.py
test-py310: $(STAMP310)
	$(TEST_PY310)

bench: $(STAMP)
	$(PY) -m benchmarks

## make mutate: mutation testing of the core modules (tools/mutate; docs/development.md, "Mutation testing"). Each
## mutant runs in a fresh pytest against its module's unit tests, from a temporary copy of the package, so the
## checkout is never changed. Slow (about an hour for all of them on two cores), so never part of make test.
## MODULES=adopt,recommend runs a subset; MUTATE_JOBS=2 runs two mutants at once.
MODULES ?=
MUTATE_JOBS ?= 1
mutate: $(STAMP)
	$(PY) -m tools.mutate --jobs $(MUTATE_JOBS) $(MODULES)

## make screenshots: redraw docs/screenshots/*.png (the README's pictures of the page) from a fresh local stack. The
## tests never write into the checkout; this is the one command that does, so commit its output on purpose.
screenshots: $(STAMP) browser
	$(PY) scripts/screenshots.py

## make previews: redraw web/previews/<slug>.png, the twelve link-preview pictures (from web/avatars.js). The pages
## that name them, web/m/<slug>.html, are copies of web/index.html: python -m mysfits.page_previews web (a test
## fails when they are stale).
previews: $(STAMP) browser
	$(PY) scripts/previews.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts benchmarks tools
	$(VENV)/bin/ruff format --check src tests scripts benchmarks tools

format: $(STAMP)
	$(VENV)/bin/ruff format src tests scripts benchmarks tools
	$(VENV)/bin/ruff check --fix src tests scripts benchmarks tools

clean:
	rm -rf $(VENV) $(VENV310) $(CHECKOV_VENV) .aws-sam .pytest_cache .ruff_cache $(TEST_LOG310)

# One entry point for every task. `make run` and `make test` set up whatever is missing.
# Every target is idempotent: a second run only redoes what is out of date.
SHELL := /bin/bash
.DEFAULT_GOAL := help

RASA_VENV := .venv/rasa
APP_VENV  := .venv/app
APP_DEV   := $(APP_VENV)/.dev-installed
PY        := $(RASA_VENV)/bin/python
APP_PY    := $(APP_VENV)/bin/python
RASA      := $(RASA_VENV)/bin/rasa
SPACY_DIR := build/spacy/admissions_en
MODEL     := models/admissions.tar.gz
RESULTS   := results

# Ports (RASA_PORT, RASA_ALT_PORT, ACTIONS_PORT, WEB_PORT) and the model Rasa loads
# (ADMISSIONS_MODEL) default in one place, the launcher scripts/stack.py: set them here to override.
STACK     := $(APP_PY) scripts/stack.py
export VAR_DIR       ?= $(CURDIR)/var
export TRACKER_DB_PATH ?= $(VAR_DIR)/tracker.db
export TRACKER_DB_URL  ?= sqlite:///$(TRACKER_DB_PATH)
export APP_DB_URL      ?= sqlite:///$(VAR_DIR)/admissions.db
export FACILITY_FILE   ?= $(CURDIR)/facility.yml
export SPACY_PIPELINE  ?= $(CURDIR)/$(SPACY_DIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# TensorFlow threads of `make train`: TensorFlow's own choice (every core) unless TRAIN_THREADS is
# set. `make test` sets 1 for its trainings (TRAINING_TF_THREADS too): beside its other stages a
# second thread mostly waits for a core, and the model is trained from the same config and data.
TRAIN_THREADS_ENV = $(if $(TRAIN_THREADS),TF_INTRA_OP_PARALLELISM_THREADS=$(TRAIN_THREADS) \
  TF_INTER_OP_PARALLELISM_THREADS=1 OMP_NUM_THREADS=$(TRAIN_THREADS))
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) $(SPACY_DIR)/meta.json

.PHONY: env-rasa env-app spacy node
.PHONY: help setup run test lint format train eval eval-seeds simulate bench clean admin purge record-fixtures \
        test-python test-app test-app-unit test-app-live check validate test-stories test-e2e var system-deps test-browser check-advisories test-faults faults retrain test-training test-training-unit test-training-e2e test-retrain-e2e test-swap-e2e bench-retrain bench-load

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- environments
$(RASA_VENV)/.installed: requirements/rasa.lock
	@PYBIN=$$(scripts/find-python.sh 3.10) || exit 1; \
	echo "==> creating the assistant environment ($(RASA_VENV), $$PYBIN)"; \
	rm -rf $(RASA_VENV); \
	"$$PYBIN" -m venv $(RASA_VENV) && \
	scripts/install-lock.sh $(PY) requirements/rasa.lock; \
	if ! $(PY) -c 'import rasa, rasa_sdk, spacy' 2>/dev/null; then \
	  echo "error: installing requirements/rasa.lock failed (see above); removed $(RASA_VENV)"; \
	  rm -rf $(RASA_VENV); exit 1; fi
	@touch $@

$(APP_VENV)/.installed: requirements/app.lock
	@PYBIN=$$(scripts/find-python.sh 3.12 3.13 3.11) || exit 1; \
	echo "==> creating the staff app environment ($(APP_VENV), $$PYBIN)"; \
	rm -rf $(APP_VENV); \
	"$$PYBIN" -m venv $(APP_VENV) && \
	scripts/install-lock.sh $(APP_PY) requirements/app.lock; \
	if ! $(APP_PY) -c 'import aiohttp, sqlalchemy' 2>/dev/null; then \
	  echo "error: installing requirements/app.lock failed (see above); removed $(APP_VENV)"; \
	  rm -rf $(APP_VENV); exit 1; fi
	@touch $@

# Test, lint and type-check tools go on top of the production packages, for those targets only:
# `make run` installs requirements/app.lock alone. A new app.lock rebuilds the environment
# (and so this stamp); a new app-dev.lock installs over it.
$(APP_DEV): $(APP_VENV)/.installed requirements/app-dev.lock
	@echo "==> adding the staff app's test tools ($(APP_VENV), requirements/app-dev.lock)"
	@scripts/install-lock.sh $(APP_PY) requirements/app-dev.lock; \
	if ! $(APP_PY) -c 'import pytest, selenium, mypy' 2>/dev/null; then \
	  echo "error: installing requirements/app-dev.lock failed (see above)"; exit 1; fi
	@touch $@

setup: $(RASA_VENV)/.installed $(APP_VENV)/.installed $(SPACY_DIR)/meta.json ## Create both environments and build the spaCy pipeline

# ---------------------------------------------------------------- build
$(SPACY_DIR)/meta.json: $(RASA_VENV)/.installed admissions/understanding/pipeline.py $(wildcard admissions/understanding/patterns/*.yml)
	@$(PY) -c "import sys; from admissions.understanding.pipeline import main; sys.exit(main(sys.argv))" $(SPACY_DIR)

# Once staff put a model live through the retraining loop (models/admissions.tar.gz.gated holds
# its SHA-256), changed training data is retrained through the same quality gate here too, and a
# refused model leaves the live one in place. GATE=0 trains without the gate.
$(MODEL): $(RASA_VENV)/.installed $(TRAINING_INPUTS)
	@if [ "$(GATE)" != 0 ] && [ -f $(MODEL).gated ] && [ -x $(APP_PY) ] && \
	  [ "$$(sha256sum $(MODEL) | cut -c1-64)" = "$$(head -c64 $(MODEL).gated)" ]; then \
	  echo "==> training data changed since the live model, which staff put live through the quality gate:"; \
	  echo "    retraining through the gate (a few minutes; GATE=0 skips the gate)"; \
	  $(APP_PY) -m admissions.training retrain --promote --offline --by make \
	  || echo "    the live model stays in place; the new data is kept in data/ (see the report above)"; \
	else \
	  echo "==> training the Rasa model (two to three minutes)"; \
	  start=$$(date +%s); umask 077; \
	  $(TRAIN_THREADS_ENV) $(RASA) train --config config.yml --domain domain.yml --data data --out models \
	    --fixed-model-name admissions --quiet >$(VAR_DIR)/train.log 2>&1 || { tail -40 $(VAR_DIR)/train.log; exit 1; }; \
	  echo "    trained in $$(( $$(date +%s) - start )) s -> $(MODEL)"; \
	fi
	@touch $(MODEL)

train: var $(MODEL) ## Train the model if the data, config or domain changed

var:  # var/ holds transcripts, logs and secrets: owner-only (issue 15 #9)
	@mkdir -p $(RESULTS) && (umask 077 && mkdir -p $(VAR_DIR)) && chmod go-rwx $(VAR_DIR)

# ---------------------------------------------------------------- run
run: setup var $(MODEL) ## Start Rasa, the action server and the web app (Ctrl-C stops all)
	@scripts/run.sh

.PHONY: prod-demo
prod-demo: setup var $(MODEL) ## Production mode on loopback: PostgreSQL, nginx, 2 Rasa processes, actions, web app (BENCH=60: 2 vs 1)
	@PROD_BENCH=$(or $(BENCH),$${PROD_BENCH:-0}) scripts/prod-demo.sh

admin: $(APP_VENV)/.installed var ## Create a staff account: make admin NAME=karen ROLE=admissions|trainer|admin
	@if [ -z "$(NAME)" ]; then echo "usage: make admin NAME=karen ROLE=admissions  (ROLE defaults to admin)"; exit 2; fi
	@$(APP_PY) -m admissions.web.cli create-user --username "$(NAME)" --role "$(or $(ROLE),admin)"

purge: $(APP_VENV)/.installed var ## Retention: delete transcripts past RETENTION_DAYS and forget-me requests
	@$(APP_PY) -m admissions.web.cli purge

record-fixtures: $(APP_VENV)/.installed ## Record real conversations from a running Rasa (make run) for the staff app tests
	@eval "$$($(STACK) settings)"; $(APP_PY) -m tests.web.fixtures.record --rasa-url http://127.0.0.1:$$RASA_PORT

# ---------------------------------------------------------------- quality
lint: $(RASA_VENV)/.installed $(APP_DEV) ## ruff (lint + format check) and mypy
	@$(RASA_VENV)/bin/ruff check .
	@$(RASA_VENV)/bin/ruff format --check .
	@$(RASA_VENV)/bin/mypy admissions/profile.py admissions/facility admissions/fit \
	  admissions/hours.py admissions/safety admissions/stretch.py admissions/understanding \
	  admissions/describe.py admissions/wording.py \
	  actions rasa_addons
	@$(APP_VENV)/bin/mypy admissions/web admissions/db admissions/training

format: $(RASA_VENV)/.installed ## Apply ruff's formatting and safe fixes
	@$(RASA_VENV)/bin/ruff check --fix .
	@$(RASA_VENV)/bin/ruff format .

validate: $(RASA_VENV)/.installed $(SPACY_DIR)/meta.json var ## rasa data validate
	@$(RASA) data validate --config config.yml --domain domain.yml --data data >$(VAR_DIR)/validate.log 2>&1 \
	  || { grep -E "ERROR|Error|error" $(VAR_DIR)/validate.log | tail -20; exit 1; }
	@echo "rasa data validate: no errors (warnings in $(VAR_DIR)/validate.log)"

# Which tests run where. The assistant's environment (.venv/rasa, Python 3.10): its unit tests
# (no servers, no model), then the suites on real servers. The staff app's environment
# (.venv/app): the app, the retraining loop and the browser. tests/stories: `rasa test`.
RASA_UNIT_TESTS := tests/actions tests/admissions tests/rasa_addons $(wildcard tests/test_*.py)
PYTEST          := -m pytest -q -p no:cacheprovider

# with_scratch_pg PORT, VARIABLE, COMMAND: COMMAND with VARIABLE set to the URL of a throw-away
# PostgreSQL server on PORT (scripts/pg-scratch.sh), stopped and removed afterwards; PGDIR names
# its folder (for pause/resume).
define with_scratch_pg
PGDIR=$$(mktemp -d /tmp/admissions-pg.XXXXXX); \
	trap 'scripts/pg-scratch.sh stop '"$$PGDIR" EXIT; \
	URL=$$(scripts/pg-scratch.sh start "$$PGDIR" $(1)) || exit 1; \
	$(2)=$$URL $(3)
endef

test-python: $(RASA_VENV)/.installed $(SPACY_DIR)/meta.json var ## pytest in the assistant environment (unit tests, PostgreSQL tracker store)
	@echo "==> $@ ($$(date +%T))"
	@$(call with_scratch_pg,$${PG_TEST_PORT_RASA:-54330},TRACKER_TEST_POSTGRES_URL,\
	  TRACKER_TEST_POSTGRES_STOP="scripts/pg-scratch.sh pause $$PGDIR" \
	  TRACKER_TEST_POSTGRES_START="scripts/pg-scratch.sh resume $$PGDIR" \
	  $(PY) $(PYTEST) $(RASA_UNIT_TESTS))

# Tests of the staff app's environment that need a server, a model or Chromium: `make check` skips them.
APP_LIVE_TESTS     := tests/web/test_chat_live.py tests/web/test_xss_browser.py tests/web/test_second_factor_browser.py
TRAINING_E2E_TESTS := tests/training/test_e2e_retrain.py tests/training/test_e2e_swap.py
APP_SERVER_TESTS   := $(addprefix --ignore=,$(APP_LIVE_TESTS) $(TRAINING_E2E_TESTS))

# `make check` runs lint and the unit tests of both environments as six processes side by side
# (the staff app's tests in three parts of about equal CPU; the third takes every file the first
# two do not name, so a new test file is never left out), through the same plan as `make test`.
CHECK_WEB_1 := tests/web/test_audit_coverage.py tests/web/test_accounts_admin.py
CHECK_WEB_2 := $(wildcard tests/web/test_[b-c]*.py) tests/web/test_audit_hygiene.py \
	tests/web/test_audit_words.py tests/web/test_auth.py
CHECK_WEB_3 := $(filter-out $(CHECK_WEB_1) $(CHECK_WEB_2),$(wildcard tests/web/test_*.py)) tests/db
check: $(RASA_VENV)/.installed $(APP_DEV) $(SPACY_DIR)/meta.json var ## Quick loop: lint, types and both environments' unit tests side by side (no servers, no model)
	@$(APP_PY) scripts/test_plan.py --make "$(MAKE)" --jobs 6 --logs $(VAR_DIR)/check-logs \
	  lint check-assistant check-web-1 check-web-2 check-web-3 check-training

.PHONY: check-assistant check-web-1 check-web-2 check-web-3 check-training
check-assistant:
	@$(PY) $(PYTEST) $(RASA_UNIT_TESTS)
check-web-1:
	@$(APP_PY) $(PYTEST) $(CHECK_WEB_1) $(APP_SERVER_TESTS)
check-web-2:
	@$(APP_PY) $(PYTEST) $(CHECK_WEB_2) $(APP_SERVER_TESTS)
check-web-3:
	@$(APP_PY) $(PYTEST) $(CHECK_WEB_3) $(APP_SERVER_TESTS)
check-training:
	@$(APP_PY) $(PYTEST) tests/training $(APP_SERVER_TESTS)

test-stories: var $(MODEL) ## Rasa test stories; fails on any prediction error
	@echo "==> $@ ($$(date +%T))"
	@$(RASA) test core --model $(MODEL) --stories tests/stories --out $(RESULTS)/stories \
	  --fail-on-prediction-errors --no-plot >$(VAR_DIR)/test-stories.log 2>&1 \
	  || { grep -v '^\s*$$' $(VAR_DIR)/test-stories.log | tail -60; cat $(RESULTS)/stories/failed_test_stories.yml 2>/dev/null | head -80; exit 1; }
	@echo "test stories: all passed ($$(grep -c 'story:' tests/stories/*.yml | awk -F: '{s+=$$2} END {print s}') stories)"

test-e2e: setup var $(MODEL) ## End-to-end tests against real Rasa + action servers
	@echo "==> $@ ($$(date +%T))"
	@$(PY) -m pytest -q -p no:cacheprovider tests/e2e

system-deps: ## Debian packages the browser tests need (chromium, chromedriver)
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  echo "==> installing Debian packages: chromium chromium-driver"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
	  || { echo "error: could not install chromium + chromium-driver with apt-get"; exit 1; }; fi

node_modules/axe-core/axe.min.js: package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test-browser: $(APP_DEV) system-deps var $(MODEL) $(SPACY_DIR)/meta.json node_modules/axe-core/axe.min.js ## Chat widget in headless Chromium against real Rasa + actions + app
	@echo "==> $@ ($$(date +%T))"
	@$(APP_PY) -m pytest -q -p no:cacheprovider tests/browser

check-advisories: $(RASA_VENV)/.installed ## Fail if a locked package is affected by a known advisory without a documented exception
	@$(PY) scripts/check_advisories.py

test-faults: setup var $(MODEL) ## Fault, concurrency, fuzz and log-privacy tests on real servers (quick profile)
	@echo "==> $@ ($$(date +%T))"
	@$(PY) $(PYTEST) tests/faults \
	  --deselect tests/faults/test_restarts.py::test_kill9_under_load  # heavy: `make faults` runs it

faults: setup var $(MODEL) ## Heavy figures: 1,000 simultaneous pairs, 10,000 fuzz requests, kill -9 under load (~20 min)
	@FAULTS_PROFILE=full $(PY) -m pytest -q -p no:cacheprovider -s tests/faults

test-app: test-app-unit test-app-live ## pytest in the staff app environment (both parts below)

test-app-unit: $(APP_DEV) var ## The staff app's tests without a server, model or browser (SQLite + scratch PostgreSQL)
	@echo "==> $@ ($$(date +%T))"
	@$(call with_scratch_pg,$${PG_TEST_PORT:-54329},STAFF_TEST_POSTGRES_URL,$(APP_PY) $(PYTEST) tests/web tests/db $(APP_SERVER_TESTS))

test-app-live: $(APP_DEV) system-deps var $(MODEL) ## The staff app against a real Rasa, and its pages in headless Chromium
	@echo "==> $@ ($$(date +%T))"
	@$(APP_PY) $(PYTEST) $(APP_LIVE_TESTS)

# `make test` is a plan (scripts/test_plan.py): TEST_JOBS stages at once (default 3), each after
# the stages it needs ("stage:needed,..."), logs in var/test-logs, each stage's wall and CPU time
# at the end. The run is bound by CPU (~20 minutes of it on a fresh clone, two cores), so the
# plan keeps both cores busy and the long chains first: the two environments, Chromium and
# axe-core install side by side; the staff app's unit tests start as soon as their environment
# is there (beside the Rasa install, the first --urgent stage); the model's training and the
# end-to-end retrain (the two long chains, --urgent) then run at normal priority while lint,
# validation and the other unit tests fill in at nice 10; the suites on real servers follow,
# longest first, and the swap test (mostly waiting for model swaps: ~50 s of CPU in 2 min)
# beside them without a slot (--light). Four at once was slower (12:41 vs 11:38 on fresh
# clones, 2026-12-03: the servers' CPU grows under contention). Every suite has its own (free)
# ports, temp folders and scratch databases, so any of them can run side by side.
TEST_PLAN := env-rasa env-app system-deps node spacy:env-rasa train:spacy \
	test-retrain-e2e:env-app,spacy test-app-unit:env-app \
	lint:spacy,env-app check-advisories:env-rasa validate:spacy test-python:spacy \
	test-training-unit:env-app,spacy \
	test-faults:train test-e2e:train test-browser:train,env-app,system-deps,node \
	test-swap-e2e:train,env-app test-app-live:train,env-app,system-deps test-stories:train
test: ## Everything CI runs: TEST_JOBS stages at once (default 3), each stage timed
	@PYBIN=$$(scripts/find-python.sh 3.12 3.13 3.11 3.10) || exit 1; \
	MAKEFLAGS= TRAIN_THREADS=$${TRAIN_THREADS:-1} TRAINING_TF_THREADS=$${TRAINING_TF_THREADS:-1} \
	  "$$PYBIN" scripts/test_plan.py --make "$(MAKE)" --jobs $(or $(TEST_JOBS),3) \
	  --urgent env-rasa --urgent train --urgent test-retrain-e2e --light test-swap-e2e \
	  --logs $(VAR_DIR)/test-logs $(TEST_PLAN)

# Names for the set-up steps, so the plan above can run them side by side.
env-rasa: $(RASA_VENV)/.installed
	@:
env-app: $(APP_DEV)
	@:
spacy: $(SPACY_DIR)/meta.json
	@:
node: node_modules/axe-core/axe.min.js
	@:

retrain: $(APP_VENV)/.installed $(RASA_VENV)/.installed $(SPACY_DIR)/meta.json var ## Retrain from data/: validate, train, test, gate (PROMOTE=1 puts it live)
	@eval "$$($(STACK) settings)"; RASA_URL=$${RASA_URL:-http://127.0.0.1:$$RASA_PORT} \
	 RASA_JWT_SECRET=$${RASA_JWT_SECRET:-$$(cat $(VAR_DIR)/rasa_jwt_secret 2>/dev/null)} \
	 $(APP_PY) -m admissions.training retrain $(if $(PROMOTE),--promote)

test-training: test-training-unit test-training-e2e ## Retraining loop tests (both parts below)

test-training-unit: $(APP_DEV) $(RASA_VENV)/.installed $(SPACY_DIR)/meta.json var ## Retraining loop tests without a live Rasa (scratch PostgreSQL)
	@echo "==> $@ ($$(date +%T))"
	@$(call with_scratch_pg,$${PG_TEST_PORT_TRAINING:-54331},STAFF_TEST_POSTGRES_URL,$(APP_PY) $(PYTEST) tests/training $(addprefix --ignore=,$(TRAINING_E2E_TESTS)))

test-training-e2e: test-retrain-e2e test-swap-e2e ## End-to-end retraining against real Rasa servers (both parts below)

# The end-to-end retrain trains its own cheap baseline, so it needs no model and runs beside
# `make train` in `make test`; the swap test runs on the model `make train` made. Both run their
# Rasa commands at normal priority (TRAINING_NICE=0): beside the other suites of `make test`,
# the idle scheduling class of production would leave them waiting for all of them. The first
# retrain test trains twice; beside `make test`'s other stages it took up to ~12 min, so it gets
# 25 min before pytest-timeout calls it hung (900 s elsewhere).
test-retrain-e2e: $(APP_DEV) $(RASA_VENV)/.installed $(SPACY_DIR)/meta.json var ## Annotate, retrain, gate, promote and roll back against a real Rasa
	@echo "==> $@ ($$(date +%T))"
	@TRAINING_NICE=$${TRAINING_NICE:-0} $(APP_PY) $(PYTEST) --timeout 1500 tests/training/test_e2e_retrain.py

test-swap-e2e: $(APP_DEV) $(RASA_VENV)/.installed $(SPACY_DIR)/meta.json var $(MODEL) ## A conversation survives a model promotion and a rollback
	@echo "==> $@ ($$(date +%T))"
	@TRAINING_NICE=$${TRAINING_NICE:-0} TRAINING_TEST_MODEL=$(CURDIR)/$(MODEL) $(APP_PY) $(PYTEST) tests/training/test_e2e_swap.py

bench-retrain: $(APP_DEV) $(RASA_VENV)/.installed var $(MODEL) ## Retrain -> live seconds, chat p95 with/without retraining, swaps (~12 min)
	@$(APP_PY) benchmarks/retrain.py --model $(MODEL) --runs $(or $(RUNS),1) --swaps $(or $(SWAPS),2) \
	  --md benchmarks/results/retrain-$$(date -u +%F).md

# ---------------------------------------------------------------- measure
eval: var $(MODEL) ## NLU evaluation on the held-out set -> results/eval
	@$(PY) -m benchmarks.nlu_eval --out $(RESULTS)/eval

simulate: var $(MODEL) ## 73 scripted visitors over REST against real servers -> results/simulate
	@$(PY) -m benchmarks.simulate --out $(RESULTS)/simulate $(if $(URL),--url $(URL)) $(if $(ONLY),--only $(ONLY)) $(if $(TRANSCRIPTS),--transcripts $(TRANSCRIPTS))

eval-seeds: var $(RASA_VENV)/.installed $(SPACY_DIR)/meta.json ## Held-out intent F1 over 4 DIET seeds (~10 min) -> results/eval/seeds.md
	@$(PY) -m benchmarks.nlu_seeds --seeds $(or $(SEEDS),42,1,2,7) --out $(RESULTS)/eval

bench: setup $(APP_DEV) var $(MODEL) ## Latency benchmarks -> benchmarks/results
	@$(APP_PY) benchmarks/staff_list.py
	@$(APP_PY) -m pytest -q -p no:cacheprovider tests/browser/test_latency.py

bench-load: setup var $(MODEL) ## Closed-loop REST load, 1 and 10 visitors, beside a stock `rasa init` bot (DURATION=60 s each; LONG=300: one 300-turn chat) -> benchmarks/results
	@BENCH_COMMAND="make bench-load$(if $(DURATION), DURATION=$(DURATION))$(if $(VISITORS), VISITORS=$(VISITORS))$(if $(LONG), LONG=$(LONG))" \
	 $(PY) -m benchmarks.bench_load --duration $(or $(DURATION),60) $(if $(VISITORS),--visitors $(VISITORS)) $(if $(LONG),--long $(LONG)) $(if $(NOTE),--note "$(NOTE)")

clean: ## Remove generated files (keeps environments)
	rm -rf build $(RESULTS) models/*.tar.gz models/*.gated .rasa

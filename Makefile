# tracelake: `make` (make test) runs lint and the quick tests, `make check` the whole gate (CI);
# `make run` builds data/warehouse.duckdb.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := test
.PHONY: setup run test check lint bench score clean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/tracelake run

lint: $(STAMP)
	$(BIN)/ruff check tracelake flows tests
	$(BIN)/ruff format --check tracelake flows tests
	$(BIN)/mypy
	cd dbt && ../$(BIN)/sqlfluff lint models macros tests

# The loop while working: every test but the slow ones (runs killed and stopped at every
# stage, tests/test_crash.py; a run on S3 and Dask, runs at once on one lake and a rebuild
# from a lake version, tests/test_lakehouse.py), a test module per worker process. `make check` adds the slow
# ones, run alone (their kills and stops are timed): what CI runs.
WORKERS ?= 2
test: lint
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile -m "not slow"

check: test
	$(BIN)/python -m pytest -m slow

# The whole pipeline on a corpus of SIZE (1k, 10k, 100k documents or 1gb; several: SIZE="1k 10k"),
# beside a naive baseline: a table, and data/bench/bench-<size>.json. BENCH passes more options:
# BENCH="--lake s3 --workers 2 --task-runner dask" (the lake on moto's S3 server, ...).
SIZE ?= 1k
BENCH ?=
bench: $(STAMP)
	$(BIN)/python -m tests.bench $(foreach size,$(SIZE),--size $(size)) $(BENCH)

# Each dev set of ../shared: corpus (gold seeds.json), corpus-web (web.json), corpus-events.
DEV_SETS := corpus:seeds corpus-web:web corpus-events:events

score: $(STAMP)
	@mkdir -p data
	@for set in $(DEV_SETS); do \
	  dir=$${set%%:*}; gold=$${set##*:}; \
	  $(BIN)/tracelake run --source ../shared/$$dir --data-dir data/dev-$$gold > data/score-$$gold.log 2>&1 \
	    || { echo "run on ../shared/$$dir failed: data/score-$$gold.log"; exit 1; }; \
	  echo "== ../shared/$$dir (gold $$gold.json)"; \
	  $(BIN)/python ../shared/eval/score.py --warehouse data/dev-$$gold/warehouse.duckdb \
	    --gold ../shared/eval/gold/$$gold.json | grep -E '^(articles|accuracy|statistics|entities|incidents) '; \
	done

clean:
	rm -rf data dbt/target dbt/logs

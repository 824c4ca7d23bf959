# Two commands for a fresh clone: `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all test-postgres lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch pinned to the CPU build that lies on these machines' disk (docs/training.md)
	$(BIN)/python -m pip install --quiet 'torch==2.13.0'
	$(BIN)/python -m pip install --quiet -e '.[dev,atari,postgres,ray,train,tensorboard]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/arena tournament run tournaments/demo.toml
	$(BIN)/arena report --out .arena/report

# -rs prints why each skipped test skipped (PostgreSQL tests need ARENA_TEST_PG_URL).
test: $(STAMP)
	$(BIN)/ruff check arena envs agents tournaments tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -m "not slow" -q -rs

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -rs

# Starts (or reuses) a throwaway PostgreSQL server on 127.0.0.1 with
# .ci/postgres.sh (which installs the Debian package when run as root) and runs
# the PostgreSQL tests on it. `.ci/postgres.sh --stop` removes the server.
test-postgres: $(STAMP)
	pg="$$(.ci/postgres.sh)" && eval "$$pg" && \
		$(BIN)/python -m pytest -q -rs tests/integration/test_postgres.py

lint: $(STAMP)
	$(BIN)/ruff check arena envs agents tournaments tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/match_overhead.py

clean:
	rm -rf $(VENV) .arena .pytest_cache

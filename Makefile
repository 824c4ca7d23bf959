# Two commands for a fresh clone: `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs: `make demo`
# only the core (no torch, Ray, TensorBoard, ALE or psycopg: about 0.5 GB and under
# a minute), `make test` everything (docs/install.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE := $(VENV)/.core
STAMP := $(VENV)/.installed

.PHONY: demo install test test-all test-learning test-postgres lint bench clean

# The core: games, ratings, storage, tournaments, the report, the sandbox.
$(CORE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(CORE)

# Everything: training (the CPU build of torch, scripts/install-torch.sh), TensorBoard,
# two-player Atari, Ray, PostgreSQL, the web service, and the test tools.
$(STAMP): $(CORE) scripts/install-torch.sh
	sh scripts/install-torch.sh $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,atari,postgres,ray,server,train,tensorboard]'
	touch $(STAMP)

install: $(STAMP)

demo: $(CORE)
	$(BIN)/arena tournament run tournaments/demo.toml
	$(BIN)/arena report --out .arena/report

# The quick loop. -rs prints why each skipped test skipped (PostgreSQL tests need
# ARENA_TEST_PG_URL). The markers and what each target runs: docs/testing.md.
test: $(STAMP)
	$(BIN)/ruff check arena envs agents tournaments server tests bench
	$(BIN)/mypy
	@echo 'make test skips the slow tests (pytest counts them as "deselected": the learning runs and anything over ~20 s); make test-learning, make test-all or .ci/run runs them'
	$(BIN)/python -m pytest -m "not slow" -q -rs

# The slow tests alone (what make test skips): the long learning runs and the few
# other tests over ~20 s; 14 to 17 minutes on 2 shared cores (docs/testing.md).
test-learning: $(STAMP)
	$(BIN)/python -m pytest -m slow -q -rs --durations=0

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -rs

# Starts (or reuses) a throwaway PostgreSQL server on 127.0.0.1 with
# .ci/postgres.sh (which installs the Debian package when run as root) and runs
# the PostgreSQL tests on it. `.ci/postgres.sh --stop` removes the server.
test-postgres: $(STAMP)
	pg="$$(.ci/postgres.sh)" && eval "$$pg" && \
		$(BIN)/python -m pytest -q -rs tests/integration/test_postgres.py

lint: $(STAMP)
	$(BIN)/ruff check arena envs agents tournaments server tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/match_overhead.py

clean:
	rm -rf $(VENV) .arena .pytest_cache

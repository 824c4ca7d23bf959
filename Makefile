# Two commands for a fresh clone: `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,atari]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/arena tournament run tournaments/demo.toml

test: $(STAMP)
	$(BIN)/ruff check arena envs agents tournaments tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -m "not slow" -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check arena envs agents tournaments tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/match_overhead.py

clean:
	rm -rf $(VENV) .arena .pytest_cache

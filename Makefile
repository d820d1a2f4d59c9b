# Two everyday commands: `make run` (set up and start the bot) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test test-db lint bench bench-quick clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/python -m bot i18n compile

run: setup
	$(BIN)/python -m bot run

test: setup
	$(BIN)/python -m pytest

# The database tests again, the migration stairway among them, against PostgreSQL
# (TEST_POSTGRES_URL); the PostgreSQL-only variants run here too.
test-db: setup
	TEST_DATABASE=postgres $(BIN)/python -m pytest -m db

# Every benchmark, then the table (README "Performance") and bench/results.json: ~8 minutes.
bench: setup
	$(BIN)/python -m bench

# The same with small numbers, so the benchmarks cannot rot (CI); no timing is asserted.
bench-quick: setup
	$(BIN)/python -m bench --quick

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache

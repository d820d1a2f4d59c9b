# Two everyday commands: `make run` (set up and start the bot) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# One stamp per lock: a changed lock (or pyproject.toml) installs again.
RUN_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
# Every version with the hashes of all its files (pip and setuptools too): a changed or
# unlisted file stops the install. `pip install -e .` then adds this project, nothing else.
INSTALL = $(BIN)/python -m pip install -q --require-hashes -r $< && \
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .

.PHONY: setup setup-dev run test test-db lint bench bench-quick lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(INSTALL)
	touch $@

$(DEV_STAMP): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(INSTALL)
	touch $@

# The bot's own dependencies only (what a production host needs).
setup: $(RUN_STAMP)
	$(BIN)/python -m bot i18n compile

# The same plus the tools: pytest, hypothesis, playwright, ruff, mypy, pyinstrument, openpyxl.
setup-dev: $(DEV_STAMP)
	$(BIN)/python -m bot i18n compile

run: setup
	$(BIN)/python -m bot run

test: setup-dev
	$(BIN)/python -m pytest

# The database tests again, the migration stairway among them, against PostgreSQL
# (TEST_POSTGRES_URL); the PostgreSQL-only variants run here too.
test-db: setup-dev
	TEST_DATABASE=postgres $(BIN)/python -m pytest -m db

# Every benchmark, then the table (README "Performance") and bench/results.json: ~8 minutes.
bench: setup-dev
	$(BIN)/python -m bench

# The same with small numbers, so the benchmarks cannot rot (CI); no timing is asserted.
bench-quick: setup-dev
	$(BIN)/python -m bench --quick

# Style, then types (the files and the strict modules are set in pyproject.toml).
lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Rewrite both locks after a change to the dependencies in pyproject.toml; every other pin
# stays. `make lock UPGRADE=1` moves everything to the newest versions allowed. The locks
# hold the hashes of every file of each version (Linux x86_64 and aarch64, macOS, Windows).
# uv resolves them from a throwaway venv; PyPI must be reachable.
UV_VERSION := 0.13.9
LOCK = pip compile -q --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
lock:
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp" && "$$tmp/bin/python" -m pip install -q uv==$(UV_VERSION) && \
	printf 'pip\nsetuptools>=68\n' | "$$tmp/bin/uv" $(LOCK) pyproject.toml - \
		-o requirements.lock && \
	printf 'pip\nsetuptools>=68\n' | "$$tmp/bin/uv" $(LOCK) pyproject.toml - --extra dev \
		-c requirements.lock -o requirements-dev.lock

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache

# The two commands: `make run` and `make test`. Each does all the set-up it needs on a fresh machine.
VENV    ?= .venv
PYTHON  ?= python3
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed-stamp

.PHONY: run test install lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/atelier db upgrade
	$(BIN)/atelier demo --if-empty
	$(BIN)/atelier serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	PTB_TIMEDELTA=true $(BIN)/pytest $(PYTEST_WORKERS)

# Two workers (pytest-xdist), one module per worker at a time: a module's shared server or browser is started once
# (--dist loadscope; xdist's loadgroup does not work with pytest 9.2). The modules in the order collected, the ones with
# slow tests first (tests/conftest.py), not by their number of tests (long modules have few, and came last).
# `make pytest PYTEST_WORKERS=` runs in one process.
PYTEST_WORKERS ?= -n 2 --dist loadscope --no-loadscope-reorder

test: lint typecheck pytest

bench: install
	$(BIN)/python bench/inbound_sms.py
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/personas.py

clean:
	rm -rf $(VENV) atelier.db atelier.db-wal atelier.db-shm

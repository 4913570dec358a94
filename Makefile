# The two commands the README opens with:
#   make demo   run the spaceflights example end to end and write its report
#   make test   lint, type-check and run the whole test suite
# Both create .venv with everything they need when it is missing or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every optional extra the tests exercise; the stamp re-installs when pyproject.toml changes.
EXTRAS := dev,pandas,cli,dask
STAMP := $(VENV)/.installed

.PHONY: test demo lint typecheck pytest bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The spaceflights example end to end on the process runner, then its HTML report.
demo: $(STAMP)
	cd examples/spaceflights && ../../$(BIN)/ductwork run --runner parallel
	@echo
	@cat examples/spaceflights/data/08_reporting/summary.txt
	@echo
	cd examples/spaceflights && ../../$(BIN)/ductwork report

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

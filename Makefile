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

# ductwork.kedro is tested against real Kedro, in two environments of their own: the oldest
# release it supports and the newest 1.x on PyPI (resolved when the environment is built). The
# main .venv has no Kedro, so ductwork's own suite proves that nothing else needs it.
KEDRO_VENVS := .venv-kedro-1.1 .venv-kedro-latest
KEDRO_SPEC_.venv-kedro-1.1 := kedro==1.1.0
KEDRO_SPEC_.venv-kedro-latest := kedro>=1.1,<2
KEDRO_EXTRAS := kedro,dev,pandas,dask,report
# What the fixture project's catalog uses, at the release matching each Kedro.
KEDRO_DATASETS := kedro-datasets[pandas-csvdataset,pandas-parquetdataset,pandas-exceldataset]

.PHONY: test demo lint typecheck pytest pytest-kedro bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

%/.kedro-installed: pyproject.toml Makefile
	test -x $*/bin/python || $(PYTHON) -m venv $*
	$*/bin/python -m pip install --quiet --upgrade pip
	$*/bin/python -m pip install --quiet -e ".[$(KEDRO_EXTRAS)]" "$(KEDRO_SPEC_$*)" "$(KEDRO_DATASETS)"
	touch $@

test: lint typecheck pytest pytest-kedro

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# tests/kedro in each Kedro environment; DUCTWORK_KEDRO_TESTS=required makes a missing Kedro an
# error there instead of an uncollected directory.
pytest-kedro: $(KEDRO_VENVS:%=%/.kedro-installed)
	for venv in $(KEDRO_VENVS); do \
		echo "== tests/kedro in $$venv"; \
		DUCTWORK_KEDRO_TESTS=required $$venv/bin/python -m pytest tests/kedro $(PYTEST_ARGS) || exit 1; \
	done

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
	rm -rf $(VENV) $(KEDRO_VENVS) .mypy_cache .ruff_cache .pytest_cache

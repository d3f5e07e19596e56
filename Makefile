# ecgad — two commands: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DATA   ?= $(wildcard ../shared/data)

.PHONY: install test serve clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	ECGAD_DATA_DIR=$${ECGAD_DATA_DIR:-$(DATA)} $(PY) -m pytest -q

serve: install
	$(PY) -m ecgad.cli serve

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info

# ecgad — two commands: `make serve` and `make test`.
# `make install` / `make test`: everything, for development (.venv: torch, training, tests).
# `make serve`: the slim install (.venv-slim: scoring and the web app on onnxruntime, no torch).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SLIM   ?= .venv-slim
LINT   := $(VENV)/bin/ruff check src tests benchmarks
DATA   ?= $(wildcard ../shared/data)

.PHONY: install slim lint test serve clean onnx

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The base install alone: no torch, no scikit-learn (see pyproject.toml's `train` extra).
slim: $(SLIM)/.installed

$(SLIM)/.installed: pyproject.toml
	test -x $(SLIM)/bin/python || $(PYTHON) -m venv $(SLIM)
	$(SLIM)/bin/python -m pip install --quiet --upgrade pip
	$(SLIM)/bin/python -m pip install --quiet -e .
	touch $@

# ruff's settings are in pyproject.toml ([tool.ruff]).
lint: install
	$(LINT)

# Lint first: a finding fails `make test` before pytest runs.
# The browser tests (tests/browser) drive Debian's chromium through Playwright; no other browser is downloaded.
test: install
	$(LINT)
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests (tests/browser)"; \
	    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium) \
	      || echo "WARNING: chromium could not be installed; the browser tests will be skipped"; \
	  else \
	    echo "NOTE: /usr/bin/chromium is missing, so the browser tests (tests/browser) will be skipped."; \
	    echo "      To run them, install it as root:  apt-get update && apt-get install -y chromium"; \
	  fi; \
	fi
	ECGAD_DATA_DIR=$${ECGAD_DATA_DIR:-$(DATA)} $(PY) -m pytest -q

serve: slim
	$(SLIM)/bin/python -m ecgad.cli serve

# The shipped models' ONNX graphs, made again from their safetensors files (after retraining one):
# tests/test_onnx.py checks that they match. Needs the full install (torch, onnxscript).
onnx: install
	$(PY) -m ecgad.cli export onnx --model src/ecgad/assets/ecg5000-hybrid.safetensors
	$(PY) -m ecgad.cli export onnx --model src/ecgad/assets/mitdb-recording.safetensors

clean:
	rm -rf $(VENV) $(SLIM) build *.egg-info src/*.egg-info

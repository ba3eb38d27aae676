# The README's two commands: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Small matrix products are much slower with BLAS threads fighting over 2 busy cores.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: setup system-deps browser demo test graphs bench lint jupyter clean

setup: $(STAMP) system-deps

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

# Graphviz's `dot` renders diagrams; installed from Debian when missing (needs root or sudo).
system-deps:
	@bash scripts/ensure_system_deps.sh graphviz

# Debian's Chromium runs the step-through page test in a real headless browser.
browser:
	@bash scripts/ensure_system_deps.sh chromium

demo: setup
	$(PY) -m autograd_rnn demo

test: setup browser
	$(PY) -m pytest -q -n 2

graphs: setup
	$(PY) -m autograd_rnn gallery --out graphs

bench: setup
	$(PY) -m bench.run

lint: setup
	$(PY) -m ruff check autograd_rnn tests bench
	$(PY) -m ruff check --select C901 autograd_rnn/core autograd_rnn/ops autograd_rnn/nn

jupyter: setup
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[notebook]"
	$(VENV)/bin/jupyter lab tutorials/

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

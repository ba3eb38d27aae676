# The README's two commands: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Small matrix products are much slower with BLAS threads fighting over 2 busy cores.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: setup system-deps browser demo test graphs bench bench-engine bench-inplace explore lint \
	jupyter clean

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

test: setup browser lint
	$(PY) -m pytest -q -n 2

graphs: setup
	$(PY) -m autograd_rnn gallery --out graphs

explore: setup
	HYPOTHESIS_PROFILE=explore REL_MAX_EXAMPLES=500 REL_CLI_MAX_EXAMPLES=100 \
		$(PY) -m pytest -q -n 2 tests/reliability

bench: setup
	$(PY) -m bench.run

# The engine rewrite (issue 16) against its starting point, and what in-place change detection
# costs a step (issue 17): bench/README.md. Instruction counts need valgrind (slow: minutes).
BENCH_BEFORE ?= 3f08824
BENCH_BEFORE_TREE := build/bench-before
bench-engine: setup
	rm -rf $(BENCH_BEFORE_TREE) && mkdir -p $(BENCH_BEFORE_TREE)
	git archive $(BENCH_BEFORE) | tar -x -C $(BENCH_BEFORE_TREE)
	$(PY) -m bench.instructions --tree before=$(BENCH_BEFORE_TREE) --tree after=. \
		--rows tiny --variants step,record
	$(PY) -m bench.versions --before $(BENCH_BEFORE_TREE) --rows tiny,small --repeats 15

bench-inplace: setup
	$(PY) -m bench.instructions --tree after=. --rows tiny \
		--variants off,step,checking,params-read
	$(PY) -m bench.inplace_cost --rows tiny,small --repeats 15

# ruff's settings (pyproject.toml) include C901: no function above complexity 15
lint: setup
	$(PY) -m ruff check autograd_rnn tests bench

jupyter: setup
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[notebook]"
	$(VENV)/bin/jupyter lab tutorials/

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# The two commands a new user needs:
#   make demo   set up .venv, train the demo runs, serve them in TensorBoard
#   make test   set up all three environments, run the test suite in each:
#                 .venv        Keras on TensorFlow (CPU): every test under tests/
#                 .venv-jax    Keras on JAX (CPU), no TensorFlow: tests/any_backend
#                 .venv-torch  Keras on PyTorch (CPU), no TensorFlow: tests/any_backend
#               and the dashboard's pure ES modules with Node.js: node --test tests/js/
#               It fails if any of the three pytest runs fails or collects no test,
#               or if a Node.js test fails.
# One environment at a time: make test-tensorflow | test-jax | test-torch | test-js.
#   make check  the fast loop while editing: in .venv, every test not marked slow, server or
#               browser (markers in pytest.ini; tests/conftest.py applies them), then the
#               Node.js tests. The full suite stays `make test`.
# Extra pytest arguments for every run: make test PYTEST_ARGS="-x -k report".
# The others:
#   make setup | setup-jax | setup-torch | setup-all   build an environment (or all three), run nothing
#   make browser  Debian's chromium, nodejs and the picture's fonts (scripts/ensure_chromium.sh)
#   make bench    the benchmark scripts in all three environments (figures: bench/README.md)
#   make clean    remove the environments, build outputs and test-artifacts/
#   make help     print this text; plain `make` is `make demo`
#
# Pins: requirements-common.txt (shared by all three), requirements-dev.txt
# (.venv: tensorflow-cpu, matplotlib, playwright), requirements-jax.txt,
# requirements-torch.txt. Each environment also gets an editable install of
# this package. Browser tests use Debian's chromium (scripts/ensure_chromium.sh).
# Environments are rebuilt only when their requirement files or setup.py change
# (stamp file .installed); `make clean` removes them.

PYTHON ?= python3
VENV ?= .venv
VENV_JAX ?= .venv-jax
VENV_TORCH ?= .venv-torch
PY := $(VENV)/bin/python
export VENV VENV_JAX VENV_TORCH PYTEST_ARGS

.PHONY: demo check test test-tensorflow test-jax test-torch test-js setup setup-jax setup-torch setup-all browser bench clean help

demo: setup
	$(PY) -m demo

test: setup-all browser
	@bash scripts/run_tests.sh tensorflow jax torch js

check: setup
	env -u KERAS_BACKEND $(PY) -m pytest -q -m "not slow and not server and not browser" $(PYTEST_ARGS)
	node --import ./tests/js/register-esm.mjs --test tests/js/*.test.mjs

test-tensorflow: setup browser
	@bash scripts/run_tests.sh tensorflow

test-jax: setup-jax
	@bash scripts/run_tests.sh jax

test-torch: setup-torch
	@bash scripts/run_tests.sh torch

test-js: browser
	@bash scripts/run_tests.sh js

setup: $(VENV)/.installed
setup-jax: $(VENV_JAX)/.installed
setup-torch: $(VENV_TORCH)/.installed
setup-all: setup setup-jax setup-torch

$(VENV)/.installed: requirements-dev.txt requirements-common.txt setup.py scripts/make_venv.sh
	@PYTHON=$(PYTHON) bash scripts/make_venv.sh $(VENV) requirements-dev.txt tensorflow

$(VENV_JAX)/.installed: requirements-jax.txt requirements-common.txt setup.py scripts/make_venv.sh
	@PYTHON=$(PYTHON) bash scripts/make_venv.sh $(VENV_JAX) requirements-jax.txt jax

$(VENV_TORCH)/.installed: requirements-torch.txt requirements-common.txt setup.py scripts/make_venv.sh
	@PYTHON=$(PYTHON) bash scripts/make_venv.sh $(VENV_TORCH) requirements-torch.txt torch

browser:
	@bash scripts/ensure_chromium.sh

bench: setup-all
	$(PY) bench/callback_overhead.py --backend tensorflow
	KERAS_BACKEND=jax $(VENV_JAX)/bin/python bench/callback_overhead.py --backend jax
	KERAS_BACKEND=torch $(VENV_TORCH)/bin/python bench/callback_overhead.py --backend torch
	$(PY) bench/epoch_end.py --backend tensorflow
	KERAS_BACKEND=jax $(VENV_JAX)/bin/python bench/epoch_end.py --backend jax
	KERAS_BACKEND=torch $(VENV_TORCH)/bin/python bench/epoch_end.py --backend torch
	$(PY) bench/plugin_latency.py
	$(PY) bench/many_classes.py --backend tensorflow
	KERAS_BACKEND=jax $(VENV_JAX)/bin/python bench/many_classes.py --backend jax
	KERAS_BACKEND=torch $(VENV_TORCH)/bin/python bench/many_classes.py --backend torch
	$(PY) bench/examples_cost.py --backend tensorflow
	KERAS_BACKEND=jax $(VENV_JAX)/bin/python bench/examples_cost.py --backend jax
	KERAS_BACKEND=torch $(VENV_TORCH)/bin/python bench/examples_cost.py --backend torch
	$(PY) bench/log_report_examples.py
	$(PY) bench/curves_cost.py
	$(PY) bench/curve_metric_cost.py --backend tensorflow
	KERAS_BACKEND=jax $(VENV_JAX)/bin/python bench/curve_metric_cost.py --backend jax
	KERAS_BACKEND=torch $(VENV_TORCH)/bin/python bench/curve_metric_cost.py --backend torch
	$(PY) bench/many_classes.py --classes 10000 --epochs 5 --eval-rounds 3
	$(PY) bench/writers_at_scale.py --classes 1000 10000 50000
	$(PY) bench/plugin_at_scale.py --classes 10000
	$(PY) bench/metric_at_scale.py --backend tensorflow
	KERAS_BACKEND=jax $(VENV_JAX)/bin/python bench/metric_at_scale.py --backend jax
	KERAS_BACKEND=torch $(VENV_TORCH)/bin/python bench/metric_at_scale.py --backend torch
	KERAS_BACKEND=torch $(VENV_TORCH)/bin/python bench/torch_kernels.py
	$(VENV_JAX)/bin/python bench/writer_gil.py
	$(PY) bench/tf_xla_call.py

clean:
	rm -rf $(VENV) $(VENV_JAX) $(VENV_TORCH) build dist *.egg-info test-artifacts .hypothesis

help:
	@awk '/^[^#]/ { exit } { sub(/^# ?/, ""); print }' $(firstword $(MAKEFILE_LIST))

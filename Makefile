# The two commands a new user needs:
#   make demo   set everything up, train the demo runs, serve them in TensorBoard
#   make test   set everything up, run the whole test suite
# Everything installs into .venv (CPU build of TensorFlow, pinned in
# requirements-dev.txt); browser tests use Debian's chromium.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test setup browser bench clean

demo: setup
	$(PY) -m demo

test: setup browser
	$(PY) -m pytest

setup: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

browser:
	@bash scripts/ensure_chromium.sh

bench: setup
	$(PY) bench/callback_overhead.py
	$(PY) bench/plugin_latency.py
	$(PY) bench/many_classes.py

clean:
	rm -rf $(VENV) build dist *.egg-info test-artifacts

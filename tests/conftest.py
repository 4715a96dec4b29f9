"""Shared pytest configuration: quiet TensorFlow, make tests/ importable, mark slow kinds of test.

Markers (registered in pytest.ini; ``make check`` runs everything without them):

* ``browser``: a headless Chromium drives the dashboard (``tests/test_browser*.py``);
* ``server``: the test starts the real ``tensorboard`` command, itself or
  through a fixture (found by :func:`_starts_a_server`, so a new test that
  calls ``tensorboard_server`` is marked without anyone remembering to);
* ``slow``: long fits, subprocesses and benchmarks (:data:`SLOW_MODULES`, and
  ``@pytest.mark.slow`` on single tests).
"""

import inspect
import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

#: Modules whose tests are all slow (measured: each takes 15 s or more in one
#: process on the 2-core development machine): real fits and Keras metrics
#: compiled per backend, training the demo, building the package, benchmarks,
#: subprocesses, executing the README's snippets, every docstring example and
#: every request of docs/http_api.md.
SLOW_MODULES = {
    "test_callback.py",
    "test_doctests.py",
    "test_http_api_doc.py",
    "test_keras_metrics.py",
    "test_keras_metrics_backends.py",
    "test_reference_keras_metrics.py",
    "test_no_silent_failures.py",
    "test_no_silent_failures_tf.py",
    "test_validation_sources.py",
    "test_import_boundaries.py",
    "test_demo.py",
    "test_distribute.py",
    "test_packaging.py",
    "test_plugin_compare_latency.py",
    "test_readme.py",
    "test_readme_snippets.py",
    "test_framework_loops.py",
    "test_callback_backends.py",
    "test_fuzz.py",
    "test_bench_smoke.py",
}


def _source(function) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def _starts_a_server(item) -> bool:
    """Whether the test, or a fixture it uses, calls ``tensorboard_server``."""
    functions = [getattr(item, "function", None)]
    for definitions in getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).values():
        functions += [definition.func for definition in definitions]
    return any("tensorboard_server(" in _source(function) for function in functions if function is not None)


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = os.path.basename(str(item.fspath))
        if module.startswith("test_browser"):
            item.add_marker(pytest.mark.browser)
        if _starts_a_server(item):
            item.add_marker(pytest.mark.server)
        if module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)

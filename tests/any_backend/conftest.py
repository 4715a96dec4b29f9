"""Guards for tests/any_backend, the tests that run in all three environments.

``make test`` runs this folder three times: in .venv with KERAS_BACKEND unset
(Keras on TensorFlow), in .venv-jax with KERAS_BACKEND=jax and in .venv-torch
with KERAS_BACKEND=torch; the last two have no TensorFlow installed. Tests
here never import tensorflow at module level (TF-only cases use
``pytest.importorskip("tensorflow")``).

A misconfigured environment fails the run loudly, never skips:
  * at start-up, KERAS_BACKEND must be unset, tensorflow, jax or torch; in the
    JAX and PyTorch runs TensorFlow must not even be installed, and the
    backend's framework must be;
  * at the end of the session, Keras' backend must be the one KERAS_BACKEND
    names, and in the JAX and PyTorch runs nothing may have imported
    tensorflow (a lazy ``import tensorflow`` somewhere in tb_imbalance would
    otherwise go unnoticed). A violation sets a failing exit status.
"""

import importlib.util
import os
import sys

import pytest

BACKENDS = ("tensorflow", "jax", "torch")
REQUESTED = os.environ.get("KERAS_BACKEND", "")
EXPECTED = REQUESTED or "tensorflow"
TENSORFLOW_FREE = EXPECTED in ("jax", "torch")


def environment_problems():
    """Problems visible before any test runs (installed packages, KERAS_BACKEND)."""
    if EXPECTED not in BACKENDS:
        return [f"KERAS_BACKEND={REQUESTED!r}: tests/any_backend runs on {', '.join(BACKENDS)} (or unset: tensorflow)"]
    problems = []
    if importlib.util.find_spec(EXPECTED) is None:
        problems.append(f"KERAS_BACKEND={EXPECTED} but {EXPECTED} is not installed in {sys.prefix}")
    if TENSORFLOW_FREE and importlib.util.find_spec("tensorflow") is not None:
        problems.append(
            f"KERAS_BACKEND={EXPECTED} runs without TensorFlow, but tensorflow is installed in {sys.prefix}: "
            f"use the .venv-{EXPECTED} environment (make test-{EXPECTED})"
        )
    return problems


def session_problems():
    """Problems visible once the tests have run: the backend Keras used, stray TensorFlow imports."""
    problems = []
    try:
        import keras
    except ImportError as error:
        return [f"keras cannot be imported: {error}"]
    actual = keras.backend.backend()
    if actual != EXPECTED:
        problems.append(
            f"Keras ran on {actual!r}, expected {EXPECTED!r} (KERAS_BACKEND={REQUESTED or '<unset>'}; "
            "check ~/.keras/keras.json and KERAS_HOME)"
        )
    if TENSORFLOW_FREE:
        loaded = sorted(name for name in sys.modules if name == "tensorflow" or name.startswith("tensorflow."))
        if loaded:
            problems.append(
                f"tensorflow was imported during the KERAS_BACKEND={EXPECTED} run "
                f"({len(loaded)} modules, e.g. {', '.join(loaded[:3])}); tests/any_backend and the code "
                "it exercises must not import TensorFlow"
            )
    return problems


def pytest_configure(config):
    problems = environment_problems()
    if problems:
        raise pytest.UsageError("misconfigured test environment:\n  " + "\n  ".join(problems))


def pytest_report_header(config):
    return f"tests/any_backend: Keras backend {EXPECTED} (KERAS_BACKEND={REQUESTED or '<unset>'})"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    problems = session_problems()
    if not problems:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    text = "misconfigured test environment:\n  " + "\n  ".join(problems)
    if reporter is not None:
        reporter.ensure_newline()
        reporter.section("tests/any_backend environment check", sep="!", red=True, bold=True)
        reporter.line(text, red=True)
    else:
        print(text, file=sys.stderr)
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

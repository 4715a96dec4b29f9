"""Docstring examples run as doctests, on every Keras backend.

House rule: every public module and function shows a short example, and the
examples run. Each module of ``tb_imbalance`` is one case: its examples run
with ``doctest`` (``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``) in a temporary
working directory, with ``tempfile`` pointed there too, so whatever an example
writes (``tempfile.mkdtemp()`` run directories, relative paths) lands in the
test's temporary directory.

This file runs the framework-free modules and :mod:`tb_imbalance.keras` in
.venv-jax and .venv-torch (Keras on JAX / PyTorch, no TensorFlow);
``tests/test_doctests.py`` runs every module, these included, in the
TensorFlow environment, where this file therefore skips. Modules that import
TensorFlow (:data:`NEEDS_TENSORFLOW`) run only there.
"""

from __future__ import annotations

import doctest
import importlib
import os
import pathlib
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tb_imbalance"
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

#: Modules that import TensorFlow: doctested only in the TensorFlow environment.
NEEDS_TENSORFLOW = {"tb_imbalance.summary"}

#: Modules whose examples do not run yet: ``{module: reason}``. Marked
#: ``xfail(strict=True)``: once fixed, the case fails until its entry is removed.
KNOWN_FAILURES: dict[str, str] = {}


def module_names() -> list[str]:
    """Every module of the tb_imbalance source tree, found on disk (nothing imported)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "__pycache__" in parts:
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def cases(names) -> list:
    """``names`` as pytest params, with KNOWN_FAILURES marked xfail(strict=True)."""
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[name]))
        if name in KNOWN_FAILURES
        else name
        for name in names
    ]


def run_doctests(name: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> doctest.TestResults:
    """Run the examples of module ``name`` in ``tmp_path``; fail with doctest's report."""
    module = importlib.import_module(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONS, verbose=False)
    report: list[str] = []
    try:
        for test in finder.find(module, name):
            runner.run(test, out=report.append)
    finally:
        from tb_imbalance.targets import close_directory_writers

        close_directory_writers()  # event files that directory targets opened
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples failed in {name}:\n" + "".join(report)
    assert results.attempted > 0, f"{name} has no docstring example (house rule: every module shows one)"
    return results


def test_every_module_is_found():
    names = module_names()
    for expected in ("tb_imbalance", "tb_imbalance.log", "tb_imbalance.keras", "tb_imbalance.keras.metrics",
                     "tb_imbalance.plugin.backend", "tb_imbalance.summary"):
        assert expected in names
    assert set(KNOWN_FAILURES) <= set(names), "KNOWN_FAILURES names a module that no longer exists"


BACKEND = os.environ.get("KERAS_BACKEND") or "tensorflow"


@pytest.mark.skipif(BACKEND == "tensorflow", reason="tests/test_doctests.py runs every module in the TensorFlow environment")
@pytest.mark.parametrize("name", cases(n for n in module_names() if n not in NEEDS_TENSORFLOW))
def test_doctests(name, tmp_path, monkeypatch):
    run_doctests(name, tmp_path, monkeypatch)

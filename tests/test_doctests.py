"""Docstring examples run as doctests: every module of tb_imbalance, in the TensorFlow environment.

The runner, the module list and the known failures live in
``tests/any_backend/test_doctests.py``, which runs the same examples (less
the TensorFlow-only modules) on Keras' JAX and PyTorch backends. Here every
module must import: the main environment has every optional dependency.
"""

import pytest

from any_backend.test_doctests import cases, module_names, run_doctests


@pytest.mark.parametrize("name", cases(module_names()))
def test_doctests(name, tmp_path, monkeypatch):
    run_doctests(name, tmp_path, monkeypatch)

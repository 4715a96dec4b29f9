"""The environment this folder runs in is the one it claims (see conftest.py).

Runs in .venv (KERAS_BACKEND unset: TensorFlow), .venv-jax and .venv-torch.
"""

import os
import sys

import keras
import numpy as np
import pytest

EXPECTED = os.environ.get("KERAS_BACKEND") or "tensorflow"


def test_keras_runs_on_the_requested_backend():
    assert keras.backend.backend() == EXPECTED
    # A real op on that backend: the result is the backend's own tensor type.
    total = keras.ops.sum(keras.ops.convert_to_tensor(np.arange(4, dtype="int32")))
    assert int(keras.ops.convert_to_numpy(total)) == 6
    module = type(total).__module__.split(".")[0]
    assert module in {"tensorflow": ("tensorflow",), "jax": ("jax", "jaxlib"), "torch": ("torch",)}[EXPECTED], module


def test_tensorflow_is_absent_outside_the_tensorflow_environment():
    if EXPECTED == "tensorflow":
        assert "tensorflow" in sys.modules  # Keras on TensorFlow imported it
        return
    assert "tensorflow" not in sys.modules
    import importlib.util

    assert importlib.util.find_spec("tensorflow") is None, "tensorflow is installed in the no-TensorFlow environment"


def test_the_tf_summary_mirror_without_tensorflow_names_the_alternative():
    if EXPECTED == "tensorflow":
        pytest.skip("TensorFlow is installed here: tb_imbalance.summary imports (tests/test_summary.py)")
    with pytest.raises(ModuleNotFoundError, match=r"needs TensorFlow .*tb_imbalance\[tensorflow\].*log_report") as raised:
        import tb_imbalance.summary  # noqa: F401
    assert raised.value.name == "tensorflow"
    assert "tensorflow" not in sys.modules

"""``jit_compile=True`` on PyTorch: the metrics compile without Dynamo warnings.

Keras compiles the train and test steps with ``torch.compile``, so Dynamo
traces the metrics' ``update_state``. A helper wrapped in
``functools.lru_cache`` (``_dtype_name`` in ``tb_imbalance/keras/metrics.py``)
makes Dynamo warn three times ("Dynamo detected a call to a
``functools.lru_cache``-wrapped function"); a plain dict cache traces
silently and gives the same numbers. The values are checked against
scikit-learn either way.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

pytestmark = pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND") != "torch", reason="torch.compile runs on Keras' PyTorch backend only"
)


@pytest.mark.slow
def test_jit_compile_on_torch_prints_no_dynamo_warning():
    import keras

    from tb_imbalance.keras import BalancedAccuracy, MacroF1

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = rng.integers(0, 4, 256)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
    model.compile(
        "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[BalancedAccuracy(4), MacroF1(4)], jit_compile=True,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, validation_data=(x, y), epochs=1, batch_size=64, verbose=0)
    predicted = np.asarray(model.predict(x, verbose=0)).argmax(1)
    assert history.history["val_balanced_accuracy"][-1] == pytest.approx(balanced_accuracy_score(y, predicted), abs=1e-6)
    dynamo = [str(w.message) for w in caught if "Dynamo" in str(w.message) or "dynamo" in str(w.filename)]
    assert dynamo == [], dynamo

"""Several JAX devices (``keras.distribution.DataParallel``): the callback's numbers and its own predictions.

JAX shows several CPU devices only when ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` is set
before it starts, so each case runs in a fresh Python process (JAX backend only). Checked: a fit whose
validation batches are shared out over 3 devices logs scikit-learn's matrix; the callback's own
``validation_data`` / ``examples`` in batches 3 devices cannot share out evenly are refused before
training (JAX raised ``IndivisibleError`` after the first epoch had trained), and the batch size the
refusal names works. A JAX array spread over several processes is refused by the writers, naming the fix.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from tb_imbalance import tensors

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax", reason="keras.distribution runs on JAX")

_SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile
    import jax, keras, numpy as np
    from sklearn.metrics import confusion_matrix
    sys.path.insert(0, "tests")
    from logdir_reader import matrices
    from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback

    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
    rng = np.random.default_rng(0)
    y = rng.choice(3, 900, p=[0.6, 0.3, 0.1])
    x = (rng.normal(size=(900, 8)) + 1.5 * np.eye(3, 8)[y]).astype("float32")
    out = {"devices": len(jax.devices())}
    for case, kwargs in json.loads(sys.argv[1]).items():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
        trained, log_dir = [], tempfile.mkdtemp()
        count = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: trained.append(batch))
        rows = kwargs.pop("rows", 300)
        own = {key: (x[600:600 + rows], y[600:600 + rows]) for key in kwargs.pop("own", [])}
        try:
            model.fit(x[:600], y[:600], validation_data=(x[600:], y[600:]), epochs=2, batch_size=30, verbose=0,
                      callbacks=[count, ClassificationReportCallback(log_dir, verbose=0, **own, **kwargs)])
        except ValueError as error:
            out[case] = {"error": str(error), "trained": len(trained)}
            continue
        logged = matrices(log_dir)["validation_imbalance"][1]
        end = 600 + (min(rows, kwargs.get("validation_steps", rows) * kwargs.get("batch_size", 256)) if own else 300)
        expected = confusion_matrix(y[600:end], model.predict(x[600:end], batch_size=30, verbose=0).argmax(1), labels=range(3))
        out[case] = {"logged": logged.tolist(), "expected": expected.tolist()}
    print(json.dumps(out))
    """
)


def _run(cases: dict, devices: int, scratch) -> dict:
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}", "KERAS_BACKEND": "jax",
           "TMPDIR": str(scratch)}  # the runs' log directories land in the test's temporary directory
    completed = subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps(cases)], env=env, capture_output=True,
                               text=True, timeout=600, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_data_parallel_validation_is_counted_once_and_own_predictions_need_batches_the_devices_share(tmp_path):
    out = _run({
        "compiled metric": {},
        "own validation_data, batch_size 256": {"own": ["validation_data"]},
        "examples, batch_size 256": {"own": ["examples"]},
        "own validation_data, batch_size 255": {"own": ["validation_data"], "batch_size": 255},
        "99 rows in one batch": {"own": ["validation_data"], "rows": 99},
        "100 rows in one batch": {"own": ["validation_data"], "rows": 100},
        "validation_steps=1 of 255": {"own": ["validation_data"], "batch_size": 255, "validation_steps": 1},
        "validation_steps=1 of 256": {"own": ["validation_data"], "validation_steps": 1},
        "2 rows": {"own": ["examples"], "rows": 2},
    }, devices=3, scratch=tmp_path)
    assert out["devices"] == 3
    for case, rows in (("compiled metric", 300), ("own validation_data, batch_size 255", 300),
                       ("99 rows in one batch", 99), ("validation_steps=1 of 255", 255)):
        assert out[case].get("logged") == out[case].get("expected"), (case, out[case])
        assert sum(map(sum, out[case]["logged"])) == rows
    for case, argument in (("own validation_data, batch_size 256", "validation_data"), ("examples, batch_size 256", "examples")):
        refused = out[case]
        assert refused["trained"] == 0, case  # before training, not after an epoch
        assert refused["error"] == (
            f"`{argument}` (300 rows) is predicted in batches of `batch_size=256`, the last of 44 rows, which "
            "keras.distribution shares out over 3 devices: every batch must hold a multiple of 3 rows (JAX raises "
            "IndivisibleError otherwise); pass batch_size=255 to ClassificationReportCallback"
        )
    assert out["100 rows in one batch"]["error"] == (
        "`validation_data` (100 rows) is predicted in one batch, which keras.distribution shares out over 3 devices: "
        "it must hold a multiple of 3 rows (JAX raises IndivisibleError otherwise); trim its rows to a multiple of 3, x[:99]"
    )
    assert out["validation_steps=1 of 256"]["error"].startswith(
        "`validation_data` (256 rows, the validation_steps batches read) is predicted in one batch")
    assert out["validation_steps=1 of 256"]["error"].endswith("; pass batch_size=255 to ClassificationReportCallback")
    assert out["2 rows"]["error"].endswith("; give it at least 3 rows (one per device)")


def test_a_jax_array_spread_over_processes_is_refused_naming_the_gather():
    class ArrayImpl:  # what jax.Array of a multi-process mesh reports to the process holding part of it
        __module__ = "jax._src.array"
        is_fully_addressable, is_fully_replicated = False, False

        def is_deleted(self):
            return False

        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("Fetching value for `jax.Array` that spans non-addressable (non process local) devices")

    with pytest.raises(TypeError, match=r"`labels` is a JAX array spread over several processes .*process_allgather"):
        tensors.to_numpy(ArrayImpl(), "labels")
    replicated = ArrayImpl()
    replicated.is_fully_replicated = True
    replicated.__class__.__array__ = lambda self, dtype=None, copy=None: np.arange(3)
    np.testing.assert_array_equal(tensors.to_numpy(replicated, "labels"), [0, 1, 2])  # every process holds it all

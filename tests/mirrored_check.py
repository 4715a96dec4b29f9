"""Fit under MirroredStrategy on 2 logical CPUs and print the logged matrices as JSON.

Run as a script (logical devices must be configured before TensorFlow starts):
``python mirrored_check.py LOGDIR``. Prints ``{"replicas": n, "mirrored": [[...]],
"single": [[...]], "batches": [[...]], "predicted": [[...]], "logs": {...}, "evaluate": {...},
"sklearn": {...}, "outside_scope": "..."}``: the matrix logged by the callback under the
strategy, the one logged without it from the same weights and data, the one the callback predicted itself under the strategy from a
``tf.data.Dataset`` of the validation set, scikit-learn's matrix of ``model.predict`` on one
device, the metrics' values in fit's logs and evaluate() under the strategy
next to scikit-learn's, and the error of a fit whose metric was created outside the
strategy's scope (``"outside_scope"``), and each replica's copy of each variable of a metric
before and after its ``reset_state()`` (``"reset"``).
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score  # noqa: E402

from logdir_reader import matrices  # noqa: E402
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroF1  # noqa: E402

CLASSES = 5


def build(metrics=None):
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(12, activation="relu"), keras.layers.Dense(CLASSES, activation="softmax")])
    # learning rate 0: both fits validate exactly the same weights
    model.compile(keras.optimizers.SGD(learning_rate=0.0), "sparse_categorical_crossentropy",
                  metrics=metrics or [BalancedAccuracy(CLASSES), MacroF1(CLASSES)])
    return model


def replica_totals(metric):
    """Per variable of ``metric``, the sum of each replica's copy."""
    return [[int(np.sum(np.abs(copy.numpy()))) for copy in variable.value.values] for variable in metric.variables]


def main(logdir):
    rng = np.random.default_rng(3)
    prior = 0.5 ** np.arange(CLASSES)
    y = rng.choice(CLASSES, 700, p=prior / prior.sum())
    x = rng.normal(size=(700, 6)).astype("float32") + np.eye(CLASSES, 6)[y]
    x_val, y_val = x[500:], y[500:]
    keras.utils.set_random_seed(0)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        compiled = [BalancedAccuracy(CLASSES), MacroF1(CLASSES)]
        mirrored = build(compiled)
    weights = mirrored.get_weights()
    history = mirrored.fit(x[:500], y[:500], validation_data=(x_val, y_val), batch_size=64, epochs=1, verbose=0,
                           callbacks=[ClassificationReportCallback(os.path.join(logdir, "mirrored"), verbose=0)])
    evaluated = mirrored.evaluate(x_val, y_val, batch_size=64, verbose=0, return_dict=True)
    held = replica_totals(compiled[0])  # the validation rows, until the next reset
    compiled[0].reset_state()  # eagerly, outside the scope, as Keras resets between passes
    reset = {"held": held, "after": replica_totals(compiled[0])}
    # the callback's own validation_data as batches (the last of 8 rows), predicted under the strategy
    batches = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(64)
    mirrored.fit(x[:500], y[:500], batch_size=64, epochs=1, verbose=0, callbacks=[
        ClassificationReportCallback(os.path.join(logdir, "batches"), validation_data=batches, verbose=0)])
    outside = BalancedAccuracy(CLASSES)  # created outside the strategy's scope, compiled inside it
    with strategy.scope():
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(CLASSES, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=[outside])
    try:
        model.fit(x[:64], y[:64], batch_size=32, epochs=1, verbose=0)
        refused = None
    except Exception as error:  # noqa: BLE001 - the test reads which error it was
        refused = f"{type(error).__name__}: {error}"
    cross_replica = BalancedAccuracy(CLASSES)  # outside the scope, updated once in its cross-replica context
    with strategy.scope():
        cross_replica.update_state(y_val, mirrored.predict(x_val, verbose=0))
    single = build()
    single.set_weights(weights)
    single.fit(x[:500], y[:500], validation_data=(x_val, y_val), batch_size=64, epochs=1, verbose=0,
               callbacks=[ClassificationReportCallback(os.path.join(logdir, "single"), verbose=0)])
    classes = single.predict(x_val, verbose=0).argmax(1)
    predicted = confusion_matrix(y_val, classes, labels=range(CLASSES))
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "mirrored": matrices(os.path.join(logdir, "mirrored"))["validation_imbalance"][0].tolist(),
        "single": matrices(os.path.join(logdir, "single"))["validation_imbalance"][0].tolist(),
        "batches": matrices(os.path.join(logdir, "batches"))["validation_imbalance"][0].tolist(),
        "predicted": predicted.tolist(),
        "outside_scope": refused,
        "cross_replica": float(cross_replica.result()),
        "reset": reset,
        "logs": {name: history.history[f"val_{name}"][0] for name in ("balanced_accuracy", "macro_f1")},
        "evaluate": {name: evaluated[name] for name in ("balanced_accuracy", "macro_f1")},
        "sklearn": {"balanced_accuracy": balanced_accuracy_score(y_val, classes),
                    "macro_f1": f1_score(y_val, classes, average="macro", labels=range(CLASSES), zero_division=0)},
    }))


if __name__ == "__main__":
    main(sys.argv[1])

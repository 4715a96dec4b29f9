"""One worker of a two-worker ``MultiWorkerMirroredStrategy`` on localhost CPUs; prints what it saw as JSON.

Run as a script, once per worker, at the same time: ``python multi_worker_check.py INDEX PORTS LOGDIR``
(``PORTS``: the two workers' ports as JSON, ``[p0, p1]``). Each worker

* streams the whole validation set through ``BalancedAccuracy`` and ``MacroF1`` with ``strategy.run``
  (each worker counts its share of every batch) and reads ``result()`` and the matrix outside the replicas;
* fits with ``ClassificationReportCallback(LOGDIR)``, reading the compiled metric.

Prints ``{"index", "sklearn": {...}, "matrix", "results": {...}, "fit_logs": {...}, "seconds"}``.

Keras 3's ``model.fit`` under ``MultiWorkerMirroredStrategy`` reduces the first batch and each step's logs
with an op that refuses the workers' values (keras-team/keras#20585); :func:`_patch_keras_fit` replaces
those two reductions for this script, so that the callback can be exercised.
"""

import json
import os
import sys
import time

INDEX, PORTS, LOGDIR = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"localhost:{port}" for port in PORTS]},
                                      "task": {"type": "worker", "index": INDEX}})
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score  # noqa: E402

from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroF1  # noqa: E402

CLASSES = 4


def _patch_keras_fit():
    from keras import tree
    from keras.src.backend.tensorflow import trainer

    def first_replica(value, strategy):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        if self._distribute_strategy is None:
            return
        if iterator is not None:
            for _, _, it in iterator:
                data_batch = tree.map_structure(lambda v: first_replica(v, self.distribute_strategy), next(it))
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    reduce = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return reduce(values, strategy, reduction)

    trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    trainer.reduce_per_replica = reduce_per_replica


def main():
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    rng = np.random.default_rng(5)
    prior = 0.5 ** np.arange(CLASSES)
    y = rng.choice(CLASSES, 330, p=prior / prior.sum())
    x = (rng.normal(size=(330, 6)) + 1.5 * np.eye(CLASSES, 6)[y]).astype("float32")
    x_val, y_val = x[200:], y[200:]
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(CLASSES, activation="softmax")])
        model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy",
                      metrics=[BalancedAccuracy(CLASSES), MacroF1(CLASSES)])
        streamed = [BalancedAccuracy(CLASSES), MacroF1(CLASSES)]
    scores = model.predict(x_val, batch_size=32, verbose=0)  # learning rate 0: the weights fit validates
    predicted = scores.argmax(1)

    # 1. the metrics alone: every worker counts its share of each batch
    batches = tf.data.Dataset.from_tensor_slices((y_val, scores)).batch(20)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    for labels, batch_scores in strategy.experimental_distribute_dataset(batches.with_options(options)):
        for metric in streamed:
            strategy.run(metric.update_state, args=(labels, batch_scores))
    results = {metric.name: float(metric.result()) for metric in streamed}

    # 2. fit with the callback reading the compiled metric
    _patch_keras_fit()
    start = time.time()
    history = model.fit(x[:200], y[:200], validation_data=(x_val, y_val), batch_size=32, epochs=1, verbose=0,
                        callbacks=[ClassificationReportCallback(LOGDIR, verbose=0)])
    print(json.dumps({
        "index": INDEX,
        "seconds": time.time() - start,
        "sklearn": {"balanced_accuracy": balanced_accuracy_score(y_val, predicted),
                    "macro_f1": f1_score(y_val, predicted, average="macro", labels=range(CLASSES), zero_division=0),
                    "matrix": confusion_matrix(y_val, predicted, labels=range(CLASSES)).tolist()},
        "matrix": streamed[0].confusion_matrix().tolist(),
        "results": results,
        "fit_logs": {name: history.history[f"val_{name}"][0] for name in ("balanced_accuracy", "macro_f1")},
    }), flush=True)


if __name__ == "__main__":
    main()

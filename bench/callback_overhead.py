"""Overhead of ClassificationReportCallback on ``model.fit``, as ratios.

Every fit trains the same model on the same data from the same seed, with
validation, in this one process. Each comparison is a phase of its own: a
pair of variants, one warm-up fit each, then ``--repeats`` rounds in
alternating order. Printed per comparison: the median (and interquartile
range) over rounds of the ratio of the two fits of a round — neighbours in
time share the machine's state, which on a shared machine drifts by ±15 % —
and the same paired ratio of process CPU time (all threads).

Variants:

* ``plain``         — ``fit`` with validation, ``metrics=["accuracy"]``;
* ``metric``        — plain + the streaming ``BalancedAccuracy`` metric;
* ``tb_imbalance``  — metric + ``ClassificationReportCallback`` with all
  outputs (matrix, per-class and headline scalars, picture), reading the
  metric's validation matrix (no extra forward pass);
* ``extra_metric``  — plain + a second Keras ``SparseCategoricalAccuracy``,
  to show what any additional compiled metric costs on this small model;
* ``keras_tb``      — plain + Keras' own ``keras.callbacks.TensorBoard``;
* ``recipe``        — plain + the usual hand-written recipe: re-predict the
  validation set every epoch, scikit-learn report, a matplotlib figure with
  per-cell labels logged as an image, per-class scalars.

Comparisons: the callback's logging (``tb_imbalance`` vs ``metric``), the
whole feature (``tb_imbalance`` vs ``plain``), and the context variants vs
``plain``. Ours run first, before the recipe imports matplotlib.

Data: scikit-learn's digits, class k keeps 0.6**k of its samples (a long
tail), split 80/20 per class, each part tiled to ~14.6k train / ~3.6k
validation rows. Model: MLP 64→256→256→10 (ReLU, softmax), batch 256,
5 epochs.

Run: ``.venv/bin/python bench/callback_overhead.py`` (``--no-context`` for
the first two comparisons only, ``--repeats N``).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import tb_imbalance.keras as tbk  # noqa: E402

SEED = 0
CLASSES = 10


def long_tail_digits(train_rows: int = 14_600, val_rows: int = 3_600):
    """Digits subsampled to a 0.6**k long tail, split 80/20 per class, tiled."""
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    rng = np.random.default_rng(SEED)
    train_idx, val_idx = [], []
    for k in range(CLASSES):
        members = rng.permutation(np.flatnonzero(y == k))
        keep = members[: max(2, int(round(len(members) * 0.6**k)))]
        cut = max(1, int(round(len(keep) * 0.8)))
        train_idx.extend(keep[:cut])
        val_idx.extend(keep[cut:])
    def tiled(idx, rows):
        idx = np.array(idx)
        reps = int(np.ceil(rows / len(idx)))
        idx = rng.permutation(np.tile(idx, reps))[:rows]
        return x[idx], y[idx]
    return tiled(train_idx, train_rows), tiled(val_idx, val_rows)


def build_model(metrics):
    keras.backend.clear_session()  # every fit starts from the same, empty state
    keras.utils.set_random_seed(SEED)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=metrics)
    return model


class RecipeCallback(keras.callbacks.Callback):
    """TensorFlow's image-summary confusion-matrix recipe, as users write it."""

    def __init__(self, log_dir, x_val, y_val, class_names):
        super().__init__()
        self.writer = tf.summary.create_file_writer(os.path.join(log_dir, "cm"))
        self.x_val, self.y_val, self.class_names = x_val, y_val, class_names

    def on_epoch_end(self, epoch, logs=None):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from sklearn.metrics import classification_report, confusion_matrix

        pred = np.argmax(self.model.predict(self.x_val, verbose=0), axis=1)
        cm = confusion_matrix(self.y_val, pred, labels=range(CLASSES))
        report = classification_report(
            self.y_val, pred, labels=range(CLASSES), output_dict=True, zero_division=0
        )
        share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        figure = plt.figure(figsize=(8, 8))
        plt.imshow(share, cmap=plt.cm.Blues)
        plt.xticks(range(CLASSES), self.class_names, rotation=45)
        plt.yticks(range(CLASSES), self.class_names)
        for i in range(CLASSES):
            for j in range(CLASSES):
                plt.text(j, i, f"{cm[i, j]}\n{share[i, j]:.0%}", ha="center", va="center")
        buffer = io.BytesIO()
        plt.savefig(buffer, format="png")
        plt.close(figure)
        image = tf.expand_dims(tf.image.decode_png(buffer.getvalue(), channels=4), 0)
        with self.writer.as_default():
            tf.summary.image("confusion_matrix", image, step=epoch)
            for k, name in enumerate(self.class_names):
                for metric in ("precision", "recall", "f1-score"):
                    tf.summary.scalar(f"{metric}/{name}", report[str(k)][metric], step=epoch)
        self.writer.flush()


def run_variant(variant, data, epochs, log_root):
    (x_train, y_train), (x_val, y_val) = data
    names = [f"digit {k}" for k in range(CLASSES)]
    metrics = ["accuracy"]
    callbacks = []
    log_dir = tempfile.mkdtemp(dir=log_root)
    if variant in ("metric", "tb_imbalance"):
        metrics.append(tbk.BalancedAccuracy(CLASSES))
    if variant == "tb_imbalance":
        callbacks.append(tbk.ClassificationReportCallback(log_dir, class_names=names, verbose=0))
    elif variant == "extra_metric":
        metrics.append(keras.metrics.SparseCategoricalAccuracy(name="accuracy_2"))
    elif variant == "keras_tb":
        callbacks.append(keras.callbacks.TensorBoard(log_dir))
    elif variant == "recipe":
        callbacks.append(RecipeCallback(log_dir, x_val, y_val, names))
    model = build_model(metrics)
    start, cpu_start = time.perf_counter(), time.process_time()
    model.fit(
        x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
        batch_size=256, verbose=0, callbacks=callbacks,
    )
    return time.perf_counter() - start, time.process_time() - cpu_start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-context", action="store_true", help="skip extra_metric, keras_tb and recipe")
    args = parser.parse_args(argv)

    data = long_tail_digits()
    counts = np.bincount(data[0][1], minlength=CLASSES)
    print(f"train rows {len(data[0][1])}, validation rows {len(data[1][1])}, "
          f"train class counts {counts.tolist()}")
    comparisons = [("metric", "tb_imbalance"), ("plain", "tb_imbalance")]
    if not args.no_context:
        comparisons += [("plain", "extra_metric"), ("plain", "keras_tb"), ("plain", "recipe")]
    results = []
    with tempfile.TemporaryDirectory() as log_root:
        for base, variant in comparisons:
            pair = [base, variant]
            for name in pair:  # warm-up: imports, first tracing
                run_variant(name, data, 1, log_root)
            wall = {name: [] for name in pair}
            cpu = {name: [] for name in pair}
            for round_index in range(args.repeats):
                for name in pair if round_index % 2 == 0 else pair[::-1]:
                    seconds, cpu_seconds = run_variant(name, data, args.epochs, log_root)
                    wall[name].append(seconds)
                    cpu[name].append(cpu_seconds)
                    print(f"{variant} vs {base}, round {round_index + 1}: {name:13s} {seconds:6.2f} s wall, "
                          f"{cpu_seconds:6.2f} s CPU", flush=True)
            ratios = sorted(w / b for w, b in zip(wall[variant], wall[base]))
            cpu_ratio = statistics.median(c / b for c, b in zip(cpu[variant], cpu[base]))
            results.append((variant, base, statistics.median(wall[variant]), statistics.median(wall[base]),
                            statistics.median(ratios), ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4], cpu_ratio))
    print(f"\n{args.repeats} rounds per comparison, {args.epochs} epochs per fit, all with validation; "
          "ratio = median over rounds of fit time / fit time of the same round (interquartile range):")
    for variant, base, median, base_median, ratio, low, high, cpu_ratio in results:
        print(f"  {variant:13s} / {base:7s} {median:5.2f} s / {base_median:5.2f} s   ratio {ratio:.3f}x "
              f"(IQR {low:.3f}-{high:.3f})   CPU-time ratio {cpu_ratio:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

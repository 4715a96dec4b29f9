"""Logging a 1000-class problem: per-epoch cost, bytes on disk, dashboard latency.

A real ``fit``: 1000 classes, an MLP 64→256→1000 trained on 20,000 rows and
validated on 50,000 rows (long-tailed class frequencies, features that make
classes partly separable) for 20 epochs, compiled with ``BalancedAccuracy``
so the callback reads the validation matrix without predicting again. Printed:

* the per-epoch cost of ``ClassificationReportCallback.on_epoch_end`` (reading
  the metric, report maths, 3000 per-class scalars, the picture, writing and
  flushing): median and max over the epochs;
* the same epoch's validation pass time with and without the streaming
  metric, for context;
* bytes written per logged step (event file / steps), and the size of the
  stored matrix tensor next to the dense int64 matrix it replaces;
* the size of the logdir;
* the ``report`` latency for that run through the real ``tensorboard``
  server (median / p95).

Run: ``.venv/bin/python bench/many_classes.py`` (``--epochs``, ``--keep DIR``).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

import support  # noqa: E402
from plugin_latency import measure_report_latency  # noqa: E402

from tb_imbalance import format as fmt  # noqa: E402
from tb_imbalance.events import report_values  # noqa: E402
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback  # noqa: E402

CLASSES = 1000
FEATURES = 64


def make_data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Long-tailed labels (Zipf-like) and noisy class prototypes as features."""
    rng = np.random.default_rng(seed)
    prior = 1.0 / np.arange(1, CLASSES + 1) ** 0.8
    labels = rng.choice(CLASSES, rows, p=prior / prior.sum())
    prototypes = np.random.default_rng(0).normal(size=(CLASSES, FEATURES)).astype("float32")
    features = prototypes[labels] + rng.normal(scale=1.2, size=(rows, FEATURES)).astype("float32")
    return features, labels


class TimedReport(ClassificationReportCallback):
    """The callback, timing its own epoch-end work."""

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.seconds: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        super().on_epoch_end(epoch, logs)
        self.seconds.append(time.perf_counter() - start)


class ValidationTimer(keras.callbacks.Callback):
    """Wall time of each epoch's validation pass."""

    def on_train_begin(self, logs=None):
        self.seconds: list[float] = []

    def on_test_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_test_end(self, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def build(metrics) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((FEATURES,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=metrics)
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--val-rows", type=int, default=50_000)
    parser.add_argument("--keep", help="write the logdir here instead of a temporary folder")
    args = parser.parse_args(argv)

    x, y = make_data(args.train_rows, seed=1)
    x_val, y_val = make_data(args.val_rows, seed=2)
    names = [f"class_{k:04d}" for k in range(CLASSES)]
    root = pathlib.Path(args.keep or tempfile.mkdtemp(prefix="many_classes_"))
    log_dir = root / "wide"

    plain_validation = ValidationTimer()
    build(["accuracy"]).fit(x, y, validation_data=(x_val, y_val), epochs=3, batch_size=256, verbose=0, callbacks=[plain_validation])

    report = TimedReport(log_dir, class_names=names, verbose=0)
    validation = ValidationTimer()
    model = build(["accuracy", BalancedAccuracy(CLASSES)])
    history = model.fit(
        x, y, validation_data=(x_val, y_val), epochs=args.epochs, batch_size=256, verbose=0,
        callbacks=[validation, report],
    )

    run_dir = log_dir / "validation_imbalance"
    event_bytes = sum(f.stat().st_size for f in run_dir.iterdir())
    logdir_bytes = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    last = report._metric.confusion_matrix()
    matrix_bytes = fmt.encode_matrix(last).nbytes
    step_values = report_values("confusion_matrix", last, names, image=report._renderer)
    step_bytes = sum(v.ByteSize() for v in step_values)

    print(f"1000 classes, {args.train_rows} train / {args.val_rows} validation rows, {args.epochs} epochs, "
          f"final val balanced accuracy {history.history['val_balanced_accuracy'][-1]:.3f}")
    later = report.seconds[1:] or report.seconds
    print(f"callback cost per epoch: median {statistics.median(later) * 1e3:.0f} ms, "
          f"max {max(later) * 1e3:.0f} ms, first epoch {report.seconds[0] * 1e3:.0f} ms (target <= 500 ms)")
    print(f"validation pass: {statistics.median(validation.seconds[1:]) * 1e3:.0f} ms with BalancedAccuracy, "
          f"{statistics.median(plain_validation.seconds[1:]) * 1e3:.0f} ms without")
    print(f"bytes per step: {event_bytes / args.epochs / 1e3:.0f} kB in the event file "
          f"(summary {step_bytes / 1e3:.0f} kB; matrix tensor {matrix_bytes / 1e3:.0f} kB "
          f"as {fmt.encoding_for(CLASSES)} vs {CLASSES * CLASSES * 8 / 1e6:.0f} MB dense int64)")
    print(f"logdir size: {logdir_bytes / 1e6:.1f} MB ({root})")

    with support.tensorboard_server(root, load_fast=True) as base_url:
        figures = measure_report_latency(base_url, run="wide/validation_imbalance", tag="confusion_matrix", requests=30)
    print(f"report latency (real server, --load_fast=true): median {figures['median_ms']:.0f} ms, "
          f"p95 {figures['p95_ms']:.0f} ms, first {figures['first_ms']:.0f} ms, "
          f"{figures['available_steps']} steps, {figures['response_bytes'] / 1e3:.0f} kB per response")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What ClassificationReportCallback costs the training thread at an epoch's end, per Keras backend.

Run once per backend, each in its own environment (``--backend`` sets
``KERAS_BACKEND`` before Keras is imported)::

    .venv/bin/python bench/epoch_end.py --backend tensorflow
    .venv-jax/bin/python bench/epoch_end.py --backend jax
    .venv-torch/bin/python bench/epoch_end.py --backend torch

``--quick`` is a smoke run (a few epochs, figures meaningless).

Method. A softmax classifier (``Input(32) → Dense(C)``) is fitted with the
streaming ``BalancedAccuracy(C)`` metric and the callback reading it (all
outputs at their defaults: matrix, headline scalars, per-class scalars up to
100 classes, picture), at C = 10 and C = 1000 classes. The
callback's hooks that run on the training thread — ``on_test_end`` (the
metric's counts are read when fit's validation pass ends) and
``on_epoch_end`` (the step is handed to the background writer) — are timed
with ``time.perf_counter`` around the call; figures are medians over epochs
2…E (the first epoch holds tracing and the picture's static parts). The
same fit with ``background=False`` (everything on the training thread, as
before the background writer) is the comparison. The background writer's
own CPU time per step (report, picture, event, flush; ``time.thread_time``)
is measured too.

Then the picture alone: :meth:`ConfusionMatrixImage.draw` and
:meth:`PngCanvas.encode` on long-tailed matrices at 10 classes (every cell
annotated) and at 1000 classes (the 30 most-confused classes), median over
repeated draws of changing matrices (every row changes); then draw and
encode together when one cell changes between draws (one row redrawn) and
when the matrix does not change (nothing redrawn or compressed), as late in
a training whose validation predictions have settled.

Targets: training thread ≤ 2 ms median at 10 classes and ≤ 20 ms at 1000;
drawing ≤ 3 ms at 10 classes and ≤ 10 ms at 1000.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import harness  # noqa: E402

SEED = 0


def long_tail_matrix(rng: np.random.Generator, classes: int, rows: int) -> np.ndarray:
    """A confusion matrix of ``rows`` validation rows over a 0.97**k long tail, 70 % correct."""
    prior = 0.97 ** np.arange(classes)
    truth = rng.choice(classes, rows, p=prior / prior.sum())
    wrong = rng.random(rows) < 0.3
    predicted = np.where(wrong, rng.choice(classes, rows, p=prior / prior.sum()), truth)
    return np.bincount(truth * classes + predicted, minlength=classes * classes).reshape(classes, classes)


def timed_fit(keras: Any, tbk: Any, classes: int, *, background: bool, epochs: int, rows: int) -> dict[str, float]:
    """Fit once; return the medians (ms) of the callback's training-thread time and its writer's time."""
    rng = np.random.default_rng(SEED)
    y = rng.integers(0, classes, rows * 2)
    x = rng.normal(size=(rows * 2, 32)).astype("float32")
    x[np.arange(len(y)), y % 32] += 2.0
    keras.utils.set_random_seed(SEED)
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(classes, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[tbk.BalancedAccuracy(classes)])
    thread_ms: list[float] = []
    writer_seconds: list[float] = []  # each step's writing CPU time, appended by harness.time_writer_steps

    harness.time_writer_steps()

    class Timed(tbk.ClassificationReportCallback):
        writer_cpu = writer_seconds

        def on_epoch_begin(self, epoch, logs=None):
            self._spent = 0.0
            super().on_epoch_begin(epoch, logs)

        def on_test_end(self, logs=None):
            start = time.perf_counter()
            super().on_test_end(logs)
            self._spent += time.perf_counter() - start

        def on_epoch_end(self, epoch, logs=None):
            start = time.perf_counter()
            super().on_epoch_end(epoch, logs)
            thread_ms.append((self._spent + time.perf_counter() - start) * 1e3)

    with tempfile.TemporaryDirectory() as log_dir:
        callback = Timed(log_dir, verbose=0, background=background)
        model.fit(x[:rows], y[:rows], validation_data=(x[rows:], y[rows:]), epochs=epochs, batch_size=256,
                  verbose=0, callbacks=[callback])
    later = slice(1, None) if epochs > 1 else slice(None)
    return {"thread": statistics.median(thread_ms[later]), "writer": statistics.median(writer_seconds[later]) * 1e3}


def picture_costs(classes: int, draws: int) -> tuple[float, float, float, float]:
    """Medians (ms) of drawing and of PNG-encoding changing matrices of ``classes`` classes, then of
    both together when one cell changes between draws and when nothing changes."""
    from tb_imbalance.image import ConfusionMatrixImage, most_confused_classes

    rng = np.random.default_rng(SEED)
    renderer = ConfusionMatrixImage([f"class {k}" for k in range(classes)])
    matrices = [long_tail_matrix(rng, classes, 20 * classes) for _ in range(draws + 1)]
    renderer.draw(matrices[0])  # static parts and glyphs, once
    draw, encode = [], []
    for cm in matrices[1:]:
        start = time.perf_counter()
        canvas = renderer.draw(cm)
        middle = time.perf_counter()
        canvas.encode()
        draw.append((middle - start) * 1e3)
        encode.append((time.perf_counter() - middle) * 1e3)
    one_cell, unchanged = [], []
    cm = matrices[-1].copy()
    drawn = most_confused_classes(cm, renderer.subset_size)[:10]  # classes the picture shows, at 1000 too
    for k in range(draws):
        for times in (one_cell, unchanged):
            if times is one_cell:
                cm[drawn[k % len(drawn)], drawn[k % len(drawn)]] += 1
            start = time.perf_counter()
            renderer.draw(cm).encode()
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(draw), statistics.median(encode), statistics.median(one_cell), statistics.median(unchanged)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=harness.BACKENDS, required=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 epochs, figures meaningless")
    args = parser.parse_args(argv)
    keras = harness.select_backend(args.backend)
    import tb_imbalance.keras as tbk

    epochs = 3 if args.quick else args.epochs
    print(f"backend {args.backend}, Keras {keras.__version__}, {epochs} epochs per fit", flush=True)
    print(f"{'':44s} {'10 classes':>12s} {'1000 classes':>13s}")
    results = {}
    for background in (True, False):
        for classes, rows in ((10, 4096), (1000, 8192)):
            results[background, classes] = timed_fit(
                keras, tbk, classes, background=background, epochs=epochs, rows=rows // (8 if args.quick else 1)
            )
    for background, label in ((True, "on the training thread, background writer"),
                              (False, "on the training thread, background=False")):
        print(f"{label:44s} {results[background, 10]['thread']:9.2f} ms {results[background, 1000]['thread']:10.2f} ms")
    print(f"{'the background writer per step (its CPU time)':44s} {results[True, 10]['writer']:9.2f} ms "
          f"{results[True, 1000]['writer']:10.2f} ms")
    draws = 5 if args.quick else 60
    ten, thousand = picture_costs(10, draws), picture_costs(1000, draws // 3)
    for k, label in enumerate(("picture draw (1000: 30 most confused)", "picture PNG encode",
                               "picture, one cell changed (draw + PNG)", "picture, matrix unchanged (draw + PNG)")):
        print(f"{label:44s} {ten[k]:9.2f} ms {thousand[k]:10.2f} ms")
    harness.assert_no_tensorflow(args.backend)
    return 0


if __name__ == "__main__":
    sys.exit(main())

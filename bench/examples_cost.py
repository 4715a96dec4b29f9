"""Cost of ``ClassificationReportCallback(examples=...)`` with 5,000 picture rows per epoch.

Target: what ``examples=`` adds to an epoch is at most the predict pass over
its rows plus 50 ms. Run once per backend, each in its own environment::

    .venv/bin/python bench/examples_cost.py --backend tensorflow
    KERAS_BACKEND=jax   .venv-jax/bin/python   bench/examples_cost.py --backend jax
    KERAS_BACKEND=torch .venv-torch/bin/python bench/examples_cost.py --backend torch

Data: ``--rows`` (5,000) pictures of 28 × 28 float32 pixels in [0, 1], ten
classes drawn with a long tail, each picture a class-dependent stroke pattern
plus strong noise: the model gets about half of them wrong, so most of the 100
cells hold examples, and noisy PNGs are large (a worse case than real
digits). The model is a small MLP (Flatten, Dense 64, softmax 10), trained on
2,000 other rows.

Two measurements, both printed:

1. **Per epoch, by parts** (medians over ``--repeats`` repetitions, on the
   model after training): the predict pass over the examples rows as the
   callback runs it (``model.predict(x, batch_size=256)``), choosing and
   rendering the examples (:func:`tb_imbalance.examples.collect_examples`),
   and encoding and writing the extra summary value (one step of a
   ``ReportWriter`` with examples minus one without). The target figure is
   ``choose + render + write``, the cost beyond the predict pass.
2. **Whole fits, paired**: ``--rounds`` rounds of two fits of ``--epochs``
   epochs with the callback, with and without ``examples=``, in rotated order;
   per round the extra time per epoch, minus that round's own predict pass,
   over all epochs (the first one also traces ``predict`` for the new model,
   a one-time cost) and over epochs 2…E. Noisier (a fit's time drifts by a
   few percent), but it measures exactly what a user sees.

``--quick`` is a smoke run (500 rows, 2 rounds; figures meaningless).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

import numpy as np  # noqa: E402

CLASSES = 10


def make_pictures(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``[rows, 28, 28]`` pictures in [0, 1] and long-tailed labels."""
    rng = np.random.default_rng(seed)
    prior = 0.7 ** np.arange(CLASSES)
    labels = rng.choice(CLASSES, rows, p=prior / prior.sum())
    grid = np.linspace(0, 1, 28)
    patterns = np.stack([np.outer(np.sin((k + 1) * np.pi * grid), np.cos((k % 3 + 1) * np.pi * grid)) for k in range(CLASSES)])
    pictures = 0.5 + 0.08 * patterns[labels] + rng.normal(scale=0.3, size=(rows, 28, 28))
    return np.clip(pictures, 0, 1).astype(np.float32), labels


def median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=harness.BACKENDS, default=os.environ.get("KERAS_BACKEND") or "tensorflow")
    parser.add_argument("--rows", type=int, default=5000, help="rows of the examples set")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5, help="paired fit rounds")
    parser.add_argument("--repeats", type=int, default=9, help="repetitions per part")
    parser.add_argument("--quick", action="store_true", help="smoke run: figures meaningless")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.epochs, args.rounds, args.repeats = 500, 2, 2, 2

    keras = harness.select_backend(args.backend)
    import tb_imbalance
    from tb_imbalance.examples import collect_examples
    from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback
    from tb_imbalance.targets import close_directory_writers

    x_ex, y_ex = make_pictures(args.rows, seed=1)
    x_train, y_train = make_pictures(2000, seed=2)
    x_val, y_val = make_pictures(1000, seed=3)

    def new_model():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([
            keras.Input((28, 28)), keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"), keras.layers.Dense(CLASSES, activation="softmax"),
        ])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES)])
        return model

    model = new_model()
    model.fit(x_train, y_train, epochs=3, batch_size=64, verbose=0)
    print(f"backend {args.backend}, device {harness.describe_device(model)}, {args.rows} example rows of 28x28")

    # 1. per epoch, by parts
    predict = lambda: model.predict(x_ex, batch_size=256, verbose=0)  # noqa: E731
    predict()
    scores = predict()
    chosen = collect_examples(x_ex, y_ex, scores, num_classes=CLASSES)
    t_predict = median_seconds(predict, args.repeats)
    t_choose = median_seconds(lambda: collect_examples(x_ex, y_ex, scores, num_classes=CLASSES), args.repeats)
    cm = tb_imbalance.core.confusion_matrix(y_val, model.predict(x_val, verbose=0), num_classes=CLASSES)
    with tempfile.TemporaryDirectory() as logdir:
        writer = tb_imbalance.ReportWriter(logdir)
        step = iter(range(10**6))
        writer.write_matrix(next(step), "cm", cm)  # first step draws the picture's static parts
        t_plain_write = median_seconds(lambda: writer.write_matrix(next(step), "cm", cm), args.repeats)
        t_examples_write = median_seconds(lambda: writer.write_matrix(next(step), "cm", cm, examples=chosen), args.repeats)
        writer.close()
    t_write = t_examples_write - t_plain_write
    beyond = t_choose + t_write
    accuracy = float(np.mean(scores.argmax(axis=1) == y_ex))
    print(f"accuracy on the examples rows {accuracy:.2f}; kept {chosen.kept} examples in {len(chosen.index['cells'])} cells, {sum(map(len, chosen.blobs())) / 1e3:.0f} kB per step"
          + (f" (cut: {chosen.index['cut']})" if chosen.index["cut"] else ""))
    print(f"per epoch, by parts (median of {args.repeats}):")
    print(f"  predict pass over the examples rows   {t_predict * 1e3:8.1f} ms")
    print(f"  choose + render (collect_examples)    {t_choose * 1e3:8.1f} ms")
    print(f"  encode + write the extra value        {t_write * 1e3:8.1f} ms")
    print(f"  beyond the predict pass               {beyond * 1e3:8.1f} ms   (target <= 50 ms: {'met' if beyond <= 0.05 else 'MISSED'})")

    # 2. whole fits, paired
    class EpochClock(keras.callbacks.Callback):
        """Start time of every epoch and the end of training (last in the callback list)."""

        def __init__(self):
            super().__init__()
            self.marks = []

        def on_epoch_begin(self, epoch, logs=None):
            self.marks.append(time.perf_counter())

        def on_train_end(self, logs=None):
            self.marks.append(time.perf_counter())

    extras, steady = [], []
    for round_index in range(args.rounds):
        times, later = {}, {}
        for variant in harness.rotated(["plain", "examples"], round_index):
            fit_model = new_model()
            clock = EpochClock()
            with tempfile.TemporaryDirectory() as logdir:
                callback = ClassificationReportCallback(
                    logdir, verbose=0, **({"examples": (x_ex, y_ex)} if variant == "examples" else {})
                )
                started = time.perf_counter()
                fit_model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=args.epochs,
                              batch_size=64, verbose=0, callbacks=[callback, clock])
                times[variant] = time.perf_counter() - started
                later[variant] = clock.marks[-1] - clock.marks[1]  # epochs 2..E: no first-call tracing
                close_directory_writers()
        round_predict = median_seconds(predict, 3)
        extras.append((times["examples"] - times["plain"]) / args.epochs - round_predict)
        steady.append((later["examples"] - later["plain"]) / (args.epochs - 1) - round_predict)
        print(f"  round {round_index}: fit {times['plain']:.2f} s plain, {times['examples']:.2f} s with examples; "
              f"extra per epoch beyond predict {extras[-1] * 1e3:+.1f} ms (epochs 2..{args.epochs}: {steady[-1] * 1e3:+.1f} ms)")

    def summary(values):
        values = sorted(values)
        return (f"median {statistics.median(values) * 1e3:+.1f} ms (IQR {values[len(values) // 4] * 1e3:+.1f} to "
                f"{values[(3 * len(values)) // 4] * 1e3:+.1f} ms)")

    print(f"whole fits ({args.rounds} paired rounds of {args.epochs} epochs), extra per epoch beyond the predict pass:")
    print(f"  all epochs (the first also traces predict for the new model)  {summary(extras)}")
    print(f"  epochs 2..{args.epochs}                                              {summary(steady)}")
    harness.assert_no_tensorflow(args.backend)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

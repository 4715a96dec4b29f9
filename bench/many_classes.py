"""Logging a 1000-class problem: per-step cost of every writer, bytes on disk, dashboard latency.

Run::

    .venv/bin/python bench/many_classes.py                        # Keras on TensorFlow: everything
    /tmp/vtorch/bin/python bench/many_classes.py --backend torch  # no TensorFlow: no tf.summary part
    python bench/many_classes.py --skip-fit --no-server           # the writers only (no training)
    python bench/many_classes.py --quick                          # smoke run, figures meaningless
    python bench/many_classes.py --classes 10000 50000            # the writers at scale only

``--classes N [N …]`` runs part 1 (the fit, unless ``--skip-fit``) at each N
classes, then instead of part 2 :mod:`writers_at_scale` (``log_report`` at N
classes on 100,000 rows of class ids and 20,000 rows of scores: seconds, peak
memory above the inputs and bytes per step against the 10,000- and
50,000-class targets), :mod:`metric_at_scale` (the metric per batch against
``SparseCategoricalAccuracy``, and its state) and, unless ``--no-server``,
:mod:`plugin_at_scale` (the routes in both loader modes); without it parts 1
and 2 run at 1000 classes.

Options: ``--backend`` (Keras backend of the fit part; default
``$KERAS_BACKEND``, else ``tensorflow`` when installed), ``--no-tensorflow``
(never import TensorFlow; automatic when it is not installed),
``--skip-fit``, ``--no-server``, ``--epochs``, ``--steps``, ``--val-rows``,
``--keep DIR``.

Part 1, a real ``fit`` (skipped by ``--skip-fit``): 1000 classes, an MLP
64→256→1000 trained on 20,000 rows and validated on 50,000 rows
(long-tailed class frequencies, features that make classes partly
separable) for 20 epochs, compiled with ``BalancedAccuracy`` so the
callback reads the validation matrix without predicting again. Printed:

* the per-epoch cost of ``ClassificationReportCallback.on_epoch_end`` with
  ``background=False``, i.e. all of the callback's work (reading the matrix
  off the metric, report maths, the picture, writing and flushing; by
  default most of it runs on the background writer): median and max over
  the epochs;
* the validation pass time with and without the streaming metric (the
  difference is what counting the matrix inside ``fit`` costs): in the
  fits (not paired), and with ``model.evaluate`` on the validation rows,
  the two models in turn for ``--eval-rounds`` paired rounds;
* bytes written per logged step, and the size of the stored matrix tensor
  next to the dense int64 matrix it replaces; the size of the logdir;
* the ``report`` latency for that run through the real ``tensorboard``
  server (median / p95; skipped by ``--no-server``).

Part 2, the writers, on the same inputs at 1000 classes × ``--val-rows``
(50,000) rows: labels with the fit's long-tailed frequencies and float32
scores ``[N, 1000]`` whose argmax is right for 60 % of the rows, a
neighbouring class for 30 %, a random class for the rest (seeded, the same
in every environment). Part 2 runs twice: with ``per_class_scalars`` left
at the library default (``None``: not written above 100 classes) and with
``per_class_scalars=True`` (3000 scalars per step), passed the same way to
every variant so that all write the same outputs. One warm-up step each (its
time is printed as "first": the picture's static parts are drawn then),
then ``--steps`` rounds; each round runs every variant once, in rotated
order, each variant into a directory of its own:

* ``log_report``       — ``tb_imbalance.log_report(run_dir, labels, scores,
  step)``: counting the matrix from the scores (argmax, checks), the report,
  the picture, one event written and flushed. Target: ≤ 0.25 s per step.
* ``log_report_pycrc`` — the same with TensorBoard's pure-Python CRC32C
  (``tb_imbalance.event_file._CRC32C = None`` during the call only).
* ``callback_path``    — what the callback does at an epoch's end:
  ``metric.confusion_matrix()`` (the matrix counted by a ``BalancedAccuracy``
  fed once with the same labels and scores, batch by batch, as backend
  tensors) + ``ReportWriter.write_matrix``.
* ``callback_counting`` — the callback's whole cost for the same rows: a
  ``BalancedAccuracy`` reset and fed the labels and scores as ``fit``'s
  validation pass feeds it (one compiled ``update_state`` + ``result()`` per
  batch of 256, the batches already backend tensors), less the same loop with
  a metric that does nothing (timed in the same round: the loop and the call
  dispatch, which ``fit`` pays for the model anyway), then the matrix read and
  ``ReportWriter.write_matrix`` as in ``callback_path``. ``summary`` counts
  from the scores too: this is the like-for-like comparison.
* ``summary``          — TensorFlow only: ``tb_imbalance.summary.
  classification_report(name, labels, scores)`` under a ``tf.summary`` file
  writer, then ``writer.flush()``: counting from the scores included.
  Target: within 1.25× of ``callback_path`` (paired ratio per round).
* ``summary_ids``      — the same with predicted class ids ``[N]`` (argmax
  taken beforehand) instead of scores: the counting then is one bincount.

Also printed: the event-file CRC implementation in use
(``tb_imbalance.event_file.CRC_IMPLEMENTATION``) and, for context, the
counting alone (``tb_imbalance.core.confusion_matrix`` on the scores) and
``log_matrix`` on the counted matrix (writing alone).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402

import harness  # noqa: E402

CLASSES = 1000
FEATURES = 64
BATCH = 256
TAG = "confusion_matrix"

# Imported by main() once KERAS_BACKEND is set.
keras: Any = None


def class_prior() -> np.ndarray:
    prior = 1.0 / np.arange(1, CLASSES + 1) ** 0.8
    return prior / prior.sum()


def make_data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Long-tailed labels (Zipf-like) and noisy class prototypes as features."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(CLASSES, rows, p=class_prior())
    prototypes = np.random.default_rng(0).normal(size=(CLASSES, FEATURES)).astype("float32")
    features = prototypes[labels] + rng.normal(scale=1.2, size=(rows, FEATURES)).astype("float32")
    return features, labels


def make_scores(rows: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Labels and float32 scores [rows, C]: argmax right 60 %, a neighbour 30 %, random 10 %."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(CLASSES, rows, p=class_prior())
    kind = rng.random(rows)
    neighbour = (labels + rng.choice([-2, -1, 1, 2], rows)) % CLASSES
    predicted = np.where(kind < 0.6, labels, np.where(kind < 0.9, neighbour, rng.integers(0, CLASSES, rows)))
    scores = rng.random((rows, CLASSES), dtype=np.float32) * 0.5
    scores[np.arange(rows), predicted] += 1.0
    return labels, scores


def median_ms(values) -> float:
    return statistics.median(values) * 1e3


# -- part 1: a real fit ---------------------------------------------------------------------


def _timed_report_class():
    from tb_imbalance.keras import ClassificationReportCallback

    class TimedReport(ClassificationReportCallback):
        """The callback, timing its own epoch-end work."""

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            self.seconds: list[float] = []

        def on_epoch_end(self, epoch, logs=None):
            start = time.perf_counter()
            super().on_epoch_end(epoch, logs)
            self.seconds.append(time.perf_counter() - start)

    return TimedReport


def _validation_timer():
    class ValidationTimer(keras.callbacks.Callback):
        """Wall time of each epoch's validation pass."""

        def on_train_begin(self, logs=None):
            self.seconds: list[float] = []

        def on_test_begin(self, logs=None):
            self._start = time.perf_counter()

        def on_test_end(self, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return ValidationTimer()


def build(metrics) -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((FEATURES,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=metrics)
    return model


def run_fit(args, root: pathlib.Path) -> dict[str, Any]:
    from tb_imbalance import format as fmt
    from tb_imbalance.events import ReportBuilder
    from tb_imbalance.keras import BalancedAccuracy

    x, y = make_data(args.train_rows, seed=1)
    x_val, y_val = make_data(args.val_rows, seed=2)
    names = [f"class_{k:04d}" for k in range(CLASSES)]
    log_dir = root / "wide"

    plain_validation = _validation_timer()
    plain_model = build(["accuracy"])
    device = harness.describe_device(plain_model)
    plain_model.fit(x, y, validation_data=(x_val, y_val), epochs=min(3, args.epochs), batch_size=BATCH,
                    verbose=0, callbacks=[plain_validation])

    # background=False: on_epoch_end then does the whole work (report, picture, write) and its time is all of it
    report = _timed_report_class()(log_dir, class_names=names, verbose=0, background=False)
    validation = _validation_timer()
    model = build(["accuracy", BalancedAccuracy(CLASSES)])
    history = model.fit(
        x, y, validation_data=(x_val, y_val), epochs=args.epochs, batch_size=BATCH, verbose=0,
        callbacks=[validation, report],
    )
    # The validation pass with and without the metric, paired: evaluate both models in turn.
    models = {"plain": plain_model, "metric": model}
    for candidate in models.values():  # warm-up
        candidate.evaluate(x_val, y_val, batch_size=BATCH, verbose=0)
    evaluate: dict[str, list[float]] = {name: [] for name in models}
    for round_index in range(args.eval_rounds):
        for name in harness.rotated(list(models), round_index):
            start = time.perf_counter()
            models[name].evaluate(x_val, y_val, batch_size=BATCH, verbose=0)
            evaluate[name].append(time.perf_counter() - start)
    extra = statistics.median(m - p for m, p in zip(evaluate["metric"], evaluate["plain"]))
    run_dir = log_dir / "validation_imbalance"
    event_bytes = sum(f.stat().st_size for f in run_dir.iterdir())
    last = report._metric.confusion_matrix()
    step_bytes = sum(v.ByteSize() for v in ReportBuilder().values(
        TAG, last, names, per_class_scalars=report.per_class_scalars))
    later = report.seconds[1:] or report.seconds
    return {
        "device": device,
        "balanced_accuracy": history.history["val_balanced_accuracy"][-1],
        "callback_median_ms": median_ms(later),
        "callback_max_ms": max(later) * 1e3,
        "callback_first_ms": report.seconds[0] * 1e3,
        "validation_ms": median_ms(validation.seconds[1:] or validation.seconds),
        "plain_validation_ms": median_ms(plain_validation.seconds[1:] or plain_validation.seconds),
        "event_kb_per_step": event_bytes / args.epochs / 1e3,
        "summary_kb": step_bytes / 1e3,
        "matrix_kb": fmt.encode_matrix(last).nbytes / 1e3,
        "encoding": fmt.encoding_for(CLASSES),
        "run": "wide/validation_imbalance",
        "per_class_scalars": report.per_class_scalars,
        "evaluate_metric_ms": median_ms(evaluate["metric"]),
        "evaluate_plain_ms": median_ms(evaluate["plain"]),
        "evaluate_ratio": harness.paired_ratios(evaluate["metric"], evaluate["plain"]),
        "evaluate_extra_us_per_batch": extra / -(-args.val_rows // BATCH) * 1e6,
    }


# -- part 2: the writers ------------------------------------------------------------------


def fed_metric(labels: np.ndarray, scores: np.ndarray) -> Any:
    """A BalancedAccuracy that counted ``labels`` / ``scores`` batch by batch, as backend tensors."""
    from tb_imbalance.keras import BalancedAccuracy

    metric = BalancedAccuracy(CLASSES)
    ops = keras.ops
    for start in range(0, len(labels), BATCH):
        metric.update_state(
            ops.convert_to_tensor(labels[start:start + BATCH]), ops.convert_to_tensor(scores[start:start + BATCH])
        )
    return metric


class _NoMetric:
    """Stands in for the metric in the empty loop: the same calls, no work."""

    variables: list[Any] = []

    def reset_state(self) -> None:
        return None

    def update_state(self, y_true: Any, y_pred: Any) -> None:
        return None

    def result(self) -> Any:
        return keras.ops.convert_to_tensor(0.0)

    def stateless_update_state(self, values: Any, y_true: Any, y_pred: Any) -> Any:
        return values

    def stateless_result(self, values: Any) -> Any:
        return keras.ops.convert_to_tensor(0.0)


def _counting_loop(metric: Any, batches: list[tuple[Any, Any]]) -> Callable[[], None]:
    """Reset ``metric``, then one compiled ``update_state`` + ``result()`` per batch, as fit runs them."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        @jax.jit
        def step(values, y_true, y_pred):
            values = metric.stateless_update_state(values, y_true, y_pred)
            return values, metric.stateless_result(values)

        def count() -> None:
            metric.reset_state()
            values = [v.value for v in metric.variables]
            for y_true, y_pred in batches:
                values, result = step(values, y_true, y_pred)
            for variable, value in zip(metric.variables, values):
                variable.assign(value)
            float(result)  # waits for the device

        return count

    def update(y_true, y_pred):
        metric.update_state(y_true, y_pred)
        return metric.result()

    if backend == "tensorflow":
        import tensorflow as tf

        update = tf.function(update)

    def count() -> None:
        metric.reset_state()
        for y_true, y_pred in batches:
            result = update(y_true, y_pred)
        float(keras.ops.convert_to_numpy(result))  # waits for the device

    return count


def compiled_counting(labels: np.ndarray, scores: np.ndarray) -> tuple[Any, Callable[[], float]]:
    """A BalancedAccuracy and a function that counts ``labels`` / ``scores`` into it as
    ``fit``'s validation pass does (one compiled ``update_state`` + ``result()`` per batch
    of ``BATCH`` rows, the batches already backend tensors) and returns the seconds that
    took beyond the same loop with a metric that does nothing (the loop and the call
    dispatch, which fit pays for the model anyway), both timed in the same call."""
    from tb_imbalance.keras import BalancedAccuracy

    metric = BalancedAccuracy(CLASSES)
    ops = keras.ops
    batches = [(ops.convert_to_tensor(labels[start:start + BATCH]), ops.convert_to_tensor(scores[start:start + BATCH]))
               for start in range(0, len(labels), BATCH)]
    counting, empty = _counting_loop(metric, batches), _counting_loop(_NoMetric(), batches)

    def net_seconds() -> float:
        start = time.perf_counter()
        empty()
        middle = time.perf_counter()
        counting()
        return (time.perf_counter() - middle) - (middle - start)

    return metric, net_seconds


#: Part 2 runs once per setting of ``per_class_scalars``, the same for every variant:
#: the library default (``None``: written up to 100 classes, so not here) and forced on
#: (3000 scalars per step, what the callback writes when constructed with ``per_class_scalars=True``).
SCALAR_MODES = {"default": None, "on": True}


def writer_variants(
    root: pathlib.Path, labels, scores, names, metric, *, tensorflow: bool, per_class_scalars: bool | None
) -> dict[str, Callable[[int], None]]:
    """Each variant writes one step into a run directory of its own, with the same outputs."""
    import tb_imbalance
    from tb_imbalance import event_file

    options = {} if per_class_scalars is None else {"per_class_scalars": per_class_scalars}
    variants: dict[str, Callable[[int], None]] = {}

    def log_report(step: int) -> None:
        tb_imbalance.log_report(root / "log_report", labels, scores, step, class_names=names, **options)

    def log_report_pycrc(step: int) -> None:
        fast = event_file._CRC32C
        event_file._CRC32C = None
        try:
            tb_imbalance.log_report(root / "log_report_pycrc", labels, scores, step, class_names=names, **options)
        finally:
            event_file._CRC32C = fast

    variants["log_report"] = log_report
    variants["log_report_pycrc"] = log_report_pycrc

    if metric is not None:
        report_writer = tb_imbalance.ReportWriter(root / "callback_path")

        def callback_path(step: int) -> None:
            report_writer.write_matrix(step, TAG, metric.confusion_matrix(), names, **options)

        variants["callback_path"] = callback_path
        counted, count = compiled_counting(labels, scores)
        counting_writer = tb_imbalance.ReportWriter(root / "callback_counting")

        def callback_counting(step: int) -> float:
            counting = count()
            start = time.perf_counter()
            counting_writer.write_matrix(step, TAG, counted.confusion_matrix(), names, **options)
            return counting + time.perf_counter() - start

        variants["callback_counting"] = callback_counting

    if tensorflow:
        import tensorflow as tf

        import tb_imbalance.summary as tbs

        tf_writer = tf.summary.create_file_writer(str(root / "summary"))
        ids_writer = tf.summary.create_file_writer(str(root / "summary_ids"))
        predicted_ids = np.argmax(scores, axis=1)

        def summary(step: int) -> None:
            with tf_writer.as_default(step=step):
                tbs.classification_report(TAG, labels, scores, class_names=names, **options)
            tf_writer.flush()

        def summary_ids(step: int) -> None:
            with ids_writer.as_default(step=step):
                tbs.classification_report(TAG, labels, predicted_ids, class_names=names, **options)
            ids_writer.flush()

        variants["summary"] = summary
        variants["summary_ids"] = summary_ids
    return variants


def run_writers(args, root: pathlib.Path, *, tensorflow: bool) -> dict[str, dict[str, Any]]:
    """Part 2 for every setting of ``per_class_scalars``: per-step seconds of every variant."""
    import tb_imbalance
    from tb_imbalance import core

    labels, scores = make_scores(args.val_rows)
    names = [f"class_{k:04d}" for k in range(CLASSES)]
    metric = fed_metric(labels, scores) if keras is not None else None
    results: dict[str, dict[str, Any]] = {}
    for mode, per_class_scalars in SCALAR_MODES.items():
        folder = root / "writers" / f"scalars_{mode}"
        variants = writer_variants(folder, labels, scores, names, metric, tensorflow=tensorflow,
                                   per_class_scalars=per_class_scalars)
        first: dict[str, float] = {}
        for name, write in variants.items():
            start = time.perf_counter()
            write(0)
            first[name] = time.perf_counter() - start
        seconds: dict[str, list[float]] = {name: [] for name in variants}
        for round_index in range(args.steps):
            for name in harness.rotated(list(variants), round_index):
                start = time.perf_counter()
                own = variants[name](round_index + 1)  # a variant may time itself (callback_counting)
                seconds[name].append(own if own is not None else time.perf_counter() - start)
                print(f"writers (per-class scalars {mode}), step {round_index + 1}: {name:17s} "
                      f"{seconds[name][-1] * 1e3:7.1f} ms", flush=True)

        # Context: the counting alone and the writing alone, on the same inputs.
        options = {} if per_class_scalars is None else {"per_class_scalars": per_class_scalars}
        counting, writing = [], []
        for step in range(args.steps):
            start = time.perf_counter()
            cm = core.confusion_matrix(labels, scores, num_classes=CLASSES)
            counting.append(time.perf_counter() - start)
            start = time.perf_counter()
            tb_imbalance.log_matrix(folder / "log_matrix", cm, step + 1, class_names=names, **options)
            writing.append(time.perf_counter() - start)
        results[mode] = {"first": first, "seconds": seconds, "counting": counting, "writing": writing}
    return results


def print_writers(mode: str, writers: dict[str, Any], fit: dict[str, Any] | None, val_rows: int, steps: int) -> None:
    from tb_imbalance import event_file

    seconds, first = writers["seconds"], writers["first"]
    setting = {"default": "library default (None: off above 100 classes)",
               "on": "per_class_scalars=True (3000 scalars)"}[mode]
    print(f"part 2, writers, per-class scalars {setting}: 1000 classes x {val_rows} rows (float32 scores), "
          f"{steps} steps after one warm-up step; event-file CRC: {event_file.CRC_IMPLEMENTATION}")
    print(f"  {'variant':18s} {'median':>9s} {'max':>9s} {'first':>9s}")
    for name, values in seconds.items():
        print(f"  {name:18s} {median_ms(values):7.0f} ms {max(values) * 1e3:6.0f} ms {first[name] * 1e3:6.0f} ms")
    verdict = "met" if statistics.median(seconds["log_report"]) <= 0.25 else "MISSED"
    print(f"  log_report target <= 250 ms per step: {verdict} (max {max(seconds['log_report']) * 1e3:.0f} ms)")
    pycrc = harness.paired_ratios(seconds["log_report_pycrc"], seconds["log_report"])
    delta = statistics.median(s - f for s, f in zip(seconds["log_report_pycrc"], seconds["log_report"]))
    print(f"  pure-Python CRC / {event_file.CRC_IMPLEMENTATION}: {pycrc}, +{delta * 1e3:.0f} ms per step (paired median)")
    print(f"  context: counting alone (core.confusion_matrix on the scores) {median_ms(writers['counting']):.0f} ms, "
          f"writing alone (log_matrix on the counted matrix) {median_ms(writers['writing']):.0f} ms")
    if "summary" in seconds and "callback_path" in seconds:
        ratio = harness.paired_ratios(seconds["summary"], seconds["callback_path"])
        verdict = "met" if ratio.median <= 1.25 else "MISSED"
        print(f"  summary / callback_path: {ratio} paired per step (target <= 1.25x: {verdict})")
        ids_ratio = harness.paired_ratios(seconds["summary_ids"], seconds["callback_path"])
        print(f"  summary_ids / callback_path: {ids_ratio} paired per step (class ids instead of scores)")
        counting_ratio = harness.paired_ratios(seconds["summary"], seconds["callback_counting"])
        print(f"  summary / callback_counting: {counting_ratio} paired per step (both count the same scores: "
              "the callback's metric batch by batch as fit runs it, the summary writer in one numpy pass)")
        if fit and fit["per_class_scalars"] is SCALAR_MODES[mode]:
            print(f"  summary / callback on_epoch_end in the fit (same outputs): "
                  f"{median_ms(seconds['summary']) / fit['callback_median_ms']:.3f}x (medians, not paired)")
    elif "summary" not in seconds:
        print("  summary: skipped (no TensorFlow)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_backend = os.environ.get("KERAS_BACKEND") or ("tensorflow" if harness.tensorflow_available() else None)
    parser.add_argument("--backend", choices=harness.BACKENDS, default=default_backend,
                        help="Keras backend for the fit and the callback path")
    parser.add_argument("--no-tensorflow", action="store_true",
                        help="never import TensorFlow (automatic when it is not installed): no tf.summary part")
    parser.add_argument("--skip-fit", action="store_true", help="skip part 1 (the fit) and the server")
    parser.add_argument("--no-server", action="store_true", help="skip the tensorboard latency measurement")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--val-rows", type=int, default=50_000)
    parser.add_argument("--steps", type=int, default=12, help="timed steps per writer in part 2")
    parser.add_argument("--eval-rounds", type=int, default=7, help="paired evaluate rounds in part 1")
    parser.add_argument("--keep", help="write the logdir here instead of a temporary folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 epochs, 5,000 rows, 2 steps, no server")
    parser.add_argument("--classes", type=int, nargs="+",
                        help="only the writers at these class counts (bench/writers_at_scale.py)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.train_rows, args.val_rows, args.steps, args.no_server = 2, 2_000, 5_000, 2, True
        args.eval_rounds = 2

    use_tf = not args.no_tensorflow and harness.tensorflow_available()
    if args.backend == "tensorflow" and not use_tf:
        parser.error("--backend tensorflow needs TensorFlow: pass --backend jax / torch, or --skip-fit")
    global keras
    if args.backend is not None:
        keras = harness.select_backend(args.backend)
    elif not args.skip_fit:
        parser.error("no Keras backend: set KERAS_BACKEND or pass --backend, or --skip-fit")

    root = pathlib.Path(args.keep or tempfile.mkdtemp(prefix="many_classes_"))
    if args.classes:
        return run_at_scale(args, root)
    fit = None if args.skip_fit else run_fit(args, root)
    writers = run_writers(args, root, tensorflow=use_tf)

    print()
    print(f"environment: Keras backend {args.backend}, TensorFlow {'imported' if use_tf else 'not imported'}"
          + (f", fit device {fit['device']}" if fit else ""))
    print_fit(fit, args, root)
    for mode, results in writers.items():
        print_writers(mode, results, fit, args.val_rows, args.steps)

    if fit and not args.no_server:
        import support
        from plugin_latency import measure_report_latency

        with support.tensorboard_server(root, load_fast=True) as base_url:
            figures = measure_report_latency(base_url, run=fit["run"], tag=TAG, requests=30)
        print(f"report latency (real server, --load_fast=true): median {figures['median_ms']:.0f} ms, "
              f"p95 {figures['p95_ms']:.0f} ms, first {figures['first_ms']:.0f} ms, "
              f"{figures['available_steps']} steps, {figures['response_bytes'] / 1e3:.0f} kB per response")
    if not use_tf:
        assert "tensorflow" not in sys.modules, "TensorFlow was imported with --no-tensorflow"
        print("TensorFlow was not imported (checked).")
    if args.quick and not args.keep:
        shutil.rmtree(root, ignore_errors=True)  # a smoke run leaves nothing behind
    return 0


def run_at_scale(args, root: pathlib.Path) -> int:
    """``--classes``: the fit (part 1) at each class count, then the writers at scale."""
    import writers_at_scale

    global CLASSES
    for classes in args.classes:
        if not args.skip_fit:
            CLASSES = classes
            fit = run_fit(args, root / f"classes_{classes}")
            print()
            print(f"environment: Keras backend {args.backend}, fit device {fit['device']}")
            print_fit(fit, args, root / f"classes_{classes}")
    CLASSES = 1000
    quick = ["--quick"] if args.quick else []
    code = writers_at_scale.main(
        ["--classes", *map(str, args.classes), "--steps", str(min(args.steps, 5)), *quick, "--keep", str(root / "writers")]
    )
    if args.backend is not None:
        import metric_at_scale

        code = code or metric_at_scale.main(["--backend", args.backend, "--classes", *map(str, args.classes), *quick])
    if not args.no_server:
        import plugin_at_scale

        code = code or plugin_at_scale.main(["--classes", *map(str, args.classes), *quick, "--keep", str(root / "plugin")])
    if args.quick and not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return code


def print_fit(fit: dict[str, Any] | None, args, root: pathlib.Path) -> None:
    if fit:
        print(f"part 1, fit: {CLASSES} classes, {args.train_rows} train / {args.val_rows} validation rows, "
              f"{args.epochs} epochs, final val balanced accuracy {fit['balanced_accuracy']:.3f}")
        print(f"  callback (per_class_scalars={fit['per_class_scalars']}) cost per epoch: median "
              f"{fit['callback_median_ms']:.0f} ms, max {fit['callback_max_ms']:.0f} ms, "
              f"first epoch {fit['callback_first_ms']:.0f} ms (target <= {500 if CLASSES <= 1000 else 1000} ms)")
        print(f"  validation pass in the fits (not paired): {fit['validation_ms']:.0f} ms with BalancedAccuracy, "
              f"{fit['plain_validation_ms']:.0f} ms without")
        print(f"  validation pass, model.evaluate, {args.eval_rounds} paired rounds: {fit['evaluate_metric_ms']:.0f} ms "
              f"with BalancedAccuracy, {fit['evaluate_plain_ms']:.0f} ms without: {fit['evaluate_ratio']}, "
              f"counting costs {fit['evaluate_extra_us_per_batch']:.0f} us per batch of {BATCH} (update_state + result)")
        print(f"  bytes per step: {fit['event_kb_per_step']:.0f} kB in the event file (summary {fit['summary_kb']:.0f} kB; "
              f"matrix tensor {fit['matrix_kb']:.0f} kB as {fit['encoding']} vs {CLASSES * CLASSES * 8 / 1e6:.0f} MB dense int64)")
        logdir_bytes = sum(f.stat().st_size for f in (root / "wide").rglob("*") if f.is_file())
        print(f"  logdir size: {logdir_bytes / 1e6:.1f} MB ({root / 'wide'})")


if __name__ == "__main__":
    sys.exit(main())

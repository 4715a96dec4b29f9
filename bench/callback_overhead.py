"""Overhead of the streaming metric and ClassificationReportCallback on ``model.fit``, per Keras backend.

Run once per backend, each in its own environment (the backend is fixed
when Keras is first imported, so ``--backend`` sets ``KERAS_BACKEND``
before this script imports Keras)::

    .venv/bin/python bench/callback_overhead.py --backend tensorflow
    /tmp/vjax/bin/python bench/callback_overhead.py --backend jax        # no TensorFlow installed
    /tmp/vtorch/bin/python bench/callback_overhead.py --backend torch    # no TensorFlow installed

``--quick`` is a smoke run (tiny data, 2 rounds, no context variants, with ``--compare-bare``:
seconds, figures meaningless); ``--repeats N``, ``--epochs N``,
``--no-context``. The device is whatever the backend picks (a GPU when the
environment has one); it is printed.

Method. Every fit trains the same model on the same data from the same seed,
with validation, in this one process. One warm-up fit per variant (imports,
first tracing), then ``--repeats`` rounds; each round runs every variant
once, in an order rotated from round to round (and reversed every other
round). Printed per comparison: the median (and interquartile range) over
rounds of the ratio of the two fits of a round — neighbours in time share
the machine's state, which on a shared machine drifts by ±15 % — for the
whole fit, for epochs 2…E only (the first epoch holds the tracing / XLA
compilation of a new model), and for process CPU time (all threads, the
callback's background writer included), whole and epochs 2…E.

Variants (all compiled with ``metrics=["accuracy"]``):

* ``plain``         — nothing else;
* ``metric``        — plus the streaming ``BalancedAccuracy`` metric, which
  then bins every batch's scores into its curve state;
* ``metric_unbinned_training`` (``metric*``) — the same metric with training
  batches left out of its curve state as the report callback leaves them
  (``skip_training_curves`` from each epoch's start to its validation
  pass), by a callback that does nothing else;
* ``tb_imbalance``  — metric plus ``ClassificationReportCallback`` with all
  outputs (matrix, per-class and headline scalars, picture), reading the
  metric's validation matrix (no extra forward pass);
* ``extra_metric``  — plain plus a second Keras ``SparseCategoricalAccuracy``,
  to show what any additional compiled metric costs on this small model;
* TensorFlow backend only (context, skipped by ``--no-context``), each in a
  phase of its own against ``plain``: ``keras_tb`` (Keras' own
  ``keras.callbacks.TensorBoard``) and ``recipe`` (the hand-written recipe:
  re-predict the validation set every epoch, scikit-learn report,
  matplotlib figure with per-cell labels, per-class scalars through
  ``tf.summary``). Both need TensorFlow.

``--gather-s S`` sets the background writer's gathering window
(``tb_imbalance.background.GATHER_S``, 1 s by default; 0 writes every step
as soon as it is handed over, as the writer did before it gathered).
``--compare-gathering`` adds the variant ``tb_at_once`` (``tb_imbalance``
with ``GATHER_S = 0``) to every round and prints (g) ``tb_imbalance /
tb_at_once``: what gathering changes in the whole process's CPU time, the
training thread's included. ``--epochs 20`` shows gathering as in a long training of short epochs: in a
5-epoch fit, epoch 1's step (after the first epoch's compilation) is written
alone.

``--train-rows N`` (14,600 by default) and ``--val-rows N`` (3,600) size the
data: fewer rows give shorter epochs, while the callback's work per epoch
stays the same (one report step), so its share grows as epochs shorten.

``--compare-bare`` adds the variant ``bare_matrix`` (plain plus a bare
streaming confusion matrix: argmax, a segment sum into ``C * C`` counts and
balanced accuracy from them, in ``keras.ops``, with none of the metric's
checks: labels out of range, NaN rows, weights) and prints (f) ``bare_matrix /
plain``: what the least streaming confusion matrix costs in this backend's
compiled step, the floor under ``metric*``'s cost.

``--lean`` leaves out what a user can turn off: the metric's curve state
(``curves=False``, in ``metric``, ``metric*`` and ``tb_imbalance``) and the
callback's picture (``image=False``).

Comparisons: (a) ``tb_imbalance / plain`` — the whole feature; (b)
``extra_metric / plain``; (c) ``tb_imbalance / metric_unbinned_training``
— the callback alone, against a fit whose metric bins what the callback's
fit bins; and ``metric / plain``, ``metric_unbinned_training / plain``.

(c) by direct count: the paired ratios of whole fits vary by several
percent from round to round, more than the 1 % they are asked to show. So
the ``tb_imbalance`` fits also count the callback's own CPU time
(``time.thread_time`` around its hooks on the training thread and around
each step of its background writer) and print ``1 + own / (epochs 2…E CPU −
own)``, median and IQR over rounds, with the median CPU time of the
writer's steps (epochs 1…E−1) and of the hooks (epochs 2…E). It leaves out what the writer costs
other threads (the training thread waiting for the GIL), so it is a floor
for (c).

(d) Per-batch cost of ``update_state`` + ``result()`` (Keras calls both on
every train and validation batch), ``BalancedAccuracy`` vs
``SparseCategoricalAccuracy``, measured two ways:

* directly: ``N`` calls on 8 different validation batches of 256 rows (the
  model's outputs as tensors of the backend, on its device; labels as
  backend tensors), run the way ``fit`` runs them — inside one
  ``tf.function`` loop (XLA when ``model.jit_compile`` is on, as Keras
  decides), inside one ``jax.jit`` ``fori_loop`` with the stateless metric
  API, or as eager calls on PyTorch. Also at each of ``--wide-classes``
  (32, 128 and 1000) classes on synthetic softmax scores (``--calls`` / 10
  calls per block above 100 classes): the metric's state is then up to a
  million counts, and above ``dense_result_max_classes()`` it keeps
  marginals. The same loop with a metric that does
  nothing is timed too and subtracted (loop overhead). Blocks of ``N``
  calls alternate between the metrics; per-call figures are medians over
  blocks, the ratio is paired per block.
* from fit time: (epochs 2…E of ``metric`` − the same of ``plain``) /
  batches in those epochs, per round, median and IQR over rounds. This is a
  difference of two noisy times: read its IQR.

(e) ``result()`` outside the compiled step, as Keras calls it at the end of
each training and validation pass (the epoch's logs), per call with the
value read back to the host, and ``reset_state()``, as Keras calls it
before each pass, ``BalancedAccuracy`` vs ``SparseCategoricalAccuracy``:
median over blocks of 200 calls.

Data: scikit-learn's digits, class k keeps 0.6**k of its samples (a long
tail), split 80/20 per class, each part tiled to ~14.6k train / ~3.6k
validation rows. Model: MLP 64→256→256→10 (ReLU, softmax), batch 256,
5 epochs.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import pathlib
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import harness  # noqa: E402

SEED = 0
CLASSES = 10
BATCH = 256
CORE_VARIANTS = ("plain", "metric", "metric_unbinned_training", "tb_imbalance", "extra_metric")
TF_CONTEXT_VARIANTS = ("keras_tb", "recipe")

# Imported by main() once KERAS_BACKEND is set.
keras: Any = None
tbk: Any = None


def long_tail_digits(train_rows: int = 14_600, val_rows: int = 3_600):
    """Digits subsampled to a 0.6**k long tail, split 80/20 per class, tiled."""
    from sklearn.datasets import load_digits

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


def _epoch_timer():
    class EpochTimer(keras.callbacks.Callback):
        """Wall and process CPU time of each epoch, up to the end of every other callback's
        on_epoch_end (keep it last). CPU time counts every thread: the background writer's
        work for epoch k, done while epoch k+1 trains, counts in epoch k+1."""

        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []
            self.cpu_seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start, self._cpu_start = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)
            self.cpu_seconds.append(time.process_time() - self._cpu_start)

    return EpochTimer()


def _recipe_callback(log_dir, x_val, y_val, class_names):
    import tensorflow as tf

    class RecipeCallback(keras.callbacks.Callback):
        """TensorFlow's image-summary confusion-matrix recipe, as users write it."""

        def __init__(self):
            super().__init__()
            self.writer = tf.summary.create_file_writer(os.path.join(log_dir, "cm"))

        def on_epoch_end(self, epoch, logs=None):
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            from sklearn.metrics import classification_report, confusion_matrix

            pred = np.argmax(self.model.predict(x_val, verbose=0), axis=1)
            cm = confusion_matrix(y_val, pred, labels=range(CLASSES))
            report = classification_report(
                y_val, pred, labels=range(CLASSES), output_dict=True, zero_division=0
            )
            share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
            figure = plt.figure(figsize=(8, 8))
            plt.imshow(share, cmap=plt.cm.Blues)
            plt.xticks(range(CLASSES), class_names, rotation=45)
            plt.yticks(range(CLASSES), class_names)
            for i in range(CLASSES):
                for j in range(CLASSES):
                    plt.text(j, i, f"{cm[i, j]}\n{share[i, j]:.0%}", ha="center", va="center")
            buffer = io.BytesIO()
            plt.savefig(buffer, format="png")
            plt.close(figure)
            image = tf.expand_dims(tf.image.decode_png(buffer.getvalue(), channels=4), 0)
            with self.writer.as_default():
                tf.summary.image("confusion_matrix", image, step=epoch)
                for k, name in enumerate(class_names):
                    for metric in ("precision", "recall", "f1-score"):
                        tf.summary.scalar(f"{metric}/{name}", report[str(k)][metric], step=epoch)
            self.writer.flush()

    return RecipeCallback()


def _training_curves_skipper(metric):
    """A callback that leaves training batches out of the metric's curve state as the report
    callback does (from an epoch's start to its validation pass), and does nothing else."""

    class TrainingCurvesSkipper(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            metric.skip_training_curves = True

        def on_test_begin(self, logs=None):
            metric.skip_training_curves = False

        def on_epoch_end(self, epoch, logs=None):
            metric.skip_training_curves = False

    return TrainingCurvesSkipper()


class Fit:
    """One fit's figures: whole wall time, epochs 2…E wall time, process CPU time (whole, epochs 2…E),
    and the report callback's own CPU time in epochs 2…E (0 without it)."""

    def __init__(self, wall: float, steady: float, cpu: float, steady_cpu: float, own_cpu: float = 0.0,
                 writer_steps: tuple[float, ...] = (), hook_epochs: tuple[float, ...] = (),
                 blocked: tuple[float, ...] = ()) -> None:
        self.wall, self.steady, self.cpu, self.steady_cpu = wall, steady, cpu, steady_cpu
        self.own_cpu, self.writer_steps, self.hook_epochs = own_cpu, writer_steps, hook_epochs
        self.blocked = blocked


def _counted_report_callback(log_dir, names, image=True):
    """The report callback, counting its own CPU time: ``hooks[e]`` on the training thread in epoch
    ``e`` (``on_test_end`` reads the counts, ``on_epoch_end`` hands the step over) and ``writer[e]``
    the background writer's for epoch ``e``'s step, which it writes while epoch ``e + 1`` trains;
    ``blocked[e]``: the wall time of epoch ``e``'s ``on_epoch_end`` beyond its CPU time (waiting for
    room in the writer's queue)."""

    class Counted(tbk.ClassificationReportCallback):
        hooks: list[float]
        writer_cpu: list[float]
        blocked: list[float]

        def on_train_begin(self, logs=None):
            self.hooks, self.writer_cpu, self.blocked = [], [], []
            super().on_train_begin(logs)

        def on_epoch_begin(self, epoch, logs=None):
            self.hooks.append(0.0)
            super().on_epoch_begin(epoch, logs)

        def on_test_end(self, logs=None):
            start = time.thread_time()
            super().on_test_end(logs)
            self.hooks[-1] += time.thread_time() - start

        def on_epoch_end(self, epoch, logs=None):
            start, wall_start = time.thread_time(), time.perf_counter()
            super().on_epoch_end(epoch, logs)
            cpu = time.thread_time() - start
            self.hooks[-1] += cpu
            self.blocked.append(max(0.0, time.perf_counter() - wall_start - cpu))

    harness.time_writer_steps()
    return Counted(log_dir, class_names=names, verbose=0, image=image)


def run_variant(variant, data, epochs, log_root, lean=False) -> Fit:
    (x_train, y_train), (x_val, y_val) = data
    names = [f"digit {k}" for k in range(CLASSES)]
    metrics: list[Any] = ["accuracy"]
    callbacks: list[Any] = []
    log_dir = tempfile.mkdtemp(dir=log_root)
    if variant in ("metric", "metric_unbinned_training", "tb_imbalance", "tb_at_once"):
        metrics.append(tbk.BalancedAccuracy(CLASSES, curves=False) if lean else tbk.BalancedAccuracy(CLASSES))
    if variant == "metric_unbinned_training":
        callbacks.append(_training_curves_skipper(metrics[-1]))
    elif variant in ("tb_imbalance", "tb_at_once"):
        callbacks.append(_counted_report_callback(log_dir, names, image=not lean))
    elif variant == "extra_metric":
        metrics.append(keras.metrics.SparseCategoricalAccuracy(name="accuracy_2"))
    elif variant == "bare_matrix":
        metrics.append(_bare_matrix_metric(CLASSES))
    elif variant == "keras_tb":
        callbacks.append(keras.callbacks.TensorBoard(log_dir))
    elif variant == "recipe":
        callbacks.append(_recipe_callback(log_dir, x_val, y_val, names))
    timer = _epoch_timer()
    callbacks.append(timer)  # last: its epoch ends after the report callback's
    model = build_model(metrics)
    from tb_imbalance import background

    gather_s = background.GATHER_S
    if variant == "tb_at_once":
        background.GATHER_S = 0.0
    try:
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(
            x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
            batch_size=BATCH, verbose=0, callbacks=callbacks,
        )
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    finally:
        background.GATHER_S = gather_s
    steady = sum(timer.seconds[1:]) if len(timer.seconds) > 1 else wall
    steady_cpu = sum(timer.cpu_seconds[1:]) if len(timer.cpu_seconds) > 1 else cpu
    own, writer_steps, hook_epochs, blocked = 0.0, (), (), ()
    if variant in ("tb_imbalance", "tb_at_once"):  # epochs 2…E hold the hooks of epochs 2…E and the writer's steps 1…E-1
        report = callbacks[0]
        if epochs > 1:
            writer_steps, hook_epochs = tuple(report.writer_cpu[: len(report.hooks) - 1]), tuple(report.hooks[1:])
            own, blocked = sum(hook_epochs) + sum(writer_steps), tuple(report.blocked[1:])
    return Fit(wall, steady, cpu, steady_cpu, own, writer_steps, hook_epochs, blocked)


def run_rounds(variants, data, epochs, repeats, log_root, label, lean=False) -> dict[str, list[Fit]]:
    """Warm-up fits, then ``repeats`` rounds of every variant in rotated order."""
    for name in variants:  # warm-up: imports, first tracing
        run_variant(name, data, 1, log_root, lean)
    fits: dict[str, list[Fit]] = {name: [] for name in variants}
    for round_index in range(repeats):
        for name in harness.rotated(variants, round_index):
            fit = run_variant(name, data, epochs, log_root, lean)
            fits[name].append(fit)
            print(f"{label}, round {round_index + 1}: {name:13s} {fit.wall:6.2f} s wall "
                  f"({fit.steady:6.2f} s epochs 2+), {fit.cpu:6.2f} s CPU ({fit.steady_cpu:6.2f} s epochs 2+)",
                  flush=True)
    return fits


def direct_count(fits: list[Fit], steady_epochs: int) -> str:
    """(c) by direct count over rounds, the median writer step and hooks of an epoch, and the training
    thread's mean wait for room in the writer's queue (wall time, not CPU)."""
    own = sorted(f.own_cpu / (f.steady_cpu - f.own_cpu) for f in fits)
    own_ms = statistics.median(f.own_cpu * 1e3 / steady_epochs for f in fits)
    step_ms = statistics.median(t for f in fits for t in f.writer_steps) * 1e3
    hooks_ms = statistics.median(t for f in fits for t in f.hook_epochs) * 1e3
    blocked_ms = statistics.median(sum(f.blocked) * 1e3 / max(len(f.blocked), 1) for f in fits)
    return (f"{1 + statistics.median(own):.3f}x (IQR {1 + own[len(own) // 4]:.3f}-{1 + own[(3 * len(own)) // 4]:.3f}); "
            f"{own_ms:.2f} ms of CPU an epoch: {step_ms:.2f} ms a writer step, {hooks_ms:.2f} ms of hooks on the "
            f"training thread (medians); the training thread waited for room in the queue {blocked_ms:.2f} ms an "
            "epoch (mean, median over rounds)")


def compare(fits, variant, base) -> dict[str, Any]:
    v, b = fits[variant], fits[base]
    return {
        "variant": variant,
        "base": base,
        "wall": harness.paired_ratios([f.wall for f in v], [f.wall for f in b]),
        "steady": harness.paired_ratios([f.steady for f in v], [f.steady for f in b]),
        "cpu": harness.paired_ratios([f.cpu for f in v], [f.cpu for f in b]),
        "steady_cpu": harness.paired_ratios([f.steady_cpu for f in v], [f.steady_cpu for f in b]),
        "median_wall": statistics.median(f.wall for f in v),
        "median_base": statistics.median(f.wall for f in b),
    }


def _bare_matrix_metric(num_classes: int):
    ops = keras.ops

    class BareMatrix(keras.metrics.Metric):
        """Balanced accuracy from a streaming confusion matrix, with no checks: the floor of its cost."""

        def __init__(self):
            super().__init__(name="bare_matrix")
            self.counts = self.add_variable(shape=(num_classes * num_classes,), initializer="zeros", name="counts")

        def update_state(self, y_true, y_pred, sample_weight=None):
            labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
            cells = labels * num_classes + ops.cast(ops.argmax(y_pred, axis=-1), "int32")
            ones = ops.ones_like(cells, dtype=self.dtype)
            self.counts.assign_add(ops.segment_sum(ones, cells, num_segments=num_classes * num_classes))

        def result(self):
            rows = ops.reshape(self.counts.value, (num_classes, num_classes))
            support = ops.sum(rows, axis=1)
            recall = ops.diagonal(rows) / ops.maximum(support, 1.0)
            return ops.sum(recall) / ops.maximum(ops.sum(ops.cast(support > 0, self.dtype)), 1.0)

    return BareMatrix()


# -- (d): per-batch cost of update_state + result() ---------------------------------------


def _nothing_metric():
    class Nothing(keras.metrics.Metric):
        """A metric that does nothing: times the loop around the metric calls."""

        def update_state(self, y_true, y_pred, sample_weight=None):
            return None

        def result(self):
            return keras.ops.convert_to_tensor(0.0)

        def reset_state(self):
            return None

    return Nothing(name="nothing")


def _loop_runner(metric, y_true, y_pred, jit_compile: bool) -> Callable[[int], float]:
    """A function running ``n`` update_state + result calls as fit would on this backend."""
    backend = keras.backend.backend()
    batches = int(y_true.shape[0])
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(jit_compile=jit_compile)
        def loop(n, y_true, y_pred):
            total = tf.constant(0.0, tf.float32)
            for i in tf.range(n):
                k = i % batches
                metric.update_state(y_true[k], y_pred[k])
                total += tf.cast(metric.result(), tf.float32)
            return total

        return lambda n: float(loop(tf.constant(n), y_true, y_pred))
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        @jax.jit
        def loop(values, n, y_true, y_pred):
            def body(i, carry):
                values, total = carry
                k = i % batches
                values = metric.stateless_update_state(values, y_true[k], y_pred[k])
                return values, total + jnp.asarray(metric.stateless_result(values), jnp.float32)

            return jax.lax.fori_loop(0, n, body, (values, jnp.float32(0.0)))

        state = {"values": [v.value for v in metric.variables]}

        def run(n: int) -> float:
            values, total = loop(state["values"], n, y_true, y_pred)
            state["values"] = values
            return float(total)  # waits for the device

        return run
    # torch: Keras' torch trainer runs metrics eagerly, one call after another
    def run(n: int) -> float:
        result = None
        for i in range(n):
            k = i % batches
            metric.update_state(y_true[k], y_pred[k])
            result = metric.result()
        return float(keras.ops.convert_to_numpy(result))  # waits for the device

    return run


def model_batches(model, x_val, y_val, batches: int = 8) -> tuple[Any, Any]:
    """``batches`` validation batches: labels ``[K, B]`` and the model's outputs ``[K, B, C]``, as backend tensors."""
    ops = keras.ops
    rows = batches * BATCH
    x = np.resize(x_val, (rows,) + x_val.shape[1:])
    y = np.resize(y_val, (rows,))
    y_pred = ops.stack([model(x[i * BATCH:(i + 1) * BATCH], training=False) for i in range(batches)])
    return ops.convert_to_tensor(y.reshape(batches, BATCH)), y_pred


def synthetic_batches(num_classes: int, batches: int = 8) -> tuple[Any, Any]:
    """Labels ``[K, B]`` and softmax scores ``[K, B, C]`` (argmax right for 60 % of rows), as backend tensors."""
    ops = keras.ops
    rng = np.random.default_rng(SEED)
    labels = rng.integers(0, num_classes, (batches, BATCH))
    predicted = np.where(rng.random((batches, BATCH)) < 0.6, labels, rng.integers(0, num_classes, (batches, BATCH)))
    logits = rng.normal(size=(batches, BATCH, num_classes)).astype("float32")
    np.put_along_axis(logits, predicted[..., None], 10.0, axis=-1)
    return ops.convert_to_tensor(labels), ops.softmax(ops.convert_to_tensor(logits), axis=-1)


def per_batch_cost(y_true, y_pred, num_classes: int, jit: bool, calls: int, blocks: int) -> dict[str, Any]:
    """Seconds per update_state + result() call for each metric, minus the empty loop."""
    metrics = {
        "BalancedAccuracy": tbk.BalancedAccuracy(num_classes),
        "SparseCategoricalAccuracy": keras.metrics.SparseCategoricalAccuracy(),
        "nothing": _nothing_metric(),
    }
    runners = {name: _loop_runner(metric, y_true, y_pred, jit) for name, metric in metrics.items()}
    for run in runners.values():  # warm-up: tracing, compilation
        run(min(calls, 20))
        run(calls)
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for block in range(blocks):
        for name in harness.rotated(list(runners), block):
            start = time.perf_counter()
            runners[name](calls)
            seconds[name].append((time.perf_counter() - start) / calls)
    loop = seconds["nothing"]
    net = {name: [s - e for s, e in zip(seconds[name], loop)] for name in ("BalancedAccuracy", "SparseCategoricalAccuracy")}
    return {
        "classes": num_classes,
        "calls": calls,
        "blocks": blocks,
        "jit": jit,
        "loop_us": statistics.median(loop) * 1e6,
        "gross_us": {name: statistics.median(values) * 1e6 for name, values in seconds.items()},
        "net_us": {name: statistics.median(values) * 1e6 for name, values in net.items()},
        "ratio_gross": harness.paired_ratios(seconds["BalancedAccuracy"], seconds["SparseCategoricalAccuracy"]),
        "ratio_net": harness.paired_ratios(
            [max(v, 1e-9) for v in net["BalancedAccuracy"]], [max(v, 1e-9) for v in net["SparseCategoricalAccuracy"]]
        ),
    }


def eager_result_cost(y_true, y_pred, num_classes: int, calls: int = 200, blocks: int = 9,
                      call: str = "result") -> dict[str, float]:
    """Microseconds per ``float(metric.result())`` (``call="reset_state"``: per ``metric.reset_state()``)
    outside any compiled function, per metric (median over blocks)."""
    metrics = {
        "BalancedAccuracy": tbk.BalancedAccuracy(num_classes),
        "SparseCategoricalAccuracy": keras.metrics.SparseCategoricalAccuracy(),
    }

    def run(metric):
        if call == "reset_state":
            metric.reset_state()
        else:
            float(keras.ops.convert_to_numpy(metric.result()))

    for metric in metrics.values():
        metric.update_state(y_true[0], y_pred[0])
        for _ in range(20):  # warm-up: compilation
            run(metric)
    seconds: dict[str, list[float]] = {name: [] for name in metrics}
    for block in range(blocks):
        for name in harness.rotated(list(metrics), block):
            start = time.perf_counter()
            for _ in range(calls):
                run(metrics[name])
            seconds[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(values) * 1e6 for name, values in seconds.items()}


def print_cost(cost: dict[str, Any], backend: str, inputs: str) -> None:
    how = {"tensorflow": f"one tf.function loop (jit_compile={cost['jit']})",
           "jax": "one jax.jit fori_loop, stateless API", "torch": "eager calls"}[backend]
    print(f"      direct, {cost['classes']} classes ({inputs}): {cost['calls']} calls x {cost['blocks']} blocks "
          f"in {how}; empty-loop cost {cost['loop_us']:.1f} us/call subtracted")
    for name in ("BalancedAccuracy", "SparseCategoricalAccuracy"):
        print(f"        {name:26s} {cost['net_us'][name]:8.1f} us/batch  ({cost['gross_us'][name]:.1f} us with the loop)")
    print(f"        ratio BalancedAccuracy / SparseCategoricalAccuracy: {cost['ratio_net']} net, "
          f"{cost['ratio_gross']} with the loop")


def fit_derived_per_batch(fits, variant, base, batches) -> tuple[float, float, float]:
    """Median and quartiles over rounds of (steady time variant − base) / batches, in µs."""
    diffs = sorted((v.steady - b.steady) / batches * 1e6 for v, b in zip(fits[variant], fits[base]))
    return statistics.median(diffs), diffs[len(diffs) // 4], diffs[(3 * len(diffs)) // 4]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=harness.BACKENDS,
                        default=os.environ.get("KERAS_BACKEND", "tensorflow"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000, help="update_state+result calls per block in (d)")
    parser.add_argument("--blocks", type=int, default=9, help="blocks per metric in (d)")
    parser.add_argument("--wide-classes", default="32,128,1000",
                        help="also time (d) at these class counts on synthetic scores, comma-separated ('': skip)")
    parser.add_argument("--no-context", action="store_true", help="skip keras_tb and recipe (TensorFlow only)")
    parser.add_argument("--gather-s", type=float, default=None,
                        help="the background writer's gathering window in seconds (default: the package's, "
                             "tb_imbalance.background.GATHER_S; 0: every step written at once)")
    parser.add_argument("--compare-gathering", action="store_true",
                        help="also fit tb_imbalance with GATHER_S = 0 (tb_at_once) in every round; print (g)")
    parser.add_argument("--compare-bare", action="store_true",
                        help="add a bare streaming confusion-matrix metric (no checks) and print (f) bare_matrix / plain")
    parser.add_argument("--lean", action="store_true",
                        help="the metric without curves (curves=False) and the callback without its picture (image=False)")
    parser.add_argument("--train-rows", type=int, default=14_600,
                        help="training rows (fewer: shorter epochs; the per-epoch cost of the callback stays)")
    parser.add_argument("--val-rows", type=int, default=3_600, help="validation rows")
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny data, 2 rounds, figures meaningless")
    args = parser.parse_args(argv)

    global keras, tbk
    keras = harness.select_backend(args.backend)
    import tb_imbalance.keras

    tbk = tb_imbalance.keras
    from tb_imbalance import background

    if args.gather_s is not None:
        background.GATHER_S = args.gather_s
    if args.quick:
        train_rows, val_rows = 2_048, 512
        args.epochs, args.repeats, args.calls, args.blocks, args.no_context = 2, 2, 50, 3, True
        args.compare_bare = True
        args.wide_classes = "32"
    else:
        train_rows, val_rows = args.train_rows, args.val_rows
    data = long_tail_digits(train_rows, val_rows)
    counts = np.bincount(data[0][1], minlength=CLASSES)
    probe = build_model(["accuracy"])
    device = harness.describe_device(probe)
    print(f"backend {args.backend} (keras {keras.__version__}), device {device}, jit_compile {probe.jit_compile}; "
          f"train rows {len(data[0][1])}, validation rows {len(data[1][1])}, "
          f"train class counts {counts.tolist()}", flush=True)

    with tempfile.TemporaryDirectory() as log_root:
        variants = list(CORE_VARIANTS) + (["tb_at_once"] if args.compare_gathering else [])
        variants += ["bare_matrix"] if args.compare_bare else []
        fits = run_rounds(variants, data, args.epochs, args.repeats, log_root, "core", args.lean)
        comparisons = [
            ("(a) metric + callback / plain", compare(fits, "tb_imbalance", "plain")),
            ("(b) 2nd SparseCatAccuracy / plain", compare(fits, "extra_metric", "plain")),
            ("(c) callback alone: tb / metric*", compare(fits, "tb_imbalance", "metric_unbinned_training")),
            ("    metric alone: metric / plain", compare(fits, "metric", "plain")),
            ("    metric* / plain", compare(fits, "metric_unbinned_training", "plain")),
        ]
        if args.compare_bare:
            comparisons.append(("(f) bare confusion matrix / plain", compare(fits, "bare_matrix", "plain")))
            comparisons.append(("    metric* / bare confusion matrix", compare(fits, "metric_unbinned_training", "bare_matrix")))
        if args.compare_gathering:
            comparisons.append(("(g) gathered / at once: tb / tb_at_once", compare(fits, "tb_imbalance", "tb_at_once")))
        if args.backend == "tensorflow" and not args.no_context:
            for variant in TF_CONTEXT_VARIANTS:
                pair = run_rounds(["plain", variant], data, args.epochs, args.repeats, log_root, f"{variant} vs plain")
                comparisons.append((f"    {variant} / plain (own phase)", compare(pair, variant, "plain")))

    model = build_model(["accuracy"])
    model.fit(data[0][0][:BATCH * 4], data[0][1][:BATCH * 4], epochs=1, batch_size=BATCH, verbose=0)
    jit = bool(model.jit_compile)
    y_true, y_pred = model_batches(model, data[1][0], data[1][1])
    costs = [(per_batch_cost(y_true, y_pred, CLASSES, jit, args.calls, args.blocks), "this model's outputs")]
    eager_results = eager_result_cost(y_true, y_pred, CLASSES, blocks=args.blocks)
    eager_resets = eager_result_cost(y_true, y_pred, CLASSES, blocks=args.blocks, call="reset_state")
    for wide in [int(c) for c in args.wide_classes.split(",") if c.strip()]:
        y_true, y_pred = synthetic_batches(wide)
        wide_calls = max(1, args.calls // 10) if wide > 100 else args.calls
        costs.append((per_batch_cost(y_true, y_pred, wide, jit, wide_calls, args.blocks), "synthetic softmax scores"))
    steady_epochs = max(args.epochs - 1, 1)
    batches = steady_epochs * (math.ceil(train_rows / BATCH) + math.ceil(val_rows / BATCH))
    derived = {
        "BalancedAccuracy": fit_derived_per_batch(fits, "metric", "plain", batches),
        "SparseCategoricalAccuracy": fit_derived_per_batch(fits, "extra_metric", "plain", batches),
    }

    print(f"\nbackend {args.backend}, device {device}, jit_compile {probe.jit_compile}; {args.repeats} rounds, "
          f"{args.epochs} epochs per fit with validation; ratio = median over rounds of this fit / the other fit "
          "of the same round (interquartile range)")
    print(f"  background writer: gathering window {background.GATHER_S:g} s (at most {background.MAX_PENDING} steps)")
    if args.lean:
        print("  --lean: BalancedAccuracy(curves=False) and the callback's image=False in the metric and tb_imbalance fits")
    print(f"  {'comparison':36s} {'median fit':>17s}  {'whole fit':27s} {'epochs 2+':27s} {'CPU time':27s} "
          f"{'CPU time, epochs 2+':27s}")
    for label, c in comparisons:
        print(f"  {label:36s} {c['median_wall']:6.2f}/{c['median_base']:6.2f} s  {str(c['wall']):27s} "
              f"{str(c['steady']):27s} {str(c['cpu']):27s} {str(c['steady_cpu']):27s}")
    print(f"  (c) by direct count: 1 + the callback's own CPU time (training-thread hooks + background writer) / "
          f"the rest of its fit's CPU time, epochs 2+: {direct_count(fits['tb_imbalance'], steady_epochs)}")
    if args.compare_gathering:
        print(f"  tb_at_once, by direct count: {direct_count(fits['tb_at_once'], steady_epochs)}")
    print(f"  (d) per batch, update_state + result(), batches of {BATCH} rows:")
    for cost, inputs in costs:
        print_cost(cost, args.backend, inputs)
    print(f"      from fit time, {CLASSES} classes: (epochs 2+ of variant - plain) / {batches} batches, per round:")
    for name, (median, low, high) in derived.items():
        print(f"        {name:26s} {median:8.1f} us/batch (IQR {low:.1f} - {high:.1f})")
    print(f"  (e) result() outside the compiled step (Keras' epoch logs: twice an epoch), {CLASSES} classes, per call:")
    for name, micros in eager_results.items():
        print(f"        {name:26s} {micros:8.1f} us")
    print(f"      reset_state() between passes (twice an epoch), per call:")
    for name, micros in eager_resets.items():
        print(f"        {name:26s} {micros:8.1f} us")
    harness.assert_no_tensorflow(args.backend)
    if args.backend != "tensorflow":
        print("  TensorFlow was not imported (checked).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

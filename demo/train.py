"""The demo's model and its three ways of training on imbalanced data.

Every run trains the same small network (one hidden layer) with the same seed
and differs only in how it treats the class imbalance:

* ``baseline`` — plain ``fit``: every example counts once, so the rare classes
  barely move the loss;
* ``class_weights`` — ``fit(class_weight=...)`` with scikit-learn's
  ``"balanced"`` weights ``n_samples / (n_classes * count_k)``: each class
  carries the same total weight;
* ``oversampling`` — the training set is rebalanced before ``fit`` by drawing
  extra copies of the minority classes at random (with replacement, numpy)
  until every class has as many examples as the largest one.

Each run logs into its own directory with
:class:`tb_imbalance.keras.ClassificationReportCallback` (run
``validation_imbalance``: confusion matrix, per-class scalars, picture, and
the validation rows behind each cell: the digits as thumbnails; and the training
count per class, for the long-tail view) and
``keras.callbacks.TensorBoard`` (runs ``train`` and ``validation``), and
halves the learning rate with ``ReduceLROnPlateau`` when the validation
balanced accuracy (our :class:`tb_imbalance.keras.BalancedAccuracy` metric)
stops improving.

Example:
    >>> from demo.data import long_tail_digits
    >>> result = train_run(long_tail_digits(), "class_weights", "runs", epochs=5)  # doctest: +SKIP
    >>> result.metrics["balanced_accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time
from typing import Any, TextIO

import keras
import numpy as np

from demo.data import ImbalancedDataset
from tb_imbalance import core
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroF1

__all__ = [
    "STRATEGIES",
    "ModelSettings",
    "RunResult",
    "balanced_class_weights",
    "random_oversample",
    "build_model",
    "EpochProgress",
    "train_run",
]

#: The training strategies, in the order the demo runs them.
STRATEGIES = ("baseline", "class_weights", "oversampling")


@dataclasses.dataclass(frozen=True)
class ModelSettings:
    """Hyper-parameters shared by every run of the demo.

    Attributes:
        hidden_units: width of the one hidden ReLU layer.
        learning_rate: Adam's initial learning rate.
        batch_size: examples per gradient step.
        lr_patience: epochs without a better validation balanced accuracy
            before ``ReduceLROnPlateau`` halves the learning rate.
    """

    hidden_units: int = 32
    learning_rate: float = 3e-3
    batch_size: int = 32
    lr_patience: int = 4


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What one run ended with (the last epoch's validation matrix).

    Attributes:
        dataset: name of the data set.
        strategy: one of :data:`STRATEGIES`.
        log_dir: the run's directory.
        confusion_matrix: validation ``[C, C]`` counts after the last epoch.
        class_names: names of the classes.
        rarest_class: id of the class with the fewest examples.
        seconds: wall time of ``fit``.
        curves: the last epoch's validation curve summary (``[C + 1, 3, B]``,
            :func:`tb_imbalance.core.curve_summary`), the one the callback logged.
    """

    dataset: str
    strategy: str
    log_dir: str
    confusion_matrix: np.ndarray
    class_names: tuple[str, ...]
    rarest_class: int
    seconds: float
    curves: np.ndarray

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.strategy}"

    @property
    def metrics(self) -> dict[str, float]:
        """Headline metrics of :func:`tb_imbalance.core.imbalance_metrics`."""
        return core.imbalance_metrics(self.confusion_matrix)

    @property
    def recall(self) -> np.ndarray:
        """Per-class recall."""
        return core.per_class_metrics(self.confusion_matrix)["recall"]

    @property
    def curve_metrics(self) -> dict[str, Any]:
        """Average precision, ROC-AUC and calibration error: :func:`tb_imbalance.core.curve_metrics`."""
        return core.curve_metrics(self.curves)


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> dict[int, float]:
    """``{class: n_samples / (num_classes * count)}`` for the classes present.

    The same numbers as ``sklearn.utils.class_weight.compute_class_weight(
    "balanced", classes=..., y=labels)``, as the dict ``fit(class_weight=)``
    expects.
    """
    counts = np.bincount(labels, minlength=num_classes)
    return {k: float(len(labels) / (num_classes * counts[k])) for k in range(num_classes) if counts[k]}


def random_oversample(
    features: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Add random copies of minority-class rows until all classes are as large as the largest.

    Every original row is kept once; the extra rows are drawn with
    replacement within their class. The result is shuffled.
    """
    counts = np.bincount(labels)
    rows = [np.arange(len(labels))]
    for class_id, count in enumerate(counts):
        if 0 < count < counts.max():
            members = np.flatnonzero(labels == class_id)
            rows.append(rng.choice(members, counts.max() - count, replace=True))
    order = rng.permutation(np.concatenate(rows))
    return features[order], labels[order]


def build_model(
    input_shape: tuple[int, ...], num_classes: int, settings: ModelSettings
) -> tuple[keras.Model, BalancedAccuracy]:
    """One hidden ReLU layer and a softmax, compiled with our streaming metrics.

    Pictures (``input_shape`` of more than one axis) are flattened first.

    Returns:
        The compiled model and its :class:`BalancedAccuracy` metric. After
        ``fit(validation_data=...)`` that metric still holds the last
        validation epoch's confusion matrix and curve summary (those the
        callback logged).
    """
    model = keras.Sequential(
        [
            keras.Input(input_shape),
            *([keras.layers.Flatten()] if len(input_shape) > 1 else []),
            keras.layers.Dense(settings.hidden_units, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )
    balanced_accuracy = BalancedAccuracy(num_classes)
    model.compile(
        optimizer=keras.optimizers.Adam(settings.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", balanced_accuracy, MacroF1(num_classes)],
    )
    return model, balanced_accuracy


class EpochProgress(keras.callbacks.Callback):
    """Prints one compact progress line per epoch for a run.

    On a terminal the line is rewritten in place and kept at the end of the
    run; otherwise (a log file, a pipe) the first, every ``every``-th and the
    last epoch get a line of their own.

    Args:
        run_name: shown at the start of the line.
        epochs: total number of epochs.
        stream: where to print (default ``sys.stdout``).
        every: epochs between lines when not on a terminal.
    """

    def __init__(self, run_name: str, epochs: int, *, stream: TextIO | None = None, every: int = 5) -> None:
        super().__init__()
        self.run_name = run_name
        self.epochs = epochs
        self.stream = stream or sys.stdout
        self.every = max(1, every)
        self.in_place = bool(getattr(self.stream, "isatty", lambda: False)())

    def _learning_rate(self) -> float:
        return float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        done = epoch + 1
        width = len(str(self.epochs))
        line = (
            f"  {self.run_name:<27} epoch {done:>{width}}/{self.epochs}"
            f"  val acc {logs.get('val_accuracy', float('nan')):.3f}"
            f"  val balanced acc {logs.get('val_balanced_accuracy', float('nan')):.3f}"
            f"  lr {self._learning_rate():.1e}"
        )
        last = done == self.epochs
        if self.in_place:
            # A line wider than the terminal would wrap and defeat the "\r".
            columns = shutil.get_terminal_size().columns
            self.stream.write("\r" + line[: max(20, columns - 1)] + ("\n" if last else ""))
        elif done == 1 or last or done % self.every == 0:
            self.stream.write(line + "\n")
        self.stream.flush()


def train_run(
    dataset: ImbalancedDataset,
    strategy: str,
    log_dir: str | os.PathLike,
    *,
    epochs: int,
    seed: int = 0,
    settings: ModelSettings | None = None,
    progress: bool = True,
) -> RunResult:
    """Train one run and log it to ``log_dir``.

    Args:
        dataset: the data, already split.
        strategy: one of :data:`STRATEGIES`.
        log_dir: directory of this run (``keras.callbacks.TensorBoard`` and
            :class:`ClassificationReportCallback` both write under it).
        epochs: number of epochs.
        seed: seeds weights, shuffling and oversampling
            (``keras.utils.set_random_seed``).
        settings: model hyper-parameters (defaults: :class:`ModelSettings`).
        progress: print a progress line per epoch.

    Returns:
        The run's last validation confusion matrix and timing.

    Raises:
        ValueError: unknown ``strategy`` or ``epochs`` < 1.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {STRATEGIES}, received {strategy!r}")
    if epochs < 1:
        raise ValueError(f"`epochs` must be at least 1, received {epochs}")
    settings = settings or ModelSettings()
    log_dir = os.fspath(log_dir)
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)

    x_train, y_train = dataset.x_train, dataset.y_train
    class_weight = None
    if strategy == "class_weights":
        class_weight = balanced_class_weights(y_train, dataset.num_classes)
    elif strategy == "oversampling":
        x_train, y_train = random_oversample(x_train, y_train, np.random.default_rng(seed))

    model, balanced_accuracy = build_model(dataset.input_shape, dataset.num_classes, settings)
    callbacks: list[keras.callbacks.Callback] = [
        ClassificationReportCallback(
            log_dir, class_names=dataset.class_names, verbose=0,
            examples=(dataset.x_val, dataset.y_val),  # a few hundred rows: cheap to predict each epoch
            # The dataset's own training counts (before any oversampling): the tab's
            # long-tail view buckets classes by them (many-, medium-, few-shot).
            class_counts=dataset.class_counts("train").tolist(),
        ),
        keras.callbacks.TensorBoard(log_dir),
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_balanced_accuracy",
            mode="max",
            factor=0.5,
            patience=settings.lr_patience,
            min_lr=settings.learning_rate / 16,
            verbose=0,
        ),
    ]
    run_name = f"{dataset.name}/{strategy}"
    if progress:
        callbacks.append(EpochProgress(run_name, epochs))

    started = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        validation_data=(dataset.x_val, dataset.y_val),
        epochs=epochs,
        batch_size=settings.batch_size,
        class_weight=class_weight,
        callbacks=callbacks,
        verbose=0,
    )
    seconds = time.perf_counter() - started
    state = balanced_accuracy.read_state()  # the matrix and the curves, read from the metric once
    if isinstance(state.matrix, Exception):
        raise state.matrix
    return RunResult(
        dataset=dataset.name,
        strategy=strategy,
        log_dir=log_dir,
        confusion_matrix=state.matrix,
        class_names=dataset.class_names,
        rarest_class=dataset.rarest_class,
        seconds=seconds,
        curves=state.curves,
    )

"""ClassificationReportCallback: the validation report, every epoch, on any backend."""

from __future__ import annotations

import logging
import os
from typing import Any, Sequence

import keras
import numpy as np

from tb_imbalance import core
from tb_imbalance.keras import distribution
from tb_imbalance.keras.metrics import ConfusionMatrixMetric
from tb_imbalance.keras.validation_data import ValidationSource
from tb_imbalance.writer import ReportWriter

__all__ = ["ClassificationReportCallback"]


def _find_streaming_metrics(metrics: Sequence[Any]) -> list[ConfusionMatrixMetric]:
    found: list[ConfusionMatrixMetric] = []
    for metric in metrics:
        if isinstance(metric, ConfusionMatrixMetric):
            found.append(metric)
        else:
            found.extend(_find_streaming_metrics(getattr(metric, "metrics", []) or []))
    return found


class ClassificationReportCallback(keras.callbacks.Callback):
    """Logs the validation classification report to TensorBoard every epoch.

    Works unchanged with every Keras backend (TensorFlow, JAX, PyTorch).
    Writes into ``<log_dir>/<run_name>`` (default ``validation_imbalance``),
    next to the ``train`` and ``validation`` runs of
    ``keras.callbacks.TensorBoard(log_dir)``: a directory of its own, so
    neither writer loses data in any TensorBoard loader mode. Per logged epoch
    (step = epoch index, as Keras' callback uses): the confusion matrix tensor
    ``name`` (Imbalance dashboard), ``precision/<class>``, ``recall/<class>``,
    ``f1/<class>`` scalars, ``imbalance/<metric>`` headline scalars and the
    ``<name>_image`` picture, through :class:`tb_imbalance.writer.ReportWriter`.
    Summaries are flushed at every epoch end.

    Where the matrix comes from (said once in one log line when ``verbose``):

    1. the model was compiled with :class:`BalancedAccuracy` / :class:`MacroF1`
       (or another :class:`ConfusionMatrixMetric`) and ``fit`` validated this
       epoch: the metric's validation state is read, no extra forward pass;
    2. otherwise ``validation_data`` is predicted.

    Only one process writes: the chief under ``tf.distribute``, process 0 on
    JAX, rank 0 under ``torch.distributed`` (see
    :mod:`tb_imbalance.keras.distribution`).

    Args:
        log_dir: the same directory you give ``keras.callbacks.TensorBoard``.
        class_names: C display names (default ``"0"…"C-1"``).
        validation_data: ``(x, y)`` / ``(x, y, sample_weight)`` arrays, a
            ``keras.utils.PyDataset``, a ``torch.utils.data.DataLoader``, a
            ``tf.data.Dataset`` or any iterable of ``(x, y[, sample_weight])``
            batches (see :mod:`tb_imbalance.keras.validation_data`); only
            used when no streaming metric is compiled (or validation did not
            run in fit).
        freq: log every ``freq`` epochs (epochs 0, freq, 2·freq, …).
        name: tag of the confusion matrix.
        run_name: sub-directory of ``log_dir`` to write to.
        metric: name of the compiled streaming metric to read when several
            are compiled (default: the first one).
        per_class_scalars: write the per-class precision / recall / F1 scalars.
        image: write the confusion-matrix picture.
        batch_size: batch size for predicting array ``validation_data``.
        verbose: 1 prints the one line saying which source is read.

    Raises:
        TypeError: ``validation_data`` is not an accepted source.
        ValueError: bad ``freq`` / ``name``; at the start of training, when
            there is neither a compiled streaming metric nor
            ``validation_data``, or ``class_names`` does not match the number
            of classes; at an epoch's end, when the compiled metric counted
            invalid rows (labels out of range, NaN scores).

    Example:
        >>> import keras, numpy as np, tempfile
        >>> from tb_imbalance.keras import BalancedAccuracy
        >>> log_dir = tempfile.mkdtemp()  # the directory of keras.callbacks.TensorBoard
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
        >>> x, y = np.random.rand(32, 4).astype("float32"), np.arange(32) % 3
        >>> run = ClassificationReportCallback(log_dir, class_names=["a", "b", "c"], verbose=0)
        >>> _ = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=[run])
        >>> sorted(os.listdir(run.run_dir))[0].startswith("events.out.tfevents")
        True
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        *,
        class_names: Sequence[str] | None = None,
        validation_data: Any = None,
        freq: int = 1,
        name: str = "confusion_matrix",
        run_name: str = "validation_imbalance",
        metric: str | None = None,
        per_class_scalars: bool = True,
        image: bool = True,
        batch_size: int = 256,
        verbose: int = 1,
    ) -> None:
        super().__init__()
        if isinstance(freq, bool) or not isinstance(freq, int) or freq < 1:
            raise ValueError(
                f"`freq` must be a positive int (log every freq epochs), received {freq!r}; "
                "use freq=1 to log every epoch"
            )
        if not name or not isinstance(name, str):
            raise ValueError(f"`name` must be a non-empty tag string, received {name!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive int, received {batch_size!r}")
        self.log_dir = os.fspath(log_dir)
        self.class_names = None if class_names is None else list(class_names)
        self.validation_data = validation_data
        self._source = (
            None if validation_data is None else ValidationSource(validation_data, batch_size=batch_size)
        )
        self.freq = freq
        self.name = name
        self.run_name = run_name
        self.metric_name = metric
        self.per_class_scalars = per_class_scalars
        self.image = image
        self.batch_size = batch_size
        self.verbose = verbose
        self._writer: ReportWriter | None = None
        self._metric: ConfusionMatrixMetric | None = None
        self._names: list[str] | None = None
        self._announced = False

    # -- set-up ------------------------------------------------------------
    def _select_metric(self) -> ConfusionMatrixMetric | None:
        candidates = _find_streaming_metrics(self.model.metrics)
        if not candidates:
            # Keras builds compiled metrics on the first batch (without a
            # distribution strategy); until then only compile()'s arguments name them.
            compiled = getattr(self.model, "_compile_metrics", None)
            user = [getattr(compiled, "_user_metrics", None), getattr(compiled, "_user_weighted_metrics", None)]
            candidates = _find_streaming_metrics(keras.tree.flatten(user))
        if self.metric_name is None:
            return candidates[0] if candidates else None
        for candidate in candidates:
            if candidate.name == self.metric_name:
                return candidate
        raise ValueError(
            f"`metric={self.metric_name!r}` names no compiled tb_imbalance metric; "
            f"compiled ones: {[c.name for c in candidates]}; pass one of those names or "
            "metric=None for the first"
        )

    @property
    def run_dir(self) -> str:
        """Directory this callback writes to: ``<log_dir>/<run_name>``."""
        return os.path.join(self.log_dir, self.run_name)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._metric = self._select_metric()
        self._announced = False
        if self._metric is None and self._source is None:
            raise ValueError(
                "ClassificationReportCallback needs a validation confusion matrix: compile "
                "the model with metrics=[tb_imbalance.keras.BalancedAccuracy(num_classes)] "
                "and pass validation_data to fit (no extra forward pass), or pass "
                "validation_data=(x_val, y_val) to the callback"
            )
        if self._metric is not None and self.class_names is not None:
            core.validate_class_names(self.class_names, self._metric.num_classes)

    def _say_once(self, message: str) -> None:
        if not self._announced and self.verbose:
            line = f"ClassificationReportCallback: {message}"
            if keras.config.is_interactive_logging_enabled():
                print(line, flush=True)
            else:
                logging.getLogger("tb_imbalance").info(line)
        self._announced = True

    # -- per epoch ---------------------------------------------------------
    def _matrix_from_metric(self, logs: dict) -> np.ndarray | None:
        if self._metric is None or not any(key.startswith("val_") for key in logs):
            return None
        self._say_once(
            f"reading the validation confusion matrix from the compiled metric "
            f"'{self._metric.name}' (no extra forward pass); writing to {self.run_dir}"
        )
        return self._metric.confusion_matrix()

    def _matrix_from_predictions(self) -> np.ndarray:
        assert self._source is not None
        self._say_once(
            f"no compiled tb_imbalance metric with validation in fit: predicting on "
            f"validation_data ({self._source.kind}) every {self.freq} epoch(s); "
            f"writing to {self.run_dir}"
        )
        num_classes = self._metric.num_classes if self._metric is not None else None
        if num_classes is None and self.class_names is not None:
            num_classes = len(self.class_names)
        return self._source.confusion_matrix(self.model, num_classes=num_classes)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch % self.freq:
            return
        logs = logs or {}
        cm = self._matrix_from_metric(logs)
        if cm is None:
            if self._source is None:
                return  # validation did not run this epoch (validation_freq)
            cm = self._matrix_from_predictions()
        if self._names is None or len(self._names) != cm.shape[0]:
            self._names = core.validate_class_names(self.class_names, cm.shape[0])
        if not distribution.is_writer(self.model):
            return
        if self._writer is None:
            self._writer = ReportWriter(self.run_dir)
        self._writer.write_matrix(
            epoch, self.name, cm, self._names, per_class_scalars=self.per_class_scalars, image=self.image
        )  # one event, flushed

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

"""Keras 3 glue: streaming confusion-matrix metrics and the report callback.

* :class:`BalancedAccuracy` and :class:`MacroF1` are stateful metrics whose
  state is the integer confusion matrix. Their scalar ``result()`` works as
  ``monitor=`` for EarlyStopping, ReduceLROnPlateau and ModelCheckpoint
  (``"val_balanced_accuracy"``, ``"val_macro_f1"``).
* :class:`ClassificationReportCallback` writes, every epoch, the validation
  confusion matrix, per-class precision / recall / F1, the headline imbalance
  scalars and a picture. When the model was compiled with one of the metrics
  above, it reads the validation matrix from that metric: no extra forward
  pass. Otherwise it predicts on its own ``validation_data``.

Example:
    >>> import keras, tb_imbalance.keras as tbk
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    >>> model.compile("adam", "sparse_categorical_crossentropy",
    ...               metrics=[tbk.BalancedAccuracy(3), tbk.MacroF1(3)])
    >>> callback = tbk.ClassificationReportCallback("/tmp/runs/demo", class_names=["a", "b", "c"])
"""

from __future__ import annotations

import logging
import os
from typing import Any, Sequence

import keras
import numpy as np
import tensorflow as tf

from tb_imbalance import core
from tb_imbalance.image import ConfusionMatrixImage
from tb_imbalance.events import ReportEventWriter, report_values

__all__ = [
    "ConfusionMatrixMetric",
    "BalancedAccuracy",
    "MacroF1",
    "ClassificationReportCallback",
]


def _finite_rows(scores: tf.Tensor) -> tf.Tensor:
    """True for rows without NaN or infinity (a row sum propagates both)."""
    return tf.math.is_finite(tf.reduce_sum(tf.cast(scores, tf.float32), axis=-1))


class ConfusionMatrixMetric(keras.metrics.Metric):
    """Base class: a metric whose state is the ``[C, C]`` int64 confusion matrix.

    ``update_state(y_true, y_pred, sample_weight=None)`` accepts sparse labels
    ``[N]`` / ``[N, 1]`` or one-hot labels ``[N, C]``, and predictions as scores
    ``[N, C]`` (argmax), class ids ``[N]``, or one sigmoid column ``[N, 1]``
    when ``num_classes == 2`` (threshold 0.5). ``sample_weight`` is used as a
    mask only: rows with weight 0 are skipped, every other row counts once
    (counts stay exact integers).

    Rows that cannot be counted (labels outside ``[0, C)``, fractional labels,
    NaN scores) raise ``ValueError`` at once when the metric runs eagerly; in
    compiled ``fit`` (where XLA cannot raise) they are counted in
    ``invalid_rows`` and :meth:`confusion_matrix` raises.

    Args:
        num_classes: ``C`` ≥ 2.
        name: metric name (the key in ``logs``).
        dtype: dtype of ``result()``.
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_classes = core.validate_num_classes(num_classes)
        # The C*C cells of the matrix (row-major), then one counter of rows
        # that could not be counted; one variable keeps the compiled step small.
        self.counts = self.add_variable(
            shape=(self.num_classes * self.num_classes + 1,),
            initializer="zeros",
            dtype="int64",
            name="confusion_matrix",
        )

    # -- inputs ------------------------------------------------------------
    def _class_ids(self, values: Any, argument: str) -> tuple[tf.Tensor, tf.Tensor]:
        """int64 class ids [N] and a mask of the rows that can be counted.

        ``[N, C]`` rows (one-hot labels or scores) give their argmax; ``[N]`` /
        ``[N, 1]`` hold class ids, or for ``y_pred`` with two classes a sigmoid
        probability. Shape errors are raised while tracing.
        """
        values = tf.convert_to_tensor(values)
        if values.shape.rank == 2 and values.shape[-1] == 1:
            values = values[:, 0]
        if values.shape.rank == 2:
            if values.shape[-1] is not None and values.shape[-1] != self.num_classes:
                raise ValueError(
                    f"{self.name}: `{argument}` rows must have shape [N, {self.num_classes}], "
                    f"received {values.shape}; set num_classes to the model's output width"
                )
            return tf.argmax(values, axis=-1, output_type=tf.int64), _finite_rows(values)
        if values.shape.rank != 1:
            raise ValueError(
                f"{self.name}: `{argument}` must be class ids [N] or rows [N, C], "
                f"received shape {values.shape}"
            )
        if values.dtype.is_floating and argument == "y_pred":
            if self.num_classes != 2:
                raise ValueError(
                    f"{self.name}: a single float `y_pred` column is read as a sigmoid "
                    f"probability, which needs num_classes=2 (got {self.num_classes})"
                )
            return tf.cast(values >= 0.5, tf.int64), tf.math.is_finite(values)
        if values.dtype.is_floating:  # labels stored as floats must be whole numbers
            values = tf.where(tf.equal(values, tf.round(values)), values, -1)
        ids = tf.cast(values, tf.int64)
        return ids, self._in_range(ids)

    def _in_range(self, ids: tf.Tensor) -> tf.Tensor:
        # One comparison: negative ids wrap around to huge unsigned values.
        return tf.cast(ids, tf.uint64) < self.num_classes

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch to the confusion matrix."""
        if tf.executing_eagerly():
            # Eager use gets the core's precise errors before anything is counted.
            core.confusion_matrix(
                np.asarray(y_true), np.asarray(y_pred), num_classes=self.num_classes
            )
        true_ids, true_ok = self._class_ids(y_true, "y_true")
        pred_ids, pred_ok = self._class_ids(y_pred, "y_pred")
        size = self.num_classes * self.num_classes
        flat = tf.where(true_ok & pred_ok, true_ids * self.num_classes + pred_ids, size)
        if sample_weight is not None:
            weight = tf.reshape(tf.convert_to_tensor(sample_weight), [-1])
            flat = tf.where(tf.not_equal(weight, 0), flat, -1)  # negative ids are dropped
        self.counts.assign_add(tf.math.unsorted_segment_sum(tf.ones_like(flat), flat, size + 1))

    def reset_state(self) -> None:
        self.counts.assign(tf.zeros_like(self.counts))

    # -- outputs -----------------------------------------------------------
    def _support_predicted_correct(self) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Per-class true counts, predicted counts and correct counts, as float64."""
        size = self.num_classes * self.num_classes
        cm = tf.reshape(tf.convert_to_tensor(self.counts)[:size], (self.num_classes, self.num_classes))
        marginals = tf.stack([tf.reduce_sum(cm, axis=1), tf.reduce_sum(cm, axis=0), tf.linalg.diag_part(cm)])
        marginals = tf.cast(marginals, "float64")
        return marginals[0], marginals[1], marginals[2]

    @property
    def invalid_rows(self) -> int:
        """Rows seen in compiled steps that could not be counted (see the class docs)."""
        return int(keras.ops.convert_to_numpy(self.counts)[-1])

    def confusion_matrix(self) -> np.ndarray:
        """The accumulated ``[C, C]`` int64 matrix (summed over replicas).

        Raises:
            ValueError: some rows could not be counted (see class docs).
        """
        counts = keras.ops.convert_to_numpy(self.counts).astype(np.int64)
        invalid = int(counts[-1])
        if invalid:
            raise ValueError(
                f"{self.name}: {invalid} rows could not be counted: labels must be class "
                f"ids in [0, {self.num_classes - 1}] (or one-hot rows) and scores finite; "
                "check the labels and `num_classes`"
            )
        return counts[:-1].reshape(self.num_classes, self.num_classes)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package="tb_imbalance")
class BalancedAccuracy(ConfusionMatrixMetric):
    """Balanced accuracy: mean recall over the classes present in the labels.

    Same value as ``sklearn.metrics.balanced_accuracy_score`` on the data seen.

    Example:
        >>> metric = BalancedAccuracy(3)
        >>> metric.update_state([0, 0, 1, 2], [0, 1, 1, 1])
        >>> round(float(metric.result()), 4)
        0.5
    """

    def __init__(self, num_classes: int, name: str = "balanced_accuracy", dtype: Any = None) -> None:
        super().__init__(num_classes, name=name, dtype=dtype)

    def result(self) -> tf.Tensor:
        support, _, correct = self._support_predicted_correct()
        recall = tf.math.divide_no_nan(correct, support)
        present = tf.cast(support > 0, "float64")
        value = tf.math.divide_no_nan(tf.reduce_sum(recall * present), tf.reduce_sum(present))
        return tf.cast(value, self.dtype)


@keras.saving.register_keras_serializable(package="tb_imbalance")
class MacroF1(ConfusionMatrixMetric):
    """Macro-averaged F1 over all C classes (absent classes count as 0).

    Same value as ``sklearn.metrics.f1_score(average="macro",
    labels=range(C), zero_division=0)`` on the data seen.

    Example:
        >>> metric = MacroF1(2)
        >>> metric.update_state([0, 1, 1], [[0.9, 0.1], [0.4, 0.6], [0.8, 0.2]])
        >>> round(float(metric.result()), 4)
        0.6667
    """

    def __init__(self, num_classes: int, name: str = "macro_f1", dtype: Any = None) -> None:
        super().__init__(num_classes, name=name, dtype=dtype)

    def result(self) -> tf.Tensor:
        support, predicted, correct = self._support_predicted_correct()
        f1 = tf.math.divide_no_nan(2 * correct, support + predicted)
        return tf.cast(tf.reduce_mean(f1), self.dtype)


def _find_streaming_metrics(metrics: Sequence[Any]) -> list[ConfusionMatrixMetric]:
    found: list[ConfusionMatrixMetric] = []
    for metric in metrics:
        if isinstance(metric, ConfusionMatrixMetric):
            found.append(metric)
        else:
            found.extend(_find_streaming_metrics(getattr(metric, "metrics", []) or []))
    return found


def is_chief(strategy: Any) -> bool:
    """Whether this process should write summaries under ``strategy``.

    Single-process strategies (default, Mirrored) always write. Under
    multi-worker training only the chief writes: the ``chief`` task, or worker
    0 when the cluster has no chief (TensorFlow's rule).
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    if resolver.task_type == "chief":
        return True
    cluster = resolver.cluster_spec().as_dict() if resolver.cluster_spec() else {}
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster


class ClassificationReportCallback(keras.callbacks.Callback):
    """Logs the validation classification report to TensorBoard every epoch.

    Writes into ``<log_dir>/<run_name>`` (default ``validation_imbalance``),
    next to the ``train`` and ``validation`` runs of
    ``keras.callbacks.TensorBoard(log_dir)``: a directory of its own, so
    neither writer loses data in any TensorBoard loader mode. Per logged epoch
    (step = epoch index, as Keras' callback uses): the confusion matrix tensor
    ``name`` (Imbalance dashboard), ``precision/<class>``, ``recall/<class>``,
    ``f1/<class>`` scalars, ``imbalance/<metric>`` headline scalars and the
    ``<name>_image`` picture. Summaries are flushed at every epoch end.

    Where the matrix comes from (said once in one log line when ``verbose``):

    1. the model was compiled with :class:`BalancedAccuracy` / :class:`MacroF1`
       (or another :class:`ConfusionMatrixMetric`) and ``fit`` validated this
       epoch: the metric's validation state is read, no extra forward pass;
    2. otherwise ``validation_data`` is predicted.

    Args:
        log_dir: the same directory you give ``keras.callbacks.TensorBoard``.
        class_names: C display names (default ``"0"…"C-1"``).
        validation_data: ``(x, y)`` / ``(x, y, sample_weight)`` arrays, or a
            ``tf.data.Dataset`` yielding ``(x, y)`` batches; only used when no
            streaming metric is compiled (or validation did not run in fit).
        freq: log every ``freq`` epochs (epochs 0, freq, 2·freq, …).
        name: tag of the confusion matrix.
        run_name: sub-directory of ``log_dir`` to write to.
        metric: name of the compiled streaming metric to read when several
            are compiled (default: the first one).
        per_class_scalars: write the per-class precision / recall / F1 scalars.
        image: write the confusion-matrix picture.
        batch_size: batch size for predicting array ``validation_data``.
        verbose: 1 prints the one line saying which path is taken.

    Raises:
        ValueError: at the start of training, when there is neither a compiled
            streaming metric nor ``validation_data``, or ``class_names`` does
            not match the number of classes.

    Example:
        >>> callbacks = [keras.callbacks.TensorBoard("runs/baseline"),
        ...              ClassificationReportCallback("runs/baseline", class_names=names)]
        >>> model.fit(x, y, validation_data=(x_val, y_val), callbacks=callbacks)  # doctest: +SKIP
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
            raise ValueError(f"`freq` must be a positive int (log every freq epochs), received {freq!r}")
        if not name or not isinstance(name, str):
            raise ValueError(f"`name` must be a non-empty tag string, received {name!r}")
        if validation_data is not None and not isinstance(validation_data, (tuple, list, tf.data.Dataset)):
            raise TypeError(
                "`validation_data` must be a tuple (x, y) / (x, y, sample_weight) or a "
                f"tf.data.Dataset, received {type(validation_data).__name__}"
            )
        if isinstance(validation_data, (tuple, list)) and len(validation_data) not in (2, 3):
            raise ValueError(
                "`validation_data` must be (x, y) or (x, y, sample_weight), received a "
                f"sequence of length {len(validation_data)}"
            )
        self.log_dir = os.fspath(log_dir)
        self.class_names = None if class_names is None else list(class_names)
        self.validation_data = validation_data
        self.freq = freq
        self.name = name
        self.run_name = run_name
        self.metric_name = metric
        self.per_class_scalars = per_class_scalars
        self.image = image
        self.batch_size = batch_size
        self.verbose = verbose
        self._writer: ReportEventWriter | None = None
        self._metric: ConfusionMatrixMetric | None = None
        self._renderer: ConfusionMatrixImage | None = None
        self._names: list[str] | None = None
        self._announced = False

    # -- set-up ------------------------------------------------------------
    def _select_metric(self) -> ConfusionMatrixMetric | None:
        candidates = _find_streaming_metrics(self.model.metrics)
        if not candidates:
            # Without a distribution strategy Keras builds compiled metrics on the
            # first batch; until then only compile()'s arguments name them.
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
            f"compiled ones: {[c.name for c in candidates]}"
        )

    @property
    def run_dir(self) -> str:
        """Directory this callback writes to: ``<log_dir>/<run_name>``."""
        return os.path.join(self.log_dir, self.run_name)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._metric = self._select_metric()
        self._announced = False
        if self._metric is None and self.validation_data is None:
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
        num_classes = self._metric.num_classes if self._metric is not None else None
        self._say_once(
            "no compiled tb_imbalance metric with validation in fit: predicting on "
            f"validation_data every {self.freq} epoch(s); writing to {self.run_dir}"
        )
        if isinstance(self.validation_data, tf.data.Dataset):
            labels, scores, weights = [], [], []
            for batch in self.validation_data:
                x, y = batch[0], batch[1]
                scores.append(np.asarray(self.model.predict_on_batch(x)))
                labels.append(np.asarray(y))
                if len(batch) > 2:
                    weights.append(np.asarray(batch[2]))
            y_val, scores_all = np.concatenate(labels), np.concatenate(scores)
            weight = np.concatenate(weights) if weights else None
        else:
            x_val, y_val = self.validation_data[0], np.asarray(self.validation_data[1])
            weight = None if len(self.validation_data) < 3 else np.asarray(self.validation_data[2])
            scores_all = np.asarray(self.model.predict(x_val, batch_size=self.batch_size, verbose=0))
        if num_classes is None and self.class_names is not None:
            num_classes = len(self.class_names)
        return core.confusion_matrix(y_val, scores_all, num_classes=num_classes, sample_weight=weight)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch % self.freq:
            return
        logs = logs or {}
        cm = self._matrix_from_metric(logs)
        if cm is None:
            if self.validation_data is None:
                return  # validation did not run this epoch (validation_freq)
            cm = self._matrix_from_predictions()
        if self._names is None or len(self._names) != cm.shape[0]:
            self._names = core.validate_class_names(self.class_names, cm.shape[0])
            self._renderer = ConfusionMatrixImage(self._names) if self.image else None
        if not is_chief(self.model.distribute_strategy):
            return
        values = report_values(
            self.name, cm, self._names, per_class_scalars=self.per_class_scalars, image=self._renderer
        )
        if self._writer is None:
            self._writer = ReportEventWriter(self.run_dir)
        self._writer.write(epoch, values)
        self._writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

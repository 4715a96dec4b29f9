"""Keras 3 glue, on any backend: streaming confusion-matrix metrics and the report callback.

* :class:`BalancedAccuracy` and :class:`MacroF1` are stateful metrics whose
  state is the integer confusion matrix, written with ``keras.ops`` only: the
  same code runs on TensorFlow, JAX and PyTorch, compiled or eager. Their
  scalar ``result()`` works as ``monitor=`` for EarlyStopping,
  ReduceLROnPlateau and ModelCheckpoint (``"val_balanced_accuracy"``,
  ``"val_macro_f1"``, also with ``mode="auto"``). From the same validation
  pass they keep the binned scores behind the PR, ROC and reliability curves
  (``metric.curve_summary()``); :class:`MacroAveragePrecision` is their macro
  average precision, as a streaming metric (``"val_macro_average_precision"``).
* :class:`ClassificationReportCallback` writes, every epoch, the validation
  confusion matrix, per-class precision / recall / F1, the headline imbalance
  scalars and a picture. Given its own ``validation_data`` (arrays, a
  ``PyDataset``, a torch ``DataLoader``, a ``tf.data.Dataset`` or batches;
  ``validation_steps`` for one that never ends) it predicts on it: an
  explicit source always wins. Otherwise it reads the validation matrix from
  a compiled metric above: no extra forward pass. Set-ups that would log
  wrong numbers (logits read as probabilities, a re-run into an old
  ``log_dir``, class names of the wrong length, …) fail before training, or
  warn once (``fit`` did not validate).
* A binary model with one logit column: ``BalancedAccuracy(2,
  from_logits=True)`` / ``ClassificationReportCallback(...,
  from_logits=True)`` cut it at 0.

TensorFlow is imported only when it is the Keras backend.

One file per job: :mod:`~tb_imbalance.keras.metrics` (the metrics) on
:mod:`~tb_imbalance.keras.confusion_metric` (their streaming state; the
per-row maths in :mod:`~tb_imbalance.keras.cell_index` and
:mod:`~tb_imbalance.keras.row_ops`), :mod:`~tb_imbalance.keras.callback`
(the callback; its set-up checks in :mod:`~tb_imbalance.keras.model_checks`),
:mod:`~tb_imbalance.keras.validation_data` (every accepted validation
source, as batches), :mod:`~tb_imbalance.keras.distribution` (which process
writes).

Example:
    >>> import keras, tb_imbalance.keras as tbk
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    >>> model.compile("adam", "sparse_categorical_crossentropy",
    ...               metrics=[tbk.BalancedAccuracy(3), tbk.MacroF1(3)])
    >>> callback = tbk.ClassificationReportCallback("/tmp/runs/demo", class_names=["a", "b", "c"])
    >>> callback.run_dir
    '/tmp/runs/demo/validation_imbalance'
"""

from tb_imbalance.keras.callback import ClassificationReportCallback
from tb_imbalance.keras.distribution import is_chief  # noqa: F401  (tf.distribute rule, kept importable)
from tb_imbalance.keras.metrics import BalancedAccuracy, ConfusionMatrixMetric, MacroAveragePrecision, MacroF1

__all__ = [
    "ConfusionMatrixMetric",
    "BalancedAccuracy",
    "MacroF1",
    "MacroAveragePrecision",
    "ClassificationReportCallback",
]

"""Every accepted ``validation_data`` source, turned into one confusion matrix.

:class:`ValidationSource` checks the value once (when the callback is
built) and, each logged epoch, predicts it with the model and counts the
matrix with :func:`tb_imbalance.core.confusion_matrix`. Accepted sources:

* a tuple ``(x, y)`` or ``(x, y, sample_weight)`` of arrays, predicted with
  ``model.predict(x, batch_size=...)``;
* a ``keras.utils.PyDataset`` yielding ``(x, y[, sample_weight])`` batches;
* a PyTorch ``torch.utils.data.DataLoader`` yielding such batches;
* a ``tf.data.Dataset`` yielding such batches (TensorFlow installed);
* any other iterable of such batches: a list of tuples, a generator. A
  one-shot iterator (a generator) is read once and its batches are kept for
  later epochs; pass a re-iterable (list, ``PyDataset``, ``DataLoader``) to
  stream instead.

A source that may never end needs ``steps`` (the callback's
``validation_steps``), the number of batches read per report: a
``tf.data.Dataset`` whose cardinality is infinite (``.repeat()``) or unknown,
a ``PyDataset`` whose ``num_batches`` is ``None``, a ``DataLoader`` over an
``IterableDataset``, a generator or any iterable without ``len()``. Without
it such a source is refused when the callback is built, instead of hanging
the first report. Arrays, lists, tuples and sources with a length need
nothing (with ``steps``, only the first ``steps`` batches are read).

Batches are predicted with ``model.predict_on_batch`` (``model.predict`` of the batch under a
``tf.distribute`` strategy of several replicas). Framework types are
recognised by the module their type comes from: nothing imports TensorFlow
or PyTorch here.

Example:
    >>> import numpy as np
    >>> source = ValidationSource((np.zeros((4, 2)), np.array([0, 1, 1, 0])))
    >>> source.kind
    'arrays (x, y)'
    >>> ValidationSource(np.zeros(3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: `validation_data` must be a tuple (x, y) / (x, y, sample_weight) of arrays, ...
    >>> ValidationSource(iter([]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `validation_data` (one-shot iterator list_iterator ...) has no length, ... Pass validation_steps=...
"""

from __future__ import annotations

import collections.abc
import itertools
from typing import Any, Iterable, Iterator

import keras
import numpy as np

from tb_imbalance import core
from tb_imbalance.keras import distribution
from tb_imbalance.keras.random_streams import leaves_random_streams_alone
from tb_imbalance.keras.source_kinds import (
    is_array, is_list_of_batches, is_tf_dataset, is_torch_dataloader, length_of, py_dataset_batches, py_dataset_length,
)
from tb_imbalance.step_curves import CURVES_MAX_CLASSES
from tb_imbalance.tensors import to_numpy

__all__ = ["ValidationSource", "ACCEPTED"]

#: The accepted types, as error messages list them.
ACCEPTED = (
    "a tuple (x, y) / (x, y, sample_weight) of arrays, a keras.utils.PyDataset, "
    "a torch.utils.data.DataLoader, a tf.data.Dataset, or an iterable of "
    "(x, y[, sample_weight]) batches (a list of tuples, a generator)"
)


def _refuse_single_examples(dataset: Any) -> None:
    """A tf.data.Dataset of examples, not batches (no ``.batch()``): labels of shape ``()`` would reach the
    model without their batch axis, and fail only after the first epoch trained."""
    spec = dataset.element_spec
    labels = spec[1] if isinstance(spec, tuple) and len(spec) in (2, 3) else None
    if getattr(getattr(labels, "shape", None), "rank", None) == 0:
        raise ValueError(
            "`validation_data` (tf.data.Dataset) yields single examples, not batches (its labels have shape "
            "()): pass dataset.batch(256), as fit's own validation_data needs"
        )


def _type_error(value: Any) -> TypeError:
    hint = ""
    if is_array(value):
        hint = "; an array alone has no labels: pass validation_data=(x_val, y_val)"
    return TypeError(
        f"`validation_data` must be {ACCEPTED}; received {type(value).__module__}."
        f"{type(value).__qualname__}{hint}"
    )


class ValidationSource:
    """One ``validation_data`` value, checked once, predicted on demand.

    Args:
        value: one of the sources listed in the module docs.
        batch_size: batch size for predicting arrays (other sources come
            batched already).
        steps: batches to read per report (``None``: all); required for a
            source that may never end (see the module docs).

    Attributes:
        kind: what ``value`` was recognised as, for the callback's log line.

    Raises:
        TypeError: ``value`` is none of the accepted types; ``steps`` not an int.
        ValueError: an ``(x, y[, w])`` tuple of the wrong length; a source
            that may never end without ``steps``; ``steps`` < 1.
    """

    def __init__(self, value: Any, *, batch_size: int = 256, steps: int | None = None) -> None:
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer))):
            raise TypeError(
                f"`validation_steps` must be a positive int (batches per report) or None, received {steps!r}"
            )
        if steps is not None and steps < 1:
            raise ValueError(
                f"`validation_steps` must be a positive int (batches per report) or None, received {steps!r}"
            )
        self.value = value
        self.batch_size = batch_size
        self.steps = None if steps is None else int(steps)
        self._cached: list | None = None
        self._last: tuple[np.ndarray, Any, core.ClassIds | None] | None = None
        #: Keep the scores of array data read in full for :meth:`take_last_predictions`.
        self.keep_scores = False
        if isinstance(value, tuple) or (isinstance(value, list) and not is_list_of_batches(value)):
            if len(value) not in (2, 3):
                raise ValueError(
                    "`validation_data` given as arrays must be (x, y) or (x, y, sample_weight), "
                    f"received a {type(value).__name__} of length {len(value)}; a list of "
                    "(x, y) tuples is read as batches"
                )
            self.kind = "arrays (x, y)" if len(value) == 2 else "arrays (x, y, sample_weight)"
            for argument, other in zip(("x", "sample_weight"), (value[0], *value[2:])):  # Keras pairs by position
                try:
                    core.check_rows_paired(value[1], other, argument, "y", same_count=True)
                except ValueError as error:
                    raise ValueError(f"`validation_data` ({self.kind}): {error}") from None
        elif isinstance(value, keras.utils.PyDataset):
            self.kind = f"keras.utils.PyDataset {type(value).__name__}"
        elif is_torch_dataloader(value):
            self.kind = "torch.utils.data.DataLoader"
        elif is_tf_dataset(value):
            self.kind = "tf.data.Dataset"
            _refuse_single_examples(value)
        elif (
            isinstance(value, (str, bytes, collections.abc.Mapping))
            or is_array(value)
            or not isinstance(value, collections.abc.Iterable)
        ):
            raise _type_error(value)
        elif isinstance(value, collections.abc.Iterator):
            self.kind = f"one-shot iterator {type(value).__name__} (batches kept after the first read)"
        else:
            self.kind = f"iterable of batches {type(value).__name__}"
        if self.steps is None and not self.is_arrays:
            self._refuse_endless()

    @property
    def is_arrays(self) -> bool:
        return self.kind.startswith("arrays")

    @property
    def rows(self) -> int | None:
        """The rows of array data predicted per report (None for batches, counted as they are read)."""
        if not self.is_arrays:
            return None
        return len(self.value[1]) if self.steps is None else min(len(self.value[1]), self.steps * self.batch_size)

    def _refuse_endless(self) -> None:
        """Raise when the source may never end (reading it would hang the callback)."""
        value, why = self.value, None
        if isinstance(value, keras.utils.PyDataset):
            if py_dataset_length(value) is None:
                why = "has num_batches None (or no num_batches / __len__), so it may never end"
        elif is_tf_dataset(value):
            cardinality = int(value.cardinality())
            if cardinality == -1:  # tf.data.INFINITE_CARDINALITY
                why = "repeats forever (cardinality INFINITE, e.g. after .repeat())"
            elif cardinality == -2:  # tf.data.UNKNOWN_CARDINALITY
                why = (
                    "has an UNKNOWN cardinality (e.g. from_generator or filter), so it may never "
                    "end; if it is finite, dataset.apply(tf.data.experimental.assert_cardinality(n)) "
                    "also works"
                )
        elif length_of(value) is None:
            why = "has no length, so it may never end (a generator, an IterableDataset, a stream)"
        if why is not None:
            raise ValueError(
                f"`validation_data` ({self.kind}) {why}: the callback would wait for its end "
                "forever. Pass validation_steps=<batches per report> to ClassificationReportCallback "
                "(its first batches of a fresh pass are read every logged epoch: the same rows unless it "
                "reshuffles, as ds.shuffle(...).repeat() does; ds.take(n).cache().repeat() fixes them), or pass "
                "a finite source (arrays, a list of batches, a dataset with a length)"
            )

    def check_labels(self, num_classes: int) -> None:
        """Check array labels against ``C`` before training (batched sources: at the first report).

        Padding rows (weight 0 and a label that names no class, such as ``-1``)
        are left out, as the metric and the writers drop them.

        Raises:
            TypeError / ValueError: labels the core rejects (ragged, wrong
                shape, ids outside ``[0, C)``, empty one-hot rows).
        """
        if not self.is_arrays:
            return
        try:
            labels = to_numpy(self.value[1], "validation_data")
            weights = to_numpy(self.value[2], "validation_data") if len(self.value) > 2 else None
            if weights is not None and np.shape(weights) in ((len(labels),), (len(labels), 1)) and np.ndim(labels):
                labels = np.asarray(labels)[~core.padding_rows(labels, np.reshape(weights, -1), num_classes)]
            core.class_ids_from_labels(labels, num_classes)
        except (TypeError, ValueError) as error:
            hint = ""
            if isinstance(self.value, list) and all(isinstance(item, list) and len(item) in (2, 3) for item in self.value):
                hint = ("; it looks like a list of [x, y] batches, which a list reads as arrays: give each batch as a "
                        "tuple, [(x, y), ...], or pass the arrays as (x_val, y_val)")
            raise core.reworded(error, f"`validation_data` ({self.kind}), its y: {error}{hint}") from None

    # -- batches -----------------------------------------------------------
    def _raw_batches(self) -> Iterable[Any]:
        value, steps = self.value, self.steps
        if isinstance(value, keras.utils.PyDataset):
            length = py_dataset_length(value)
            count = steps if length is None else length if steps is None else min(length, steps)
            return py_dataset_batches(value, count, length, self.kind)
        if is_tf_dataset(value):
            return (value if steps is None else value.take(steps)).as_numpy_iterator()
        if isinstance(value, collections.abc.Iterator):
            if self._cached is None:  # read once; the same batches every report
                self._cached = list(value if steps is None else itertools.islice(value, steps))
            return self._cached
        return value if steps is None else itertools.islice(value, steps)

    def batches(self) -> Iterator[tuple[Any, Any, Any]]:
        """``(x, y, sample_weight or None)`` per batch of a batched source."""
        for index, batch in enumerate(self._raw_batches()):
            if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
                described = (
                    f"a {type(batch).__name__} of length {len(batch)}"
                    if isinstance(batch, (tuple, list)) else f"a {type(batch).__name__}"
                )
                raise ValueError(
                    f"`validation_data` ({self.kind}) must yield (x, y) or (x, y, sample_weight) "
                    f"batches; batch {index} is {described}"
                )
            yield batch[0], batch[1], batch[2] if len(batch) == 3 else None

    # -- predictions -------------------------------------------------------
    def confusion_matrix(
        self,
        model: Any,
        *,
        num_classes: int | None,
        class_names: Any = None,
        from_logits: bool = False,
    ) -> np.ndarray:
        """Predict every example with ``model`` and count the ``[C, C]`` matrix (see :meth:`report`)."""
        return self.report(model, num_classes=num_classes, class_names=class_names, from_logits=from_logits)[0]

    @leaves_random_streams_alone
    def report(
        self,
        model: Any,
        *,
        num_classes: int | None,
        class_names: Any = None,
        from_logits: bool = False,
        scores_from_logits: bool | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None, str]:
        """Predict every example with ``model``: the ``[C, C]`` matrix and, from the
        same predictions and argmax, the curve summary.

        Args:
            model: a single-output Keras model.
            num_classes: ``C``, or ``None`` to read it from the predictions.
            class_names: checked against ``C`` (so a wrong count blames
                ``class_names``, not the labels).
            from_logits: a binary model's single score column holds logits.
            scores_from_logits: the scores are logits for the curves (a
                softmax of ``[N, C]``, a sigmoid of one column); default
                ``from_logits``.

        Returns ``(matrix, curves, why)``: the matrix as int64 counts, or
        float64 sums of weights when the source carries real-valued sample
        weights;
        :func:`tb_imbalance.core.curve_summary` of the same rows (weighted
        alike), or None when the predictions are not probabilities
        (:func:`tb_imbalance.core.curve_probabilities`) or there are more than
        :data:`~tb_imbalance.step_curves.CURVES_MAX_CLASSES` classes, and ``why`` then.

        Raises:
            ValueError / TypeError: empty source, batches mixing weighted and
                unweighted, a model with several outputs, labels /
                predictions the core rejects (the message says which is which).
        """
        if self.is_arrays:
            x, labels = self.value[0], to_numpy(self.value[1], "validation_data")
            weights = None if len(self.value) < 3 else to_numpy(self.value[2], "validation_data")
            if self.steps is not None:
                rows = self.steps * self.batch_size
                x = keras.tree.map_structure(lambda leaf: leaf[:rows], x)
                labels = labels[:rows]
                weights = None if weights is None else weights[:rows]
            scores = _single_output(model.predict(x, batch_size=self.batch_size, verbose=0))
        else:
            labels, scores, weights = self._predict_batches(model)
        num_classes, _ = core.resolve_num_classes(labels, scores, num_classes, class_names, from_logits=from_logits)
        try:
            ids = core.class_ids(labels, scores, num_classes=num_classes, sample_weight=weights, from_logits=from_logits)
            if self.keep_scores and self.is_arrays and self.steps is None:
                self._last = (scores, labels, ids if weights is None else None)
            if num_classes > CURVES_MAX_CLASSES:  # as log_report and the metrics by default: (C + 1) × 900 bytes a step
                return core.count_class_ids(ids), None, (
                    f"the model has {num_classes} classes (> {CURVES_MAX_CLASSES}), and the callback's validation_data "
                    "logs curves up to that many. For curves at this size compile "
                    f"BalancedAccuracy({num_classes}, curves=True) and leave the callback's validation_data unset")
            curves_from_logits = from_logits if scores_from_logits is None else scores_from_logits
            return (core.count_class_ids(ids), *core.kept_rows_summary(scores, ids, from_logits=curves_from_logits))
        except (TypeError, ValueError) as error:
            raise core.reworded(
                error, f"`validation_data` ({self.kind}): {error} [`labels` are the y of validation_data, "
                "`predictions` the model's output on its x]"
            ) from None

    def shares_inputs(self, x: Any) -> bool:
        """Whether ``x`` is this source's own array of inputs, predicted in full each report."""
        return self.is_arrays and self.steps is None and x is self.value[0]

    def take_last_predictions(self, labels: Any) -> tuple[np.ndarray | None, core.ClassIds | None]:
        """The scores of the last :meth:`confusion_matrix` of array data read in full (then forgotten).

        With them its class ids, when ``labels`` are that data's labels and it
        has no sample weights: the examples then reuse the argmax.
        """
        last, self._last = self._last, None
        if last is None:
            return None, None
        scores, own_labels, ids = last
        same = ids is not None and (labels is own_labels or np.array_equal(np.asarray(labels), np.asarray(own_labels)))
        return scores, ids if same else None

    def _predict_batches(self, model: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        labels, scores, weights = [], [], []
        for x, y, weight in self.batches():
            scores.append(_single_output(distribution.predict_batch(model, _model_input(x))))
            labels.append(np.asarray(to_numpy(y, "validation_data")))
            weights.append(None if weight is None else np.asarray(to_numpy(weight, "validation_data")))
        if not scores:
            raise ValueError(f"`validation_data` ({self.kind}) yielded no batches; nothing to report")
        weighted = {weight is not None for weight in weights}
        if len(weighted) > 1:
            raise ValueError(
                f"`validation_data` ({self.kind}) mixes batches with and without sample_weight; "
                "yield (x, y, sample_weight) for every batch or for none"
            )
        joined = np.concatenate(weights) if weighted == {True} else None
        return np.concatenate(labels), np.concatenate(scores), joined


def multi_output_refusal(argument: str, count: int, keys: str = "") -> str:
    """Why the callback's ``argument`` (validation_data or examples) cannot use a model of ``count`` outputs."""
    if argument == "examples":
        return (
            f"`examples`: the model returns {count} outputs{keys}, and the examples behind each cell are "
            "read from a single-output model's predictions (model.predict on the ExampleSet's x). Leave "
            "`examples` unset for this model, or log the output you want with its inputs yourself: "
            "tb_imbalance.log_report(writer, y_val, that_output, step, examples=x_val)"
        )
    return (
        f"`validation_data`: the model returns {count} outputs{keys}, and the callback's "
        "predict path reports a single-output model. Compile a tb_imbalance metric on the "
        "output to report (metrics={'<output name>': [tb_imbalance.keras.BalancedAccuracy(C)]}), "
        "let fit validate and leave the callback's validation_data unset; or log that "
        "output yourself with tb_imbalance.log_report"
    )


def _single_output(predictions: Any, argument: str = "validation_data") -> np.ndarray:
    """The model's one output as numpy (also inside a list or dict of one); a clear error for a multi-output model."""
    if isinstance(predictions, (list, tuple, dict)) and len(predictions) == 1:
        predictions = next(iter(predictions.values())) if isinstance(predictions, dict) else predictions[0]
    if isinstance(predictions, (list, tuple, dict)):
        keys = f" ({', '.join(map(str, predictions))})" if isinstance(predictions, dict) else ""
        raise ValueError(multi_output_refusal(argument, len(predictions), keys))
    return np.asarray(keras.ops.convert_to_numpy(predictions))


def _model_input(x: Any) -> Any:
    """Leaves of ``x`` the current backend can take: its own tensors and numpy arrays.

    Tensors of another framework (a torch DataLoader on the JAX backend, say)
    become numpy arrays.
    """

    def convert(leaf: Any) -> Any:
        if leaf is None or isinstance(leaf, np.ndarray) or keras.ops.is_tensor(leaf):
            return leaf
        return to_numpy(leaf, "validation_data")

    return keras.tree.map_structure(convert, x)


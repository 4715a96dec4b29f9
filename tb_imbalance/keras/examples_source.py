"""The callback's ``examples=`` set: checked once, predicted once per logged epoch.

``examples=(x, y)`` or ``(x, y, ids)`` is a small set of rows (up to a few
thousand) whose rows are kept behind the confusion-matrix cells they fall
in (:mod:`tb_imbalance.examples`). ``x`` goes to ``model.predict`` as it is
(arrays, or anything ``predict`` accepts), and its rows are rendered for the
dashboard: pictures ``[N, H, W]`` / ``[N, H, W, C]`` / ``[N, C, H, W]`` as
thumbnails, strings as text, other rows as their first values.

Example:
    >>> import numpy as np
    >>> source = ExamplesSource((np.zeros((4, 8, 8)), [0, 1, 1, 0], ["a", "b", "c", "d"]))
    >>> len(source), source.describe()
    (4, '4 rows of [8, 8]')
"""

from __future__ import annotations

from typing import Any, Callable

import keras
import numpy as np

from tb_imbalance import core
from tb_imbalance.examples import ExampleSet, collect_examples, validate_examples_options
from tb_imbalance.keras.random_streams import leaves_random_streams_alone
from tb_imbalance.keras.source_kinds import is_tf_dataset, is_torch_dataloader
from tb_imbalance.keras.validation_data import _single_output
from tb_imbalance.tensors import to_numpy

__all__ = ["ExamplesSource"]


def _length(value: Any, argument: str) -> int:
    try:
        return len(value)
    except TypeError:
        raise TypeError(
            f"`examples` {argument} must hold one row per example (an array or a list), "
            f"received {type(value).__name__}"
        ) from None


class ExamplesSource:
    """``examples=(x, y[, ids])`` of :class:`~tb_imbalance.keras.ClassificationReportCallback`.

    Args:
        examples: ``(x, y)`` or ``(x, y, ids)``; ``y`` class ids ``[N]`` or
            one-hot ``[N, C]``; ``ids`` one int or string per row.
        examples_per_cell, examples_max_bytes: see :func:`tb_imbalance.examples.collect_examples`.

    Raises:
        TypeError / ValueError: not a 2- or 3-tuple, rows of different
            lengths, empty, or bad options.
    """

    def __init__(self, examples: Any, *, examples_per_cell: int = 8, examples_max_bytes: int = 2_000_000) -> None:
        if not isinstance(examples, (tuple, list)) or len(examples) not in (2, 3):
            raise TypeError(
                "`examples` must be a tuple (x, y) or (x, y, ids) of a small set of rows (up to a few "
                f"thousand), received {type(examples).__name__}"
                + (f" of length {len(examples)}" if isinstance(examples, (tuple, list)) else "")
            )
        self.per_cell, self.max_bytes = validate_examples_options(examples_per_cell, examples_max_bytes)
        self.x, y = examples[0], examples[1]
        if isinstance(self.x, dict) or (
            isinstance(self.x, (tuple, list)) and any(np.ndim(part) >= 1 for part in self.x[:1])
        ):
            # Keras' predict reads a dict or a list of arrays as several model inputs
            raise TypeError(
                "`examples` x must be the rows of a single-input model as one array (stack a list of "
                "rows with np.stack) or a list of strings; for a model with several inputs, log the "
                "examples of one input with tb_imbalance.log_report(..., examples=that_input)"
            )
        kind = ("tf.data.Dataset" if is_tf_dataset(self.x) else "torch DataLoader" if is_torch_dataloader(self.x)
                else "keras.utils.PyDataset" if isinstance(self.x, keras.utils.PyDataset) else None)
        if kind is not None:
            raise TypeError(
                f"`examples` x must be the rows themselves (an array, a DataFrame, a list of pictures or strings), "
                f"received a {kind}: its rows are kept and shown, so pass a few thousand of them as an array "
                "(e.g. the x and y of one large batch)"
            )
        self.ids = examples[2] if len(examples) == 3 else None
        self._shared: Any = None  # the ValidationSource whose predictions serve the examples too
        for argument, other in (("x", self.x), ("ids", self.ids)):  # paired by position, as predict pairs them
            try:
                core.check_rows_paired(y, other, argument, "y")
            except ValueError as error:
                raise ValueError(f"`examples` (x, y[, ids]): {error}") from None
        self.y = to_numpy(y, "examples")
        lengths = {"x": _length(self.x, "x"), "y": _length(self.y, "y")}
        if self.ids is not None:
            if isinstance(self.ids, (str, bytes)):
                raise TypeError("`examples` ids must hold one id per row, received a single string")
            lengths["ids"] = _length(self.ids, "ids")
        if len(set(lengths.values())) != 1:
            raise ValueError(
                "`examples` x, y (and ids) must have one entry per row, received lengths "
                + ", ".join(f"{key}={value}" for key, value in lengths.items())
            )
        if not lengths["x"]:
            raise ValueError("`examples` is empty (0 rows); pass at least one row, or leave examples unset")

    def __len__(self) -> int:
        return len(self.y)

    def describe(self) -> str:
        """``"<N> rows of [shape]"`` for the log line."""
        if isinstance(self.x, (list, tuple)) and isinstance(self.x[0], (str, bytes)):
            return f"{len(self)} rows"
        try:  # np.shape, not x[0]: a DataFrame's x[0] is a column
            shape = list(np.shape(self.x)[1:])
        except (TypeError, ValueError):  # rows of different shapes
            shape = []
        return f"{len(self)} rows" + (f" of {shape}" if shape else "")

    def check_labels(self, num_classes: int) -> None:
        """Check ``y`` against ``C`` before training."""
        try:
            core.class_ids_from_labels(self.y, num_classes)
        except (TypeError, ValueError) as error:
            raise core.reworded(error, f"`examples` y: {error}") from None

    def share_predictions_of(self, source: Any) -> bool:
        """Reuse the predictions of the callback's ``validation_data`` when ``x`` is its very array.

        One predict then serves the matrix and the examples. Returns whether it does.
        """
        if source is not None and source.shares_inputs(self.x):
            self._shared = source
            source.keep_scores = True
        return self._shared is not None

    def announce(self, freq: int, tag: str) -> str:
        """The callback log line's part about the examples."""
        if self._shared is not None:
            return (
                f"; the examples come from the same predictions (examples= has validation_data's x), "
                f"up to {self.per_cell} per cell (tag '{tag}_examples')"
            )
        return (
            f"; examples= adds one forward pass: predicting the examples set ({self.describe()}) every {freq} "
            f"epoch(s) to keep up to {self.per_cell} examples per cell (tag '{tag}_examples')"
        )

    def scores_of_epoch(self, model: Any, batch_size: int) -> tuple[np.ndarray, core.ClassIds | None]:
        """The scores of this epoch's rows, and their class ids when the matrix was counted from them."""
        if self._shared is not None:
            scores, ids = self._shared.take_last_predictions(self.y)
            if scores is not None:
                return scores, ids
        return self.predict(model, batch_size), None

    @leaves_random_streams_alone
    def predict(self, model: Any, batch_size: int) -> np.ndarray:
        """The model's scores for every row (the one extra forward pass)."""
        return _single_output(model.predict(self.x, batch_size=batch_size, verbose=0), "examples")

    def collect(
        self, scores: np.ndarray, num_classes: int, *, from_logits: bool, class_ids: core.ClassIds | None = None,
        say: Callable[[str, str], None] | None = None,
    ) -> ExampleSet | None:
        """Choose and render the examples of one epoch from the model's ``scores``.

        ``class_ids``: ``y`` and ``scores`` as class ids when the matrix was
        counted from the same predictions (the argmax is then not taken again).
        ``say(key, message)``: given, scores that cannot be read are said
        through it (once per key) and no examples are returned, so that the
        step's report is written without them.

        Raises:
            ValueError: without ``say``, the model's scores for the examples
                cannot be read (NaN, class ids, the wrong number of columns);
                the message says they come from ``examples``.
        """
        try:
            return collect_examples(
                self.x, self.y, scores, num_classes=num_classes, example_ids=self.ids, from_logits=from_logits,
                examples_per_cell=self.per_cell, examples_max_bytes=self.max_bytes, class_ids=class_ids,
            )
        except (TypeError, ValueError) as error:
            message = f"`examples`: the model's predictions for its x were refused: {error}"
            if say is None:
                raise core.reworded(error, message) from None
            say("examples", f"{message}. The steps' reports are written without examples until they can be read")
            return None

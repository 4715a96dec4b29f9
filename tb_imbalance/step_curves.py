"""The curves of one logging call: the binned scores of its predictions, or why it has none.

Shared by :func:`tb_imbalance.log_report`, :mod:`tb_imbalance.summary` and
the Keras callback's predict path, after :func:`tb_imbalance.core.class_ids`
checked the inputs (the argmax is not taken again). Scores give curves
(:func:`tb_imbalance.core.curve_probabilities`); class ids, and scores that
are not probabilities without ``from_logits``, give none, and a log line
(logger ``tb_imbalance``) says why once per tag and reason; scores that are
not probabilities (logits?) and class ids with ``curves=True`` also get a
``UserWarning`` then, as in the Keras callback.

Curves cost ``(C + 1) × 3 × 75`` numbers per step (about 0.9 MB at 1000
classes, float32): above :data:`CURVES_MAX_CLASSES` classes they are off
unless asked for (``curves=True``), said once per tag.

Example:
    >>> import numpy as np
    >>> from tb_imbalance import core
    >>> scores = np.array([[0.9, 0.1], [0.3, 0.7]])
    >>> ids = core.class_ids([0, 1], scores)
    >>> curves_of_step("confusion_matrix", scores, ids).shape
    (3, 3, 75)
"""

from __future__ import annotations

import logging
import warnings
import weakref
from typing import Any

import numpy as np

from tb_imbalance import core
from tb_imbalance.core.caller import user_stacklevel

__all__ = ["CURVES_MAX_CLASSES", "curves_of_step", "refuse_pr_curves_without_curves", "want_curves", "warn_if_probabilities"]

#: Above this many classes curves are off unless asked for (their bytes grow with C).
CURVES_MAX_CLASSES = 1000

# Held weakly: a writer made after another was closed may take its address, and has said nothing yet.
_SAID: "weakref.WeakKeyDictionary[Any, set[tuple[str, str]]]" = weakref.WeakKeyDictionary()
_SAID_WITHOUT_WRITER: set[tuple[str, str]] = set()


def _say_once(writer: Any, name: str, reason: str, message: str, *args: Any, warn: bool = False) -> None:
    """Log ``message`` once per writer, tag and reason (runs often share the default tag); with ``warn``, also
    as a ``UserWarning`` pointing at the caller's line (inputs that may be miscounted, not only a note)."""
    said = _SAID_WITHOUT_WRITER if writer is None else _SAID.setdefault(writer, set())
    if (name, reason) in said:
        return
    said.add((name, reason))
    logging.getLogger("tb_imbalance").warning(message, *args)
    if warn:
        warnings.warn(message % args, UserWarning, stacklevel=user_stacklevel())


def want_curves(name: str, num_classes: int, requested: bool | None, *, writer: Any = None) -> bool:
    """Whether to compute curves: as asked, else up to :data:`CURVES_MAX_CLASSES` classes (said once above).

    Example:
        >>> want_curves("cm", 10, None), want_curves("cm", 10, False)
        (True, False)
    """
    if requested is not None:
        return core.validate_flag(requested, "curves")
    if num_classes <= CURVES_MAX_CLASSES:
        return True
    _say_once(
        writer, name, "size",
        "tb_imbalance: %s has %d classes (> %d): no PR/ROC curves, average precision or calibration "
        "are logged (%d bytes a step). Pass curves=True to log them. Said once per tag and writer.",
        name, num_classes, CURVES_MAX_CLASSES, (num_classes + 1) * 3 * core.CURVE_BINS * 4,
    )
    return False


def refuse_pr_curves_without_curves(curves: Any, pr_curves: Any) -> None:
    """Refuse ``pr_curves=True`` beside ``curves=False``: TensorBoard's PR curves are drawn from the binned scores.

    Example:
        >>> refuse_pr_curves_without_curves(False, None)  # no PR curves asked for: nothing to refuse
    """
    if pr_curves is True and curves is False:
        raise ValueError(
            "`pr_curves=True` asks for TensorBoard's PR curves, which are drawn from the binned scores that "
            "`curves=False` leaves out; drop curves=False to write them, or pr_curves=True to write neither"
        )


#: Rows of ``[N, C]`` scores looked at to tell probabilities given as logits (enough to tell, cheap at any N).
_SAMPLED_ROWS = 256


def warn_if_probabilities(writer: Any, name: str, predictions: Any) -> bool:
    """Say once per tag when scores given with ``from_logits=True`` look like probabilities (a ``UserWarning`` too);
    return whether they do.

    Warned, not refused as the reverse (a column outside ``[0, 1]`` without
    ``from_logits``) is: no probability lies outside ``[0, 1]``, but logits of
    a few rows may all lie inside it, and a loop must not stop on them.

    One column in ``[0, 1]`` (not only 0s and 1s) is cut at 0 as logits
    (every row above 0 positive); ``[N, C]`` rows in ``[0, 1]`` that sum to 1 (the first
    :data:`_SAMPLED_ROWS`) would give curves of a softmax of probabilities.
    """
    scores = np.asarray(predictions)
    if not np.issubdtype(scores.dtype, np.floating) or not scores.size:
        return False
    if scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1):
        looks = bool(scores.min() >= 0.0 and scores.max() <= 1.0 and np.any((scores > 0.0) & (scores < 1.0)))
        if looks:
            _say_once(
                writer, name, "logits in [0, 1]",
                "tb_imbalance: %s: from_logits=True, but every score of the single column is in [0, 1], as "
                "probabilities are; read as logits they are cut at 0 and every row above 0 counts as "
                "predicted positive. If they are probabilities pass from_logits=False (if they are logits, of a few "
                "rows that all happen to be in [0, 1], nothing is wrong). Said once per tag and writer.", name,
                warn=True,
            )
        return looks
    head = scores[:_SAMPLED_ROWS]
    looks = core.rows_are_probabilities(head)
    if looks:
        _say_once(
            writer, name, "logits that sum to 1",
            "tb_imbalance: %s: from_logits=True, but the score rows are in [0, 1] and sum to 1, as "
            "probabilities do; the curves read a softmax of them. If they are probabilities pass "
            "from_logits=False (the matrix is the same either way). Said once per tag and writer.", name,
            warn=True,
        )
    return looks


def curves_of_step(
    name: str, predictions: Any, ids: core.ClassIds, *, from_logits: bool = False, curves: bool | None = None,
    writer: Any = None,
) -> np.ndarray | None:
    """The binned scores ``[C + 1, 3, 75]`` of checked predictions, or None (said once per writer, tag and reason).

    Args:
        name: the matrix tag (for the log line).
        predictions: the predictions :func:`tb_imbalance.core.class_ids`
            checked into ``ids`` (numpy).
        ids: their class ids (padding rows dropped, weights).
        from_logits: ``[N, C]`` scores (or one column) hold logits: softmax
            (sigmoid) first.
        curves: None (default): on up to :data:`CURVES_MAX_CLASSES` classes;
            True / False: always / never.
        writer: the target written to (its messages are its own).
    """
    if from_logits:
        warn_if_probabilities(writer, name, predictions)
    asked = curves is True
    if curves is None and not np.issubdtype(np.asarray(predictions).dtype, np.floating):
        curves = True  # class ids give no curves at any size: say so, not that the classes are many
    if not want_curves(name, ids.num_classes, curves, writer=writer):
        return None
    summary, why = core.kept_rows_summary(predictions, ids, from_logits=from_logits)
    if summary is None:  # scores not probabilities (logits?), or curves=True of class ids: a warning, as the callback's
        _say_once(
            writer, name, why.split(" (")[0],
            "tb_imbalance: no PR/ROC curves, average precision or calibration for %s: %s. Said once per tag and writer.",
            name, why, warn=asked or "not probabilities" in why,
        )
    return summary

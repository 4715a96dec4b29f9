"""The curves' answers: the ``curves`` route's payload and the curve fields of ``report`` and ``compare``.

Every number comes from :mod:`tb_imbalance.core` applied to a step's binned
scores (:func:`tb_imbalance.format.decode_curves`); nothing here reads data.

Example:
    >>> import numpy as np
    >>> from tb_imbalance import core
    >>> scores = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.8, 0.2]])
    >>> summary = core.curve_summary(scores, np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]))
    >>> fields = report_curve_fields(summary, 2)
    >>> fields["per_class"]["average_precision"], fields["metrics"]["macro_average_precision"]
    ([1.0, 1.0], 1.0)
"""

from __future__ import annotations

import dataclasses
from typing import Any, Hashable, Mapping, Sequence

import numpy as np

from tb_imbalance import core
from tb_imbalance.core.curves import _curve_metrics, _pr_curve, _reliability, _roc_curve
from tb_imbalance.core.metrics import _per_class_metrics
from tb_imbalance.plugin.offers import run_fix

__all__ = ["CurveSteps", "CurveSummary", "report_curve_fields", "curves_payload", "average_precision_differences", "no_curves_message"]


@dataclasses.dataclass(frozen=True)
class CurveSteps:
    """The blob key of every step of one run's curves tag (a cache entry).

    Attributes:
        version: the listing's ``(max_step, max_wall_time)``.
        blob_keys: ``{step: key of its one blob}``.
        content: the tag's plugin content (bytes).
    """

    version: Hashable
    blob_keys: Mapping[int, str]
    content: bytes

    @property
    def nbytes(self) -> int:
        return 200 + len(self.content) + sum(100 + len(key) for key in self.blob_keys.values())


@dataclasses.dataclass(frozen=True)
class CurveSummary:
    """One step's decoded binned scores ``[C + 1, 3, B]`` (a cache entry)."""

    version: Hashable
    summary: np.ndarray

    @property
    def nbytes(self) -> int:
        return 200 + self.summary.nbytes


def no_curves_message(run: str, tag: str, step: int | None = None, *, runs: Sequence[str] | None = None) -> str:
    """The 404 message for a run and tag (or step) without curves, saying how to log them.

    ``runs``, the runs that hold curves of ``tag``, are offered for query parameter ``run``.

    Example:
        >>> no_curves_message("r", "cm", runs=["s"]).split(". ")[0]
        "run 'r', tag 'cm': no curves were logged; query parameter `run` must be a run with curves of this tag: 's'"
    """
    where = f"run {run!r}, tag {tag!r}" + ("" if step is None else f", step {step}")
    fix = "" if runs is None else f"; {run_fix('a run with curves of this tag', runs)}"
    return (
        f"{where}: no curves were logged{fix}. Curves come from scores: log probabilities (or logits with "
        "from_logits=True), not class ids; above 1000 classes pass curves=True"
    )


def _empty_fields(num_classes: int) -> dict[str, Any]:
    return {
        "per_class": {key: [None] * num_classes for key in core.PER_CLASS_CURVE_METRICS},
        "metrics": {key: None for key in core.CURVE_METRIC_NAMES},
    }


def report_curve_fields(summary: np.ndarray | None, num_classes: int) -> dict[str, Any]:
    """The report's curve fields: ``per_class`` AP, ROC-AUC and calibration error, and the headline metrics.

    All None when ``summary`` is None (no curves at that step); see
    :func:`tb_imbalance.core.curve_metrics`. ``summary`` was checked where it
    was read (:meth:`~tb_imbalance.plugin.curves_reader.CurveReads`).
    """
    return _empty_fields(num_classes) if summary is None else _curve_metrics(summary)


def average_precision_differences(
    summary: np.ndarray | None, baseline: np.ndarray | None, num_classes: int
) -> dict[str, Any]:
    """Per-class AP of a run, of its baseline and the difference (None where either is undefined).

    Example:
        >>> average_precision_differences(None, None, 2)["average_precision_difference"]
        [None, None]
    """
    ours = report_curve_fields(summary, num_classes)["per_class"]["average_precision"]
    theirs = report_curve_fields(baseline, num_classes)["per_class"]["average_precision"]
    return {
        "average_precision": ours,
        "baseline_average_precision": theirs,
        "average_precision_difference": [
            None if a is None or b is None else a - b for a, b in zip(ours, theirs)
        ],
    }


def curves_payload(
    summary: np.ndarray,
    cm: np.ndarray,
    *,
    class_names: Sequence[str],
    class_index: int,
    run: str,
    tag: str,
    step: int,
    steps: Sequence[int],
) -> dict[str, Any]:
    """The ``curves`` route's answer for one class at one step.

    ``summary`` and ``cm`` were checked where they were read (the summary's
    bins by :meth:`~tb_imbalance.plugin.curves_reader.CurveReads`, the
    matrix by :func:`tb_imbalance.core.validate_matrix`): not checked again.

    Returns:
        ``run``, ``tag``, ``step``, ``steps`` (the steps holding curves),
        ``class_index``, ``class_name``, ``bins``; ``pr`` (``precision``,
        ``recall``, ``thresholds``: :func:`tb_imbalance.core.pr_curve`),
        ``roc`` (``fpr``, ``tpr``, ``thresholds``:
        :func:`tb_imbalance.core.roc_curve`), ``reliability``
        (:func:`tb_imbalance.core.reliability`), ``average_precision``,
        ``roc_auc``, ``calibration_error`` of the class, and
        ``operating_point``: the argmax decision's one-vs-rest
        ``precision`` and ``recall`` of the class, from the step's matrix
        (None for recall without support, 0 for precision never predicted:
        scikit-learn's ``zero_division=0``).
    """
    rows = summary[class_index]
    computed = _curve_metrics(summary)["per_class"]
    stats = _per_class_metrics(cm)
    return {
        "run": run,
        "tag": tag,
        "step": step,
        "steps": list(steps),
        "class_index": class_index,
        "class_name": class_names[class_index],
        "bins": int(summary.shape[2]),
        "pr": _pr_curve(rows),
        "roc": _roc_curve(rows),
        "reliability": _reliability(rows),
        "average_precision": computed["average_precision"][class_index],
        "roc_auc": computed["roc_auc"][class_index],
        "calibration_error": computed["calibration_error"][class_index],
        "operating_point": {
            "precision": float(stats["precision"][class_index]),
            "recall": float(stats["recall"][class_index]) if stats["support"][class_index] > 0 else None,
        },
    }

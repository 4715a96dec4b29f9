"""The report's metrics: per-class scores, scikit-learn's report dict and the imbalance metrics.

Definitions follow scikit-learn (``classification_report``,
``balanced_accuracy_score``, ``matthews_corrcoef``, ``cohen_kappa_score``,
all with ``zero_division=0``) and imbalanced-learn (``specificity_score``,
``geometric_mean_score``); every score is derived from the matrix's diagonal,
row sums and column sums, so a :class:`~tb_imbalance.core.SparseMatrix` gives
them in O(cells + C).

Example:
    >>> per_class_metrics([[5, 1], [2, 2]])["recall"].round(3).tolist()
    [0.833, 0.5]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tb_imbalance.core.sparse_matrix import SparseMatrix
from tb_imbalance.core.validators import validate_class_names, validate_matrix

__all__ = ["METRIC_NAMES", "per_class_metrics", "classification_report", "imbalance_metrics"]

#: Headline metrics returned by :func:`imbalance_metrics`, in display order.
METRIC_NAMES = (
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "mcc",
    "cohen_kappa",
    "geometric_mean",
    "worst_class_recall",
)


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise division that yields 0 where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def per_class_metrics(cm: Any) -> dict[str, np.ndarray]:
    """Per-class statistics of a confusion matrix, as arrays of length C.

    Returns:
        ``support`` (row sums), ``predicted`` (column sums), ``tp``,
        ``precision``, ``recall``, ``f1``, ``specificity`` — scores are 0
        where undefined (scikit-learn's ``zero_division=0``).
    """
    return _per_class_metrics(validate_matrix(cm))


def _per_class_metrics(cm: np.ndarray | SparseMatrix) -> dict[str, np.ndarray]:
    """:func:`per_class_metrics` of a :func:`validate_matrix` result (not checked again)."""
    if cm.dtype.kind == "f":
        cm = cm.astype(np.float64, copy=False)  # weighted counts summed in float64; integer counts exactly
    tp = cm.diagonal().astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    total = cm.sum()
    precision = _divide(tp, predicted)
    recall = _divide(tp, support)
    with np.errstate(over="ignore", invalid="ignore"):
        both = support + predicted
        f1 = _divide(2 * tp, both)
    past = ~np.isfinite(both)  # sums of huge weights: 2tp / (s + p) = tp / (s/2 + p/2), which halving a
    f1[past] = _divide(tp[past], support[past] / 2 + predicted[past] / 2)  # subnormal would round, so only there
    true_negative = total - support - predicted + tp
    specificity = _divide(true_negative, total - support)
    return {
        "support": support,
        "predicted": predicted,
        "tp": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "specificity": specificity,
    }


def _number(value: Any) -> int | float:
    """A JSON-friendly Python number: int for whole integer-typed counts."""
    if isinstance(value, (np.integer, int)):
        return int(value)
    return float(value)


def classification_report(cm: Any, class_names: Sequence[str] | None = None, *, per_class: bool = True) -> dict[str, Any]:
    """The dict ``sklearn.metrics.classification_report`` returns.

    Equals ``classification_report(y_true, y_pred, labels=range(C),
    target_names=class_names, output_dict=True, zero_division=0)`` for the data
    that produced ``cm``: one entry per class name, ``"accuracy"``,
    ``"macro avg"`` and ``"weighted avg"``.

    Args:
        cm: ``[C, C]`` confusion matrix.
        class_names: C names; ``"0"…"C-1"`` when omitted.
        per_class: False leaves out the per-class entries (the summary
            rows alone, for many classes whose scores travel as arrays).
    """
    cm = validate_matrix(cm)
    names = validate_class_names(class_names, cm.shape[0]) if per_class else ()
    return _classification_report(cm, names)


def _classification_report(cm: np.ndarray | SparseMatrix, names: Sequence[str]) -> dict[str, Any]:
    """:func:`classification_report` of a :func:`validate_matrix` result and unique names that are no report key,
    not checked again (a stored tag's names, which an earlier version may have written by other rules); no
    ``names``: the summary rows alone.

    Example:
        >>> _classification_report(validate_matrix([[5, 1], [2, 2]]), ["ok", "fraud "])["fraud "]["recall"]
        0.5
    """
    stats = _per_class_metrics(cm)
    support = stats["support"]
    report: dict[str, Any] = {}
    for k, name in enumerate(names):
        report[name] = {
            "precision": float(stats["precision"][k]),
            "recall": float(stats["recall"][k]),
            "f1-score": float(stats["f1"][k]),
            "support": _number(support[k]),
        }
    total = support.sum()
    report["accuracy"] = float(_divide(stats["tp"].sum(), total))
    # sums of weights scaled by a power of two (exactly) near 1: subnormal ones would lose bits in np.average
    shares = np.ldexp(support, -np.frexp(support.max())[1]) if support.dtype.kind == "f" and total > 0 else support
    for key, weights in (("macro avg", None), ("weighted avg", shares)):
        if weights is not None and total == 0:
            averages = [0.0, 0.0, 0.0]
        else:
            averages = [
                float(np.average(stats[field], weights=weights))
                for field in ("precision", "recall", "f1")
            ]
        report[key] = {
            "precision": averages[0],
            "recall": averages[1],
            "f1-score": averages[2],
            "support": _number(total),
        }
    return report


def _off_diagonal_sum(cm: np.ndarray | SparseMatrix) -> float:
    """The sum of the cells off the diagonal (the wrong rows), added up, never as total - trace."""
    if isinstance(cm, SparseMatrix):
        return float(cm.values[cm.rows != cm.columns].sum(dtype=np.float64))
    n = cm.shape[0]
    # Row-major, the cells between two diagonal ones are n apart: rows of n + 1 that start on the diagonal.
    return float(np.ascontiguousarray(cm).reshape(-1)[:-1].reshape(n - 1, n + 1)[:, 1:].sum(dtype=np.float64))


def _sum_of_others(shares: np.ndarray) -> np.ndarray:
    """``out[i] = Σ_{j≠i} shares[j]``, added up (``1 - shares[i]`` cancels for a share near 1).

    Example:
        >>> _sum_of_others(np.array([0.25, 0.5, 0.25])).tolist()
        [0.75, 0.5, 0.75]
    """
    before = np.concatenate(([0.0], np.cumsum(shares)[:-1]))
    after = np.concatenate((np.cumsum(shares[::-1])[::-1][1:], [0.0]))
    return before + after


def imbalance_metrics(cm: Any, per_class: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """Imbalance-aware headline metrics of a confusion matrix.

    ``per_class``: :func:`per_class_metrics` of the same ``cm`` when the
    caller has it already (it is not computed again).

    Returns a dict with the keys of :data:`METRIC_NAMES`:

    * ``accuracy`` — trace / total (for contrast: it lies on imbalanced data);
    * ``balanced_accuracy`` — mean recall over classes present in the true
      labels (``sklearn.metrics.balanced_accuracy_score``);
    * ``macro_f1`` — unweighted mean F1 over all C classes;
    * ``mcc`` — multiclass Matthews correlation (``matthews_corrcoef``);
    * ``cohen_kappa`` — ``cohen_kappa_score``;
    * ``geometric_mean`` — geometric mean of recall over classes present in
      the true or predicted labels (imbalanced-learn's
      ``geometric_mean_score``, ``average="multiclass"``);
    * ``worst_class_recall`` — lowest recall among classes present in the
      true labels.
    """
    cm = validate_matrix(cm)
    if per_class is not None and len(per_class["tp"]) != cm.shape[0]:
        raise ValueError(f"`per_class` holds {len(per_class['tp'])} classes, `cm` {cm.shape[0]}: pass per_class_metrics(cm)")
    return _imbalance_metrics(cm, per_class if per_class is not None else _per_class_metrics(cm))


def _imbalance_metrics(cm: np.ndarray | SparseMatrix, stats: dict[str, np.ndarray]) -> dict[str, float]:
    """:func:`imbalance_metrics` of a :func:`validate_matrix` result and its :func:`_per_class_metrics`, not
    checked again: for a matrix checked once at its entry (a :class:`tb_imbalance.step.ReportStep`'s).

    Example:
        >>> cm = validate_matrix([[5, 1], [2, 2]])
        >>> round(_imbalance_metrics(cm, _per_class_metrics(cm))["balanced_accuracy"], 4)
        0.6667
    """
    support, predicted, tp = (stats[key].astype(np.float64) for key in ("support", "predicted", "tp"))  # float64 products
    total = support.sum()
    correct = tp.sum()
    present = support > 0
    recall_present = stats["recall"][present]

    # Multiclass MCC (sklearn's covariances) and Cohen's kappa, on shares of the total (total**2 would
    # overflow or underflow at extreme weight scales) and through disagreements, 1 - agreement, summed
    # from the cells off the diagonal: 1 - agreement cancels when one heavy class is nearly always right.
    mcc = kappa = 0.0
    if total > 0:
        support_share, predicted_share = support / total, predicted / total
        observed_disagreement = _off_diagonal_sum(cm) / total
        chance_disagreement = float(np.dot(support_share, _sum_of_others(predicted_share)))
        kappa = 1.0 - observed_disagreement / chance_disagreement if chance_disagreement > 0 else 0.0
        denominator = np.sqrt(
            np.dot(support_share, _sum_of_others(support_share)) * np.dot(predicted_share, _sum_of_others(predicted_share))
        )
        mcc = float((chance_disagreement - observed_disagreement) / denominator) if denominator != 0 else 0.0

    in_data = present | (predicted > 0)
    recall_in_data = stats["recall"][in_data]
    if recall_in_data.size == 0 or np.any(recall_in_data == 0):
        gmean = 0.0
    else:
        gmean = float(np.exp(np.mean(np.log(recall_in_data))))

    return {
        "accuracy": float(_divide(correct, total)),
        "balanced_accuracy": float(recall_present.mean()) if recall_present.size else 0.0,
        "macro_f1": float(stats["f1"].mean()),
        "mcc": mcc,
        "cohen_kappa": float(kappa),
        "geometric_mean": gmean,
        "worst_class_recall": float(recall_present.min()) if recall_present.size else 0.0,
    }

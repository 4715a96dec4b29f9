"""The routes' answers: JSON-ready dicts built from decoded series, and their JSON text.

Each builder takes :class:`~tb_imbalance.plugin.series.MatrixSeries` (already
read and cached by :mod:`tb_imbalance.plugin.reader`) and computes every
number with :mod:`tb_imbalance.core`; nothing here reads data or knows about
HTTP requests. :func:`to_json` writes the payloads (numpy arrays allowed as
top-level values; wide count matrices fast).

* :func:`report_payload` — one step of one run: classification report,
  imbalance metrics, per-class scores with 95% Wilson intervals.
* :func:`series_payload` — per-class and headline trends across steps.
* :func:`compare_payload` — per-class recall and precision of one run minus a
  baseline, with Newcombe intervals and significance.

Example:
    >>> from tb_imbalance.plugin.series import PackedMatrix
    >>> info = fmt.MatrixInfo(1, 2, ("ok", "fraud"), False)
    >>> series = MatrixSeries(info, "v1", [0], [0.0], [PackedMatrix.pack(np.array([[50, 2], [3, 5]]))])
    >>> payload = report_payload(series, run="baseline", tag="confusion_matrix")
    >>> [round(bound, 4) for bound in payload["per_class"]["recall_interval"][1]]
    [0.3057, 0.8632]
    >>> to_json({"step": payload["step"], "confusion_matrix": np.array([[50, 2], [3, 5]])})
    '{"step":0,"confusion_matrix":[[50,2],[3,5]]}'
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.core.groups import _group_matrix
from tb_imbalance.core.intervals import _per_class_differences, _per_class_intervals
from tb_imbalance.core.long_tail import _shot_recalls
from tb_imbalance.core.metrics import _classification_report, _imbalance_metrics, _per_class_metrics
from tb_imbalance.plugin.errors import BadRequestError, DashboardError
from tb_imbalance.plugin.json_text import to_json
from tb_imbalance.plugin.offers import describe_names
from tb_imbalance.plugin.series import TREND_FIELDS, MatrixSeries, invalid_matrix_is_unreadable

__all__ = ["report_payload", "matrix_fields", "series_payload", "compare_payload", "to_json"]

_PER_CLASS_FIELDS = ("support", "predicted", "precision", "recall", "f1", "specificity")


def _intervals(low: np.ndarray, high: np.ndarray, *, weighted: bool) -> list[list[float] | None]:
    """``[[low, high], ...]`` with None where undefined (NaN), or all None for weights."""
    if weighted:
        return [None] * len(low)
    pairs: list[Any] = np.stack([low, high], axis=1).tolist()
    for index in np.flatnonzero(np.isnan(low)).tolist():
        pairs[index] = None
    return pairs


def report_payload(
    series: MatrixSeries,
    *,
    run: str,
    tag: str,
    step: int | None = None,
    many: int | None = None,
    few: int | None = None,
    group: bool = False,
) -> dict[str, Any]:
    """Everything the dashboard shows for one step of one (run, tag).

    Args:
        series: the decoded series.
        run, tag: echoed back.
        step: the step to report; the latest when None.
        many, few: the long-tail bucket thresholds (training examples) of
            :func:`tb_imbalance.core.shot_recalls`; None: the default.
        group: report the matrix rolled up to the tag's ``class_groups``
            (:func:`tb_imbalance.core.group_matrix`): class names, matrix,
            report, metrics and per-class arrays are then those of the groups,
            and ``train_count`` sums the counts of each group's classes.

    Returns:
        A dict with ``run``, ``tag``, ``step``, ``wall_time``, ``steps``,
        ``skipped_steps`` (logged steps left out, each ``{"step", "reason"}``),
        ``class_names``, ``num_classes``, ``weighted``, the matrix
        (:func:`matrix_fields`: ``matrix_encoding``, ``confusion_matrix`` as
        numpy ``[C, C]``, which :func:`to_json` writes as a list of rows, or
        above 1000 classes ``confusion_cells``),
        ``report`` (:func:`tb_imbalance.core.classification_report`; with
        ``confusion_cells``, above 1000 classes, its summary rows only:
        ``accuracy``, ``macro avg``, ``weighted avg``),
        ``metrics`` (:func:`tb_imbalance.core.imbalance_metrics`) and
        ``per_class`` (lists of length C from
        :func:`tb_imbalance.core.per_class_metrics`, plus ``recall_interval``
        and ``precision_interval``: the 95% Wilson score interval of each
        class's recall and precision as ``[low, high]``, None where the
        denominator is 0, and None for every class of a weighted matrix,
        whose sums of weights are not counts of trials (``weighted`` is
        read from the step itself, see :meth:`MatrixSeries.weighted`); see
        :func:`tb_imbalance.core.per_class_intervals`; and ``train_count``,
        the logged ``class_counts``, or None). When the tag holds
        ``class_counts``, ``metrics`` also has ``many_shot_recall``,
        ``medium_shot_recall`` and ``few_shot_recall``
        (:func:`tb_imbalance.core.shot_recalls`, None for an empty bucket).
        ``class_groups`` is the tag's ``{"group name": [class names…]}``, or
        None.

    Raises:
        BadRequestError: ``few``/``many`` are not ints with ``few < many``,
            or ``group`` is asked for a tag without ``class_groups``.
        NotFoundError: ``step`` was not logged, or nothing was.
        UnreadableDataError: ``step`` was left out (the message says why),
            every step was, or the class names are invalid.

    Example:
        >>> from tb_imbalance.plugin.series import PackedMatrix
        >>> info = fmt.MatrixInfo(1, 2, ("ok", "fraud"), False)
        >>> series = MatrixSeries(info, "v1", [0, 1], [0.0, 1.0],
        ...     [PackedMatrix.pack(np.array([[50, 2], [3, 5]]))] * 2)
        >>> payload = report_payload(series, run="baseline", tag="confusion_matrix")
        >>> payload["step"], payload["report"]["fraud"]["recall"]
        (1, 0.625)
    """
    try:
        many, few = core.validate_shot_thresholds(many, few)
    except (TypeError, ValueError) as error:
        raise BadRequestError(str(error)) from None
    groups = series.info.groups_dict()
    if group and groups is None:
        raise BadRequestError(
            f"query parameter `group`=1 needs class groups: run {run!r}, tag {tag!r} was logged without "
            "`class_groups`; leave `group` out, or pass class_groups={'group name': [class names…]} when logging "
            "to roll the matrix up"
        )
    series.require_steps(run, tag)
    chosen = series.steps[-1] if step is None else int(step)
    position = series.position(chosen)
    cm = series.matrix(chosen)
    class_names = list(series.info.class_names)
    counts = series.info.class_counts
    with invalid_matrix_is_unreadable(chosen, run, tag):
        # The stored matrix is checked here, once; the tag's names and groups were checked when they were read
        # (check_class_names), not by this version's writer rules: a run an earlier version wrote stays readable.
        cm = core.validate_matrix(cm)
        if group:
            class_index = {name: k for k, name in enumerate(class_names)}
            cm, class_names = _group_matrix(cm, groups, class_names)
            if counts is not None:
                members = {**{name: [name] for name in class_names}, **groups}
                counts = tuple(sum(counts[class_index[name]] for name in members[g]) for g in class_names)
        # with cells (above 1000 classes) the per-class entries would repeat per_class: summary rows only
        report = _classification_report(cm, () if isinstance(cm, core.SparseMatrix) else class_names)
        stats = _per_class_metrics(cm)
        metrics = _imbalance_metrics(cm, stats)
        if counts is not None:
            metrics.update(_shot_recalls(stats, counts, many, few))
        bounds = _per_class_intervals(stats)
    weighted = series.weighted(chosen)
    per_class: dict[str, Any] = {field: stats[field].tolist() for field in _PER_CLASS_FIELDS}
    for score in ("recall", "precision"):
        per_class[f"{score}_interval"] = _intervals(
            bounds[f"{score}_low"], bounds[f"{score}_high"], weighted=weighted
        )
    per_class["train_count"] = None if counts is None else list(counts)
    return {
        "run": run,
        "tag": tag,
        "step": chosen,
        "wall_time": series.wall_times[position],
        "steps": list(series.steps),
        "skipped_steps": series.skipped_json(),
        "class_names": class_names,
        "num_classes": len(class_names),
        "weighted": weighted,
        **matrix_fields(cm),
        "report": report,
        "metrics": metrics,
        "per_class": per_class,
        "class_groups": groups,
    }



def matrix_fields(cm: np.ndarray | core.SparseMatrix) -> dict[str, Any]:
    """The payload's matrix: ``matrix_encoding`` and either ``confusion_matrix`` or ``confusion_cells``.

    Up to :data:`tb_imbalance.core.SPARSE_ABOVE_CLASSES` classes
    ``matrix_encoding`` is ``"dense"``, ``confusion_matrix`` the C rows of
    C counts and ``confusion_cells`` None. Above, it is ``"cells"``,
    ``confusion_matrix`` is None and ``confusion_cells`` holds the non-empty
    cells, row-major:
    ``{"rows": [true ids], "columns": [predicted ids], "counts": [values]}``
    (at 10,000 classes a million cells would be 100 million zeros in JSON).

    Example:
        >>> matrix_fields(core.SparseMatrix.from_cells(1001, [5, 0], [2, 0], [3, 9]))["confusion_cells"]
        {'rows': [0, 5], 'columns': [0, 2], 'counts': [9, 3]}
    """
    if isinstance(cm, core.SparseMatrix):
        cells = {"rows": cm.rows.tolist(), "columns": cm.columns.tolist(), "counts": cm.values.tolist()}
        return {"matrix_encoding": "cells", "confusion_matrix": None, "confusion_cells": cells}
    return {"matrix_encoding": "dense", "confusion_matrix": cm, "confusion_cells": None}


def series_payload(
    series: MatrixSeries,
    *,
    run: str,
    tag: str,
    class_indices: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Per-class and headline trends across all steps of one (run, tag).

    Args:
        series: the decoded series.
        run, tag: echoed back.
        class_indices: limit the per-class arrays (and ``class_names``) to
            these classes, in this order; all classes when None.

    Returns:
        A dict with ``run``, ``tag``, ``class_names``, ``steps``,
        ``skipped_steps`` (as in :func:`report_payload`), ``wall_times``,
        ``recall``, ``precision``, ``f1``, ``support``, ``predicted`` (each
        ``[S][K]``: one row per step, one column per listed class),
        ``metrics`` (name -> one value per step) and, when ``class_indices``
        is given, ``class_indices``.

    Raises:
        BadRequestError: a class index outside ``[0, C)``, or none given.
        NotFoundError: nothing was logged.
        UnreadableDataError: every logged step was left out.

    Example:
        >>> from tb_imbalance.plugin.series import PackedMatrix
        >>> info = fmt.MatrixInfo(1, 4, ("a", "b", "c", "d"), False)
        >>> series = MatrixSeries(info, "v1", [0, 1], [0.0, 1.0],
        ...     [PackedMatrix.pack(np.diag([5, 6, 7, 8]))] * 2)
        >>> payload = series_payload(series, run="baseline", tag="confusion_matrix",
        ...                          class_indices=[3])
        >>> len(payload["recall"][0]), payload["class_indices"]
        (1, [3])
    """
    series.require_steps(run, tag)
    num_classes = series.info.num_classes
    names = list(series.info.class_names)
    trends = series.trends()
    payload: dict[str, Any] = {
        "run": run,
        "tag": tag,
        "class_names": names,
        "steps": list(series.steps),
        "skipped_steps": series.skipped_json(),
        "wall_times": list(series.wall_times),
    }
    if class_indices is None:
        columns = None
    else:
        columns = _checked_class_indices(class_indices, num_classes)
        payload["class_names"] = [names[index] for index in columns]
    for field in TREND_FIELDS:
        values = getattr(trends, field)
        if columns is not None:
            values = values[:, columns]
        payload[field] = values
    payload["metrics"] = {name: list(values) for name, values in trends.metrics.items()}
    if columns is not None:
        payload["class_indices"] = columns
    return payload


def _checked_class_indices(class_indices: Iterable[int], num_classes: int) -> list[int]:
    columns = [int(index) for index in class_indices]
    if not columns:
        raise BadRequestError("query parameter `classes` must list at least one class index, such as `0`")
    for index in columns:
        if not 0 <= index < num_classes:
            raise BadRequestError(
                f"query parameter `classes` must hold class indices in [0, {num_classes - 1}] "
                f"(the tag has {num_classes} classes), received {index}"
            )
    return columns


def _check_same_classes(info: fmt.MatrixInfo, baseline_info: fmt.MatrixInfo, run: str, baseline: str) -> None:
    names, baseline_names = info.class_names, baseline_info.class_names
    if tuple(names) == tuple(baseline_names):
        return
    advice = (
        "`compare` matches classes by position, so both runs must log the same class names in "
        "the same order; compare runs of the same tag and class set"
    )
    same = f"query parameter `baseline` must be a run with the classes of `run`: runs {run!r} and {baseline!r}"
    if len(names) != len(baseline_names):
        raise BadRequestError(
            f"{same} have different classes: {run!r} has {len(names)} "
            f"({describe_names(names)}), {baseline!r} has {len(baseline_names)} "
            f"({describe_names(baseline_names)}); {advice}"
        )
    index = next(i for i, (a, b) in enumerate(zip(names, baseline_names)) if a != b)
    raise BadRequestError(
        f"{same} have different classes: class {index} is "
        f"{describe_names([names[index]])} in {run!r} but {describe_names([baseline_names[index]])} "
        f"in {baseline!r}; {advice}"
    )


def _matrix_at(series: MatrixSeries, run: str, tag: str, step: int | None, parameter: str) -> tuple[int, np.ndarray]:
    """``(step, matrix)`` of ``run`` (its latest step when None), the matrix checked; errors name the run and query
    ``parameter``."""
    series.require_steps(run, tag, "run" if parameter == "step" else "baseline")
    chosen = series.steps[-1] if step is None else int(step)
    try:
        series.position(chosen, parameter=parameter)
        cm = series.matrix(chosen)
    except DashboardError as error:
        raise type(error)(f"run {run!r}: {error.message}", status=error.status) from error
    with invalid_matrix_is_unreadable(chosen, run, tag):
        return chosen, core.validate_matrix(cm)


def _nullable(values: np.ndarray, defined: np.ndarray) -> list[Any]:
    return [value if ok else None for value, ok in zip(values.tolist(), defined.tolist())]


def compare_payload(
    series: MatrixSeries,
    baseline_series: MatrixSeries,
    *,
    run: str,
    tag: str,
    baseline: str,
    step: int | None = None,
    baseline_step: int | None = None,
) -> dict[str, Any]:
    """Per-class recall and precision of ``run`` minus ``baseline``, and whether they differ.

    Each difference comes with the 95% Newcombe hybrid score interval for a
    difference of two independent proportions
    (:func:`tb_imbalance.core.per_class_differences`) and is *significant*
    when that interval excludes 0. The two runs are treated as independent
    samples; runs scored on the same validation set are paired, for which the
    interval is conservative (wider).

    Args:
        series, baseline_series: the decoded series of the two runs (same tag).
        run, tag, baseline: echoed back (and named in errors).
        step: the step of ``run``; its latest when None.
        baseline_step: the step of ``baseline``; its latest when None.

    Returns:
        A dict with ``run``, ``tag``, ``step``, ``baseline``,
        ``baseline_step``, ``class_names``, ``num_classes``, ``weighted``
        (either compared step's counts are sums of weights, read per step), ``confidence`` (0.95) and
        ``per_class``: lists of length C ``recall_delta``,
        ``recall_delta_interval`` (``[low, high]``), ``recall_significant``
        (bool) and the same for ``precision``. A class without support (for
        precision: never predicted) in either run has None in all three.
        For weighted counts the deltas are given and the intervals and
        significance are None (sums of weights are not counts of trials).

    Raises:
        BadRequestError: the runs have different class names (or order).
        NotFoundError: a step was not logged, or nothing was.
        UnreadableDataError: a step was left out, or every step was.

    Example:
        >>> from tb_imbalance.plugin.series import PackedMatrix
        >>> info = fmt.MatrixInfo(1, 2, ("ok", "fraud"), False)
        >>> def series_of(cm):
        ...     return MatrixSeries(info, "v1", [0], [0.0], [PackedMatrix.pack(np.array(cm))])
        >>> payload = compare_payload(series_of([[900, 20], [10, 70]]), series_of([[910, 10], [40, 40]]),
        ...                           run="class_weights", tag="confusion_matrix", baseline="baseline")
        >>> payload["per_class"]["recall_significant"], round(payload["per_class"]["recall_delta"][1], 4)
        ([False, True], 0.375)
    """
    _check_same_classes(series.info, baseline_series.info, run, baseline)
    chosen, cm = _matrix_at(series, run, tag, step, "step")
    baseline_chosen, baseline_cm = _matrix_at(baseline_series, baseline, tag, baseline_step, "baseline_step")
    weighted = series.weighted(chosen) or baseline_series.weighted(baseline_chosen)
    # both matrices checked by _matrix_at, of the same classes (_check_same_classes): not checked again
    differences = _per_class_differences(_per_class_metrics(cm), _per_class_metrics(baseline_cm))
    per_class: dict[str, list[Any]] = {}
    for score in ("recall", "precision"):
        delta = differences[f"{score}_delta"]
        defined = ~np.isnan(delta)
        tested = defined & (not weighted)
        per_class[f"{score}_delta"] = _nullable(delta, defined)
        per_class[f"{score}_delta_interval"] = _nullable(
            np.stack([differences[f"{score}_low"], differences[f"{score}_high"]], axis=1), tested
        )
        per_class[f"{score}_significant"] = _nullable(differences[f"{score}_significant"], tested)
    return {
        "run": run,
        "tag": tag,
        "step": chosen,
        "baseline": baseline,
        "baseline_step": baseline_chosen,
        "class_names": list(series.info.class_names),
        "num_classes": series.info.num_classes,
        "weighted": weighted,
        "confidence": core.DEFAULT_CONFIDENCE,
        "per_class": per_class,
    }

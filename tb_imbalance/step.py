"""One report step as one validated value: checked once at the entry, trusted downstream.

Every way of logging (the Keras callback through
:meth:`tb_imbalance.ReportWriter.write_matrix`, :func:`tb_imbalance.log_report`,
:func:`tb_imbalance.log_matrix`, :mod:`tb_imbalance.summary`) turns its
arguments into a :class:`ReportStep` with :meth:`ReportStep.of`. That is the
only place where the step, the tag, the matrix and the class set are
validated; the run history (:mod:`tb_imbalance.run_history`), the summary
values (:mod:`tb_imbalance.events`) and the targets (:mod:`tb_imbalance.targets`)
take the value and trust it, as scikit-learn's metrics trust
``_check_targets``.

* :class:`ClassSet`: the class names, and the optional training counts per
  class and class groups. A tag's class set never changes.
* :class:`ReportStep`: one step of one tag — the ``[C, C]`` matrix (``int64``
  counts, or ``float64`` sums of sample weights: :attr:`ReportStep.weighted`),
  its class set, the examples behind its cells and the binned scores behind
  its curves.

Example:
    >>> report = ReportStep.of(3, "confusion_matrix", [[5, 1], [2, 2]], ["ok", "fraud"],
    ...                        class_counts=[900, 40])
    >>> report.step, report.weighted, report.classes.names, report.classes.counts
    (3, False, ('ok', 'fraud'), (900, 40))
    >>> ReportStep.of(3, "confusion_matrix", [[5.0, 1.5], [2.0, 2.0]]).weighted
    True
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Mapping, Sequence, Union

import numpy as np

from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.examples import ExampleSet
from tb_imbalance.format.blob_names import BLOB_NAME_ADVICE, blob_key_trouble

__all__ = ["ClassSet", "ReportStep", "class_set_if_known", "validate_step", "validate_tag", "MAX_STEP"]

#: A step's matrix: dense ``[C, C]``, or its non-empty cells (counted from class ids above
#: :data:`tb_imbalance.core.SPARSE_ABOVE_CLASSES` classes; a dense matrix converted above 100, :func:`_stored`).
Matrix = Union[np.ndarray, core.SparseMatrix]

#: The largest step an event file can hold (``Event.step`` is a signed 64-bit int).
MAX_STEP = 2**63 - 1
#: Above this, steps are not exact as JavaScript numbers: TensorBoard's pages cannot tell neighbours apart.
MAX_PAGE_STEP = 2**53
_said_page_step = False


def validate_step(step: Any, order: str = "") -> int:
    """Return ``step`` as a non-negative int (numpy and 0-d framework integers too).

    ``order``: the caller's arguments up to ``step`` (``"target, labels,
    predictions, step"``), named when an array or a list is in step's place.

    Example:
        >>> validate_step(np.int64(3))
        3
    """
    if "Tracer" in type(step).__name__:  # JAX's loop index inside jax.jit, lax.scan or fori_loop
        raise TypeError(
            "`step` is a JAX tracer (a value traced by jax.jit, lax.scan or fori_loop): log outside the traced "
            "function with a Python int step, or hand the step to jax.debug.callback along with the arrays"
        )
    if hasattr(step, "shape") and tuple(getattr(step, "shape")) == ():  # 0-d numpy / torch / JAX / TF value
        try:
            step = step.item() if hasattr(step, "item") else np.asarray(step).item()  # TF: a tensor or a Variable
        except (NotImplementedError, TypeError, ValueError):  # a symbolic TF1 graph tensor has no value here
            raise TypeError(
                f"`step` must be a non-negative int (the epoch or batch index), received {step!r}, which has no "
                "value outside its graph: pass a Python int (e.g. the value of sess.run(global_step))"
            ) from None
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        order_hint = f": arguments in the order ({order})?" if order else ": the arguments in another order?"
        if getattr(step, "shape", ()) != ():  # an array in step's place, not dumped in full
            received = f"a {type(step).__module__.split('.')[0]}.{type(step).__name__} of shape {tuple(step.shape)}"
            one = int(np.prod(step.shape)) == 1
            hint = "; pass step.item()" if one else order_hint
        elif isinstance(step, (list, tuple)) and step:  # a list of predictions in step's place, not dumped in full
            received = f"a {type(step).__name__} of {len(step)} value{'s' if len(step) > 1 else ''}"
            hint = "; pass step[0]" if len(step) == 1 else order_hint
        else:
            received = repr(step)
            hint = "; pass int(step)" if isinstance(step, float) and step.is_integer() else ""
        raise TypeError(f"`step` must be a non-negative int (the epoch or batch index), received {received}{hint}")
    if step < 0:
        raise ValueError(
            f"`step` must be a non-negative int (the epoch or batch index), received {step!r}"
        )
    if step > MAX_STEP:
        raise ValueError(
            f"`step` must be at most 2**63 - 1 (event files store it as a signed 64-bit int), "
            f"received {step}; pass the epoch or batch index"
        )
    if step > MAX_PAGE_STEP:
        _say_page_step(int(step))
    return int(step)


def _say_page_step(step: int) -> None:
    global _said_page_step
    if not _said_page_step:
        _said_page_step = True
        logging.getLogger("tb_imbalance").warning(
            "tb_imbalance: step %d is past 2**53: it is written and served exactly by the HTTP API, but "
            "TensorBoard's pages (its Scalars tab, the Imbalance dashboard) read steps as JavaScript numbers, "
            "which round it (a time.time_ns() step?), so the dashboard cannot open such a step; log the "
            "epoch or batch index. Said once.", step,
        )


def validate_tag(name: Any) -> str:
    """Return ``name`` if it is a usable tag, else raise ``ValueError``.

    A tag holds no double quote, backslash or control character: TensorBoard's
    default loader could not read its curves and examples
    (:mod:`tb_imbalance.format.blob_names`).

    Example:
        >>> validate_tag("test_set")
        'test_set'
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"`name` must be a non-empty tag string, received {name!r}")
    core.validate_text(name, "`name`")
    trouble = blob_key_trouble(name)
    if trouble is not None:
        raise ValueError(
            f"`name` {name!r} holds {trouble}: {BLOB_NAME_ADVICE}. Choose a name without them "
            "(e.g. letters, digits, '_', '-', '/', spaces)"
        )
    return name


@dataclasses.dataclass(frozen=True)
class ClassSet:
    """The classes of one tag: names, and optionally training counts and groups.

    Build it with :meth:`of` (validates) or :meth:`from_info` (what a stored
    tag says). Two class sets are equal when names, counts and groups (in
    order) are equal; a tag's class set never changes (its run history takes
    the same groups listed in another order as the same).

    Attributes:
        names: one display name per class, in matrix order.
        counts: training examples per class, or None when not given.
        groups: ``((group name, (class names…)), …)`` in given order, or None.

    Example:
        >>> classes = ClassSet.of(["cat", "dog", "fox"], 3, class_groups={"pets": ["cat", "dog"]})
        >>> classes.num_classes, classes.groups_dict()
        (3, {'pets': ['cat', 'dog']})
    """

    names: tuple[str, ...]
    counts: tuple[int, ...] | None = None
    groups: tuple[tuple[str, tuple[str, ...]], ...] | None = None

    @classmethod
    def of(
        cls,
        class_names: Sequence[Any] | None,
        num_classes: int,
        *,
        class_counts: Any = None,
        class_groups: Mapping[str, Sequence[str]] | None = None,
        checked_names: bool = False,
    ) -> "ClassSet":
        """Validate the class set of a ``num_classes`` matrix.

        ``checked_names``: ``class_names`` are :func:`tb_imbalance.core.resolve_num_classes`'s, checked (or None).

        Raises:
            TypeError / ValueError: bad ``class_names``, ``class_counts`` or
                ``class_groups``, named in the message (see
                :func:`tb_imbalance.core.validate_class_names`,
                :func:`~tb_imbalance.core.validate_class_counts`,
                :func:`~tb_imbalance.core.validate_class_groups`).
        """
        checked = checked_names and class_names is not None
        names = class_names if checked else core.validate_class_names(class_names, num_classes)
        counts = core.validate_class_counts(class_counts, num_classes)
        groups = core.validate_class_groups(class_groups, names)
        groups = None if groups is None else tuple((group, tuple(members)) for group, members in groups.items())
        return cls(tuple(names), None if counts is None else tuple(counts), groups)

    @classmethod
    def from_info(cls, info: fmt.MatrixInfo) -> "ClassSet":
        """The class set a stored tag's metadata holds (already checked by :mod:`tb_imbalance.format`)."""
        return cls(tuple(info.class_names), info.class_counts, info.class_groups)

    @property
    def num_classes(self) -> int:
        return len(self.names)

    def groups_dict(self) -> dict[str, list[str]] | None:
        """``groups`` as ``{"group name": [class names…]}``, or None."""
        return None if self.groups is None else {group: list(members) for group, members in self.groups}


def class_set_if_known(class_names: Any, class_counts: Any = None, class_groups: Any = None) -> ClassSet | None:
    """The class set when ``class_names`` or ``class_counts`` tell C; else None, after the checks that need no C.

    For an entry that learns C later (the Keras callback reads it from the
    model at the start of training), then builds the set with
    :meth:`ClassSet.of`. Nothing is refused here that C could make right.

    Example:
        >>> class_set_if_known(["ok", "fraud"]).names
        ('ok', 'fraud')
        >>> class_set_if_known(None, class_groups={"rare": ["3", "4"]}) is None
        True
    """
    if class_names is not None:
        size = _length(class_names)
        if size is None:
            core.validate_class_names(class_names, 0)  # raises: not a sequence of names
    elif class_counts is not None and (_length(class_counts) or 0) >= 2:
        size = _length(class_counts)
    else:
        if class_counts is not None:  # a type or a value that is wrong whatever C is
            core.validate_class_counts(class_counts, _length(class_counts) or 0)
        core.validate_class_groups(class_groups, None)  # members are checked once C is known
        return None
    return ClassSet.of(class_names, size, class_counts=class_counts, class_groups=class_groups)


def _length(value: Any) -> int | None:
    """``len(value)`` of a sequence (strings included), else None (then its validator names the type)."""
    try:
        return len(value)
    except TypeError:
        return None


def _normalised(matrix: Matrix) -> str | None:
    """How a float matrix with fractions is normalised (each of its rows or columns summing to 1), or None.

    A matrix normalised as a whole (``normalize='all'``) keeps the ratios the
    report reads, as weights summing to 1 do: it is not one of these; nor is
    one of whole numbers (counts, ``[[1., 0.], [0., 1.]]``).

    Example:
        >>> _normalised(np.array([[0.75, 0.25], [0.5, 0.5]])), _normalised(np.array([[3.0, 1.0], [0.5, 2.0]]))
        ("each row sums to 1 (normalize='true')", None)
    """
    sparse = isinstance(matrix, core.SparseMatrix)
    if core.fractional_value(matrix.values if sparse else matrix) is None:
        return None
    for axis, what, how in ((1, "row", "true"), (0, "column", "pred")):
        sums = np.asarray(matrix.sum(axis=axis, **({} if sparse else {"dtype": np.float64})), dtype=np.float64)
        sums = sums[sums > 0]
        if sums.size >= 2 and np.all(np.abs(sums - 1.0) <= 1e-4):
            return f"each {what} sums to 1 (normalize='{how}')"
    return None


def _weighted_matrix(matrix: Matrix, weighted: Any, argument: str) -> tuple[Matrix, bool]:
    """The matrix in its stored dtype, and whether it holds sums of weights."""
    floating = not np.issubdtype(matrix.dtype, np.integer)
    if weighted is None:
        normalised = _normalised(matrix) if floating else None
        if normalised is not None:  # read as sums of weights it would give every class the same support
            raise ValueError(
                f"`{argument}` looks normalised: {normalised}, as torchmetrics' MulticlassConfusionMatrix and "
                "scikit-learn's confusion_matrix give with `normalize=`; the report needs the counts: pass "
                "the matrix counted without normalize, or weighted=True if these are sums of sample weights"
            )
        weighted = floating
    else:
        weighted = core.validate_flag(weighted, "weighted")
    if weighted:
        return _stored(matrix, np.float64), True
    values = matrix.values if isinstance(matrix, core.SparseMatrix) else matrix
    fraction = core.fractional_value(values)  # in blocks of rows, as the max: no copy of a large matrix
    if fraction is not None:
        raise ValueError(
            f"`{argument}` holds fractional values (e.g. {fraction}) but "
            "`weighted=False` says they are counts; pass weighted=True (sums of sample weights) "
            "or whole counts"
        )
    if floating and values.size and values.max() >= 2**53:
        raise ValueError(
            f"`{argument}` holds float counts up to {values.max():.6g}, past 2**53 where floats stop "
            "being exact; pass the counts as int64"
        )
    counts = _stored(matrix, np.int64)  # the one conversion: whole floats below 2**53 are exact
    if floating:  # integer matrices were checked by check_matrix
        core.check_integer_total(counts.values if isinstance(counts, core.SparseMatrix) else counts, argument)
    return counts, False


def _stored(matrix: Matrix, dtype: Any) -> Matrix:
    """``matrix`` as ``dtype``; above 100 classes a dense one that needs converting becomes its cells first (the
    form it is stored in), so that no copy of its C² cells is made (log_matrix makes the one it returns)."""
    if isinstance(matrix, np.ndarray) and matrix.dtype != dtype and fmt.encoding_for(len(matrix)) == fmt.COO:
        matrix = core.SparseMatrix.from_dense(matrix)
    return matrix.astype(dtype, copy=False)


@dataclasses.dataclass(frozen=True, eq=False)
class ReportStep:
    """One validated report step; build it with :meth:`of`.

    Attributes:
        step: the step (epoch or batch index).
        name: the matrix tag.
        matrix: ``[C, C]``, rows = true class; ``int64`` counts, or
            ``float64`` sums of sample weights when :attr:`weighted`. A
            numpy array, or a :class:`tb_imbalance.core.SparseMatrix` (the
            non-empty cells: see :data:`Matrix`).
        classes: the tag's :class:`ClassSet`.
        weighted: whether the matrix holds sums of weights (then the
            dashboard shows no intervals for this step: sums of weights are
            not counts of trials). Stored per step, in the tensor's dtype.
        examples: the examples behind each cell, or None.
        curves: the binned one-vs-rest scores ``[C + 1, 3, B]``
            (:func:`tb_imbalance.core.curve_summary`) behind the PR, ROC and
            reliability curves, or None when the predictions were not scores.
    """

    step: int
    name: str
    matrix: Matrix
    classes: ClassSet
    weighted: bool
    examples: ExampleSet | None = None
    curves: np.ndarray | None = None

    @classmethod
    def of(
        cls,
        step: Any,
        name: Any,
        matrix: Any,
        class_names: Sequence[Any] | None = None,
        *,
        class_counts: Any = None,
        class_groups: Mapping[str, Sequence[str]] | None = None,
        examples: ExampleSet | None = None,
        weighted: bool | None = None,
        curves: Any = None,
        argument: str = "cm",
    ) -> "ReportStep":
        """Validate everything one step needs, once.

        Args:
            step: non-negative int.
            name: the matrix tag.
            matrix: ``[C, C]`` counts (int) or sums of weights (float).
            class_names, class_counts, class_groups: the class set (see
                :meth:`ClassSet.of`).
            examples: the step's examples (chosen for C classes), or None.
            weighted: None (default): a float matrix holds sums of weights,
                an integer matrix counts. False: the matrix holds counts even
                as floats (whole numbers only); True: sums of weights.
            curves: the binned scores ``[C + 1, 3, B]`` of
                :func:`tb_imbalance.core.curve_summary`, or None.
            argument: the matrix argument's name in error messages.

        Raises:
            TypeError / ValueError: a bad argument, named in the message.
        """
        checked = core.check_matrix(matrix, argument)  # in its own dtype: converted once, by _weighted_matrix
        classes = ClassSet.of(
            class_names, checked.shape[0], class_counts=class_counts, class_groups=class_groups
        )
        return cls._assemble(step, name, checked, classes, examples, weighted, argument, curves)

    @classmethod
    def with_classes(
        cls,
        step: Any,
        name: Any,
        matrix: Any,
        classes: ClassSet,
        *,
        examples: ExampleSet | None = None,
        weighted: bool | None = None,
        curves: Any = None,
        argument: str = "cm",
        checked_curves: bool = False,
    ) -> "ReportStep":
        """:meth:`of` for a class set validated before (a tag's :class:`ClassSet`, built once).

        ``checked_curves``: the curves are the package's own, built from the
        rows the matrix counts (the callback's metric state or predictions),
        so they are not checked again.

        Raises:
            TypeError / ValueError: a bad step, name or matrix, or a matrix
                whose size is not the class set's.

        Example:
            >>> classes = ClassSet.of(["ok", "fraud"], 2)
            >>> ReportStep.with_classes(0, "confusion_matrix", [[5, 1], [2, 2]], classes).classes.names
            ('ok', 'fraud')
        """
        checked = core.check_matrix(matrix, argument)  # in its own dtype: converted once, by _weighted_matrix
        return cls._assemble(step, name, checked, classes, examples, weighted, argument, curves, checked_curves)

    @classmethod
    def _assemble(
        cls,
        step: Any,
        name: Any,
        checked: Matrix,
        classes: ClassSet,
        examples: Any,
        weighted: Any,
        argument: str,
        curves: Any = None,
        checked_curves: bool = False,
    ) -> "ReportStep":
        """The step of a checked matrix and class set: checks the rest and how they fit together."""
        step = validate_step(step)
        name = validate_tag(name)
        checked, weighted = _weighted_matrix(checked, weighted, argument)
        if not checked.sum():
            raise ValueError(
                f"`{argument}` counts no example (every cell is 0): an empty evaluation has no report (its "
                "accuracy and recalls would read 0); log a step that counted at least one example"
            )
        if checked.shape[0] != classes.num_classes:
            raise ValueError(
                f"`{argument}` has {checked.shape[0]} classes, the tag's class set {classes.num_classes} "
                f"({list(classes.names)[:8]}); log a matrix of the tag's classes, or under another `name`"
            )
        if examples is not None and not isinstance(examples, ExampleSet):
            raise TypeError(
                f"`examples` must be the ExampleSet of tb_imbalance.examples.collect_examples, received "
                f"{type(examples).__name__}; log_report(..., examples=inputs) collects them for you"
            )
        if examples is not None and examples.index["num_classes"] != checked.shape[0]:
            raise ValueError(
                f"`examples` were chosen for {examples.index['num_classes']} classes, the matrix "
                f"`{argument}` has {checked.shape[0]}"
            )
        if curves is not None and not checked_curves:
            curves = core.validate_curve_summary(curves, checked.shape[0], matrix=checked)
        return cls(step, name, checked, classes, weighted, examples, curves)

    @property
    def num_classes(self) -> int:
        return self.matrix.shape[0]

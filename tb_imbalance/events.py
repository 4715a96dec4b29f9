"""What one logged report consists of: its summary values, built without TensorFlow.

:func:`report_values` turns a confusion matrix into the summary values of one
step — the matrix tensor (plugin ``imbalance``), per-class and headline
scalars, the picture — as plain protos; :class:`ReportBuilder` does the same
with the picture's static parts drawn once per tag. Every way of logging
writes exactly these values, as one record per step
(:mod:`tb_imbalance.targets`): the Keras callback and
:class:`tb_imbalance.ReportWriter` into an event file of their own
(:mod:`tb_imbalance.event_file`), :func:`tb_imbalance.log_report` also into a
PyTorch ``SummaryWriter``'s file or a ``tf.summary`` writer.

Tags (``<class>`` is the class name, unchanged; ``<p>`` is empty for the
default ``name="confusion_matrix"`` and ``<name>/`` otherwise, so reports of
two names in one run never share a scalar tag):

=============================  =====================================
``name``                       confusion matrix (Imbalance dashboard)
``name + "_image"``            picture (Images tab)
``<p>precision/<class>``       per-class scalars (Scalars tab: one
``<p>recall/<class>``          section per metric)
``<p>f1/<class>``
``<p>imbalance/<metric>``      headline scalars, see
                               :data:`tb_imbalance.core.METRIC_NAMES`;
                               with ``class_counts`` also
                               :data:`tb_imbalance.core.SHOT_METRIC_NAMES`
                               (each only when its bucket is non-empty)
``name + "_examples"``         with ``examples``: the examples behind
                               each cell (Imbalance dashboard; see
                               :mod:`tb_imbalance.examples`)
``name + "_curves"`` and more  with scores: the binned scores behind
                               the curves, their scalars and PR curves
                               (:mod:`tb_imbalance.curve_values`)
=============================  =====================================

Example:
    >>> import numpy as np
    >>> values = report_values("confusion_matrix", np.array([[3, 1], [0, 2]]), ["a", "b"], image=None)
    >>> [v.tag for v in values][:3]
    ['confusion_matrix', 'imbalance/accuracy', 'imbalance/balanced_accuracy']
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from typing import Iterable, Mapping, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.util import tensor_util

from tb_imbalance import core, format as fmt
from tb_imbalance.core.long_tail import _shot_recalls
from tb_imbalance.core.metrics import _imbalance_metrics, _per_class_metrics
from tb_imbalance.examples import ExampleSet
from tb_imbalance.image import ConfusionMatrixImage
from tb_imbalance.curve_values import AVERAGE_PRECISION_SECTION, PR_CURVE_SECTION, curve_values, want_pr_curves
from tb_imbalance.scalar_value import HEADLINE_PREFIX, array_tensor, blob_tensor
from tb_imbalance.scalar_value import scalar_value as _scalar
from tb_imbalance.step import ClassSet, ReportStep

__all__ = ["PER_CLASS_METRICS", "PER_CLASS_SCALARS_MAX_CLASSES", "HEADLINE_PREFIX", "DEFAULT_NAME", "scalar_prefix", "matrix_value", "report_values", "ReportBuilder",
           "step_matrix_value", "step_values", "tag_collision", "tag_written_among"]

#: Per-class scalar sections: tag prefix -> key of :func:`tb_imbalance.core.per_class_metrics`.
PER_CLASS_METRICS = {"precision": "precision", "recall": "recall", "f1": "f1"}
#: Above this many classes per-class scalars are off unless asked for: 3·C
#: tags per run, and TensorBoard's Scalars tab slows to minutes past about
#: 10,000 tags. The Imbalance dashboard shows every class either way.
PER_CLASS_SCALARS_MAX_CLASSES = 100
#: The matrix tag whose scalars carry no ``<name>/`` prefix.
DEFAULT_NAME = "confusion_matrix"


def scalar_prefix(name: str) -> str:
    """The prefix of a report's scalar tags: ``""`` for the default name, else ``name + "/"``.

    Example:
        >>> scalar_prefix("confusion_matrix"), scalar_prefix("test_set")
        ('', 'test_set/')
    """
    return "" if name == DEFAULT_NAME else name + "/"
IMAGE_SUFFIX = "_image"


_IMAGE_METADATA = image_metadata.create_summary_metadata(
    display_name=None, description="Confusion matrix (colour: share of the true class)"
)
_IMAGE_METADATA.data_class = summary_pb2.DATA_CLASS_BLOB_SEQUENCE


def matrix_value(
    name: str,
    cm: np.ndarray,
    class_names: Sequence[str],
    *,
    description: str | None = None,
    class_counts: Sequence[int] | None = None,
    class_groups: Mapping[str, Sequence[str]] | None = None,
) -> summary_pb2.Summary.Value:
    """The confusion-matrix summary value (plugin ``imbalance``) of one step.

    Validates its arguments (:meth:`tb_imbalance.step.ReportStep.of`); the
    writers build the value from a checked step with :func:`step_matrix_value`.
    """
    report = ReportStep.of(0, name, cm, class_names, class_counts=class_counts, class_groups=class_groups)
    return step_matrix_value(report, description=description)


def _as_stored(report: ReportStep) -> ReportStep:
    """``report`` with a dense matrix above 100 classes as its non-empty cells, the form it is stored in;
    the report maths then cost O(cells + C), not O(C²)."""
    if isinstance(report.matrix, np.ndarray) and fmt.encoding_for(report.num_classes) == fmt.COO:
        return dataclasses.replace(report, matrix=core.SparseMatrix.from_dense(report.matrix))
    return report


def step_matrix_value(report: ReportStep, *, description: str | None = None) -> summary_pb2.Summary.Value:
    """The confusion-matrix summary value of a checked step (trusted, not validated again).

    ``description`` is checked here, where every writer's matrix value is made.

    Whether the step holds sums of weights is stored in the step itself, as
    the tensor's dtype (``float64``); the metadata's ``weighted`` field is
    only read from a tag's first step by TensorBoard.
    """
    report = _as_stored(report)
    description = None if description is None else core.validate_text(description, "`description`")
    return summary_pb2.Summary.Value(
        tag=report.name,
        metadata=_matrix_metadata(report.classes, report.weighted, description),
        tensor=array_tensor(fmt.encode_matrix(report.matrix)),
    )


@functools.lru_cache(maxsize=64)  # a tag's classes recur every step
def _matrix_metadata(classes: ClassSet, weighted: bool, description: str | None) -> summary_pb2.SummaryMetadata:
    return fmt.create_summary_metadata(
        classes.names, weighted=weighted, description=description,
        class_counts=classes.counts, class_groups=classes.groups_dict(),
    )


def report_values(
    name: str,
    cm: np.ndarray,
    class_names: Sequence[str],
    *,
    per_class_scalars: bool = True,
    image: ConfusionMatrixImage | None = None,
    description: str | None = None,
    class_counts: Sequence[int] | None = None,
    class_groups: Mapping[str, Sequence[str]] | None = None,
    examples: ExampleSet | None = None,
) -> list[summary_pb2.Summary.Value]:
    """All summary values of one logged report, matrix first.

    Args:
        name: tag of the matrix; the picture is ``name + "_image"``.
        cm: ``[C, C]`` confusion matrix (validated here).
        class_names: C names (validated here).
        per_class_scalars: include ``precision/``, ``recall/``, ``f1/`` tags.
        image: a renderer for the picture, or None for no picture.
        description: Markdown description of the matrix tag.
        class_counts: training examples per class, stored with the matrix;
            adds the ``imbalance/many_shot_recall``, ``medium_shot_recall``
            and ``few_shot_recall`` scalars (each only when its bucket holds
            a class with validation support; :func:`tb_imbalance.core.shot_recalls`).
        class_groups: ``{"group name": [class names…]}``, stored with the matrix.
        examples: the step's examples (:func:`tb_imbalance.examples.collect_examples`),
            written as ``name + "_examples"``.

    Raises:
        ValueError / TypeError: invalid matrix, names, counts or groups
            (nothing is built).
    """
    report = ReportStep.of(
        0, name, cm, class_names, class_counts=class_counts, class_groups=class_groups, examples=examples
    )
    return step_values(report, per_class_scalars=per_class_scalars, image=image, description=description)


def step_values(
    report: ReportStep,
    *,
    per_class_scalars: bool = True,
    image: ConfusionMatrixImage | None = None,
    description: str | None = None,
    pr_curves: bool = False,
) -> list[summary_pb2.Summary.Value]:
    """:func:`report_values` of a checked step (trusted, not validated again).

    A step with curves also gets :func:`tb_imbalance.curve_values.curve_values`
    (``pr_curves``: TensorBoard's PR Curves tab, one curve per class).
    """
    report = _as_stored(report)
    cm, name, names = report.matrix, report.name, report.classes.names
    stats = _per_class_metrics(cm)  # the step's matrix and counts were checked by ReportStep: not again
    prefix = scalar_prefix(name)
    values = [step_matrix_value(report, description=description)]
    headline = _imbalance_metrics(cm, stats)
    if report.classes.counts is not None:
        headline.update(
            (metric, value) for metric, value in _shot_recalls(stats, report.classes.counts).items() if value is not None
        )
    values += [_scalar(f"{prefix}{HEADLINE_PREFIX}/{metric}", value) for metric, value in headline.items()]
    if per_class_scalars:
        for section, key in PER_CLASS_METRICS.items():
            values += [_scalar(f"{prefix}{section}/{class_name}", v) for class_name, v in zip(names, stats[key])]
    if image is not None:
        width, height, png = image.png(cm)
        values.append(
            summary_pb2.Summary.Value(
                tag=name + IMAGE_SUFFIX,
                metadata=_IMAGE_METADATA,
                tensor=blob_tensor([str(width).encode(), str(height).encode(), png]),
            )
        )
    values += curve_values(report, prefix=prefix, per_class_scalars=per_class_scalars, pr_curves=pr_curves)
    if report.examples is not None:
        values.append(
            summary_pb2.Summary.Value(
                tag=fmt.examples_tag(name),
                metadata=fmt.create_examples_metadata(name),
                tensor=tensor_util.make_tensor_proto(report.examples.blobs()),
            )
        )
    return values


@functools.lru_cache(maxsize=256)  # read per event of a run's history
def _tag_space(name: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The exact tags and the tag prefixes a report named ``name`` may write."""
    prefix = scalar_prefix(name)
    headline = (
        f"{prefix}{HEADLINE_PREFIX}/{metric}"
        for metric in (*core.METRIC_NAMES, *core.SHOT_METRIC_NAMES, *core.CURVE_METRIC_NAMES)
    )
    exact = frozenset((name, name + IMAGE_SUFFIX, fmt.examples_tag(name), fmt.curves_tag(name), *headline))
    sections = (*PER_CLASS_METRICS, AVERAGE_PRECISION_SECTION, PR_CURVE_SECTION)
    spaces = tuple(f"{prefix}{section}/" for section in sections)
    return exact, spaces


def tag_collision(name: str, other: str) -> str | None:
    """A tag that reports named ``name`` and ``other`` could both write, or None.

    A report owns its tag ``name``, ``name + "_image"``, ``name + "_examples"``,
    ``name + "_curves"``, its headline scalars ``<p>imbalance/<metric>`` and
    every tag under its per-class sections (``<p>precision/``, ``<p>recall/``,
    ``<p>f1/``, ``<p>average_precision/``, ``<p>pr_curve/``, see
    :func:`scalar_prefix`), whether or not a given step writes them; two
    reports of one run may not share one.

    Example:
        >>> tag_collision("val_examples", "val"), tag_collision("imbalance/accuracy", "confusion_matrix")
        ('val_examples', 'imbalance/accuracy')
        >>> tag_collision("val", "test_set") is None
        True
    """
    if name == other:
        return None
    exact, spaces = _tag_space(name)
    other_exact, other_spaces = _tag_space(other)
    shared = sorted(exact & other_exact)
    if shared:
        return shared[0]
    for tags, prefixes in ((exact, other_spaces), (other_exact, spaces)):
        for tag in sorted(tags):
            if any(tag.startswith(prefix) for prefix in prefixes):
                return tag
    for prefix in spaces:
        for other_prefix in other_spaces:
            if prefix.startswith(other_prefix) or other_prefix.startswith(prefix):
                return max(prefix, other_prefix, key=len) + "…"
    return None


def tag_written_among(name: str, class_names: Sequence[str], tags: Iterable[str]) -> str | None:
    """The first of ``tags`` (sorted) that a report ``name`` of these classes can write, or None.

    Example:
        >>> tag_written_among("confusion_matrix", ["ok", "fraud"], ["loss", "recall/fraud", "recall/other"])
        'recall/fraud'
    """
    exact, spaces = _tag_space(name)
    names = set(class_names)
    for tag in sorted(tags):
        if tag in exact or any(tag.startswith(space) and tag[len(space):] in names for space in spaces):
            return tag
    return None


class ReportBuilder:
    """Builds the values of one report, keeping a picture renderer per tag and class set.

    Drawing a picture's static parts (title, class names, colour bar) costs
    far more than filling its cells, so a builder reused across steps draws
    them once per ``(name, class_names)``. At most ``max_renderers`` are kept
    (least recently used dropped first).

    Example:
        >>> builder = ReportBuilder()
        >>> values = builder.values("cm", np.array([[3, 1], [0, 2]]), ["a", "b"])
        >>> values[-1].tag
        'cm_image'
    """

    def __init__(self, max_renderers: int = 16) -> None:
        self.max_renderers = max_renderers
        self._renderers: dict[tuple, ConfusionMatrixImage] = {}
        self._said_no_scalars: set[str] = set()
        self._said_cut: set[str] = set()
        self._said_raw: set[str] = set()

    def _want_per_class_scalars(self, name: str, num_classes: int, requested: bool | None) -> bool:
        if requested is not None:
            return core.validate_flag(requested, "per_class_scalars")
        if num_classes <= PER_CLASS_SCALARS_MAX_CLASSES:
            return True
        if name not in self._said_no_scalars:
            self._said_no_scalars.add(name)
            logging.getLogger("tb_imbalance").warning(
                "tb_imbalance: %s has %d classes (> %d): per-class precision/recall/f1 scalars "
                "are not written, nor per-class average precision (3 or 4 tags per class would "
                "slow TensorBoard's Scalars tab); the Imbalance dashboard shows every class. "
                "Pass per_class_scalars=True to write them.",
                name, num_classes, PER_CLASS_SCALARS_MAX_CLASSES,
            )
        return False

    def _renderer(self, name: str, names: list[str]) -> ConfusionMatrixImage:
        key = (name, tuple(names))
        renderer = self._renderers.pop(key, None) or ConfusionMatrixImage(names)
        self._renderers[key] = renderer  # most recently used last
        while len(self._renderers) > self.max_renderers:
            del self._renderers[next(iter(self._renderers))]
        return renderer

    def forget_pictures(self) -> None:
        """Drop the pictures' static parts drawn so far (drawn again at the next step that needs them)."""
        self._renderers.clear()

    def prepare_picture(self, name: str, class_names: Sequence[str]) -> None:
        """Draw what the picture of ``name`` over ``class_names`` keeps from step to step, ahead of its first step."""
        self._renderer(name, list(class_names)).prepare()

    def values(
        self,
        name: str,
        cm: np.ndarray,
        class_names: Sequence[str] | None,
        *,
        per_class_scalars: bool | None = None,
        image: bool = True,
        description: str | None = None,
        class_counts: Sequence[int] | None = None,
        class_groups: Mapping[str, Sequence[str]] | None = None,
        examples: ExampleSet | None = None,
    ) -> list[summary_pb2.Summary.Value]:
        """:func:`report_values` with a cached renderer; ``class_names=None`` means ``"0"…"C-1"``.

        ``per_class_scalars=None`` writes them up to
        :data:`PER_CLASS_SCALARS_MAX_CLASSES` classes and otherwise says once
        per tag (logger ``tb_imbalance``) that they are left out.

        Raises:
            ValueError / TypeError: invalid matrix or names (nothing is built).
        """
        report = ReportStep.of(
            0, name, cm, class_names, class_counts=class_counts, class_groups=class_groups, examples=examples
        )
        return self.step_values(report, per_class_scalars=per_class_scalars, image=image, description=description)

    def step_values(
        self,
        report: ReportStep,
        *,
        per_class_scalars: bool | None = None,
        image: bool = True,
        description: str | None = None,
        pr_curves: bool | None = None,
    ) -> list[summary_pb2.Summary.Value]:
        """:meth:`values` of a checked :class:`tb_imbalance.step.ReportStep` (trusted, not validated again).

        ``pr_curves=None`` writes TensorBoard PR curves for a step with curves
        of up to :data:`tb_imbalance.curve_values.PR_CURVES_MAX_CLASSES` classes.
        """
        per_class_scalars = self._want_per_class_scalars(report.name, report.num_classes, per_class_scalars)
        renderer = self._renderer(report.name, list(report.classes.names)) if core.validate_flag(image, "image") else None
        if pr_curves is True and report.curves is None:  # every door: log_report, log_matrix, ReportWriter, summary
            raise ValueError(
                f"`pr_curves=True` asks for TensorBoard's PR curves of {report.name!r}, which are drawn from the "
                "step's binned scores, and this step has none: give log_report scores (not class ids; curves=True "
                "above 1000 classes), or log_matrix / write_matrix curves=core.curve_summary(...); or drop pr_curves=True"
            )
        pr_curves = want_pr_curves(report.num_classes, pr_curves)
        values = step_values(
            report, per_class_scalars=per_class_scalars, image=renderer, description=description, pr_curves=pr_curves
        )
        if report.examples is not None:
            self._say_about(report.name, report.examples)
        return values

    def _say_about(self, name: str, examples: ExampleSet) -> None:
        """One log line per tag when the examples' scores are not probabilities, and when they were cut."""
        if examples.index["scores"] == "raw" and name not in self._said_raw:
            self._said_raw.add(name)
            logging.getLogger("tb_imbalance").warning(
                "tb_imbalance: the scores behind the examples of %s are not probabilities (rows outside "
                "[0, 1] or not summing to 1): examples are ranked by the raw scores and shown as "
                "scores. If they are logits, pass from_logits=True (or end the model with a softmax). "
                "Said once per tag.",
                name,
            )
        cut = examples.index["cut"]
        if cut is None or name in self._said_cut:
            return
        self._said_cut.add(name)
        logging.getLogger("tb_imbalance").warning(
            "tb_imbalance: the examples of %s were cut to %d of %d to stay under examples_max_bytes=%d "
            "(each cell keeps its most telling ones; the dashboard says when a step was cut). Pass a "
            "larger examples_max_bytes or a smaller examples_per_cell to keep them all. Said once per tag.",
            name, cut["kept"], cut["chosen"], examples.index["max_bytes"],
        )

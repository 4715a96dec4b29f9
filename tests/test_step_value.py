"""Each entry turns its arguments into one validated ReportStep; nothing downstream validates again.

Counted per call: the validators of :mod:`tb_imbalance.core` may run inside
core's own public metric functions (which check what they are given), but
outside core each runs once — in :meth:`tb_imbalance.step.ReportStep.of` —
whichever entry is used and whatever target it writes to; the class names of
an entry that counts labels are checked once, by
:func:`tb_imbalance.core.resolve_num_classes`, and trusted by the step.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
import tensorflow as tf

from support import count_calls
import tb_imbalance.summary as tbs
from tb_imbalance import ReportWriter, core, log_matrix, log_report
from tb_imbalance.step import ClassSet, ReportStep

VALIDATORS = (  # the matrix is checked in its own dtype (check_matrix) and converted once, by the step
    "check_matrix", "validate_class_names", "validate_class_counts", "validate_class_groups",
)
NAMES = ["a", "b", "c"]
LABELS = np.arange(30) % 3
SCORES = np.random.default_rng(0).dirichlet(np.ones(3), size=30)
OPTIONS = {"class_counts": [10, 20, 30], "class_groups": {"g": ["a", "b"]}}


@pytest.fixture
def outside_core_calls(monkeypatch):
    calls: collections.Counter = collections.Counter()
    # validate_matrix: called by none of them, outside core; validate_name_forms: by validate_class_names alone
    for name in (*VALIDATORS, "validate_matrix", "validate_name_forms"):
        original = getattr(core, name)

        def counted(*args, _original=original, _name=name, **kwargs):  # core's own modules call their imports
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(core, name, counted)
    return calls


def _entries(tmp_path, names=NAMES):
    writer = tf.summary.create_file_writer(str(tmp_path / "tf"))

    def summary_op():
        with writer.as_default():
            assert tbs.classification_report(
                "confusion_matrix", LABELS, SCORES, step=0, class_names=names, examples=list(range(30)), **OPTIONS
            )

    return {
        "log_report_directory": lambda: log_report(
            str(tmp_path / "dir"), LABELS, SCORES, 0, class_names=names, examples=list(range(30)), **OPTIONS
        ),
        "log_report_tf_writer": lambda: log_report(
            tf.summary.create_file_writer(str(tmp_path / "tf2")), LABELS, SCORES, 0, class_names=names, **OPTIONS
        ),
        "log_matrix": lambda: log_matrix(str(tmp_path / "m"), np.eye(3, dtype=int) + 1, 0, class_names=names, **OPTIONS),
        "report_writer": lambda: ReportWriter(tmp_path / "w").write_matrix(
            0, "confusion_matrix", np.eye(3, dtype=int) + 1, names, **OPTIONS
        ),
        "summary_op": summary_op,
    }


@pytest.mark.parametrize(
    "entry", ["log_report_directory", "log_report_tf_writer", "log_matrix", "report_writer", "summary_op"]
)
def test_every_entry_validates_once(tmp_path, outside_core_calls, entry):
    _entries(tmp_path)[entry]()
    # the entries that count labels have their names checked inside core, by resolve_num_classes; the step trusts them
    resolved = entry in ("log_report_directory", "log_report_tf_writer", "summary_op")
    assert dict(outside_core_calls) == {name: 1 for name in VALIDATORS if not (resolved and name == "validate_class_names")}


@pytest.mark.parametrize(
    "entry", ["log_report_directory", "log_report_tf_writer", "log_matrix", "report_writer", "summary_op"]
)
def test_the_report_maths_trust_the_checked_step(tmp_path, monkeypatch, entry):
    # core's public metric functions checked the step's matrix three times more (per_class_metrics,
    # imbalance_metrics and shot_recalls, which also counted the per-class metrics again) and its counts once more
    import tb_imbalance.core.long_tail as long_tail
    import tb_imbalance.core.metrics as metrics

    calls: collections.Counter = collections.Counter()
    for module, name in ((metrics, "validate_matrix"), (long_tail, "validate_class_counts"),
                         (long_tail, "validate_shot_thresholds"), (long_tail, "per_class_metrics")):
        def counted(*args, _original=getattr(module, name), _name=name, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    core.shot_recalls(np.eye(3, dtype=int), [10, 20, 30])  # the public function checks what it is given
    assert dict(calls) == {name: 1 for name in ("validate_matrix", "validate_class_counts", "validate_shot_thresholds",
                                                "per_class_metrics")}
    calls.clear()
    _entries(tmp_path)[entry]()
    assert dict(calls) == {}


@pytest.mark.parametrize(
    "entry", ["log_report_directory", "log_report_tf_writer", "log_matrix", "report_writer", "summary_op", "summary_matrix"]
)
def test_class_names_and_curves_are_checked_once_through_every_binding(tmp_path, monkeypatch, entry):
    # log_report and the summary ops checked the names in resolve_num_classes (its own binding, which the counts
    # above miss) and again in ClassSet.of; the step's curves were checked again by curve_metrics and threshold_table
    from tb_imbalance.core import curves, validators

    entries = _entries(tmp_path)
    writer = tf.summary.create_file_writer(str(tmp_path / "summary_matrix"))

    def summary_matrix():
        with writer.as_default():
            assert tbs.confusion_matrix("confusion_matrix", LABELS, SCORES, step=0, class_names=NAMES, **OPTIONS)

    entries["summary_matrix"] = summary_matrix
    calls = count_calls(monkeypatch, validators.validate_class_names, curves.validate_curve_summary, curves._summary_rows)
    entries[entry]()
    with_curves = entry in ("log_report_directory", "log_report_tf_writer", "summary_op")  # scores: curves by default
    # the class names once, and once the names the groups roll up to (validate_class_groups' own check)
    assert dict(calls) == {"validate_class_names": 2, **({"validate_curve_summary": 1} if with_curves else {})}


@pytest.mark.parametrize(
    "blank, shown", [("", "empty"), (" \t", r"only whitespace \(' \\t'\)")], ids=["empty", "whitespace"]
)
@pytest.mark.parametrize(
    "entry", ["log_report_directory", "log_report_tf_writer", "log_matrix", "report_writer", "summary_op"]
)
def test_every_entry_refuses_a_class_name_with_nothing_to_see(tmp_path, entry, blank, shown):
    # Accepted before: its scalar tags were recall/ etc. and the dashboard showed a blank row.
    with pytest.raises(ValueError, match=rf"^`class_names`\[1\] is {shown}, which shows as a blank row; give each "
                                         r"class a visible name, e\.g\. its id for an unnamed one"):
        _entries(tmp_path, names=["a", blank, "c"])[entry]()


@pytest.mark.parametrize(
    "entry", ["log_report_directory", "log_report_tf_writer", "log_matrix", "report_writer", "summary_op"]
)
def test_every_entry_refuses_class_names_that_differ_only_by_whitespace_at_their_ends(tmp_path, entry):
    # Accepted before as two classes: tags recall/a and recall/a , alike in TensorBoard's Scalars tab.
    with pytest.raises(ValueError, match=r"^`class_names`\[0\] and \[2\] differ only by whitespace at their ends "
                                         r"\('a' and 'a '\), shown alike in TensorBoard's Scalars tab and the picture; "
                                         r"if they are two classes, tell them apart in words; if one, strip the labels' "
                                         r"text before they become class ids \(label.strip\(\)\)"):
        _entries(tmp_path, names=["a", "b", "a "])[entry]()


@pytest.mark.parametrize("padded", [" c", "c\n", "c\u00a0"], ids=["leading space", "line break", "no-break space"])
@pytest.mark.parametrize(
    "entry", ["log_report_directory", "log_report_tf_writer", "log_matrix", "report_writer", "summary_op"]
)
def test_every_entry_refuses_a_class_name_with_whitespace_at_an_end_naming_the_strip(tmp_path, entry, padded):
    # Accepted before: its tags (recall/c\n) looked like recall/c and were charted apart from another run's.
    with pytest.raises(ValueError) as refused:
        _entries(tmp_path, names=["a", "b", padded])[entry]()
    assert str(refused.value) == (
        f"`class_names`[2] is {padded!r}, with whitespace at its start or end, which TensorBoard's Scalars tab and "
        "the picture do not show: its tags (recall/…) would look like those of a class 'c', yet be charted apart "
        "from them (in other runs too); pass the names stripped: [name.strip() for name in class_names]"
    )


def test_the_step_value_is_what_it_was_given():
    report = ReportStep.of(np.int64(4), "val", np.array([[3, 1], [0, 2]], dtype=np.int32), ["ok", "fraud"],
                           class_counts=np.array([900, 40]), class_groups=None)
    assert (report.step, report.name, report.weighted) == (4, "val", False)
    assert report.matrix.dtype == np.int64 and report.matrix.tolist() == [[3, 1], [0, 2]]
    assert report.classes == ClassSet(("ok", "fraud"), (900, 40), None)
    weighted = ReportStep.of(0, "val", np.array([[3.0, 1.0], [0.0, 2.0]]))
    assert weighted.weighted and weighted.matrix.dtype == np.float64
    assert weighted.classes.names == ("0", "1")


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"step": -1}, ValueError, "`step` must be a non-negative int"),
        ({"step": 2**63}, ValueError, r"`step` must be at most 2\*\*63 - 1"),
        ({"name": " "}, ValueError, "`name` must be a non-empty tag string"),
        ({"name": 'val"1'}, ValueError, r"""`name` 'val"1' holds '"': TensorBoard's default data server .*"""),
        ({"name": "a\\b"}, ValueError, r"`name` 'a\\\\b' holds '\\\\': .*control character"),
        ({"name": "a\nb"}, ValueError, r"`name` 'a\\nb' holds '\\n'"),
        ({"matrix": [[1, 2, 3]]}, ValueError, r"`cm` must be square"),
        ({"class_names": ["x"]}, ValueError, r"`class_names` must have one name per class \(2\)"),
        # "é" as one code point and as "e" + U+0301 were two classes shown alike
        ({"class_names": ["caf\u00e9", "cafe\u0301"]}, ValueError,
         r"`class_names`\[0\] and \[1\] are the same text in two Unicode forms \('caf\\xe9' and 'cafe\\u0301'\), shown "
         r"alike everywhere; if they are two classes, tell them apart in words; if one, normalize the names before "
         r"they become class ids"),
        ({"class_counts": [1.5, 2]}, TypeError, "`class_counts` must hold integers"),
        ({"matrix": [[1.5, 0], [0, 1]], "weighted": False}, ValueError, "pass weighted=True"),
    ],
)
def test_errors_name_the_argument(arguments, error, message):
    given = {"step": 0, "name": "cm", "matrix": [[1, 0], [0, 1]], **arguments}
    step, name, matrix = given.pop("step"), given.pop("name"), given.pop("matrix")
    with pytest.raises(error, match=message):
        ReportStep.of(step, name, matrix, **given)


def test_text_labels_in_two_unicode_forms_normalized_as_advised_give_sklearns_matrix():
    """The refusal advised normalizing ``class_names`` alone, which made them duplicates ("must be unique");
    normalizing the text labels before they become ids does it, one class with its rows together."""
    import unicodedata

    from sklearn.metrics import confusion_matrix

    true = ["caf\u00e9", "cafe\u0301", "tea", "caf\u00e9", "tea", "cafe\u0301"]
    predicted = ["tea", "caf\u00e9", "tea", "cafe\u0301", "caf\u00e9", "cafe\u0301"]
    names = sorted(set(true) | set(predicted))
    with pytest.raises(ValueError, match="two Unicode forms") as refused:
        ClassSet.of(names, len(names))
    assert "class_names]" not in str(refused.value)  # no longer advised: [normalize(n) for n in class_names]
    with pytest.raises(ValueError, match="must be unique"):
        ClassSet.of([unicodedata.normalize("NFC", name) for name in names], len(names))
    true, predicted = ([unicodedata.normalize("NFC", text) for text in texts] for texts in (true, predicted))
    names = sorted(set(true) | set(predicted))
    matrix = core.confusion_matrix([names.index(t) for t in true], [names.index(p) for p in predicted], num_classes=2)
    step = ReportStep.of(0, "cm", matrix, class_names=names)
    np.testing.assert_array_equal(step.matrix, confusion_matrix(true, predicted, labels=names))


def test_a_class_set_compares_by_value():
    one = ClassSet.of(["a", "b", "c"], 3, class_counts=[5, 6, 7], class_groups={"g": ["a", "b"]})
    assert one == ClassSet.from_info(_info_of(one))
    assert one != ClassSet.of(["a", "b", "c"], 3, class_counts=[5, 6, 7])


def _info_of(classes: ClassSet):
    from tb_imbalance import format as fmt

    metadata = fmt.create_summary_metadata(
        classes.names, class_counts=classes.counts, class_groups=classes.groups_dict()
    )
    return fmt.parse_plugin_content(metadata.plugin_data.content)

"""Long-tail buckets (``class_counts``) and class groups (``class_groups``).

Hand-computed cases for :func:`tb_imbalance.core.shot_recalls` and
:func:`tb_imbalance.core.group_matrix` and scikit-learn's values (macro recall over
a bucket's classes; the matrix and report of labels mapped to groups), their validation, format version 3
(written, read, older versions still read), the run-history refusal of a
change within a tag, the ``tf.summary`` writers and the ``report`` route's
``train_count``, bucket scores, ``many`` / ``few`` and ``group=1``.
"""

from __future__ import annotations

import json
import unicodedata
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm
from werkzeug import test as werkzeug_test

from logdir_reader import plugin_content, run_tag_pairs, scalars
from support import plugin_client
from tb_imbalance import ReportWriter, core
from tb_imbalance import format as fmt
from tb_imbalance.events import report_values
from tb_imbalance.run_history import RunHistory
from tb_imbalance.step import ReportStep
from tb_imbalance.targets import close_directory_writers

NAMES = ["cat", "dog", "fox", "owl", "bat"]
COUNTS = [500, 300, 60, 25, 8]
GROUPS = {"pets": ["cat", "dog"], "wild": ["fox", "owl"]}
CM = np.array(
    [[90, 6, 2, 1, 1], [8, 70, 1, 1, 0], [3, 2, 20, 4, 1], [1, 1, 5, 12, 1], [2, 1, 1, 2, 4]]
)
SHOT_TAGS = {"imbalance/many_shot_recall", "imbalance/medium_shot_recall", "imbalance/few_shot_recall"}


@pytest.fixture(autouse=True)
def _close_writers():
    yield
    close_directory_writers()


# --------------------------------------------------------------------------
# core.shot_recalls
# --------------------------------------------------------------------------


def test_shot_recalls_by_hand():
    # recalls: cat 90/100, dog 70/80, fox 20/30, owl 12/20, bat 4/10
    result = core.shot_recalls(CM, COUNTS)
    assert list(result) == list(core.SHOT_METRIC_NAMES)
    assert result["many_shot_recall"] == pytest.approx((0.9 + 0.875) / 2)  # 500, 300 > 100
    assert result["medium_shot_recall"] == pytest.approx((20 / 30 + 0.6) / 2)  # 60, 25 in 20..100
    assert result["few_shot_recall"] == pytest.approx(0.4)  # 8 < 20


def test_shot_recalls_thresholds_are_inclusive_for_medium():
    cm = np.diag([1, 2, 3, 4]) + 1  # recalls 2/5, 3/6, 4/7, 5/8
    recalls = [2 / 5, 3 / 6, 4 / 7, 5 / 8]
    result = core.shot_recalls(cm, [101, 100, 20, 19])
    assert result["many_shot_recall"] == pytest.approx(recalls[0])
    assert result["medium_shot_recall"] == pytest.approx((recalls[1] + recalls[2]) / 2)
    assert result["few_shot_recall"] == pytest.approx(recalls[3])


def test_shot_recalls_custom_thresholds():
    result = core.shot_recalls(CM, COUNTS, many=50, few=10)
    assert result["many_shot_recall"] == pytest.approx((0.9 + 0.875 + 20 / 30) / 3)
    assert result["medium_shot_recall"] == pytest.approx(0.6)
    assert result["few_shot_recall"] == pytest.approx(0.4)


def test_empty_bucket_and_bucket_without_validation_support_are_none():
    cm = np.array([[5, 1, 0], [2, 3, 0], [0, 0, 0]])  # class 2 never in the validation labels
    result = core.shot_recalls(cm, [1000, 500, 3])
    assert result["many_shot_recall"] == pytest.approx((5 / 6 + 3 / 5) / 2)
    assert result["medium_shot_recall"] is None  # no class with 20..100 examples
    assert result["few_shot_recall"] is None  # its only class has no validation support


@pytest.mark.parametrize("seed", range(6))
def test_shot_recalls_equal_scikit_learns_macro_recall_over_each_buckets_classes(seed):
    rng = np.random.default_rng(700 + seed)
    num_classes, n = int(rng.integers(3, 12)), int(rng.integers(20, 300))
    y_true = rng.choice(num_classes, n, p=rng.dirichlet(np.full(num_classes, 0.5)))
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, num_classes, n))
    weights = rng.uniform(0.1, 3.0, n) if seed % 2 else None
    counts = rng.integers(0, 400, num_classes)
    many, few = (100, 20) if seed < 3 else (int(counts.max() // 2 + 1), int(counts.min() + 1))
    cm = core.confusion_matrix(y_true, y_pred, num_classes=num_classes, sample_weight=weights)
    result = core.shot_recalls(cm, counts, many=many, few=few)
    present = np.unique(y_true)
    buckets = {"many_shot_recall": counts > many, "medium_shot_recall": (counts >= few) & (counts <= many),
               "few_shot_recall": counts < few}
    for name, members in buckets.items():
        labels = [c for c in np.flatnonzero(members) if c in present]
        if not labels:
            assert result[name] is None
            continue
        expected = skm.recall_score(y_true, y_pred, labels=labels, average="macro", zero_division=0, sample_weight=weights)
        assert result[name] == pytest.approx(expected, rel=1e-12, abs=1e-15), name


def test_class_counts_short_of_a_class_name_the_bincount_that_counts_every_class():
    # np.bincount(y_train) stops at the largest class present: one count short when the last class has none
    with pytest.raises(ValueError, match=r"`class_counts` must have one count per class \(3\), received 2; pass "
                                         r"np\.bincount\(y_train, minlength=3\)"):
        core.validate_class_counts(np.bincount([0, 1, 1]), 3)


@pytest.mark.parametrize(
    ("counts", "error", "match"),
    [
        ([1, 2], ValueError, r"`class_counts` must have one count per class \(3\), received 2"),
        ([1, -2, 3], ValueError, r"`class_counts` must be non-negative, received -2"),
        ([1.5, 2, 3], TypeError, r"`class_counts` must hold integers"),
        ([True, False, True], TypeError, r"`class_counts` must hold integers"),
        ([True, 5, 300], TypeError, r"`class_counts` must hold integers .* received True"),  # was [1, 5, 300]
        ((np.True_, 5, 300), TypeError, r"`class_counts` must hold integers .* received True"),
        ("123", TypeError, r"`class_counts` must be a list or 1-D array"),
        ({"a": 1}, TypeError, r"`class_counts` must be a list or 1-D array"),
        ([[1, 2, 3]], ValueError, r"`class_counts` must be 1-D"),
    ],
)
def test_bad_class_counts_are_refused_by_name(counts, error, match):
    with pytest.raises(error, match=match):
        core.validate_class_counts(counts, 3)


def test_a_value_counts_series_in_frequency_order_is_refused_and_one_in_class_order_taken():
    pd = pytest.importorskip("pandas")
    y_train = np.array([2] * 50 + [0] * 30 + [1] * 5)
    by_frequency = pd.Series(y_train).value_counts()  # index [2, 0, 1]: its values read as classes 0, 1, 2 were wrong
    with pytest.raises(ValueError, match=r"`class_counts` is a pandas Series whose index \(\[2, 0, 1\]\) is not the "
                                         r"class ids 0..C-1 in order, so its values would go to the wrong classes"):
        core.validate_class_counts(by_frequency, 3)
    assert core.validate_class_counts(by_frequency.sort_index(), 3) == [30, 5, 50]
    assert core.validate_class_counts(by_frequency.reindex(range(3), fill_value=0), 3) == [30, 5, 50]
    by_name = pd.Series(["cat"] * 3 + ["dog"]).value_counts()
    with pytest.raises(ValueError, match=r"counts.reindex\(class_names, fill_value=0\).to_numpy\(\) when it holds class names"):
        core.validate_class_counts(by_name, 2)
    assert core.validate_class_counts(by_name.reindex(["dog", "cat"], fill_value=0).to_numpy(), 2) == [1, 3]  # as said


def test_class_counts_accept_numpy_ints_and_none():
    assert core.validate_class_counts(np.bincount([0, 0, 2], minlength=3), 3) == [2, 0, 1]
    assert core.validate_class_counts(np.array([1, 2, 3], dtype=np.uint16), 3) == [1, 2, 3]
    assert core.validate_class_counts(None, 3) is None


@pytest.mark.parametrize(
    ("many", "few", "error", "match"),
    [
        (20, 100, ValueError, r"`few` must be less than `many`.*few=100, many=20"),
        (20, 20, ValueError, r"`few` must be less than `many`"),
        (100, -1, ValueError, r"`few` must be non-negative"),
        (100.0, 20, TypeError, r"`many` must be an int"),
        (100, True, TypeError, r"`few` must be an int"),
    ],
)
def test_bad_thresholds_are_refused(many, few, error, match):
    with pytest.raises(error, match=match):
        core.validate_shot_thresholds(many, few)


def test_many_zero_with_the_default_few_names_both_thresholds_to_pass():
    with pytest.raises(ValueError) as raised:
        core.validate_shot_thresholds(many=0)
    assert str(raised.value) == ("`many`=0 must be more than `few`, whose default is 20; `few` cannot be negative, "
                                 "so pass a `many` of 1 or more and a `few` below it")
    with pytest.raises(ValueError, match=r"`many`=1 must be more than `few`"):  # `many` alone is not enough
        core.validate_shot_thresholds(many=1)
    assert core.validate_shot_thresholds(many=1, few=0) == (1, 0)


# --------------------------------------------------------------------------
# core.group_matrix
# --------------------------------------------------------------------------


def test_group_matrix_by_hand():
    group_cm, names = core.group_matrix(CM, GROUPS, NAMES)
    assert names == ["pets", "wild", "bat"]  # named groups in order, then the ungrouped class
    # rows: pets = cat + dog, wild = fox + owl, bat; columns likewise
    expected = [
        [90 + 6 + 8 + 70, 2 + 1 + 1 + 1, 1 + 0],
        [3 + 2 + 1 + 1, 20 + 4 + 5 + 12, 1 + 1],
        [2 + 1, 1 + 2, 4],
    ]
    assert group_cm.tolist() == expected
    assert group_cm.dtype == CM.dtype
    assert group_cm.sum() == CM.sum()


def test_group_matrix_keeps_weighted_sums_and_group_order():
    cm = np.array([[1.5, 0.5, 0.0], [0.25, 2.0, 1.0], [0.0, 0.5, 3.0]])
    group_cm, names = core.group_matrix(cm, {"b+c": ["c", "b"]}, ["a", "b", "c"])
    assert names == ["b+c", "a"]
    np.testing.assert_allclose(group_cm, [[2.0 + 1.0 + 0.5 + 3.0, 0.25], [0.5, 1.5]])


def test_group_matrix_default_class_names():
    group_cm, names = core.group_matrix(np.eye(3, dtype=np.int64), {"low": ["0", "1"]})
    assert names == ["low", "2"] and group_cm.tolist() == [[2, 0], [0, 1]]


@pytest.mark.parametrize("weighted", [False, True])
def test_a_grouped_matrix_and_its_report_equal_scikit_learns_on_labels_mapped_to_groups(weighted):
    rng = np.random.default_rng(710 + weighted)
    names = ["cat", "dog", "fox", "owl", "bat", "eel"]
    groups = {"wild": ["owl", "fox"], "pets": ["dog", "cat"]}
    y_true = rng.integers(0, 6, 400)
    y_pred = np.where(rng.random(400) < 0.55, y_true, rng.integers(0, 6, 400))
    weights = rng.uniform(0.1, 3.0, 400) if weighted else None
    group_cm, group_names = core.group_matrix(
        core.confusion_matrix(y_true, y_pred, num_classes=6, sample_weight=weights), groups, names
    )
    assert group_names == ["wild", "pets", "bat", "eel"]
    group_of = np.array([1, 1, 0, 0, 2, 3])  # cat, dog -> pets; fox, owl -> wild
    mapped_true, mapped_pred = group_of[y_true], group_of[y_pred]
    np.testing.assert_allclose(
        group_cm, skm.confusion_matrix(mapped_true, mapped_pred, labels=range(4), sample_weight=weights), rtol=1e-12
    )
    report = core.classification_report(group_cm, group_names)
    expected = skm.classification_report(mapped_true, mapped_pred, labels=range(4), target_names=group_names,
                                         output_dict=True, zero_division=0, sample_weight=weights)
    assert list(report) == list(expected)
    for key, values in expected.items():
        assert report[key] == pytest.approx(values, rel=1e-12), key
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert core.imbalance_metrics(group_cm)["mcc"] == pytest.approx(
            skm.matthews_corrcoef(mapped_true, mapped_pred, sample_weight=weights), rel=1e-12
        )


@pytest.mark.parametrize(
    ("groups", "error", "match"),
    [
        ({"pets": ["cat", "cow"]}, ValueError, r"`class_groups\['pets'\]` names 'cow', which is not a class name"),
        ({"pets": ["cat"], "more": ["cat", "dog"]}, ValueError, r"class 'cat' is in two groups \('pets' and 'more'\)"),
        ({"pets": ["cat", "cat"]}, ValueError, r"`class_groups\['pets'\]` lists 'cat' twice"),
        ({"": ["cat"]}, ValueError, r"`class_groups` names must be non-empty strings"),
        ({3: ["cat"]}, ValueError, r"`class_groups` names must be non-empty strings"),
        # Told as the group's name, not as `class_names`[0] of the rolled-up names.
        ({"pets ": ["cat", "dog"]}, ValueError, r"^`class_groups` name 'pets ' starts or ends with whitespace.*; "
                                                r"name the group 'pets'$"),
        ({"pets": ["cat"], "\tpets": ["dog"]}, ValueError, r"^`class_groups` name '\\tpets' starts or ends"),
        ({"cat\n": ["dog"]}, ValueError, r"^`class_groups` name 'cat\\n' .* look like those of 'cat'"),
        ({"pets": []}, ValueError, r"`class_groups\['pets'\]` lists no class"),
        ({"pets": "cat"}, TypeError, r"`class_groups\['pets'\]` must be a list of class names"),
        ({"bat": ["cat"]}, ValueError, r"group 'bat' has the name of a class outside it"),
        ({"all": NAMES}, ValueError, r"at least two groups"),
        ({"accuracy": ["cat"]}, ValueError, r"^`class_groups` name 'accuracy' is one of the report's own keys .*; "
                                            r"rename the group, e.g. 'accuracy \(group\)'$"),
        ([("pets", ["cat"])], TypeError, r"`class_groups` must be a dict"),
    ],
)
def test_bad_class_groups_are_refused_by_name(groups, error, match):
    with pytest.raises(error, match=match):
        core.validate_class_groups(groups, NAMES)


def test_a_member_spelled_in_another_unicode_form_is_told_so():
    decomposed = unicodedata.normalize("NFD", "café")
    with pytest.raises(ValueError, match=r"'cafe\\u0301' differs from the class 'caf\\xe9' only in its Unicode form"):
        core.validate_class_groups({"drinks": [decomposed, "tea"], "other": ["milk"]}, ["café", "tea", "milk"])


def test_a_group_may_share_the_name_of_one_of_its_classes():
    assert core.validate_class_groups({"cat": ["cat", "dog"]}, NAMES) == {"cat": ["cat", "dog"]}


# --------------------------------------------------------------------------
# Format version 3
# --------------------------------------------------------------------------


def test_version_3_content_round_trips_and_is_stamped_only_when_needed():
    meta = fmt.create_summary_metadata(NAMES, class_counts=COUNTS, class_groups=GROUPS)
    content = json.loads(meta.plugin_data.content)
    assert content["version"] == 3 == fmt.EXTRAS_VERSION
    assert content["class_counts"] == COUNTS and content["class_groups"] == GROUPS
    info = fmt.parse_plugin_content(meta.plugin_data.content)
    assert info.class_counts == tuple(COUNTS)
    assert info.groups_dict() == GROUPS
    plain = json.loads(fmt.create_summary_metadata(NAMES).plugin_data.content)
    assert plain["version"] == 1 and "class_counts" not in plain and "class_groups" not in plain
    wide = [str(k) for k in range(101)]
    assert json.loads(fmt.create_summary_metadata(wide).plugin_data.content)["version"] == 2
    assert json.loads(fmt.create_summary_metadata(wide, class_counts=[1] * 101).plugin_data.content)["version"] == 3


@pytest.mark.parametrize(
    "content",
    [
        {"version": 1, "num_classes": 2, "class_names": ["a", "b"], "weighted": False},
        {"version": 2, "num_classes": 2, "class_names": ["a", "b"], "weighted": False, "encoding": "coo"},
        {"version": 3, "num_classes": 2, "class_names": ["a", "b"], "weighted": False, "encoding": "dense",
         "class_counts": None, "class_groups": None},
    ],
)
def test_older_and_null_contents_read_without_counts_or_groups(content):
    info = fmt.parse_plugin_content(json.dumps(content).encode())
    assert info.class_counts is None and info.class_groups is None and info.groups_dict() is None


@pytest.mark.parametrize(
    "extra",
    [{"class_counts": [1]}, {"class_counts": [1, -1]}, {"class_counts": [1.5, 2]}, {"class_groups": {"g": ["z"]}},
     {"class_groups": ["a"]}],
)
def test_malformed_version_3_fields_are_refused(extra):
    content = {"version": 3, "num_classes": 2, "class_names": ["a", "b"], **extra}
    with pytest.raises(fmt.UnsupportedFormatError, match="class_"):
        fmt.parse_plugin_content(json.dumps(content).encode())


# --------------------------------------------------------------------------
# Fixed per tag
# --------------------------------------------------------------------------


def test_run_history_refuses_a_change_of_counts_or_groups():
    def step(name, number, counts=COUNTS, groups=GROUPS):
        return ReportStep.of(number, name, CM, NAMES, class_counts=counts, class_groups=groups)

    history = RunHistory("runs/x")
    history.record(step("cm", 0))
    history.check_report(step("cm", 1))  # the same: fine
    with pytest.raises(ValueError, match=r"already holds `class_counts`.*cannot change"):
        history.check_report(step("cm", 1, counts=[1, 2, 3, 4, 5]))
    with pytest.raises(ValueError, match=r"already holds `class_counts`.*received none"):
        history.check_report(step("cm", 1, counts=None))
    with pytest.raises(ValueError, match=r"already holds `class_groups`.*cannot change"):
        history.check_report(step("cm", 1, groups={"pets": ["cat"]}))
    # the same groups in another order (a dict built from a set in a resumed process): the same groups
    history.check_report(step("cm", 1, groups={"wild": ["owl", "fox"], "pets": ["dog", "cat"]}))
    with pytest.raises(ValueError, match=r"the first difference: group 'wild' received without \['owl'\] and with nothing more"):
        history.check_report(step("cm", 1, groups={"wild": ["fox"], "pets": ["dog", "cat"]}))
    with pytest.raises(ValueError, match=r"the first difference: group 'rare' held none, received \['bat'\]"):
        history.check_report(step("cm", 1, groups={**GROUPS, "rare": ["bat"]}))
    history.record(step("plain", 0, counts=None, groups=None))
    with pytest.raises(ValueError, match=r"tag 'plain' in runs/x already holds `class_counts` none"):
        history.check_report(step("plain", 1, groups=None))


def test_writer_refuses_a_change_also_from_an_earlier_process(tmp_path):
    with ReportWriter(tmp_path) as writer:
        writer.write_matrix(0, "confusion_matrix", CM, NAMES, class_counts=COUNTS, class_groups=GROUPS, image=False)
    history = RunHistory.from_directory(tmp_path)
    assert history.tags["confusion_matrix"].class_counts == tuple(COUNTS)
    with ReportWriter(tmp_path) as writer:  # a new writer reads what the directory holds
        with pytest.raises(ValueError, match=r"`class_counts`"):
            writer.write_matrix(1, "confusion_matrix", CM, NAMES, class_counts=[9] * 5, class_groups=GROUPS)
        with pytest.raises(ValueError, match=r"`class_groups`"):
            writer.write_matrix(1, "confusion_matrix", CM, NAMES, class_counts=COUNTS)
        writer.write_matrix(1, "confusion_matrix", CM, NAMES, class_counts=COUNTS, class_groups=GROUPS, image=False)


# --------------------------------------------------------------------------
# Scalars
# --------------------------------------------------------------------------


def test_shot_scalars_follow_the_prefix_rule_and_skip_empty_buckets():
    tags = {value.tag for value in report_values("confusion_matrix", CM, NAMES, class_counts=COUNTS)}
    assert SHOT_TAGS <= tags
    tags = {value.tag for value in report_values("test_set", CM, NAMES, class_counts=COUNTS)}
    assert {f"test_set/{tag}" for tag in SHOT_TAGS} <= tags
    tags = {value.tag for value in report_values("confusion_matrix", CM, NAMES, class_counts=[500] * 5)}
    assert "imbalance/many_shot_recall" in tags
    assert not {"imbalance/medium_shot_recall", "imbalance/few_shot_recall"} & tags
    assert not SHOT_TAGS & {value.tag for value in report_values("confusion_matrix", CM, NAMES)}


def test_tf_summary_writers_store_counts_and_groups(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from tb_imbalance import summary as tbs

    labels = np.repeat(np.arange(5), CM.sum(axis=1))
    predictions = np.concatenate([np.repeat(np.arange(5), row) for row in CM])
    writer = tf.summary.create_file_writer(str(tmp_path / "report"))
    with writer.as_default():
        assert tbs.classification_report(
            "confusion_matrix", labels, predictions, step=0, class_names=NAMES, class_counts=np.array(COUNTS),
            class_groups=GROUPS, image=False,
        )
    writer.close()
    writer = tf.summary.create_file_writer(str(tmp_path / "matrix"))
    with writer.as_default():
        assert tbs.confusion_matrix("cm", labels, predictions, step=0, class_names=NAMES, class_groups=GROUPS)
        with pytest.raises(ValueError, match="`class_counts` must have one count per class"):
            tbs.confusion_matrix("cm", labels, predictions, step=1, class_names=NAMES, class_counts=[1, 2])
    writer.close()
    content = json.loads(plugin_content(tmp_path, "report"))
    assert content["version"] == 3 and content["class_counts"] == COUNTS and content["class_groups"] == GROUPS
    few = scalars(tmp_path, "report", "imbalance/few_shot_recall")[0]
    assert few == pytest.approx(0.4)
    matrix_content = json.loads(plugin_content(tmp_path, "matrix", "cm"))
    assert "class_counts" not in matrix_content and matrix_content["class_groups"] == GROUPS
    assert ("matrix", "imbalance/few_shot_recall") not in run_tag_pairs(tmp_path)


# --------------------------------------------------------------------------
# The report route
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("long_tail")
    with ReportWriter(root / "long_tail") as writer:
        for step in range(2):
            writer.write_matrix(step, "confusion_matrix", CM, NAMES, class_counts=COUNTS, class_groups=GROUPS)
    with ReportWriter(root / "counts_only") as writer:
        writer.write_matrix(0, "confusion_matrix", CM, NAMES, class_counts=COUNTS, image=False)
    with ReportWriter(root / "plain") as writer:
        writer.write_matrix(0, "confusion_matrix", CM, NAMES, image=False)
    return plugin_client(root)


def _report(client, status=200, **params):
    params.setdefault("tag", "confusion_matrix")
    response = client.get("/data/plugin/imbalance/report", query_string=params)
    assert response.status_code == status, response.get_data(as_text=True)
    return json.loads(response.get_data())


def test_report_has_train_counts_bucket_recalls_and_groups(client):
    payload = _report(client, run="long_tail")
    assert payload["per_class"]["train_count"] == COUNTS
    assert payload["class_groups"] == GROUPS
    expected = core.shot_recalls(CM, COUNTS)
    for name in core.SHOT_METRIC_NAMES:
        assert payload["metrics"][name] == pytest.approx(expected[name])
    assert payload["metrics"]["balanced_accuracy"] == pytest.approx(core.imbalance_metrics(CM)["balanced_accuracy"])


def test_report_thresholds_from_the_query(client):
    payload = _report(client, run="long_tail", many="50", few="10")
    expected = core.shot_recalls(CM, COUNTS, many=50, few=10)
    assert {name: payload["metrics"][name] for name in core.SHOT_METRIC_NAMES} == pytest.approx(expected)
    payload = _report(client, run="long_tail", many="1000", few="600")
    assert payload["metrics"]["many_shot_recall"] is None  # no class has more than 1000 examples


def test_report_without_counts_or_groups(client):
    payload = _report(client, run="plain")
    assert payload["per_class"]["train_count"] is None and payload["class_groups"] is None
    assert set(payload["metrics"]) == {*core.METRIC_NAMES, *core.CURVE_METRIC_NAMES}
    counts_only = _report(client, run="counts_only")
    assert counts_only["class_groups"] is None and counts_only["per_class"]["train_count"] == COUNTS


def test_report_group_rolls_everything_up(client):
    payload = _report(client, run="long_tail", group="1", step="0")
    group_cm, group_names = core.group_matrix(CM, GROUPS, NAMES)
    assert payload["class_names"] == group_names == ["pets", "wild", "bat"]
    assert payload["num_classes"] == 3
    assert payload["confusion_matrix"] == group_cm.tolist()
    expected_report = core.classification_report(group_cm, group_names)
    assert list(payload["report"]) == list(expected_report)
    for key in group_names:
        assert payload["report"][key] == pytest.approx(expected_report[key])
    assert payload["per_class"]["recall"] == pytest.approx(core.per_class_metrics(group_cm)["recall"].tolist())
    assert payload["per_class"]["train_count"] == [800, 85, 8]
    expected = core.shot_recalls(group_cm, [800, 85, 8])
    assert {name: payload["metrics"][name] for name in core.SHOT_METRIC_NAMES} == pytest.approx(expected)
    assert payload["class_groups"] == GROUPS
    assert _report(client, run="long_tail", group="0")["class_names"] == NAMES


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"run": "long_tail", "many": "lots"}, "query parameter `many` must be an integer"),
        ({"run": "long_tail", "few": "1.5"}, "query parameter `few` must be an integer"),
        ({"run": "long_tail", "many": "20", "few": "100"}, "`few` must be less than `many`"),
        ({"run": "long_tail", "many": "10"}, "`many`=10 must be more than `few`, whose default is 20"),
        ({"run": "long_tail", "many": "-1"}, "`many` must be non-negative, received -1"),
        ({"run": "long_tail", "few": "150"}, "`few`=150 must be less than `many`, whose default is 100"),
        ({"run": "long_tail", "few": "-1"}, "`few` must be non-negative"),
        ({"run": "long_tail", "group": "yes"}, "query parameter `group` must be 1 or 0"),
        ({"run": "plain", "group": "1"}, "logged without `class_groups`"),
    ],
)
def test_bad_report_parameters_are_400(client, params, match):
    assert match in _report(client, status=400, **params)["error"]


def test_a_refused_change_of_thousands_of_groups_is_said_in_a_few_lines():
    names = [f"class {k}" for k in range(10_000)]
    groups = {f"group {g}": names[g * 100:(g + 1) * 100] for g in range(100)}
    history = RunHistory("runs/x")
    history.record(ReportStep.of(0, "cm", np.eye(10_000, dtype=np.int64), names, class_groups=groups))
    changed = {**groups, "group 99": names[9_900:9_999]}
    with pytest.raises(ValueError) as caught:
        history.check_report(ReportStep.of(1, "cm", np.eye(10_000, dtype=np.int64), names, class_groups=changed))
    message = str(caught.value)
    assert len(message) < 3_000, len(message)
    assert "the first difference: group 'group 99' received without ['class 9999'] and with nothing more" in message
    assert "…" in message

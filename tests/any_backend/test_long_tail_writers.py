"""class_counts and class_groups through log_report / log_matrix and the Keras callback, on every backend.

Runs in the TensorFlow, JAX and PyTorch environments (no TensorFlow import
at module level). The oracle for the bucket scalars is
:func:`tb_imbalance.core.shot_recalls` of scikit-learn's confusion matrix.
"""

import json

import keras
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

import tb_imbalance
from logdir_reader import matrices, plugin_content, run_tag_pairs, scalars
from tb_imbalance import core
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback
from tb_imbalance.targets import close_directory_writers

NAMES = ["common", "middle", "rare"]
COUNTS = [400, 50, 6]
GROUPS = {"frequent": ["common", "middle"]}
SHOT_TAGS = {f"imbalance/{name}" for name in core.SHOT_METRIC_NAMES}


@pytest.fixture(autouse=True)
def _close_writers():
    yield
    close_directory_writers()


def batch(seed, rows=300):
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, rows, p=[0.7, 0.2, 0.1])
    scores = rng.random((rows, 3)).astype(np.float32)
    scores[np.arange(rows), labels] += rng.random(rows) > 0.4
    return labels, scores


def test_log_report_stores_counts_and_groups_and_writes_bucket_scalars(tmp_path):
    for step in range(2):
        labels, scores = batch(step)
        cm = tb_imbalance.log_report(
            tmp_path / "val", labels, scores, step, class_names=NAMES, class_counts=np.array(COUNTS),
            class_groups=GROUPS, image=False,
        )
        np.testing.assert_array_equal(cm, sk_confusion_matrix(labels, scores.argmax(1), labels=range(3)))
    content = json.loads(plugin_content(tmp_path, "val"))
    assert content["version"] == 3 and content["class_counts"] == COUNTS and content["class_groups"] == GROUPS
    expected = core.shot_recalls(cm, COUNTS)
    for name in core.SHOT_METRIC_NAMES:
        assert scalars(tmp_path, "val", f"imbalance/{name}")[1] == pytest.approx(expected[name], abs=1e-6)


def test_log_matrix_with_a_name_prefixes_the_bucket_scalars(tmp_path):
    cm = np.array([[50, 2, 1], [3, 5, 0], [1, 0, 2]])
    tb_imbalance.log_matrix(tmp_path / "val", cm, 0, name="test_set", class_names=NAMES, class_counts=COUNTS, image=False)
    tags = {tag for run, tag in run_tag_pairs(tmp_path) if run == "val"}
    assert {f"test_set/{tag}" for tag in SHOT_TAGS} <= tags
    assert not SHOT_TAGS & tags


def test_log_report_refuses_a_change_of_counts_or_groups_in_a_tag(tmp_path):
    labels, scores = batch(0)
    tb_imbalance.log_report(tmp_path / "val", labels, scores, 0, class_names=NAMES, class_counts=COUNTS, image=False)
    with pytest.raises(ValueError, match=r"a tag's class_counts cannot change"):
        tb_imbalance.log_report(tmp_path / "val", labels, scores, 1, class_names=NAMES, class_counts=[1, 2, 3])
    with pytest.raises(ValueError, match=r"a tag's class_groups cannot change"):
        tb_imbalance.log_report(
            tmp_path / "val", labels, scores, 1, class_names=NAMES, class_counts=COUNTS, class_groups=GROUPS
        )
    assert sorted(matrices(tmp_path)["val"]) == [0]  # nothing written by the refused calls


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"class_counts": [1, 2]}, ValueError, r"`class_counts` must have one count per class \(3\)"),
        ({"class_counts": [1.0, 2.0, 3.0]}, TypeError, r"`class_counts` must hold integers"),
        ({"class_groups": {"x": ["nope"]}}, ValueError, r"`class_groups\['x'\]` names 'nope'"),
    ],
)
def test_log_matrix_refuses_bad_counts_and_groups_before_writing(tmp_path, options, error, match):
    with pytest.raises(error, match=match):
        tb_imbalance.log_matrix(tmp_path / "val", np.eye(3, dtype=np.int64), 0, class_names=NAMES, **options)
    assert not (tmp_path / "val").exists() or not matrices(tmp_path)



@pytest.mark.parametrize(
    ("groups", "match", "renamed"),
    [
        ({"frequent ": ["common", "middle"]}, r"look like those of 'frequent', .*; name the group 'frequent'$",
         {"frequent": ["common", "middle"]}),
        # Its stripped name is another group's: renamed so, a dict literal would keep one of the two groups.
        ({"frequent": ["common"], "frequent ": ["middle"]},
         r"look like those of the group 'frequent', .*; if they are two groups, name them apart in words; if one, "
         r"list its classes under one name$", {"frequent": ["common", "middle"]}),
        # Its stripped name is a class outside it: renamed so, it would be refused as that class's name.
        ({"rare\n": ["common", "middle"]}, r"look like those of 'rare' \(the class 'rare', not in this group\), .*; "
         r"give the group a name of its own in words$", {"not rare": ["common", "middle"]}),
        ({"frequent": ["common\n", "middle\n"]},  # members read with readlines()
         r"names 'common\\n', which is not a class name \(it differs from the class 'common' only by whitespace at "
         r"its ends: strip the members, \[name.strip\(\) for name in members\]\)", {"frequent": ["common", "middle"]}),
    ],
)
def test_class_groups_with_whitespace_at_their_ends_are_refused_with_a_fix_that_works(tmp_path, groups, match, renamed):
    cm = np.diag([40, 5, 2])
    with pytest.raises(ValueError, match=match):
        tb_imbalance.log_matrix(tmp_path / "val", cm, 0, class_names=NAMES, class_groups=groups, image=False)
    with pytest.raises(ValueError, match=match):
        ClassificationReportCallback(tmp_path, class_names=NAMES, class_groups=groups)
    assert not (tmp_path / "val").exists()
    tb_imbalance.log_matrix(tmp_path / "val", cm, 0, class_names=NAMES, class_groups=renamed, image=False)
    assert json.loads(plugin_content(tmp_path, "val"))["class_groups"] == renamed


@pytest.mark.parametrize(
    ("groups", "names", "match", "renamed"),
    [  # told as the groups' names, not as `class_names`[k] of the rolled-up names, and the fix is the group's
        ({"accuracy": ["common", "middle"]}, NAMES, r"^`class_groups` name 'accuracy' is one of the report's own keys "
         r".*; rename the group, e.g. 'accuracy \(group\)'$", {"accuracy (group)": ["common", "middle"]}),
        ({"caf\u00e9": ["common"], "cafe\u0301": ["middle"]}, NAMES,
         r"^`class_groups`: the group 'caf\\xe9' and the group 'cafe\\u0301' are the same text in two Unicode forms, "
         r".*; if they are two groups, name them apart in words; if one, list its classes under one name$",
         {"caf\u00e9": ["common", "middle"]}),
        ({"caf\u00e9": ["common", "middle"]}, ["common", "middle", "cafe\u0301"],
         r"^`class_groups`: the group 'caf\\xe9' and the class 'cafe\\u0301' \(in no group\) are the same text in two "
         r"Unicode forms, .*; rename the group in other words$", {"frequent": ["common", "middle"]}),
    ],
)
def test_class_group_names_the_report_cannot_key_by_are_told_as_the_groups(tmp_path, groups, names, match, renamed):
    cm = np.diag([40, 5, 2])
    with pytest.raises(ValueError, match=match):
        tb_imbalance.log_matrix(tmp_path / "val", cm, 0, class_names=names, class_groups=groups, image=False)
    with pytest.raises(ValueError, match=match):
        ClassificationReportCallback(tmp_path, class_names=names, class_groups=groups)
    tb_imbalance.log_matrix(tmp_path / "val", cm, 0, class_names=names, class_groups=renamed, image=False)
    assert json.loads(plugin_content(tmp_path, "val"))["class_groups"] == renamed

def test_log_report_accepts_framework_tensors_as_counts(tmp_path):
    backend = keras.backend.backend()
    counts = keras.ops.convert_to_tensor(np.array(COUNTS, dtype="int32"))
    labels, scores = batch(3)
    tb_imbalance.log_report(tmp_path / backend, labels, scores, 0, class_names=NAMES, class_counts=counts, image=False)
    assert json.loads(plugin_content(tmp_path, backend))["class_counts"] == COUNTS


def make_model():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
    return model


def test_callback_writes_counts_groups_and_bucket_scalars(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.choice(3, 240, p=[0.7, 0.2, 0.1])
    x = rng.normal(size=(240, 4)).astype("float32")
    x[:, :3] += np.eye(3)[y] * 2.0
    counts = np.bincount(y[:180], minlength=3)
    callback = ClassificationReportCallback(
        tmp_path, class_names=NAMES, class_counts=counts, class_groups=GROUPS, image=False, verbose=0
    )
    model = make_model()
    model.fit(x[:180], y[:180], validation_data=(x[180:], y[180:]), epochs=2, verbose=0, callbacks=[callback])
    content = json.loads(plugin_content(tmp_path, "validation_imbalance"))
    assert content["class_counts"] == counts.tolist() and content["class_groups"] == GROUPS
    cm = matrices(tmp_path)["validation_imbalance"][1]
    expected = core.shot_recalls(cm, counts)
    tags = {tag for run, tag in run_tag_pairs(tmp_path) if run == "validation_imbalance"}
    for name, value in expected.items():
        if value is None:
            assert f"imbalance/{name}" not in tags
        else:
            assert scalars(tmp_path, "validation_imbalance", f"imbalance/{name}")[1] == pytest.approx(value, abs=1e-6)


def test_callback_refuses_other_counts_for_an_old_tag_before_training(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.choice(3, 60)
    x = rng.normal(size=(60, 4)).astype("float32")
    first = ClassificationReportCallback(tmp_path, class_names=NAMES, class_counts=COUNTS, image=False, verbose=0)
    make_model().fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[first])
    close_directory_writers()
    second = ClassificationReportCallback(tmp_path, class_names=NAMES, class_counts=[1, 1, 1], image=False, verbose=0)
    with pytest.raises(ValueError, match=r"will not start training.*class_counts"):
        make_model().fit(x, y, validation_data=(x, y), epochs=2, initial_epoch=1, verbose=0, callbacks=[second])


def test_callback_checks_counts_and_groups(tmp_path):
    with pytest.raises(ValueError, match=r"`class_counts` must have one count per class \(3\)"):
        ClassificationReportCallback(tmp_path, class_names=NAMES, class_counts=[1, 2])
    with pytest.raises(ValueError, match=r"`class_counts` must be non-negative"):
        ClassificationReportCallback(tmp_path, class_counts=[1, -2, 3])
    with pytest.raises(TypeError, match=r"`class_counts` must hold integers"):
        ClassificationReportCallback(tmp_path, class_counts=[0.5, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"is not a class name"):
        ClassificationReportCallback(tmp_path, class_names=NAMES, class_groups={"x": ["common", "nope"]})
    with pytest.raises(ValueError, match=r"`class_groups` names must be non-empty strings"):
        ClassificationReportCallback(tmp_path, class_groups={"": ["0"]})
    # C comes from the compiled metric: a count per class is checked before training
    callback = ClassificationReportCallback(tmp_path, class_counts=[1, 2, 3, 4], verbose=0)
    x, y = np.zeros((8, 4), "float32"), np.arange(8) % 3
    with pytest.raises(ValueError, match=r"`class_counts` must have one count per class \(3\).*compiled metric"):
        make_model().fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[callback])
    callback = ClassificationReportCallback(tmp_path, class_groups={"low": ["0", "9"]}, verbose=0)
    with pytest.raises(ValueError, match=r"names '9', which is not a class name.*compiled metric"):
        make_model().fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[callback])

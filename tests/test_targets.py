"""Every target refuses the same things with the same messages (one write path, one run history).

A run directory, a :class:`tb_imbalance.ReportWriter`, a ``tf.summary`` writer
given to ``log_report`` and the :mod:`tb_imbalance.summary` ops under a default
writer all check a step against what the run already holds before writing:
a re-run from an old step, a changed class set, the same step written twice
with other classes, ``class_counts`` or ``class_groups`` that change or first
appear at a later step. A refused step leaves nothing behind. (The PyTorch
``SummaryWriter`` target: ``tests/any_backend/test_write_path.py``.)
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import tensorflow as tf

import tb_imbalance.summary as tbs
from logdir_reader import matrices
from tb_imbalance import ReportWriter, log_matrix, log_report
from tb_imbalance.targets import close_directory_writers

NAMES = {3: ["cat", "dog", "fox"], 4: ["cat", "dog", "fox", "owl"]}


def _data(num_classes: int):
    labels = np.arange(12) % num_classes
    return labels, (labels + (np.arange(12) % 4 == 0)) % num_classes


class Target:
    """One way of writing a report into ``run_dir``; ``location`` is what messages name."""

    def __init__(self, kind: str, run_dir):
        self.kind, self.run_dir = kind, run_dir
        if kind == "directory":
            self.target, self.location = str(run_dir), str(run_dir)
        elif kind == "report_writer":
            self.target = ReportWriter(run_dir)
            self.location = str(run_dir)
        else:  # tf_writer, summary_ops
            self.target = tf.summary.create_file_writer(str(run_dir))
            from tb_imbalance.targets import history_of

            self.location = history_of(self.target).location

    def write(self, step: int, num_classes: int = 3, *, counts=None, groups=None) -> None:
        labels, predictions = _data(num_classes)
        names = NAMES[num_classes]
        if self.kind == "summary_ops":
            with self.target.as_default():
                assert tbs.classification_report(
                    "confusion_matrix", labels, predictions, step=step, class_names=names,
                    class_counts=counts, class_groups=groups, image=False,
                )
            self.target.flush()
            return
        log_report(
            self.target, labels, predictions, step, class_names=names, class_counts=counts,
            class_groups=groups, image=False,
        )

    def steps(self) -> list[int]:
        close_directory_writers()
        if self.kind != "directory" and hasattr(self.target, "flush"):
            self.target.flush()
        return sorted(matrices(self.run_dir.parent).get(self.run_dir.name, {}))

    def refused(self, write) -> str:
        before = self.steps()
        with pytest.raises(ValueError) as caught:
            write()
        assert self.steps() == before, "a refused step left something behind"
        return str(caught.value).replace(f" in {self.location}", "")


KINDS = ["directory", "report_writer", "tf_writer", "summary_ops"]

CASES = {
    "rerun_from_step_0": (
        lambda t: (t.write(0), t.write(1)),
        lambda t: t.write(0),
        r"^step 0 of tag 'confusion_matrix' is not after the last step already logged \(1\): writing "
        r"it would mix two runs in one\. To start a fresh run, use a new log directory",
    ),
    "new_class_set": (
        lambda t: t.write(0),
        lambda t: t.write(1, 4),
        r"^tag 'confusion_matrix' already holds 3 classes \['cat', 'dog', 'fox'\]; a tag's classes "
        r"cannot change \(received 4: \['cat', 'dog', 'fox', 'owl'\]\)\. Log under another `name`",
    ),
    "same_step_twice_other_classes": (
        lambda t: t.write(0),
        lambda t: t.write(0, 4),
        r"^tag 'confusion_matrix' already holds 3 classes",
    ),
    "class_counts_first_given_later": (
        lambda t: t.write(0),
        lambda t: t.write(1, counts=[500, 30, 4]),
        r"^tag 'confusion_matrix' already holds `class_counts` none; a tag's class_counts cannot "
        r"change \(received \[500, 30, 4\]\)",
    ),
    "class_counts_changed": (
        lambda t: t.write(0, counts=[500, 30, 4]),
        lambda t: t.write(1, counts=[500, 30, 5]),
        r"^tag 'confusion_matrix' already holds `class_counts` \[500, 30, 4\]; a tag's class_counts "
        r"cannot change \(received \[500, 30, 5\]\)",
    ),
    "class_groups_first_given_later": (
        lambda t: t.write(0),
        lambda t: t.write(1, groups={"pets": ["cat", "dog"]}),
        r"^tag 'confusion_matrix' already holds `class_groups` None; a tag's class_groups cannot "
        r"change \(received \{'pets': \['cat', 'dog'\]\}\)",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_target_refuses_the_same_with_the_same_message(tmp_path, case):
    prepare, refused_write, expected = CASES[case]
    messages = {}
    for kind in KINDS:
        target = Target(kind, tmp_path / kind)
        prepare(target)
        messages[kind] = target.refused(lambda: refused_write(target))
        assert re.search(expected, messages[kind]), (kind, messages[kind])
    assert len(set(messages.values())) == 1, messages


@pytest.mark.parametrize("kind", KINDS)
def test_continuing_a_run_is_accepted(tmp_path, kind):
    target = Target(kind, tmp_path / "run")
    target.write(0, counts=[500, 30, 4])
    target.write(3, counts=[500, 30, 4])
    assert target.steps() == [0, 3]


def test_summary_ops_and_log_report_share_one_writers_history(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "run"))
    labels, predictions = _data(3)
    log_report(writer, labels, predictions, 0, class_names=NAMES[3], image=False)
    with writer.as_default():
        with pytest.raises(ValueError, match="step 0 of tag 'confusion_matrix' is not after"):
            tbs.confusion_matrix("confusion_matrix", labels, predictions, step=0, class_names=NAMES[3])
        labels4, predictions4 = _data(4)
        with pytest.raises(ValueError, match="already holds 3 classes"):
            tbs.confusion_matrix("confusion_matrix", labels4, predictions4, step=1, class_names=NAMES[4])
        assert tbs.confusion_matrix("confusion_matrix", labels, predictions, step=1, class_names=NAMES[3])
    writer.flush()
    assert sorted(matrices(tmp_path)["run"]) == [0, 1]


def test_two_writers_of_one_directory_keep_their_own_histories(tmp_path):
    # Training and validation writers both log "confusion_matrix" at step 0: not a re-run.
    labels, predictions = _data(3)
    for run in ("train", "validation"):
        with tf.summary.create_file_writer(str(tmp_path / run)).as_default():
            assert tbs.classification_report(
                "confusion_matrix", labels, predictions, step=0, class_names=NAMES[3], image=False
            )
    assert sorted(matrices(tmp_path)) == ["train", "validation"]


def test_no_default_writer_writes_nothing_and_remembers_nothing():
    labels, predictions = _data(3)
    assert tbs.confusion_matrix("confusion_matrix", labels, predictions, step=0, class_names=NAMES[3]) is False


def test_a_tensorflow_step_is_read_as_every_other_0d_step(tmp_path):
    """optimizer.iterations (a tf.Variable) or a tf.constant as `step`, as tb_imbalance.summary takes them."""
    log_report(tmp_path, [0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], step=tf.constant(3), image=False)
    log_matrix(tmp_path, [[2, 0], [1, 2]], step=tf.Variable(5, dtype=tf.int64), image=False)
    assert sorted(matrices(tmp_path)["."]) == [3, 5]
    with pytest.raises(TypeError, match="`step` must be a non-negative int"):
        log_report(tmp_path, [0, 1], [0, 1], step=tf.constant(6.5), num_classes=2)


def test_log_report_to_a_tf_writer_inside_record_if_false_writes_and_records_nothing(tmp_path):
    """As tf.summary does: every tenth step with tf.summary.record_if(lambda: step % 10 == 0)."""
    writer = tf.summary.create_file_writer(str(tmp_path))
    for step in range(12):
        with tf.summary.record_if(step % 10 == 0):
            cm = log_report(writer, [0, 1, 1], [0, 1, 0], step=step, num_classes=2, image=False)
        assert cm.tolist() == [[1, 0], [1, 1]]
    writer.flush()
    assert sorted(matrices(tmp_path)["."]) == [0, 10]
    # not recording, a step that would be refused is neither checked nor written: tf.summary's own ops return False
    with tf.summary.record_if(False):
        log_report(writer, [0, 1, 1], [0, 1, 0], step=3, num_classes=2, image=False)  # not after step 10
        log_report(writer, [0, 1, 2], [0, 1, 2], step=11, num_classes=3, image=False)  # another class set
        with writer.as_default():
            assert tbs.confusion_matrix("confusion_matrix", [0, 1], [0, 1], step=3, num_classes=2) is False
            assert tbs.write_report("confusion_matrix", [[1, 0, 0], [0, 1, 0], [0, 0, 1]], ["a", "b", "c"], step=11) is False
    writer.flush()
    assert sorted(matrices(tmp_path)["."]) == [0, 10]


def test_a_tf1_style_graph_gets_named_refusals_and_logs_to_a_directory(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "tf_writer"))
    with tf.Graph().as_default():
        global_step = tf.compat.v1.train.get_or_create_global_step()
        with pytest.raises(RuntimeError, match=r"^`target`: a tf.summary writer writes only in eager execution.*"
                           r"pass the run directory instead"):
            log_report(writer, [0, 1], [0, 1], step=0, num_classes=2)
        with pytest.raises(TypeError, match=r"^`step` must be a non-negative int .*no value outside its graph"):
            log_report(tmp_path / "run", [0, 1], [0, 1], step=global_step, num_classes=2)
        log_report(tmp_path / "run", [0, 1], [0, 1], step=0, num_classes=2)
    assert sorted(matrices(tmp_path)) == ["run"]


@pytest.mark.parametrize("kind", ["directory", "report_writer", "tf_writer", "summary_ops"])
def test_every_matrix_entry_point_refuses_an_empty_evaluation(tmp_path, kind):
    """An all-zero matrix (torchmetrics' compute() after a reset, every weight 0) would log accuracy and
    recalls of 0: refused as log_report refuses 0 rows, and nothing is written."""
    target = Target(kind, tmp_path / "run")
    target.write(0)
    for empty in (np.zeros((3, 3), dtype=np.int64), np.zeros((3, 3))):
        def write():
            if kind == "summary_ops":
                with target.target.as_default():
                    tbs.write_report("confusion_matrix", empty, NAMES[3], step=1)
            elif kind == "report_writer":
                target.target.write_matrix(1, "confusion_matrix", empty, NAMES[3])
            else:
                log_matrix(target.target, empty, 1, class_names=NAMES[3])
        assert "`cm` counts no example (every cell is 0)" in target.refused(write)


def test_labels_that_may_be_values_of_class_names_are_warned_at_the_callers_line(tmp_path):
    # each entry's warning named tb_imbalance/core/counting.py, not the user's line that called it
    import inspect
    import warnings

    import keras

    from tb_imbalance.keras import ClassificationReportCallback

    labels, names = np.array([1, 2, 1, 2, 1, 2]), ["1", "2", "3"]  # values of the names; the scores agree
    scores = np.eye(3, dtype="float32")[labels - 1] * 0.8 + 0.1
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
    model.layers[-1].set_weights([np.eye(3, dtype="float32") * 10, np.zeros(3, "float32")])  # predicts labels - 1
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    callback = ClassificationReportCallback(tmp_path / "fit", class_names=names, validation_data=(scores, labels),
                                            image=False, verbose=0)
    lines = []
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        log_report(tmp_path / "dir", labels, scores, 0, class_names=names, image=False)
        lines.append(inspect.currentframe().f_lineno - 1)
        with ReportWriter(tmp_path / "writer") as writer:
            log_report(writer, labels, scores, 0, class_names=names, image=False)
            lines.append(inspect.currentframe().f_lineno - 1)
        with tf.summary.create_file_writer(str(tmp_path / "tf")).as_default():
            tbs.confusion_matrix("cm", labels, scores, 0, class_names=names)
            lines.append(inspect.currentframe().f_lineno - 1)
            tbs.classification_report("report", labels, scores, 0, class_names=names, image=False)
            lines.append(inspect.currentframe().f_lineno - 1)
        model.fit(scores, labels, epochs=1, verbose=0, callbacks=[callback])
        lines.append(inspect.currentframe().f_lineno - 1)
    values = [w for w in said if "may be values of `class_names`" in str(w.message)]
    assert [(w.category, w.filename, w.lineno) for w in values] == [(UserWarning, __file__, line) for line in lines]


def test_the_label_values_check_cuts_a_logit_column_in_0_1_as_every_entrys_matrix_does(tmp_path):
    # logits all in [0, 1] with from_logits=True: the matrix cuts them at 0 (every row predicted class 1), the
    # check cut them at 0.5 (as probabilities), found the labels agreeing as ids and said nothing
    import warnings

    import keras

    from tb_imbalance.keras import ClassificationReportCallback

    labels, logits, names = np.array([0, 0, 0, 1]), np.array([0.2, 0.3, 0.4, 0.9], "float32"), ["1", "0"]
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.layers[-1].set_weights([np.ones((1, 1), "float32"), np.zeros(1, "float32")])  # outputs its input
    model.compile(keras.optimizers.SGD(0.0), keras.losses.BinaryCrossentropy(from_logits=True))
    callback = ClassificationReportCallback(tmp_path / "fit", class_names=names, from_logits=True, image=False,
                                            validation_data=(logits[:, None], labels), verbose=0)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        cm = log_report(tmp_path / "dir", labels, logits, 0, class_names=names, from_logits=True, image=False)
        with ReportWriter(tmp_path / "writer") as writer:
            log_report(writer, labels, logits, 0, class_names=names, from_logits=True, image=False)
        with tf.summary.create_file_writer(str(tmp_path / "tf")).as_default():
            tbs.confusion_matrix("cm", labels, logits, 0, class_names=names, from_logits=True)
            tbs.classification_report("report", labels, logits, 0, class_names=names, from_logits=True, image=False)
        model.fit(logits[:, None], labels, epochs=1, verbose=0, callbacks=[callback])
    assert cm.tolist() == [[0, 3], [0, 1]]  # as ids: 1 row of 4 agrees; as the names' positions: 3
    values = [str(w.message) for w in said if "may be values of `class_names`" in str(w.message)]
    assert len(values) == 5 and values[0].startswith("`labels` may be values of `class_names` (['1', '0'])")
    assert matrices(tmp_path / "fit")["validation_imbalance"][0].tolist() == [[0, 3], [0, 1]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # read as probabilities, cut at 0.5: the labels agree as ids, nothing to say
        cm = log_report(tmp_path / "probabilities", labels, logits, 0, class_names=names, image=False)
    assert cm.tolist() == [[3, 0], [0, 1]]

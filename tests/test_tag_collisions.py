"""Report names whose tags would overlap another report's tags in the same run are refused.

A report ``name`` owns ``name``, ``name + "_image"``, ``name + "_examples"``,
its headline scalars ``<p>imbalance/<metric>`` and its per-class sections
(``docs/format.md``, *Tag layout*). Before anything is written, a second
report whose tags would overlap the first one's is refused with an error that
names both — in either order, through every target. Names that do not overlap
(``val`` and ``test_set``) share a run.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf

import tb_imbalance.summary as tbs
from tensorboard import context

from logdir_reader import load, matrices
from tb_imbalance import log_matrix, log_report
from tb_imbalance.targets import close_directory_writers

LABELS = np.array([0, 1, 1, 0, 1, 0])
SCORES = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3], [0.1, 0.9], [0.4, 0.6]])
TEXTS = [f"row {k}" for k in range(6)]


def _matrix_tags(logdir) -> list[str]:
    close_directory_writers()
    listing = load(logdir).list_tensors(context.RequestContext(), experiment_id="", plugin_name="imbalance")
    return sorted(listing.get("run", {}))


def _event_bytes(run_dir) -> int:
    close_directory_writers()
    if not os.path.isdir(run_dir):
        return 0
    return sum(os.path.getsize(os.path.join(run_dir, name)) for name in os.listdir(run_dir))


def _write(run_dir, name: str, step: int = 0) -> None:
    log_report(run_dir, LABELS, SCORES, step, name=name, examples=TEXTS)


PAIRS = [
    ("val", "val_examples", "val_examples"),
    ("val", "val_image", "val_image"),
    ("confusion_matrix", "imbalance/accuracy", "imbalance/accuracy"),
    ("confusion_matrix", "recall/0", "recall/0"),
    ("test_set", "test_set/imbalance/mcc", "test_set/imbalance/mcc"),
    ("val", "val_curves", "val_curves"),
    ("confusion_matrix", "imbalance/macro_average_precision", "imbalance/macro_average_precision"),
    ("confusion_matrix", "average_precision/0", "average_precision/0"),
    ("confusion_matrix", "pr_curve/1", "pr_curve/1"),
]


@pytest.mark.parametrize("first, second, shared", PAIRS)
@pytest.mark.parametrize("order", ["as_listed", "reversed"])
def test_overlapping_names_are_refused_naming_both(tmp_path, first, second, shared, order):
    if order == "reversed":
        first, second = second, first
    run_dir = tmp_path / "run"
    _write(run_dir, first)
    before = _event_bytes(run_dir)
    with pytest.raises(ValueError) as caught:
        _write(run_dir, second, step=1)
    message = str(caught.value)
    assert f"`name={second!r}`" in message and f"report {first!r}" in message
    assert f"both would write {shared!r}" in message
    assert _event_bytes(run_dir) == before, "nothing may be written"
    assert _matrix_tags(tmp_path) == [first]


def test_a_later_process_is_refused_too(tmp_path):
    run_dir = tmp_path / "run"
    _write(run_dir, "val")
    close_directory_writers()  # the next write reads the directory, as a new process would
    with pytest.raises(ValueError, match=r"`name='val_examples'`: its tags would overlap those of the report 'val'"):
        log_matrix(run_dir, [[3, 1], [1, 3]], 1, name="val_examples")


def test_summary_ops_refuse_too(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "run"))
    with writer.as_default():
        assert tbs.classification_report("val", LABELS, SCORES, step=0, examples=TEXTS)
        with pytest.raises(ValueError, match=r"`name='val_image'`.*report 'val'.*both would write 'val_image'"):
            tbs.confusion_matrix("val_image", LABELS, SCORES, step=0)


def test_names_that_do_not_overlap_share_a_run(tmp_path):
    run_dir = tmp_path / "run"
    for name in ("confusion_matrix", "val", "test_set", "imbalance", "val_examples_2"):
        _write(run_dir, name)
    close_directory_writers()
    found = matrices(tmp_path, tag="val")
    assert found["run"][0].tolist() == [[2, 1], [1, 2]]
    assert _matrix_tags(tmp_path) == sorted(
        ["confusion_matrix", "val", "test_set", "imbalance", "val_examples_2"]
    )


def test_tag_collision_rules():
    from tb_imbalance.events import tag_collision

    assert tag_collision("val", "val") is None
    assert tag_collision("a", "b") is None
    assert tag_collision("confusion_matrix", "imbalance/few_shot_recall") == "imbalance/few_shot_recall"
    assert tag_collision("confusion_matrix", "f1/cat") == "f1/cat"
    assert tag_collision("x", "x/recall/a/b") == "x/recall/a/b"
    assert tag_collision("precision", "confusion_matrix") is not None  # precision/precision/… vs precision/…


@pytest.mark.parametrize("own_tag", ["recall/1", "confusion_matrix", "imbalance/accuracy", "confusion_matrix_image"])
def test_a_tag_of_the_users_own_values_is_refused_before_anything_is_written(tmp_path, own_tag):
    """TensorBoard would mix the user's series with the report's, or keep a tag's first kind only."""
    run_dir = tmp_path / "run"
    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default():
        for step in range(2):
            tf.summary.scalar(own_tag, 0.99, step=step)
            tf.summary.scalar("loss", 0.5, step=step)  # tags the report does not write are fine
            tf.summary.scalar("precision/macro", 0.5, step=step)
    writer.flush()
    before = _event_bytes(run_dir)
    with pytest.raises(ValueError, match=rf"`name='confusion_matrix'`: the report would write the tag '{own_tag}', "
                                         r"which in .*run already holds values tb_imbalance did not write"):
        log_report(run_dir, LABELS, SCORES, 0)
    assert _event_bytes(run_dir) == before, "nothing may be written"
    log_report(run_dir, LABELS, SCORES, 0, name="val_report")  # the fix the message names
    log_report(run_dir, LABELS, SCORES, 1, name="val_report")
    close_directory_writers()  # a later process reads the run back: the report's own tags are its own
    log_report(run_dir, LABELS, SCORES, 2, name="val_report")
    assert sorted(matrices(tmp_path, tag="val_report")["run"]) == [0, 1, 2]


def test_a_run_whose_report_values_are_events_of_their_own_is_continued(tmp_path):
    """The first versions wrote a report's scalars and picture as events of their own, after its matrix's,
    at its step: they are the report's, not values of another writer."""
    from tb_imbalance.event_file import EventFile
    from tb_imbalance.events import report_values

    run_dir = tmp_path / "run"
    with EventFile(run_dir) as events:
        for step in (0, 1):
            matrix, *others = report_values("confusion_matrix", np.array([[3, 1], [1, 2]]), ["0", "1"], image=None)
            events.write(step, [matrix])
            for value in others:
                events.write(step, [value])
    log_report(run_dir, LABELS, SCORES, 2)
    assert sorted(matrices(tmp_path)["run"]) == [0, 1, 2]

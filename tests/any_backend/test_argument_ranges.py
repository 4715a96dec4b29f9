"""Numbers past what the format holds fail naming the argument, before anything is written.

An event file's ``step`` is an int64 and training counts are stored as
int64: ``step=2**63`` and a ``class_counts`` entry of ``2**64 - 1`` (a
``uint64`` array or a list) used to fail inside protobuf or numpy (and the
step left a 40-byte event file behind). The largest values that fit are
written and read back.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

import tb_imbalance
from logdir_reader import matrices, plugin_content
from tb_imbalance.targets import close_directory_writers

LABELS = [0, 1, 1, 0]
SCORES = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]
INT64_MAX = 2**63 - 1


def _files(path):
    return sorted(p.name for p in path.rglob("*") if p.is_file())


@pytest.mark.parametrize("step", [2**63, np.uint64(2**63), 2**70], ids=["2**63", "uint64", "2**70"])
def test_a_step_past_int64_is_refused_naming_step_and_nothing_is_written(tmp_path, step):
    with pytest.raises(ValueError, match=r"`step` must be at most 2\*\*63 - 1"):
        tb_imbalance.log_report(str(tmp_path / "run"), LABELS, SCORES, step)
    with tb_imbalance.ReportWriter(str(tmp_path / "writer")) as writer:
        with pytest.raises(ValueError, match="`step`"):
            writer.write_matrix(step, "confusion_matrix", [[2, 0], [1, 1]], ["a", "b"])
    close_directory_writers()
    assert not any(name.startswith("events.out") for name in _files(tmp_path))


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_a_step_past_int64_is_refused_for_a_torch_summary_writer(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    before = {p.name: p.stat().st_size for p in tmp_path.iterdir()}
    with pytest.raises(ValueError, match="`step`"):
        tb_imbalance.log_report(writer, LABELS, SCORES, 2**63)
    writer.flush()
    assert {p.name: p.stat().st_size for p in tmp_path.iterdir()} == before
    writer.close()


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_an_array_or_a_whole_float_passed_as_step_is_described_not_dumped(tmp_path):
    # log_report(dir, step, labels, logits): the refusal printed the whole logits tensor, many lines long
    import torch

    logits = torch.randn(500, 3)
    with pytest.raises(TypeError) as refused:
        tb_imbalance.log_report(str(tmp_path), [0, 1], [0, 1], logits, num_classes=3)
    message = str(refused.value)
    assert message.startswith("`step` must be a non-negative int (the epoch or batch index), received a torch.Tensor "
                              "of shape (500, 3): arguments in the order (target, labels, predictions, step)?")
    assert "\n" not in message and len(message) < 300
    for whole in (torch.tensor(7.0), np.float64(7.0), 7.0):
        with pytest.raises(TypeError, match=r"received 7\.0; pass int\(step\)"):
            tb_imbalance.log_report(str(tmp_path), [0, 1], [0, 1], whole, num_classes=2)
    with pytest.raises(TypeError, match=r"received a torch\.Tensor of shape \(1,\); pass step\.item\(\)$"):
        tb_imbalance.log_report(str(tmp_path), [0, 1], [0, 1], torch.tensor([3]), num_classes=2)
    assert not any(tmp_path.iterdir())


def test_a_list_passed_as_step_is_described_not_dumped(tmp_path):
    # log_report(dir, epoch, labels, predictions): the predictions list landed in step's place, printed in full
    predictions = [0, 1] * 1500
    with pytest.raises(TypeError) as refused:
        tb_imbalance.log_report(str(tmp_path), [0, 1], [0, 1], predictions, num_classes=2)
    assert str(refused.value) == ("`step` must be a non-negative int (the epoch or batch index), received a list of "
                                  "3000 values: arguments in the order (target, labels, predictions, step)?")
    with pytest.raises(TypeError, match=r"received a tuple of 1 value; pass step\[0\]$"):
        tb_imbalance.log_report(str(tmp_path), [0, 1], [0, 1], (3,), num_classes=2)
    with pytest.raises(TypeError, match=r"received \[\]$"):
        tb_imbalance.log_report(str(tmp_path), [0, 1], [0, 1], [], num_classes=2)
    assert not any(tmp_path.iterdir())


def test_an_array_in_steps_place_is_told_the_order_of_its_own_function(tmp_path):
    # log_matrix(target, cm, step) has no labels or predictions: the order of log_report's arguments misleads there
    with pytest.raises(TypeError) as refused:
        tb_imbalance.log_matrix(str(tmp_path), [[1, 0], [0, 1]], np.array([0, 1]))
    assert str(refused.value) == ("`step` must be a non-negative int (the epoch or batch index), received a "
                                  "numpy.ndarray of shape (2,): the arguments in another order?")
    assert not any(tmp_path.iterdir())


def test_the_largest_step_is_written_and_read_back(tmp_path):
    tb_imbalance.log_report(str(tmp_path), LABELS, SCORES, INT64_MAX, image=False)
    close_directory_writers()
    (by_step,) = matrices(tmp_path).values()
    assert list(by_step) == [INT64_MAX]
    np.testing.assert_array_equal(by_step[INT64_MAX], [[2, 0], [1, 1]])


@pytest.mark.parametrize(
    "counts",
    [np.array([2**64 - 1, 3], dtype=np.uint64), [2**64 - 1, 3], [2**70, 3], (3, 2**63)],
    ids=["uint64 array", "list", "list past uint64", "tuple"],
)
def test_class_counts_past_int64_are_refused_naming_class_counts(tmp_path, counts):
    with pytest.raises(ValueError, match=r"`class_counts` must hold counts of at most 2\*\*63 - 1"):
        tb_imbalance.log_report(str(tmp_path), LABELS, SCORES, 0, class_counts=counts)
    with pytest.raises(ValueError, match="`class_counts`"):
        tb_imbalance.core.validate_class_counts(counts, 2)
    close_directory_writers()
    assert not any(name.startswith("events.out") for name in _files(tmp_path))


def test_the_largest_class_counts_are_written_and_read_back(tmp_path):
    counts = np.array([INT64_MAX, 5], dtype=np.uint64)
    tb_imbalance.log_report(str(tmp_path), LABELS, SCORES, 0, class_counts=counts, image=False)
    close_directory_writers()
    (run,) = matrices(tmp_path)
    assert json.loads(plugin_content(tmp_path, run))["class_counts"] == [INT64_MAX, 5]


def test_a_step_past_int64_is_refused_by_the_tf_summary_ops(tmp_path):
    tf = pytest.importorskip("tensorflow")
    import tb_imbalance.summary

    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        with pytest.raises(ValueError, match=r"`step` must be at most 2\*\*63 - 1"):
            tb_imbalance.summary.classification_report("val", LABELS, SCORES, step=2**63)
    writer.flush()
    from tb_imbalance.event_reading import read_events

    (path,) = [p for p in tmp_path.iterdir() if p.name.startswith("events.out")]
    assert [e for e in read_events(str(path)) if e.summary.value] == []
    writer.close()


@pytest.mark.parametrize(
    "cm",
    [[[2**62, 2**62], [2**62, 1]], [[2**62] * 2] * 2, np.array([[2**64 - 1, 0], [0, 1]], dtype=np.uint64),
     [[2**52, 2**52], [0, 1]]],
    ids=["int64 total wraps", "int64 total wraps to 0", "uint64 past int64", "total 2**53"],
)
def test_counts_whose_total_passes_2_53_are_refused_naming_cm(tmp_path, cm):
    # int64 sums of these wrap around (accuracy -1, MCC -1.5 were written); float64 maths stops being exact
    with pytest.raises(ValueError, match=r"`cm` counts .* rows in all, past 2\*\*53"):
        tb_imbalance.log_matrix(str(tmp_path), cm, 0)
    close_directory_writers()
    assert not any(name.startswith("events.out") for name in _files(tmp_path))


def test_counts_just_below_2_53_in_all_are_written_exactly(tmp_path):
    cm = np.array([[2**52, 2**51], [2**50, 2**50 - 1]], dtype=np.int64)
    tb_imbalance.log_matrix(str(tmp_path), cm, 0, image=False)
    close_directory_writers()
    (by_step,) = matrices(tmp_path).values()
    np.testing.assert_array_equal(by_step[0], cm)


def test_a_step_past_2_53_is_written_and_said_once_that_pages_round_it(tmp_path, caplog, monkeypatch):
    import logging

    from tb_imbalance import step as step_module

    monkeypatch.setattr(step_module, "_said_page_step", False)
    with caplog.at_level(logging.WARNING, logger="tb_imbalance"):
        tb_imbalance.log_report(str(tmp_path), LABELS, SCORES, 2**53, image=False)  # exact in JavaScript
        assert not caplog.records
        for step in (1733400000123456789, 1733400000123456790):
            tb_imbalance.log_report(str(tmp_path), LABELS, SCORES, step, image=False)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "step 1733400000123456789 is past 2**53" in said[0] and "log the epoch" in said[0]
    close_directory_writers()
    (by_step,) = matrices(tmp_path).values()
    assert list(by_step) == [2**53, 1733400000123456789, 1733400000123456790]


def test_a_class_count_past_ten_million_is_refused_naming_num_classes_before_anything_is_written(tmp_path):
    # num_classes=10**9 (raw ids taken for a count) used to fill the memory until the process was killed
    from tb_imbalance.keras import BalancedAccuracy

    too_many = 10_000_001
    message = r"`num_classes` must be at most 10,000,000, received 10,000,001: .* map the ids seen to 0..C-1"
    with pytest.raises(ValueError, match=message):
        tb_imbalance.log_report(str(tmp_path / "run"), [0, 5], [3, 7], 0, num_classes=too_many)
    cells = tb_imbalance.core.SparseMatrix.from_cells(too_many, [0, 5], [3, 7], [1, 2])
    with pytest.raises(ValueError, match=message):
        tb_imbalance.log_matrix(str(tmp_path / "matrix"), cells, step=0)
    with tb_imbalance.ReportWriter(str(tmp_path / "writer")) as writer:
        with pytest.raises(ValueError, match=message):
            writer.write_matrix(0, "confusion_matrix", cells)
    with pytest.raises(ValueError, match=message):
        BalancedAccuracy(too_many)
    close_directory_writers()
    assert not any(name.startswith("events.out") for name in _files(tmp_path))


def test_num_classes_as_a_0_d_integer_value_is_read_as_its_int_and_a_float_one_refused_naming_it(tmp_path):
    # num_classes=labels.max() + 1 (a 0-d tensor or array) used to be refused as "must be an int"
    labels, predictions = np.array([0, 2, 2, 1]), np.array([0, 1, 2, 2])
    values = [np.array(3), np.int64(3)]
    if importlib.util.find_spec("torch") is not None:
        import torch

        values += [torch.tensor(labels).max() + 1, torch.tensor(3, dtype=torch.int8)]
    for index, num_classes in enumerate(values):
        cm = tb_imbalance.log_report(str(tmp_path / str(index)), labels, predictions, 0, num_classes=num_classes)
        assert cm.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    close_directory_writers()
    assert all(matrices(tmp_path / str(index))["."][0].tolist() == cm.tolist() for index in range(len(values)))
    for wrong in (np.array(3.0), np.array(True), np.array([3]), 3.0):
        with pytest.raises(TypeError, match=r"`num_classes` must be an int, received .*; pass the number of classes"):
            tb_imbalance.log_report(str(tmp_path / "wrong"), labels, predictions, 0, num_classes=wrong)
    assert not (tmp_path / "wrong").exists()

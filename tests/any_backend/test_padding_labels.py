"""Padding rows (a label that names no class, weight 0) are dropped alike by the writers and the Keras metrics.

Batches padded to a fixed size carry label ``-1`` (or an all-zero one-hot row)
with ``sample_weight`` 0. The Keras metrics drop such rows; ``log_report``,
``core.confusion_matrix`` and the examples drop them too, and both refuse the
same label with a positive weight. Oracle: scikit-learn's confusion matrix of
the rows that are not padding. Runs on every Keras backend.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

import tb_imbalance
from logdir_reader import matrices
from tb_imbalance import core
from tb_imbalance.examples import collect_examples
from tb_imbalance.targets import close_directory_writers

NUM_CLASSES = 3


def _padded_batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, NUM_CLASSES, 40)
    scores = rng.random((40, NUM_CLASSES)).astype(np.float32)
    weights = np.ones(40, dtype=np.float32)
    labels[-7:] = -1  # padding at the end of the last batch
    weights[-7:] = 0.0
    return labels, scores, weights


def _reference(labels, scores, weights):
    real = weights > 0
    return sk_confusion_matrix(labels[real], scores[real].argmax(1), labels=range(NUM_CLASSES))


def test_core_drops_padding_rows_and_matches_scikit_learn():
    labels, scores, weights = _padded_batch()
    cm = core.confusion_matrix(labels, scores, num_classes=NUM_CLASSES, sample_weight=weights)
    np.testing.assert_array_equal(cm, _reference(labels, scores, weights))


def test_log_report_writes_the_matrix_without_padding_rows(tmp_path):
    labels, scores, weights = _padded_batch()
    tb_imbalance.log_report(str(tmp_path), labels, scores, 0, sample_weight=weights, image=False)
    close_directory_writers()
    written = matrices(tmp_path)
    (run,) = written
    np.testing.assert_array_equal(written[run][0], _reference(labels, scores, weights))


def test_the_keras_metric_counts_the_same_matrix_from_tensors():
    import keras

    from tb_imbalance.keras import ConfusionMatrixMetric

    labels, scores, weights = _padded_batch(1)
    metric = ConfusionMatrixMetric(NUM_CLASSES)
    metric.update_state(
        keras.ops.convert_to_tensor(labels.astype("int32")),
        keras.ops.convert_to_tensor(scores),
        sample_weight=keras.ops.convert_to_tensor(weights),
    )
    from_metric = metric.confusion_matrix()
    from_writer = core.confusion_matrix(labels, scores, num_classes=NUM_CLASSES, sample_weight=weights)
    np.testing.assert_array_equal(from_metric, _reference(labels, scores, weights))
    np.testing.assert_array_equal(from_writer, from_metric)  # weights 0/1: the weight sums are the counts


def test_the_keras_metrics_drop_padding_rows_given_as_numpy_and_lists_too():
    from tb_imbalance.keras import ConfusionMatrixMetric, MacroAveragePrecision

    labels, scores, weights = _padded_batch(1)
    for values in ((labels, scores, weights), (labels.tolist(), scores.tolist(), weights.tolist())):
        metric = ConfusionMatrixMetric(NUM_CLASSES)
        metric.update_state(*values[:2], sample_weight=values[2])
        np.testing.assert_array_equal(metric.confusion_matrix(), _reference(labels, scores, weights))
    average_precision = MacroAveragePrecision(NUM_CLASSES)
    average_precision.update_state(labels, scores, sample_weight=weights)
    assert np.isfinite(float(average_precision.result()))
    scalar = ConfusionMatrixMetric(NUM_CLASSES)  # a scalar weight is every row's, as for tensors
    scalar.update_state(labels[:33], scores[:33], sample_weight=2.0)
    scalar.update_state(labels[:33], scores[:33], sample_weight=np.ones(1))
    assert scalar.confusion_matrix().sum() == 66
    all_padding = ConfusionMatrixMetric(NUM_CLASSES)
    all_padding.update_state(np.full(3, -1), scores[:3], sample_weight=np.zeros(3))
    assert all_padding.confusion_matrix().sum() == 0
    with pytest.raises(ValueError, match=r"`labels` must hold class ids in \[0, 2\].*received -1"):
        ConfusionMatrixMetric(NUM_CLASSES).update_state(labels, scores)  # without weights no row is padding


def test_a_label_that_names_no_class_with_a_positive_weight_is_refused():
    labels, scores, weights = _padded_batch()
    weights[-1] = 1.0
    with pytest.raises(ValueError, match=r"`labels` must hold class ids in \[0, 2\].*received -1"):
        core.confusion_matrix(labels, scores, num_classes=NUM_CLASSES, sample_weight=weights)
    with pytest.raises(ValueError, match="`labels` must hold class ids"):
        core.confusion_matrix(labels, scores, num_classes=NUM_CLASSES)  # no weights: no padding either


@pytest.mark.parametrize("ignore_index", [-100, 255])
def test_an_ignore_index_is_refused_naming_the_weight_that_drops_it(tmp_path, ignore_index):
    labels, scores, _ = _padded_batch()
    labels[-7:] = ignore_index  # as CrossEntropyLoss(ignore_index=...) marks rows
    fix = rf"sample_weight is 0: sample_weight=\(labels != {ignore_index}\)"
    with pytest.raises(ValueError, match=rf"`labels` must hold class ids in \[0, 2\].*received {ignore_index}.*{fix}"):
        tb_imbalance.log_report(tmp_path, labels, scores, 0, image=False)
    assert not any(tmp_path.iterdir())
    weights = labels != ignore_index
    cm = tb_imbalance.log_report(tmp_path, labels, scores, 0, sample_weight=weights, image=False)
    np.testing.assert_array_equal(cm, _reference(labels, scores, weights))
    assert cm.dtype == np.int64  # a boolean mask counts rows


def test_labels_counted_from_1_are_advised_to_shift_not_to_drop_the_last_class(tmp_path):
    labels, scores, _ = _padded_batch(4)
    labels, scores = labels[:33], scores[:33]  # no padding rows
    with pytest.raises(ValueError, match=r"received 3; .*labels run 1\.\.3: if the classes count from 1, pass labels - 1$"):
        tb_imbalance.log_report(tmp_path, labels + 1, scores, 0, image=False)
    assert not any(tmp_path.iterdir())
    cm = tb_imbalance.log_report(tmp_path, (labels + 1) - 1, scores, 0, image=False)
    np.testing.assert_array_equal(cm, _reference(labels, scores, np.ones(33)))


def test_one_hot_padding_rows_are_dropped_too():
    labels, scores, weights = _padded_batch(2)
    one_hot = np.zeros((40, NUM_CLASSES))
    one_hot[np.arange(33), labels[:33]] = 1.0  # the 7 padding rows stay all zero
    cm = core.confusion_matrix(one_hot, scores, num_classes=NUM_CLASSES, sample_weight=weights)
    np.testing.assert_array_equal(cm, _reference(labels, scores, weights))


def test_padding_rows_are_never_examples():
    labels, scores, weights = _padded_batch(3)
    chosen = collect_examples([f"row {k}" for k in range(40)], labels, scores, num_classes=NUM_CLASSES,
                              sample_weight=weights, examples_per_cell=50)
    shown = [example["row"] for cell in chosen.index["cells"] for example in cell["examples"]]
    assert sorted(shown) == list(range(33))
    counts = {(c["true"], c["pred"]): c["count"] for c in chosen.index["cells"]}
    reference = _reference(labels, scores, weights)
    assert counts == {(t, p): int(reference[t, p]) for t, p in zip(*np.nonzero(reference))}
    assert json.loads(chosen.blobs()[0])["rows"] == 33

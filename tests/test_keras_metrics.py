"""Streaming metrics, TensorFlow-only cases (XLA via tf.function).

Everything backend-agnostic (values against scikit-learn, state, config, use
as a monitor, invalid rows) is in tests/any_backend/test_keras_metrics_backends.py.
"""

import pytest
import tensorflow as tf

from tb_imbalance.keras import BalancedAccuracy


def test_compiled_bad_labels_are_counted_not_misplaced():
    metric = BalancedAccuracy(3)

    @tf.function(jit_compile=True)
    def update(labels, scores):
        metric.update_state(labels, scores)

    update(tf.constant([0, 1, 7, -1]), tf.one_hot([0, 1, 2, 2], 3))
    assert metric.invalid_rows == 2
    with pytest.raises(ValueError, match="2 rows could not be counted"):
        metric.confusion_matrix()
    assert int(tf.reduce_sum(metric.counts[:9]).numpy()) == 2  # only the valid rows, in their cells
    assert int(metric.counts[0].numpy()) == 1 and int(metric.counts[4].numpy()) == 1


def test_graph_mode_float_labels_and_nan_scores_are_invalid_rows():
    metric = BalancedAccuracy(3)

    @tf.function
    def update(labels, scores):
        metric.update_state(labels, scores)

    update(tf.constant([0.0, 1.5, 2.0, 1e20]), tf.constant([[1.0, 0, 0], [0, 1, 0], [0, 0, float("nan")], [0, 1, 0]]))
    assert metric.invalid_rows == 3
    assert int(metric.counts[0].numpy()) == 1

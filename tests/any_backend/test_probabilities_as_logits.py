"""A streaming metric told ``from_logits=True`` that only ever sees probabilities says so, on the current backend.

The report callback refuses the set-up before training when the model visibly
ends in a softmax or sigmoid, or its loss says which it outputs. A subclassed
model that applies the softmax inside ``call``, with a loss that cannot tell,
leaves nothing to look at before training: the metric counts, as it bins the
scores, the rows that read as probabilities, and warns once when every row
since its last reset did (its curves are then those of a softmax of
probabilities). Runs in every environment: no TensorFlow import at module level.
"""

import warnings

import keras
import numpy as np
import pytest
from keras import ops

from tb_imbalance import core
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroAveragePrecision

SAID = r"from_logits=True, but all \d+ rows it binned since its last reset hold scores in \[0, 1\]"

pytestmark = pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")


class EndsInside(keras.Model):
    """A model whose softmax / sigmoid the set-up checks cannot see: it is applied in ``call``."""

    def __init__(self, width, ending):
        super().__init__()
        self.dense, self.ending = keras.layers.Dense(width), ending

    def call(self, inputs):
        return self.ending(self.dense(inputs))


def data(num_classes, rows=96, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, num_classes, rows)
    x = (rng.normal(size=(rows, 4)) + np.eye(num_classes, 4)[y] * 2).astype("float32")
    return x, y


def said(record):
    return [str(w.message) for w in record if "rows it binned since its last reset" in str(w.message)]


def counter(metric):
    """The metric's count of rows that read as probabilities, and of all rows it binned."""
    layout, counts = metric._curves, keras.ops.convert_to_numpy(metric.curve_counts.value)
    return int(counts[layout.probability_rows]), int(counts[layout.num_classes * layout.bins : layout.cells].sum())


@pytest.mark.parametrize("metric_type", [BalancedAccuracy, MacroAveragePrecision])
def test_a_compiled_metric_alone_warns_once_and_keeps_its_value(metric_type):
    x, y = data(3)
    metric = metric_type(3, from_logits=True)
    model = EndsInside(3, keras.ops.softmax)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(), metrics=[metric])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        history = model.fit(x, y, validation_data=(x, y), epochs=3, verbose=0)
    messages = said(record)
    assert len(messages) == 1, messages
    assert f"{metric.name}: from_logits=True, but all 96 rows" in messages[0]
    assert f"pass from_logits=False to the metric ({metric_type.__name__}(3)) and to the loss" in messages[0]
    assert np.isfinite(history.history[f"val_{metric.name}"]).all()  # the counter is no reason for NaN


def test_a_sigmoid_column_read_as_logits_is_said_with_what_it_does_to_the_matrix():
    x, y = data(2)
    model = EndsInside(1, keras.ops.sigmoid)
    model.compile("adam", keras.losses.BinaryCrossentropy(), metrics=[BalancedAccuracy(2, from_logits=True)])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(x, y.astype("float32"), validation_data=(x, y.astype("float32")), epochs=2, verbose=0)
    messages = said(record)
    assert len(messages) == 1, messages
    assert "(one sigmoid column, or rows that sum to 1)" in messages[0]
    assert "every row above 0 is also counted as predicted positive" in messages[0]


def test_logits_say_nothing():
    x, y = data(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[BalancedAccuracy(3, from_logits=True), MacroAveragePrecision(3, from_logits=True)])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0)
    assert said(record) == []


def test_the_counter_counts_exactly_the_rows_that_read_as_probabilities():
    metric = BalancedAccuracy(3, from_logits=True)
    scores = np.array([
        [0.2, 0.3, 0.5],  # a probability row
        [0.1, 0.1, 0.8],  # another
        [0.2, 0.3, 0.4],  # in [0, 1], sums to 0.9: logits
        [1.5, -0.2, 0.1],  # logits
        [0.5, 0.5, 0.0005],  # sums to 1.0005: within 1e-3
    ], "float32")
    labels = np.array([2, 2, 0, 0, 1])
    metric.update_state(ops.convert_to_tensor(labels), ops.convert_to_tensor(scores),
                        sample_weight=ops.convert_to_tensor([1.0, 0.0, 1.0, 1.0, 1.0]))  # weight 0: not binned
    assert counter(metric) == (2, 4)
    assert all(core.rows_are_probabilities(scores[[i]]) == (i in (0, 1, 4)) for i in range(5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metric.read_state()
        metric.reset_state()
    assert counter(metric) == (0, 0)


def test_sixteen_bit_probabilities_are_read_with_the_wider_tolerance():
    metric = MacroAveragePrecision(3, from_logits=True)
    rows = np.array([[0.1, 0.2, 0.7], [0.332, 0.332, 0.332]], "float16")  # the second sums to 0.996
    assert abs(float(rows.astype(np.float64).sum(axis=1)[1]) - 1.0) > 1e-3
    metric.update_state(ops.convert_to_tensor([2, 0]), ops.convert_to_tensor(rows))
    assert counter(metric) == (2, 2)
    with pytest.warns(UserWarning, match=SAID):
        metric.read_state()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metric.read_state()  # once per metric
        metric.reset_state()


def test_numpy_input_is_said_once_by_the_host_check_not_again_by_the_counter():
    metric = BalancedAccuracy(3, from_logits=True)
    with pytest.warns(UserWarning, match="the score rows are in \\[0, 1\\] and sum to 1") as record:
        metric.update_state(np.array([0, 1]), np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]], "float32"))
        metric.read_state()
        metric.reset_state()
    assert len(record) == 1 and said(record) == []


def test_the_report_callback_says_it_at_the_first_epoch_end(tmp_path):
    x, y = data(3)
    model = EndsInside(3, keras.ops.softmax)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(), metrics=[BalancedAccuracy(3, from_logits=True)])
    epochs = []
    at_epoch_end = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs.append(epoch))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path, verbose=0), at_epoch_end])
    messages = said(record)
    assert len(messages) == 1, messages
    assert "all 96 rows" in messages[0]  # the validation rows alone: the callback bins no training batch


def test_a_reset_reads_the_curve_state_once_for_its_two_checks(monkeypatch):
    """MacroAveragePrecision with from_logits: the NaN reasons and the probabilities check share one read."""
    from tb_imbalance.keras import metric_reads, metrics

    metric = MacroAveragePrecision(3, from_logits=True)
    metric.update_state(ops.convert_to_tensor([0, 1]), ops.convert_to_tensor(np.array([[2.0, 0.1, -1.0], [0.3, 1.5, 0.2]], "float32")))
    reads = []
    original_copy, original_slice = metric_reads.host_copy, metrics.read_slice
    monkeypatch.setattr(metric_reads, "host_copy", lambda variable: reads.append(variable.name) or original_copy(variable))
    monkeypatch.setattr(metrics, "read_slice", lambda variable, *a: reads.append(variable.name) or original_slice(variable, *a))
    metric.reset_state()
    assert reads.count("curve_counts") == 1

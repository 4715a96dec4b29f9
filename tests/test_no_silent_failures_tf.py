"""No silent failures, TensorFlow-only cases: tf.data sources and XLA-compiled metric updates.

The cases that run on every Keras backend are in
tests/any_backend/test_no_silent_failures.py (same ``test_case<N>_`` names).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from logdir_reader import matrices
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback

CLASSES = 3
RUN = "validation_imbalance"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    y = rng.choice(CLASSES, 200, p=[0.7, 0.2, 0.1])
    x = rng.normal(size=(200, 5)).astype("float32") + np.eye(CLASSES, 5, dtype="float32")[y] * 2
    return (x[:120], y[:120]), (x[120:], y[120:])


def classifier():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def sk_matrix(model, x, y):
    return sk_confusion_matrix(y, model.predict(x, verbose=0).argmax(1), labels=range(CLASSES))


def test_case1_xla_compiled_update_counts_logit_rows_and_cuts_logits_at_0():
    labels = tf.constant([0, 1, 1, 0, 1])
    logits = tf.constant([[-2.0], [3.0], [-0.5], [0.25], [0.0]])
    strict, lenient = BalancedAccuracy(2), BalancedAccuracy(2, from_logits=True)

    @tf.function(jit_compile=True)
    def update(y_true, y_pred):
        strict.update_state(y_true, y_pred)
        lenient.update_state(y_true, y_pred)

    update(labels, logits)
    assert strict.logit_rows == 3 and strict.invalid_rows == 0  # -2, 3 and -0.5 are no probabilities
    with pytest.raises(ValueError, match=r"3 rows have a single score outside \[0, 1\].*from_logits=True"):
        strict.confusion_matrix()
    expected = sk_confusion_matrix(labels.numpy(), (logits.numpy()[:, 0] > 0).astype(int), labels=[0, 1])
    np.testing.assert_array_equal(lenient.confusion_matrix(), expected)


def test_case6_a_repeated_dataset_needs_validation_steps(tmp_path, data):
    (x, y), (x_val, y_val) = data
    repeated = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(20).repeat()
    with pytest.raises(ValueError, match=r"\(tf.data.Dataset\) repeats forever \(cardinality INFINITE.*validation_steps="):
        ClassificationReportCallback(tmp_path, validation_data=repeated)
    model = classifier()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[
        ClassificationReportCallback(tmp_path, validation_data=repeated, validation_steps=3, verbose=0)
    ])
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1]
    np.testing.assert_array_equal(logged[1], sk_matrix(model, x_val[:60], y_val[:60]))  # the same 3 batches each epoch


def test_case6_unknown_cardinality_needs_validation_steps_or_assert_cardinality(tmp_path, data):
    (x, y), (x_val, y_val) = data
    filtered = tf.data.Dataset.from_tensor_slices((x_val, y_val)).filter(lambda a, b: True).batch(20)
    with pytest.raises(ValueError, match=r"UNKNOWN cardinality.*assert_cardinality"):
        ClassificationReportCallback(tmp_path, validation_data=filtered)
    known = filtered.apply(tf.data.experimental.assert_cardinality(4))
    model = classifier()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ClassificationReportCallback(tmp_path, validation_data=known, verbose=0)])
    np.testing.assert_array_equal(matrices(tmp_path)[RUN][0], sk_matrix(model, x_val, y_val))


def test_pandas_validation_data_in_two_row_orders_is_refused_and_aligned_rows_match_sklearn(tmp_path, data):
    """Keras pairs a tuple's x, y and sample_weight by position: a sorted x beside shuffled y meets other rows."""
    import pandas as pd  # statsmodels' dependency, in this environment only

    (x, y), (x_val, y_val) = data
    index = np.random.default_rng(5).permutation(1000)[: len(y_val)]
    frame, labels = pd.DataFrame(x_val, index=index), pd.Series(y_val, index=index)
    weights = pd.Series(np.linspace(0.5, 2.0, len(y_val)), index=index)
    for value, moved in (((frame.sort_index(), labels), "x"), ((frame, labels, weights.sort_index()), "sample_weight")):
        with pytest.raises(ValueError, match=(
            rf"`validation_data` \(arrays \(x, y.*\): `y` and `{moved}` are pandas objects holding the same index "
            rf"in two orders .* align them first, {moved} = {moved}.loc\[y.index\]"
        )):
            ClassificationReportCallback(str(tmp_path / "refused"), validation_data=value)
    assert not list(tmp_path.iterdir())
    model = classifier()
    aligned = (frame.sort_index().loc[labels.index], labels)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ClassificationReportCallback(str(tmp_path), validation_data=aligned)])
    np.testing.assert_array_equal(matrices(tmp_path)[RUN][0], sk_matrix(model, x_val, y_val))


def test_pandas_inputs_of_a_multi_input_model_in_another_row_order_are_refused(tmp_path):
    """A dict or a list of x parts is paired with y by position too: each pandas part is checked."""
    import pandas as pd

    index = np.array([5, 2, 9, 7])
    y, frame = pd.Series([0, 1, 0, 1], index=index), pd.DataFrame(np.eye(4, 3), index=index)
    for x, part in (({"image": frame, "meta": frame.sort_index()}, r"x\['meta'\]"), ([frame.sort_index(), frame], r"x\[0\]")):
        with pytest.raises(ValueError, match=rf"`y` and `{part}` are pandas objects holding the same index in two orders "
                                             rf"\(row 0: 5 and 2\).* align them first, {part} = {part}.loc\[y.index\]"):
            ClassificationReportCallback(str(tmp_path / "refused"), validation_data=(x, y))
    assert not list(tmp_path.iterdir())
    ClassificationReportCallback(str(tmp_path), validation_data=({"image": frame, "meta": frame.reset_index(drop=True)}, y))

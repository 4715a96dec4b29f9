"""The streaming metric above 1000 classes keeps cell codes: exact matrix in fit, bounded state, clear overflow.

Runs on every Keras backend (tests/any_backend). Oracle: scikit-learn's
confusion matrix of ``model.predict`` on the validation rows.
"""

import keras
import numpy as np
import pytest
from sklearn import metrics as skm

from logdir_reader import curves, matrices
from tb_imbalance import core
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroF1
from tb_imbalance.keras.cell_codes import DEFAULT_MAX_ROWS

C = 1200


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    prior = 1.0 / np.arange(1, C + 1) ** 0.7
    y = rng.choice(C, 2600, p=prior / prior.sum())
    prototypes = rng.normal(size=(C, 16)).astype("float32")
    x = prototypes[y] + rng.normal(scale=0.8, size=(2600, 16)).astype("float32")
    return (x[:1600], y[:1600]), (x[1600:], y[1600:])


def make_model(metrics, jit_compile="auto"):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(C, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=metrics, jit_compile=jit_compile)
    return model


def predicted(model, x, y):
    return skm.confusion_matrix(y, model.predict(x, verbose=0).argmax(1), labels=range(C))


@pytest.mark.parametrize("jit_compile", ["auto", True])
def test_fit_logs_the_exact_matrix_from_cell_codes(tmp_path, data, jit_compile):
    if jit_compile is True and keras.backend.backend() == "torch":
        pytest.skip("Keras compiles no PyTorch model with jit_compile=True here")
    (x, y), (x_val, y_val) = data
    balanced, macro_f1 = BalancedAccuracy(C), MacroF1(C, max_rows=1200)  # training (1600 rows) overflows: no matter
    model = make_model([balanced, macro_f1], jit_compile)
    history = model.fit(
        x, y, validation_data=(x_val, y_val), epochs=2, batch_size=128, verbose=0,
        callbacks=[ClassificationReportCallback(tmp_path, verbose=0)],
    )
    logged = matrices(tmp_path)["validation_imbalance"]
    expected = predicted(model, x_val, y_val)
    np.testing.assert_array_equal(logged[1], expected)
    cells = macro_f1.confusion_matrix()
    assert isinstance(cells, core.SparseMatrix)
    np.testing.assert_array_equal(cells.toarray(), expected)
    assert history.history["val_balanced_accuracy"][1] == pytest.approx(
        skm.balanced_accuracy_score(y_val, model.predict(x_val, verbose=0).argmax(1)), abs=1e-6
    )
    assert history.history["val_macro_f1"][1] == pytest.approx(core.imbalance_metrics(cells)["macro_f1"], abs=1e-6)
    state_bytes = sum(np.prod(v.shape) * np.dtype(v.dtype).itemsize for v in balanced.variables)
    assert state_bytes < 17 * 2**20  # 16 MB of codes whatever C (the dense matrix: 8 C² bytes)
    assert sorted(np.prod(v.shape) for v in balanced.variables)[-2:] == [3 * C, DEFAULT_MAX_ROWS + 1]


def test_the_callbacks_own_validation_data_logs_no_curves_above_1000_classes_and_says_so(tmp_path, data):
    """As log_report and the metrics by default: (C + 1) × 900 bytes a step would be 1 MB here."""
    (x, y), (x_val, y_val) = data
    model = make_model([])
    with pytest.warns(UserWarning, match=r"no PR / ROC / reliability curves are written: the model has 1200 "
                      r"classes \(> 1000\).*compile BalancedAccuracy\(1200, curves=True\)"):
        model.fit(x, y, epochs=2, batch_size=128, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path, validation_data=(x_val, y_val), verbose=0)])
    np.testing.assert_array_equal(matrices(tmp_path)["validation_imbalance"][1], predicted(model, x_val, y_val))
    assert curves(tmp_path) == {}


def test_a_validation_pass_past_max_rows_stops_the_fit_naming_max_rows(tmp_path, data):
    (x, y), (x_val, y_val) = data
    model = make_model([BalancedAccuracy(C, max_rows=500)])
    with pytest.raises(ValueError, match=r"at most max_rows=500 rows; pass max_rows=1,000 or more"):
        model.fit(
            x, y, validation_data=(x_val, y_val), epochs=1, batch_size=256, verbose=0,
            callbacks=[ClassificationReportCallback(tmp_path, verbose=0)],
        )
    assert not matrices(tmp_path)


def test_update_state_counts_padding_and_invalid_rows_as_the_dense_layout_does():
    labels = keras.ops.convert_to_tensor(np.array([0, 5, 1199, -1, 7, 3], dtype="int64"))
    scores = np.full((6, C), 0.1, dtype="float32")
    scores[np.arange(6), [0, 6, 1199, 2, 7, 3]] = 1.0
    weights = keras.ops.convert_to_tensor(np.array([1, 1, 1, 0, 0, 1], dtype="float32"))
    metric = BalancedAccuracy(C)
    metric.update_state(labels, keras.ops.convert_to_tensor(scores), sample_weight=weights)
    cells = metric.confusion_matrix()
    assert {(int(r), int(c)): int(v) for r, c, v in zip(cells.rows, cells.columns, cells.values)} == {
        (0, 0): 1, (3, 3): 1, (5, 6): 1, (1199, 1199): 1,
    }
    assert float(metric.result()) == pytest.approx(0.75)
    metric.update_state(keras.ops.convert_to_tensor(np.array([C + 3])), keras.ops.convert_to_tensor(scores[:1]))
    assert metric.invalid_rows == 1 and np.isnan(float(metric.result()))
    with pytest.raises(ValueError, match="1 rows could not be counted"):
        metric.confusion_matrix()
    metric.reset_state()
    assert metric.confusion_matrix().cells == 0


def test_max_rows_is_checked_and_kept_in_the_config():
    with pytest.raises(TypeError, match="`max_rows` must be a positive int"):
        BalancedAccuracy(C, max_rows=0)
    metric = BalancedAccuracy(C, max_rows=5000)
    assert metric.get_config()["max_rows"] == 5000 and metric.get_config()["curves"] is False
    assert BalancedAccuracy.from_config(metric.get_config()).max_rows == 5000
    assert BalancedAccuracy(10).curves is True and BalancedAccuracy(C, curves=True).curves is True
    with pytest.warns(UserWarning, match=r"max_rows=5000 has no effect with 10 classes"):
        BalancedAccuracy(10, max_rows=5000)

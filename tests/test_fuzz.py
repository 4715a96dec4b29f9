"""Property-based fuzzing of core.confusion_matrix and the writers.

For random shapes, dtypes and values, every call either returns exactly
scikit-learn's confusion matrix, or raises ValueError / TypeError whose
message names an argument — never another exception type, never a wrong
number, and a refused write leaves nothing on disk.
"""

import contextlib
import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

import tb_imbalance
from tb_imbalance import core
from tb_imbalance.targets import close_directory_writers

ARGUMENTS = ("`labels`", "`predictions`", "`num_classes`", "`sample_weight`", "`from_logits`", "`cm`", "labels")

DTYPES = st.sampled_from(
    [np.int8, np.int32, np.int64, np.uint8, np.float16, np.float32, np.float64, np.bool_, np.complex64]
)


@contextlib.contextmanager
def fresh_run_dir():
    """A run directory for one example, its writers closed and the directory removed after it."""
    with tempfile.TemporaryDirectory(prefix="tbi_fuzz_") as run_dir:
        try:
            yield run_dir
        finally:
            close_directory_writers()


def arrays(rows):
    shapes = st.one_of(
        st.just((rows,)),
        st.tuples(st.just(rows), st.integers(0, 5)),
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    )
    return DTYPES.flatmap(
        lambda dtype: shapes.flatmap(
            lambda shape: hnp.arrays(
                dtype,
                shape,
                elements=(
                    st.integers(-2, 5) if np.issubdtype(dtype, np.signedinteger)
                    else st.integers(0, 5) if np.issubdtype(dtype, np.unsignedinteger)
                    else None
                ),
            )
        )
    )


@st.composite
def calls(draw):
    rows = draw(st.integers(0, 12))
    labels = draw(st.one_of(arrays(rows), st.lists(st.integers(-1, 4), max_size=12)))
    predictions = draw(arrays(rows))
    num_classes = draw(st.one_of(st.none(), st.integers(-1, 5), st.sampled_from([2.0, True, "3"])))
    sample_weight = draw(st.one_of(st.none(), hnp.arrays(np.float64, (rows,), elements=st.floats(-1, 3))))
    from_logits = draw(st.sampled_from([False, True]))
    return labels, predictions, num_classes, sample_weight, from_logits


def expected_matrix(labels, predictions, num_classes, sample_weight, from_logits):
    """scikit-learn's matrix for the documented reading of the inputs."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if predictions.ndim == 2 and predictions.shape[1] == 1:
        predictions = predictions[:, 0]
    y_true = labels.argmax(1) if labels.ndim == 2 else labels.astype(np.int64)
    if predictions.ndim == 2:
        y_pred = predictions.argmax(1)
    elif np.issubdtype(predictions.dtype, np.floating):
        y_pred = (predictions > 0).astype(int) if from_logits else (predictions > 0.5).astype(int)
    else:
        y_pred = predictions.astype(np.int64)
    return sk_confusion_matrix(y_true, y_pred, labels=range(num_classes), sample_weight=sample_weight)


def check_error(error):
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    assert any(argument in str(error) for argument in ARGUMENTS), str(error)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls())
def test_core_confusion_matrix_equals_sklearn_or_names_the_argument(call):
    labels, predictions, num_classes, sample_weight, from_logits = call
    try:
        cm = core.confusion_matrix(
            labels, predictions, num_classes=num_classes, sample_weight=sample_weight, from_logits=from_logits
        )
    except Exception as error:  # noqa: BLE001 - the property is about the exception type
        check_error(error)
        return
    expected = expected_matrix(labels, predictions, cm.shape[0], sample_weight, from_logits)
    if sample_weight is None:
        assert cm.dtype == np.int64
        np.testing.assert_array_equal(cm, expected)
    else:
        np.testing.assert_allclose(cm, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls())
def test_log_report_writes_sklearns_matrix_or_nothing(call):
    labels, predictions, num_classes, sample_weight, from_logits = call
    with fresh_run_dir() as run_dir:
        try:
            cm = tb_imbalance.log_report(
                run_dir, labels, predictions, 0, num_classes=num_classes, sample_weight=sample_weight,
                from_logits=from_logits, image=False, per_class_scalars=False,
            )
        except Exception as error:  # noqa: BLE001
            check_error(error)
            assert os.listdir(run_dir) == []
            return
        close_directory_writers()
        np.testing.assert_allclose(cm, expected_matrix(labels, predictions, cm.shape[0], sample_weight, from_logits))
        assert len(os.listdir(run_dir)) == 1


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)))
def test_log_matrix_accepts_only_square_counts(matrix):
    with fresh_run_dir() as run_dir:
        try:
            written = tb_imbalance.log_matrix(run_dir, matrix, 0, image=False, per_class_scalars=False)
        except Exception as error:  # noqa: BLE001
            check_error(error)
            assert os.listdir(run_dir) == []
            return
    assert written.shape == matrix.shape and matrix.ndim == 2 and matrix.shape[0] >= 2
    np.testing.assert_array_equal(written, matrix)
    assert np.all(np.asarray(matrix) >= 0)


def test_fuzz_reaches_both_outcomes():
    """The generators produce accepted and refused calls alike (the fuzz is not vacuous)."""
    outcomes = set()
    for labels, predictions, num_classes, sample_weight, from_logits in [
        ([0, 1, 1], np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]]), None, None, False),
        ([0, 1, 7], np.array([0, 1, 1]), 2, None, False),
    ]:
        try:
            core.confusion_matrix(labels, predictions, num_classes=num_classes)
            outcomes.add("ok")
        except ValueError:
            outcomes.add("refused")
    assert outcomes == {"ok", "refused"}

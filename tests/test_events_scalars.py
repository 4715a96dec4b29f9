"""Scalar, blob and PR-curve values are the protos TensorBoard's own make_tensor_proto builds, byte for byte."""

import numpy as np
import pytest
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.pr_curve import metadata as pr_curve_metadata
from tensorboard.util import tensor_util

from tb_imbalance import core
from tb_imbalance.curve_values import _pr_curve_values
from tb_imbalance import format as fmt
from tb_imbalance.events import _scalar, step_matrix_value
from tb_imbalance.scalar_value import array_tensor, blob_tensor
from tb_imbalance.step import ReportStep


@pytest.mark.parametrize("value", [0.0, 0.25, 1 / 3, 0.9999999, 1e-40, 123456.789, float("nan")])
def test_scalar_tensor_is_make_tensor_protos(value):
    expected = tensor_util.make_tensor_proto(np.float32(value)).SerializeToString()
    assert _scalar("imbalance/mcc", value).tensor.SerializeToString() == expected
    assert tensor_util.make_ndarray(_scalar("t", value).tensor).dtype == np.float32


@pytest.mark.parametrize("blobs", [[b"320", b"213", b"\x89PNG\r\n\x1a\n\x00\x00"], [b""], [bytes(range(256)) * 40]])
def test_blob_tensor_is_make_tensor_protos(blobs):
    expected = tensor_util.make_tensor_proto(np.array(blobs, dtype=object)).SerializeToString()
    assert blob_tensor(blobs).SerializeToString() == expected
    assert tensor_util.make_ndarray(blob_tensor(blobs)).tolist() == blobs


@pytest.mark.parametrize("weight", [1.0, 1e38])  # float32 curves; sums of weights past float32's range: float64
def test_pr_curve_values_are_make_tensor_protos_step_after_step(weight):
    rng = np.random.default_rng(2)
    for step in range(3):  # the kept protos give each step its own curves
        scores = rng.dirichlet(np.ones(3), size=200)
        truth = rng.integers(0, 3, 200)
        summary = core.curve_summary(scores, truth, scores.argmax(axis=1), np.full(200, weight))
        values = _pr_curve_values(["pr_curve/a", "pr_curve/b", "pr_curve/c"], summary, ["a", "b", "c"])
        table = core.threshold_table(summary)
        for c, value in enumerate(values):
            curve = table[c].astype(np.float32) if weight == 1.0 else table[c]
            assert value.tensor.SerializeToString() == tensor_util.make_tensor_proto(curve).SerializeToString()
            expected = pr_curve_metadata.create_summary_metadata(
                display_name=value.tag, description=f"One-vs-rest PR curve of class {'abc'[c]!r} (tb_imbalance)",
                num_thresholds=76,
            )
            expected.data_class = summary_pb2.DATA_CLASS_TENSOR
            assert value.tag == f"pr_curve/{'abc'[c]}" and value.metadata == expected


@pytest.mark.parametrize("matrix", [np.array([[3, 1], [0, 2]]), np.array([[2.5, 0.5], [1.0, 4.0]]), np.eye(150, dtype=np.int64)])
def test_array_tensor_is_make_tensor_protos(matrix):
    encoded = fmt.encode_matrix(matrix)  # dense int64 or float64, or the cells of more than 100 classes
    assert array_tensor(encoded).SerializeToString() == tensor_util.make_tensor_proto(encoded).SerializeToString()


def test_matrix_values_of_steps_in_turn_each_get_their_own_metadata():
    names = ["ok", "fraud"]
    for weighted, description, counts in [(False, None, None), (True, None, None), (False, "*val*", None),
                                          (False, None, [90, 10]), (False, None, None)]:
        step = ReportStep.of(0, "cm", [[3.0, 1.0], [0.0, 2.0]], names, class_counts=counts, weighted=weighted)
        value = step_matrix_value(step, description=description)
        expected = fmt.create_summary_metadata(names, weighted=weighted, description=description, class_counts=counts)
        assert value.metadata == expected
        assert value.tensor.SerializeToString() == tensor_util.make_tensor_proto(fmt.encode_matrix(step.matrix)).SerializeToString()

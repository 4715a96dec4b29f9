"""Scalar values are the protos TensorBoard's own make_tensor_proto builds, byte for byte."""

import numpy as np
import pytest
from tensorboard.util import tensor_util

from tb_imbalance.events import _scalar


@pytest.mark.parametrize("value", [0.0, 0.25, 1 / 3, 0.9999999, 1e-40, 123456.789, float("nan")])
def test_scalar_tensor_is_make_tensor_protos(value):
    expected = tensor_util.make_tensor_proto(np.float32(value)).SerializeToString()
    assert _scalar("imbalance/mcc", value).tensor.SerializeToString() == expected
    assert tensor_util.make_ndarray(_scalar("t", value).tensor).dtype == np.float32

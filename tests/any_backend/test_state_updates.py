"""The streaming metrics' scatters add exactly what numpy's ``np.add.at`` adds, on every Keras backend.

``scatter_count`` adds one per id without building the ones (on PyTorch a
cached element seen ``len(ids)`` times); ids may be int32 or int64, in place
or inside a ``keras.StatelessScope`` (JAX's trainer, the stateless API).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from tb_imbalance.keras import state_updates


@pytest.mark.parametrize("id_dtype", ["int32", "int64"])
@pytest.mark.parametrize("count_dtype", ["int32", "int64"])
def test_scatter_count_adds_one_per_id_repeats_included(id_dtype, count_dtype):
    ids = np.array([4, 0, 4, 4, 2, 0, 9], dtype=id_dtype)
    expected = np.zeros(10, dtype=np.int64)
    np.add.at(expected, ids, 1)
    counts = keras.Variable(np.full(10, 5), dtype=count_dtype, trainable=False)
    held_as = ops.convert_to_numpy(counts).dtype  # int32 on JAX without 64-bit mode
    state_updates.scatter_count(counts, ops.convert_to_tensor(ids))
    state_updates.scatter_count(counts, ops.convert_to_tensor(ids[:3]))
    np.add.at(expected, ids[:3], 1)
    assert ops.convert_to_numpy(counts).tolist() == (expected + 5).tolist()
    assert ops.convert_to_numpy(counts).dtype == held_as


def test_scatter_count_inside_a_stateless_scope_leaves_the_variable_and_returns_the_sum():
    counts = keras.Variable(np.zeros(6), dtype="int64", trainable=False)
    ids = ops.convert_to_tensor(np.array([1, 1, 5], dtype="int32"))
    with keras.StatelessScope(state_mapping=[(counts, ops.convert_to_tensor(np.arange(6), dtype="int64"))]) as scope:
        state_updates.scatter_count(counts, ids)
    assert ops.convert_to_numpy(scope.get_current_value(counts)).tolist() == [0, 3, 2, 3, 4, 6]
    assert ops.convert_to_numpy(counts).tolist() == [0] * 6


def test_scatter_add_with_int32_ids_adds_values_and_scatter_set_sets_them():
    sums = keras.Variable(np.zeros(5), dtype="float32", trainable=False)
    ids = ops.convert_to_tensor(np.array([3, 0, 3], dtype="int32"))
    state_updates.scatter_add(sums, ids, ops.convert_to_tensor(np.array([0.25, 1.0, 0.5], dtype="float32")))
    assert ops.convert_to_numpy(sums).tolist() == [1.0, 0.0, 0.0, 0.75, 0.0]
    state_updates.scatter_set(sums, ops.convert_to_tensor(np.array([4], dtype="int32")),
                              ops.convert_to_tensor(np.array([2.0], dtype="float32")))
    assert ops.convert_to_numpy(sums).tolist() == [1.0, 0.0, 0.0, 0.75, 2.0]

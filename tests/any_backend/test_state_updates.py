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


@pytest.mark.parametrize("pairs_per_slot", [0.0, 1e12], ids=["one-scatter-of-pairs", "two-scatters"])
@pytest.mark.parametrize("stateless", [False, True])
def test_scatter_count_and_add_counts_and_sums_like_numpy_either_way(monkeypatch, pairs_per_slot, stateless):
    # JAX takes one scatter of (1, value) pairs for many ids per slot; both ways must add the same
    monkeypatch.setattr(state_updates, "PAIRS_PER_SLOT", pairs_per_slot)
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 7, 300).astype("int32")
    values = rng.integers(0, 64, 300).astype("float32") / 64  # sums exact in float32
    counts = keras.Variable(np.full(9, 2), dtype="int64", trainable=False)  # longer than the sums, as the curve state's
    sums = keras.Variable(np.full(7, 0.5), dtype="float32", trainable=False)
    expected_counts, expected_sums = np.full(9, 2), np.full(7, 0.5)
    np.add.at(expected_counts, ids, 1)
    np.add.at(expected_sums, ids, values)
    add = lambda: state_updates.scatter_count_and_add(counts, sums, ops.convert_to_tensor(ids), ops.convert_to_tensor(values))  # noqa: E731
    if stateless:
        with keras.StatelessScope(state_mapping=[(counts, counts.value), (sums, sums.value)]) as scope:
            add()
        got_counts, got_sums = scope.get_current_value(counts), scope.get_current_value(sums)
    else:
        add()
        got_counts, got_sums = counts.value, sums.value
    assert ops.convert_to_numpy(got_counts).tolist() == expected_counts.tolist()
    assert ops.convert_to_numpy(got_sums).tolist() == expected_sums.tolist()


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow: read_slice's eager indices")
def test_tensorflow_read_slice_of_two_counters_makes_its_eager_indices_once(monkeypatch):
    import tensorflow as tf

    counts = keras.Variable(np.arange(10) * 3, dtype="int64", trainable=False)
    made = []
    own_range = tf.range
    monkeypatch.setattr(tf, "range", lambda *bounds: made.append(bounds) or own_range(*bounds))
    monkeypatch.setattr(state_updates, "_TF_INDICES", {}, raising=False)
    for _ in range(3):
        assert ops.convert_to_numpy(state_updates.read_slice(counts, 4, 6)).tolist() == [12, 15]
    assert made == [(4, 6)]  # an eager tf.range is several dispatches: made once, then the gather alone
    counts.assign(np.arange(10) * 5)
    assert ops.convert_to_numpy(state_updates.read_slice(counts, 4, 6)).tolist() == [20, 25]  # the variable's values
    # longer slices (the cell codes a pass wrote) and a traced function make their indices each time
    for _ in range(2):
        assert ops.convert_to_numpy(state_updates.read_slice(counts, 1, 8)).tolist() == [5, 10, 15, 20, 25, 30, 35]
    assert tf.function(lambda: state_updates.read_slice(counts, 4, 6))().numpy().tolist() == [20, 25]
    assert made == [(4, 6), (1, 8), (1, 8), (4, 6)]

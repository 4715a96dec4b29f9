"""Batches collected in a loop and passed as lists: refused naming the concatenation, never counted as rows.

A list of k arrays of L values each is k rows of L columns to numpy. A
binary model's evaluation loop that appends each batch (``labels.append(y)``,
``scores.append(torch.sigmoid(model(x)))``) with every batch of one size
would be counted as k one-hot rows of L classes wherever each label batch
holds one positive (a rare class); other label batches would be refused as
multi-label or empty one-hot rows. Lists of one tensor a row stay rows.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import tb_imbalance


def _as_framework(framework, arrays):
    if framework == "numpy":
        return list(arrays)
    torch = pytest.importorskip("torch")
    return [torch.from_numpy(np.ascontiguousarray(array)) for array in arrays]


def _rare_positive_batches():
    """Two validation batches of 32 rows of a binary model, each holding one positive."""
    rng = np.random.default_rng(3)
    labels = np.zeros(64, dtype=np.int64)
    labels[[5, 40]] = 1
    probabilities = (rng.random(64) * 0.6).astype(np.float32)
    probabilities[5] = 0.9
    return labels, probabilities


@pytest.mark.parametrize("framework", ["numpy", "torch"])
def test_binary_batches_of_one_positive_each_are_refused_not_counted_as_32_classes(tmp_path, framework):
    labels, probabilities = _rare_positive_batches()
    label_batches = _as_framework(framework, np.split(labels, 2))
    score_batches = _as_framework(framework, np.split(probabilities, 2))
    message = (r"`labels` and `predictions` are lists of 2 arrays of 32 values each, read as 2 rows of 32 classes.*"
               r"batches collected in a loop .*concatenate each list first.*pass num_classes=32")
    with pytest.raises(ValueError, match=message):
        tb_imbalance.log_report(tmp_path, label_batches, score_batches, 0)
    with pytest.raises(ValueError, match=message.replace("classes.*", r"classes \(.*\), not the 2 classes told.*", 1)):
        tb_imbalance.log_report(tmp_path, label_batches, score_batches, 0, class_names=["ok", "fraud"])
    with pytest.raises(ValueError, match=message):
        tb_imbalance.core.confusion_matrix(list(np.split(labels, 2)), list(np.split(probabilities, 2)))
    assert not any(tmp_path.iterdir())
    concatenated = np.concatenate(np.split(labels, 2)), np.concatenate(np.split(probabilities, 2))
    cm = tb_imbalance.log_report(tmp_path, *concatenated, 0, class_names=["ok", "fraud"])
    assert cm.tolist() == skm.confusion_matrix(labels, probabilities > 0.5, labels=[0, 1]).tolist() == [[55, 7], [1, 1]]


@pytest.mark.parametrize("framework", ["numpy", "torch"])
def test_label_batches_that_are_no_one_hot_rows_are_refused_naming_the_concatenation(tmp_path, framework):
    rng = np.random.default_rng(5)
    labels = rng.choice(2, 64, p=[0.7, 0.3])
    probabilities = rng.random(64).astype(np.float32)
    ids = rng.integers(0, 3, 64)
    scores = rng.random((64, 3)).astype(np.float32)
    cases = [  # (labels, predictions, the item said, its first values)
        (np.split(labels, 4), np.split(probabilities, 4), 0, r"\[1, 1, 0, 0, 0, 0, 0, 0, \.\.\.\]"),  # six 1s
        (np.split(labels.astype(np.float32), 4), np.split(probabilities, 4), 0, r"\[1\., 1\., 0\., 0\., 0\., 0\., 0\., 0\., \.\.\.\]"),
        (np.split(np.zeros(64, dtype=np.int64), 2), np.split(probabilities, 2), 0, r"\[0, 0, 0, 0, 0, 0, 0, 0, \.\.\.\]"),
        (np.split(ids, 4), np.split(ids, 4), 0, r"\[2, 2, 1, 0, 2, 0, 2, 0, \.\.\.\]"),  # class ids of 3 classes
    ]
    for true, predicted, item, values in cases:
        message = (rf"`labels` is a list of {len(true)} arrays of {len(true[0])} values each, read as {len(true)} one-hot "
                   rf"rows of {len(true[0])} classes, and item {item} \({values}\) is no one-hot row: batches collected "
                   r"in a loop\? concatenate them first: np\.concatenate, torch\.cat")
        with pytest.raises(ValueError, match=message):
            tb_imbalance.log_report(tmp_path, _as_framework(framework, true), _as_framework(framework, predicted), 0)
    # beside the k * L rows of the predictions, even label batches that read as one-hot rows are batches
    one_positive = np.split(_rare_positive_batches()[0], 2)
    with pytest.raises(ValueError, match=r"read as 2 one-hot rows of 32 classes beside the 64 rows of `predictions`: "
                                         r"batches collected in a loop\? concatenate them first"):
        tb_imbalance.log_report(tmp_path, _as_framework(framework, one_positive), probabilities, 0)
    with pytest.raises(ValueError, match=r"item 0 \(\[2, 2, 1, .*concatenate them first"):
        tb_imbalance.log_report(tmp_path, _as_framework(framework, np.split(ids, 4)), scores, 0, class_names=list("abc"))
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("framework", ["numpy", "torch"])
def test_lists_of_one_row_each_are_still_rows(tmp_path, framework):
    rng = np.random.default_rng(6)
    true = rng.integers(0, 3, 12)
    logits = rng.normal(size=(12, 3)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = skm.confusion_matrix(true, logits.argmax(axis=1), labels=range(3)).tolist()
    one_hot = _as_framework(framework, np.eye(3, dtype=np.int64)[true])
    assert tb_imbalance.log_report(tmp_path / "softmax", one_hot, _as_framework(framework, probabilities), 0).tolist() == expected
    # logit rows do not tell rows from a binary model's batches: the count told does
    rows = _as_framework(framework, logits)
    assert tb_imbalance.log_report(tmp_path / "logits", one_hot, rows, 0, from_logits=True,
                                   class_names=["a", "b", "c"]).tolist() == expected
    with pytest.raises(ValueError, match="lists of 12 arrays of 3 values each.*pass num_classes=3"):
        tb_imbalance.log_report(tmp_path / "untold", one_hot, rows, 0, from_logits=True)


@pytest.mark.parametrize("framework", ["numpy", "torch"])
def test_weight_batches_of_one_size_are_refused_naming_the_concatenation(tmp_path, framework):
    rng = np.random.default_rng(7)
    true, scores = rng.integers(0, 3, 40), rng.random((40, 3)).astype(np.float32)
    mask = (rng.random(40) < 0.8).astype(np.float32)
    with pytest.raises(ValueError, match=r"^`sample_weight` must have shape \[40\] \(one weight per row\), received "
                                         r"\(2, 20\); batches collected in a loop\? concatenate them first: "
                                         r"np\.concatenate, torch\.cat or jnp\.concatenate$"):
        tb_imbalance.log_report(tmp_path, true, scores, 0, sample_weight=_as_framework(framework, np.split(mask, 2)))
    with pytest.raises(ValueError, match=r"received \(3,\)$"):  # not the rows' count: no batches to join
        tb_imbalance.log_report(tmp_path, true, scores, 0, sample_weight=mask[:3])
    assert not any(tmp_path.iterdir())
    weighted = tb_imbalance.log_report(tmp_path, true, scores, 0, sample_weight=np.concatenate(np.split(mask, 2)))
    expected = skm.confusion_matrix(true, scores.argmax(axis=1), labels=range(3), sample_weight=mask)
    np.testing.assert_array_equal(weighted, expected)


@pytest.mark.parametrize("framework", ["numpy", "torch"])
def test_the_labels_of_several_heads_are_named_as_heads_not_as_batches(tmp_path, framework):
    rng = np.random.default_rng(8)
    heads = [rng.integers(0, 3, 20), rng.integers(0, 3, 20)]
    scores = [rng.random((20, 3)).astype(np.float32), rng.random((20, 3)).astype(np.float32)]
    with pytest.raises(ValueError, match=r"^`labels` is a list of 2 arrays of 20 values each, as many as the rows of "
                                         r"`predictions` in each: the labels of a model with several heads\? pass the one "
                                         r"to log, e\.g\. labels\[0\]$"):
        tb_imbalance.log_report(tmp_path, _as_framework(framework, heads), scores[0], 0)
    with pytest.raises(ValueError, match=r"^`predictions` is a list of 2 arrays: the outputs of a model with several heads"):
        tb_imbalance.log_report(tmp_path, _as_framework(framework, heads), _as_framework(framework, scores), 0)
    assert not any(tmp_path.iterdir())
    logged = tb_imbalance.log_report(tmp_path, heads[0], scores[0], 0)
    np.testing.assert_array_equal(logged, skm.confusion_matrix(heads[0], scores[0].argmax(axis=1), labels=range(3)))

"""The plugin above 1000 classes: answers from the stored cells, equal to scikit-learn and to the dense path.

A 1200-class logdir (two runs, long-tailed labels, class counts, groups, scores
with curves on one step) read through the Python loader; every number is
checked against scikit-learn on the rows written.
"""

import logging

import numpy as np
import pytest
from sklearn import metrics as skm

import tb_imbalance
from tb_imbalance import core
from tb_imbalance.plugin import series as plugin_series
from tb_imbalance.plugin.payloads import matrix_fields

from support import plugin_client, route_json

C = 1200
TAG = "confusion_matrix"
NAMES = [f"species {k:04d}" for k in range(C)]
GROUPS = {"genus A": NAMES[:600], "genus B": NAMES[600:1100]}


def _rows(seed):
    rng = np.random.default_rng(seed)
    prior = 1.0 / np.arange(1, C + 1)
    labels = rng.choice(C, 8000, p=prior / prior.sum())
    predicted = np.where(rng.random(8000) < 0.6, labels, rng.integers(0, C, 8000))
    return labels, predicted


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    root = tmp_path_factory.mktemp("many_classes")
    rows = {}
    logging.getLogger("tb_imbalance").setLevel(logging.ERROR)
    try:
        for run, seed in (("baseline", 0), ("weighted_loss", 1)):
            for step in range(3):
                labels, predicted = _rows(seed * 10 + step)
                tb_imbalance.log_report(
                    root / run, labels, predicted, step, num_classes=C, class_names=NAMES,
                    class_counts=np.arange(C, 0, -1), class_groups=GROUPS,
                )
                rows[run, step] = labels, predicted
    finally:
        logging.getLogger("tb_imbalance").setLevel(logging.NOTSET)
    return plugin_client(root), rows


def test_report_carries_the_cells_and_scikit_learns_numbers(many):
    client, rows = many
    payload = route_json(client, "report", run="baseline", tag=TAG, step=1)
    labels, predicted = rows["baseline", 1]
    assert payload["matrix_encoding"] == "cells" and payload["confusion_matrix"] is None
    cells = payload["confusion_cells"]
    dense = np.zeros((C, C), dtype=np.int64)
    dense[cells["rows"], cells["columns"]] = cells["counts"]
    np.testing.assert_array_equal(dense, skm.confusion_matrix(labels, predicted, labels=range(C)))
    codes = np.array(cells["rows"]) * C + np.array(cells["columns"])
    assert np.all(np.diff(codes) > 0) and min(cells["counts"]) > 0
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        labels, predicted, labels=range(C), zero_division=0
    )
    np.testing.assert_allclose(payload["per_class"]["recall"], recall, atol=1e-12)
    np.testing.assert_allclose(payload["per_class"]["precision"], precision, atol=1e-12)
    np.testing.assert_allclose(payload["per_class"]["f1"], f1, atol=1e-12)
    assert payload["per_class"]["support"] == support.tolist()
    assert payload["metrics"]["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(labels, predicted))
    assert payload["metrics"]["mcc"] == pytest.approx(skm.matthews_corrcoef(labels, predicted))
    assert set(payload["report"]) == {"accuracy", "macro avg", "weighted avg"}  # per-class: in per_class
    expected = skm.classification_report(labels, predicted, labels=range(C), output_dict=True, zero_division=0)
    for row in ("macro avg", "weighted avg"):
        for field, value in expected[row].items():
            assert payload["report"][row][field] == pytest.approx(value, abs=1e-12), (row, field)
    assert payload["metrics"]["few_shot_recall"] is not None


def test_group_report_rolls_the_cells_up(many):
    client, rows = many
    payload = route_json(client, "report", run="baseline", tag=TAG, group=1)
    labels, predicted = rows["baseline", 2]
    group_of = np.array([0] * 600 + [1] * 500 + list(range(2, 102)))
    expected = skm.confusion_matrix(group_of[labels], group_of[predicted], labels=range(102))
    assert payload["num_classes"] == 102 and payload["matrix_encoding"] == "dense"
    assert payload["confusion_matrix"] == expected.tolist()


def test_compare_and_series_answer_from_the_cells(many):
    client, rows = many
    compare = route_json(client, "compare", run="weighted_loss", tag=TAG, baseline="baseline")
    run_recall = skm.recall_score(*rows["weighted_loss", 2], labels=range(C), average=None, zero_division=0)
    base_recall = skm.recall_score(*rows["baseline", 2], labels=range(C), average=None, zero_division=0)
    defined = [d is not None for d in compare["per_class"]["recall_delta"]]
    np.testing.assert_allclose(
        np.array(compare["per_class"]["recall_delta"], dtype=float)[defined], (run_recall - base_recall)[defined]
    )
    series = route_json(client, "series", run="baseline", tag=TAG, classes="0,1199")
    for step in range(3):
        recall = skm.recall_score(*rows["baseline", step], labels=range(C), average=None, zero_division=0)
        np.testing.assert_allclose(series["recall"][step], recall[[0, 1199]])


def test_cells_stay_cells_in_the_cache_and_the_served_limit_is_50000(many):
    client, _ = many
    route_json(client, "report", run="baseline", tag=TAG)
    assert plugin_series.MAX_SERVED_CLASSES == 50_000
    packed = plugin_series.PackedMatrix.pack(core.SparseMatrix.from_cells(C, [0, 5], [0, 7], [3, 2]))
    assert isinstance(packed.unpack(), core.SparseMatrix) and packed.nbytes == 6 * 8
    fields = matrix_fields(packed.unpack())
    assert fields["confusion_cells"] == {"rows": [0, 5], "columns": [0, 7], "counts": [3, 2]}


def test_a_crafted_cell_outside_the_classes_is_a_skipped_step(tmp_path):
    from tb_imbalance.plugin.decode import decode_step
    from tb_imbalance import format as fmt

    info = fmt.MatrixInfo(2, C, tuple(NAMES), False, fmt.COO)
    matrix, reason = decode_step(np.array([[0, 0, 3], [5, C, 1]], dtype=np.int64), info)
    assert matrix is None and "outside" in reason
    matrix, reason = decode_step(np.array([[5, 1, 2], [0, 0, 3]], dtype=np.int64), info)
    assert matrix is None and "not sorted" in reason
    matrix, reason = decode_step(np.array([[0, 0, 3], [5, 1, -2]], dtype=np.int64), info)
    assert matrix is None and "negative" in reason
    matrix, _ = decode_step(np.array([[0, 0, 3], [5, 1, 2]], dtype=np.int64), info)
    assert isinstance(matrix, core.SparseMatrix) and int(matrix[5, 1]) == 2 and int(matrix[1, 5]) == 0


def test_scores_with_curves_and_examples_above_1000_classes(tmp_path):
    rng = np.random.default_rng(9)
    labels = rng.integers(0, C, 1500)
    scores = rng.random((1500, C)).astype("float32")
    scores[np.arange(1500), np.where(rng.random(1500) < 0.6, labels, (labels + 1) % C)] += 3.0
    scores /= scores.sum(axis=1, keepdims=True)
    texts = [f"row {k}" for k in range(1500)]
    tb_imbalance.log_report(tmp_path / "scores", labels, scores, 0, curves=True, examples=texts)
    client = plugin_client(tmp_path)
    report = route_json(client, "report", run="scores", tag=TAG)
    assert report["has_curves"] and report["has_examples"] and report["matrix_encoding"] == "cells"
    predicted = scores.argmax(axis=1)
    quantised = core.quantise_scores(scores)
    assert report["per_class"]["average_precision"][5] == pytest.approx(
        skm.average_precision_score(labels == 5, quantised[:, 5])
    )
    curves = route_json(client, "curves", run="scores", tag=TAG, **{"class": 5})
    cm5 = skm.confusion_matrix(labels == 5, predicted == 5, labels=[False, True])
    assert curves["operating_point"]["recall"] == pytest.approx(cm5[1, 1] / cm5[1].sum())
    true, pred = int(labels[0]), int(predicted[0])
    examples = route_json(client, "examples", run="scores", tag=TAG, true=true, pred=pred)
    rows = {example["id"] for example in examples["examples"]}
    expected_rows = set(np.flatnonzero((labels == true) & (predicted == pred)).tolist())
    assert len(expected_rows) <= 8 and rows == expected_rows and examples["rows"] == 1500

"""The computation core is a package with one module per job, and its public names did not move.

``from tb_imbalance import core; core.X`` and ``from tb_imbalance.core import
X`` keep working for every name the single ``core.py`` exported; each module
of the package stays small; the normal quantile is the standard library's.
"""

from __future__ import annotations

import importlib
import pathlib
import statistics

import numpy as np
import pytest
from scipy import stats

from tb_imbalance import core

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tb_imbalance"

#: Every public name of ``tb_imbalance.core`` before it was split into modules.
PUBLIC_NAMES = [
    "METRIC_NAMES", "confusion_matrix", "class_ids_from_labels", "class_ids_from_predictions",
    "resolve_num_classes", "check_rows_paired", "widen_low_precision_floats", "validate_matrix", "default_class_names",
    "validate_class_names", "per_class_metrics", "classification_report", "imbalance_metrics",
    "DEFAULT_CONFIDENCE", "normal_quantile", "wilson_interval", "newcombe_interval",
    "per_class_intervals", "per_class_differences", "SHOT_METRIC_NAMES", "MANY_SHOT_MIN",
    "FEW_SHOT_MAX", "validate_class_counts", "validate_shot_thresholds", "shot_recalls",
    "validate_class_groups", "group_matrix", "padding_rows",
    # the argmax taken once, shared by the matrix and the examples
    "ClassIds", "class_ids", "count_class_ids",
    # the binned scores behind the curves, and what is read from them
    "CURVE_BINS", "CALIBRATION_BINS", "score_bins", "quantise_scores", "curve_probabilities", "curve_summary",
    "kept_rows_summary",
    # whether score rows read as probabilities (the examples' scores, the curves' from_logits warning)
    "rows_are_probabilities",
    # integer counts whose total is past 2**53 (the matrix checks and the writers' float counts)
    "check_integer_total",
    "CURVE_METRIC_NAMES", "PER_CLASS_CURVE_METRICS", "validate_curve_summary", "curve_metrics",
    "pr_curve", "roc_curve", "reliability", "threshold_table",
    # the matrix as its non-empty cells, above 1000 classes
    "SPARSE_ABOVE_CLASSES", "SparseMatrix",
    # class names that are one text in two Unicode forms, refused where a report is logged
    "validate_name_forms",
    # the matrix checked in its own dtype, and its first fraction read in blocks: a step converts it once
    "check_matrix", "fractional_value",
    # not in __all__, but used by the writers, the callback and the plugin
    "validate_flag", "validate_num_classes",
]

#: The jobs of the core, one module each.
MODULES = [
    "numeric_arrays", "inputs", "batch_lists", "argmax", "validators", "counting", "metrics", "intervals", "long_tail", "groups",
    "binned_scores", "curves", "sparse_matrix", "class_order",
    "caller",
]

#: Modules of tb_imbalance over the line budget, to be split by whoever owns them next.
#: Strict: once one is split, its entry must go.
OVER_BUDGET: set[str] = set()


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_every_public_name_is_importable_both_ways(name):
    value = getattr(core, name)
    namespace: dict = {}
    exec(f"from tb_imbalance.core import {name} as imported", namespace)
    assert namespace["imported"] is value


def test_all_lists_exactly_the_public_names_and_each_is_defined_in_one_module():
    assert set(core.__all__) <= set(PUBLIC_NAMES)
    for name in PUBLIC_NAMES:
        owners = [m for m in MODULES if name in vars(importlib.import_module(f"tb_imbalance.core.{m}"))
                  and getattr(importlib.import_module(f"tb_imbalance.core.{m}"), name) is getattr(core, name)
                  and name in getattr(importlib.import_module(f"tb_imbalance.core.{m}"), "__all__", ())]
        assert len(owners) == 1, (name, owners)


@pytest.mark.parametrize("module", MODULES)
def test_core_modules_stay_under_400_lines(module):
    lines = (PACKAGE / "core" / f"{module}.py").read_text().count("\n")
    assert lines <= 400, f"tb_imbalance/core/{module}.py has {lines} lines"


def test_no_module_of_the_package_is_over_450_lines():
    sizes = {str(path.relative_to(ROOT)): path.read_text().count("\n") for path in PACKAGE.rglob("*.py")}
    over = {path for path, lines in sizes.items() if lines > 450}
    assert over <= OVER_BUDGET, {path: sizes[path] for path in over - OVER_BUDGET}
    assert OVER_BUDGET <= over, f"split now, remove from OVER_BUDGET: {OVER_BUDGET - over}"


def test_the_normal_quantile_is_the_standard_librarys_and_equals_scipy():
    probabilities = np.concatenate([np.logspace(-300, -1, 50), np.linspace(0.01, 0.99, 99)])
    for p in probabilities:
        assert core.normal_quantile(p) == statistics.NormalDist().inv_cdf(float(p))
        assert core.normal_quantile(p) == pytest.approx(stats.norm.ppf(p), rel=1e-14, abs=1e-14)
    source = (PACKAGE / "core" / "intervals.py").read_text()
    assert "Acklam" not in source and "Halley" not in source


def test_the_threaded_argmax_is_reachable_for_its_tests():
    ids, finite = core._argmax_block(np.array([[0.0, 2.0], [3.0, 1.0]]))
    assert ids.tolist() == [1, 0] and finite
    ids, finite = core._argmax_rows(np.array([[0.0, np.inf], [3.0, 1.0]]))
    assert ids.tolist() == [1, 0] and not finite


def test_the_label_order_check_reads_the_predicted_class_as_the_matrix_does():
    # one definition of "predicted class": class_order's guess uses the argmax and the column cut of the count
    from tb_imbalance.core import argmax, class_order, inputs

    assert class_order._argmax_rows is argmax._argmax_rows
    assert class_order._binary_column_ids is inputs._binary_column_ids is argmax._binary_column_ids
    positions = class_order._predicted_positions
    ids = np.array([2, 0, 1, 1])
    ties = np.array([[0.4, 0.4, 0.2], [0.1, 0.3, 0.3], [1.0, 1.0, 1.0], [0.0, 0.5, 0.5]])  # the first column wins
    ints = np.array([[3, 3, 1], [0, 2, 5], [1, 0, 0], [0, 4, 4]])
    for predictions in (ids, ties, ints, ids.reshape(-1, 1)):
        expected = inputs.class_ids_from_predictions(predictions, 3) if predictions is not ints else np.argmax(ints, 1)
        assert positions(predictions, 4, 3).tolist() == expected.tolist()
    assert positions(ties, 4, 3).tolist() == [0, 1, 0, 1]
    probability = np.array([[0.5], [0.51], [0.0], [1.0]])  # [N, 1]: class 1 above 0.5, a tie is class 0
    logit = np.array([0.0, 1e-9, -3.0, 2.5])  # outside [0, 1]: cut at 0, as from_logits=True does
    for column, from_logits, expected in ((probability, False, [0, 1, 0, 1]), (logit, True, [0, 1, 0, 1])):
        assert positions(column, 4, 2).tolist() == expected
        assert inputs.class_ids_from_predictions(column, 2, from_logits=from_logits).tolist() == expected
    assert positions(logit.reshape(-1, 1), 4, 2).tolist() == [0, 1, 0, 1]
    assert positions(probability, 4, 3) is None  # one column of three classes: no class told
    in_range = np.array([0.0, 0.2, 0.6, 1.0])  # the caller's from_logits, when known, wins over the range
    for from_logits, expected in ((True, [0, 1, 1, 1]), (False, [0, 0, 1, 1]), (None, [0, 0, 1, 1])):
        assert positions(in_range, 4, 2, from_logits).tolist() == expected
    assert inputs.class_ids_from_predictions(in_range, 2, from_logits=True).tolist() == [0, 1, 1, 1]
    assert positions(logit, 4, 2, False) is None  # outside [0, 1] as probabilities: the count refuses them

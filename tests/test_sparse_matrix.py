"""Above 1000 classes the matrix is its non-empty cells: same numbers, same stored tensor, no C² array.

Oracles: scikit-learn / imbalanced-learn on the rows behind the matrix, and
the dense matrix of the same rows through the same code.
"""

import logging

import numpy as np
import pytest
from sklearn import metrics as skm

import tb_imbalance
from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.image import ConfusionMatrixImage, _widest_candidates, most_confused_classes
from tb_imbalance.step import ReportStep
from tb_imbalance.step_curves import want_curves

from logdir_reader import matrices, scalars
from support import sklearn_metrics, sklearn_per_class

C = 1200  # above core.SPARSE_ABOVE_CLASSES


def _rows(num_classes=C, rows=6000, seed=0, weighted=False):
    rng = np.random.default_rng(seed)
    priors = 1.0 / np.arange(1, num_classes + 1)
    true = rng.choice(num_classes, rows, p=priors / priors.sum())
    predicted = np.where(rng.random(rows) < 0.6, true, rng.choice(num_classes, rows, p=priors / priors.sum()))
    weights = rng.choice([0.0, 0.5, 2.0], rows) if weighted else None
    return true.astype(np.int64), predicted.astype(np.int64), weights


def _dense(true, predicted, weights, num_classes=C):
    return np.bincount(true * num_classes + predicted, weights=weights, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_count_equals_the_dense_count_and_keeps_only_non_empty_cells(weighted):
    true, predicted, weights = _rows(weighted=weighted)
    sparse = core.SparseMatrix.count(true, predicted, weights, C)
    dense = _dense(true, predicted, weights)
    assert sparse.dtype == (np.float64 if weighted else np.int64)
    np.testing.assert_array_equal(sparse.toarray(), dense)
    assert sparse.cells == np.count_nonzero(dense) and sparse.values.min() > 0
    codes = sparse.rows * C + sparse.columns
    assert np.all(np.diff(codes) > 0)  # unique, row-major
    np.testing.assert_array_equal(sparse.diagonal(), np.diagonal(dense))
    np.testing.assert_array_equal(sparse.sum(axis=1), dense.sum(axis=1))
    np.testing.assert_array_equal(sparse.sum(axis=0), dense.sum(axis=0))
    assert sparse.sum() == dense.sum()
    classes = np.array([5, 0, 1199, 3])
    np.testing.assert_array_equal(sparse.submatrix(classes), dense[np.ix_(classes, classes)])


def test_count_class_ids_is_sparse_above_1000_classes_and_confusion_matrix_stays_dense():
    true, predicted, _ = _rows()
    counted = core.count_class_ids(core.class_ids(true, predicted, num_classes=C))
    assert isinstance(counted, core.SparseMatrix)
    small = core.count_class_ids(core.class_ids(true % 1000, predicted % 1000, num_classes=1000))
    assert isinstance(small, np.ndarray) and small.shape == (1000, 1000)
    dense = core.confusion_matrix(true, predicted, num_classes=C)
    assert isinstance(dense, np.ndarray)
    np.testing.assert_array_equal(dense, counted.toarray())


def test_from_cells_refuses_a_class_count_whose_cell_codes_would_wrap_around():
    # row * C + column in int64 wrapped above floor(sqrt(2**63 - 1)) classes: the last cell came back elsewhere
    last = 3_037_000_499 - 1
    cm = core.SparseMatrix.from_cells(3_037_000_499, [last, 0], [last, 1], [2, 1])
    assert (cm.rows.tolist(), cm.columns.tolist(), cm.values.tolist()) == ([0, last], [1, last], [1, 2])
    with pytest.raises(ValueError, match=r"`num_classes` must be at most 3,037,000,499 .* received 3,037,000,500"):
        core.SparseMatrix.from_cells(3_037_000_500, [last + 1], [last + 1], [1])


def test_from_cells_adds_repeated_cells_and_names_bad_cells():
    cm = core.SparseMatrix.from_cells(4, [3, 0, 3, 1], [1, 0, 1, 2], [2, 5, 1, 0])
    assert cm.toarray().tolist() == [[5, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 3, 0, 0]]
    with pytest.raises(ValueError, match=r"`cm` has row ids outside \[0, 4\)"):
        core.SparseMatrix.from_cells(4, [4], [0], [1])
    with pytest.raises(ValueError, match="non-negative"):
        core.SparseMatrix.from_cells(4, [0], [0], [-1])
    with pytest.raises(ValueError, match="NaN or infinite"):
        core.SparseMatrix.from_cells(4, [0], [0], [np.nan])
    with pytest.raises(ValueError, match="one entry per cell"):
        core.SparseMatrix.from_cells(4, [0, 1], [0], [1])


@pytest.mark.parametrize("weighted", [False, True])
def test_report_maths_on_the_cells_equal_the_dense_matrix(weighted):
    true, predicted, weights = _rows(weighted=weighted, seed=1)
    sparse = core.SparseMatrix.count(true, predicted, weights, C)
    dense = _dense(true, predicted, weights)
    for key, values in core.per_class_metrics(sparse).items():
        np.testing.assert_array_equal(values, core.per_class_metrics(dense)[key], err_msg=key)
    assert core.imbalance_metrics(sparse) == core.imbalance_metrics(dense)
    full = core.classification_report(sparse)
    assert full == core.classification_report(dense)
    summary = core.classification_report(sparse, per_class=False)
    assert summary == {key: full[key] for key in ("accuracy", "macro avg", "weighted avg")}
    counts = np.random.default_rng(2).integers(1, 400, C)
    assert core.shot_recalls(sparse, counts) == core.shot_recalls(dense, counts)


def test_report_maths_on_the_cells_equal_scikit_learn():
    true, predicted, _ = _rows(seed=3)
    sparse = core.SparseMatrix.count(true, predicted, None, C)
    dense = sparse.toarray()
    expected = sklearn_metrics(dense)
    got = core.imbalance_metrics(sparse)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    per_class = core.per_class_metrics(sparse)
    for key, values in sklearn_per_class(dense).items():
        np.testing.assert_allclose(per_class[key], values, atol=1e-12, err_msg=key)
    report = skm.classification_report(
        true, predicted, labels=range(C), target_names=[str(k) for k in range(C)], output_dict=True, zero_division=0
    )
    ours = core.classification_report(sparse)
    for key in ("0", "17", "1199", "macro avg", "weighted avg"):
        for field, value in report[key].items():
            assert ours[key][field] == pytest.approx(value, abs=1e-12), (key, field)


def test_most_confused_classes_and_the_picture_equal_the_dense_ones():
    true, predicted, _ = _rows(seed=4)
    sparse = core.SparseMatrix.count(true, predicted, None, C)
    dense = sparse.toarray()
    for k in (1, 5, 30):
        np.testing.assert_array_equal(most_confused_classes(sparse, k), most_confused_classes(dense, k))
    image = ConfusionMatrixImage([f"class {k}" for k in range(C)])
    np.testing.assert_array_equal(image.render(sparse), image.render(dense))
    small = core.SparseMatrix.from_dense(np.array([[5, 1, 0], [2, 3, 1], [0, 0, 4]]))
    small_image = ConfusionMatrixImage(["a", "b", "c"])
    np.testing.assert_array_equal(small_image.render(small), small_image.render(small.toarray()))


def test_the_label_width_estimate_keeps_the_widest_label():
    # Wide letters, a fallback-font name and one missing glyph among thousands of narrow labels.
    names = [f"i{k}" for k in range(3000)]
    names[1234] = "WWWWWWWWWWWW"
    names[2500] = "сова-мудрая"
    names[2999] = "\U000e0001 tag"
    image = ConfusionMatrixImage(names)
    classes = range(len(names))
    candidates = set(_widest_candidates(image.labels, classes))
    assert {1234, 2500, 2999} <= candidates and len(candidates) == 512
    exact = ConfusionMatrixImage.__new__(ConfusionMatrixImage)
    exact.labels = image.labels
    assert image._labels_width(classes) == max(exact._labels_width([k]) for k in classes)


@pytest.mark.parametrize("num_classes", [80, 1200])
def test_encode_matrix_of_the_cells_is_the_dense_encoding(num_classes):
    true, predicted, _ = _rows(num_classes=num_classes, rows=3000, seed=5)
    for weights in (None, np.linspace(0.5, 2, 3000)):
        sparse = core.SparseMatrix.count(true, predicted, weights, num_classes)
        encoded = fmt.encode_matrix(sparse)
        expected = fmt.encode_matrix(sparse.toarray())
        assert encoded.dtype == expected.dtype
        np.testing.assert_array_equal(encoded, expected)


def test_weighted_false_refuses_fractional_cells():
    cm = core.SparseMatrix.from_cells(1200, [0, 3], [0, 1], [1.0, 2.5])
    with pytest.raises(ValueError, match="fractional values"):
        ReportStep.of(0, "confusion_matrix", cm, weighted=False)
    whole = ReportStep.of(0, "confusion_matrix", core.SparseMatrix.from_cells(1200, [0], [0], [3.0]), weighted=False)
    assert whole.matrix.dtype == np.int64 and not whole.weighted


def test_log_report_above_1000_classes_writes_what_the_dense_matrix_would(tmp_path):
    true, predicted, _ = _rows(seed=6)
    names = [f"species {k}" for k in range(C)]
    returned = tb_imbalance.log_report(tmp_path / "sparse", true, predicted, step=2, num_classes=C, class_names=names)
    assert isinstance(returned, core.SparseMatrix)
    tb_imbalance.log_matrix(tmp_path / "dense", returned.toarray(), step=2, class_names=names)
    stored = matrices(tmp_path)
    np.testing.assert_array_equal(stored["sparse"][2], stored["dense"][2])
    np.testing.assert_array_equal(stored["sparse"][2], _dense(true, predicted, None))
    for metric in ("balanced_accuracy", "mcc", "macro_f1"):
        tag = f"imbalance/{metric}"
        assert scalars(tmp_path, "sparse", tag) == scalars(tmp_path, "dense", tag)
    assert scalars(tmp_path, "sparse", "imbalance/balanced_accuracy")[2] == pytest.approx(
        skm.balanced_accuracy_score(true, predicted)
    )
    weighted = tb_imbalance.log_report(
        tmp_path / "weighted", true, predicted, step=0, num_classes=C, sample_weight=np.linspace(0.0, 2.0, len(true))
    )
    assert weighted.dtype == np.float64 and isinstance(weighted, core.SparseMatrix)
    assert matrices(tmp_path)["weighted"][0].dtype == np.float64


def test_the_sparse_return_is_said_with_the_dense_matrixs_dtype(tmp_path, caplog):
    true, predicted, _ = _rows(seed=4)
    with caplog.at_level(logging.WARNING, logger="tb_imbalance"):
        tb_imbalance.log_report(tmp_path / "w", true, predicted, step=0, num_classes=C, name="weighted_said",
                                sample_weight=np.full(len(true), 0.5))
        tb_imbalance.log_report(tmp_path / "c", true, predicted, step=0, num_classes=C, name="counted_said")
    said = [r.getMessage() for r in caplog.records if ".toarray() gives the dense matrix" in r.getMessage()]
    assert len(said) == 2 and "MB as float64" in said[0] and "MB as int64" in said[1]  # was int64 for both


def test_class_ids_above_1000_classes_are_told_why_no_curves_not_to_pass_curves_true(tmp_path, caplog):
    true, predicted, _ = _rows(seed=3)
    with caplog.at_level(logging.WARNING, logger="tb_imbalance"):
        tb_imbalance.log_report(tmp_path / "ids", true, predicted, step=0, num_classes=C)
    said = [r.getMessage() for r in caplog.records if "no PR/ROC curves" in r.getMessage()]
    assert len(said) == 1 and "class ids, not scores" in said[0] and "curves=True" not in said[0]


def test_a_new_writer_at_a_closed_ones_address_is_told_again(caplog):
    """Said once per writer: a writer made after another was dropped may get its address (CPython reuses it)."""

    class Writer:
        pass

    first = Writer()
    address = id(first)
    with caplog.at_level(logging.WARNING, logger="tb_imbalance"):
        said_no = want_curves("cm", C, None, writer=first)  # not in an assert: pytest would keep `first` alive
        del first
        others = []  # kept alive until one is made at the freed address: the case this test is about
        while len(others) < 100_000 and id(second := Writer()) != address:
            others.append(second)
        assert id(second) == address
        assert not said_no and not want_curves("cm", C, None, writer=second)
        assert not want_curves("cm", C, None, writer=second)
    assert len([r for r in caplog.records if "cm has 1200 classes" in r.getMessage()]) == 2


def test_log_report_with_scores_above_1000_classes_is_sparse(tmp_path, caplog):
    rng = np.random.default_rng(7)
    labels = rng.integers(0, C, 500)
    scores = rng.random((500, C), dtype=np.float32)
    scores[np.arange(500), labels] += 0.7
    with caplog.at_level(logging.WARNING, logger="tb_imbalance"):
        returned = tb_imbalance.log_report(tmp_path / "run", labels, scores, step=0)
    assert isinstance(returned, core.SparseMatrix) and returned.sum() == 500
    said = [r.getMessage() for r in caplog.records if "no PR/ROC curves" in r.getMessage()]
    assert len(said) == 1 and "Pass curves=True" in said[0]
    np.testing.assert_array_equal(returned.toarray(), skm.confusion_matrix(labels, scores.argmax(1), labels=range(C)))


@pytest.mark.parametrize("weighted", [False, True])
def test_a_dense_matrix_above_100_classes_is_written_as_its_cells_with_the_same_values(tmp_path, weighted):
    # From 101 classes the stored tensor holds the non-empty cells; the writer reads the dense
    # matrix as its cells too, so the report maths cost O(cells + C). Nothing written changes.
    from tb_imbalance.events import ReportBuilder

    num_classes = 150
    true, predicted, weights = _rows(num_classes=num_classes, rows=3000, seed=8, weighted=weighted)
    dense = _dense(true, predicted, weights, num_classes)
    names = [f"c{k}" for k in range(num_classes)]
    built = {}
    for form, matrix in (("dense", dense), ("cells", core.SparseMatrix.from_dense(dense))):
        report = ReportStep.of(4, "confusion_matrix", matrix, names)
        built[form] = [value.SerializeToString() for value in ReportBuilder().step_values(report, per_class_scalars=True)]
    assert built["dense"] == built["cells"]
    returned = tb_imbalance.log_matrix(tmp_path / "run", dense, step=4, class_names=names)
    assert isinstance(returned, np.ndarray)  # what the caller gave stays dense
    np.testing.assert_array_equal(matrices(tmp_path)["run"][4], dense)
    assert scalars(tmp_path, "run", "imbalance/macro_f1")[4] == pytest.approx(core.imbalance_metrics(dense)["macro_f1"])


def test_the_summary_matrix_op_stores_a_dense_matrix_above_100_classes_as_the_writers_do(tmp_path):
    tf = pytest.importorskip("tensorflow")
    import tb_imbalance.summary as tbs

    num_classes = 150
    true, predicted, _ = _rows(num_classes=num_classes, rows=3000, seed=9)
    writer = tf.summary.create_file_writer(str(tmp_path / "summary_op"))
    with writer.as_default():
        assert tbs.confusion_matrix("confusion_matrix", true, predicted, step=1, num_classes=num_classes)
    writer.flush()
    tb_imbalance.log_matrix(tmp_path / "writer", _dense(true, predicted, None, num_classes), step=1)
    stored = matrices(tmp_path)
    np.testing.assert_array_equal(stored["summary_op"][1], _dense(true, predicted, None, num_classes))
    np.testing.assert_array_equal(stored["summary_op"][1], stored["writer"][1])


def test_numpy_idioms_on_a_sparse_matrix_say_toarray_or_work():
    """Above 1000 classes the writers return a SparseMatrix: numpy made a 0-d object array of it, unequal to all."""
    dense = np.array([[3, 0, 1], [1, 2, 0], [0, 5, 4]])
    cm = core.SparseMatrix.from_dense(dense)
    idioms = (np.asarray, np.trace, lambda m: m == dense, lambda m: dense == m, lambda m: np.array_equal(m, dense),
              lambda m: np.array_equal(dense, m), lambda m: np.allclose(m, dense), np.diag, np.count_nonzero)
    for idiom in idioms:
        with pytest.raises(TypeError, match=r"not turned into an array implicitly: call .toarray\(\)"):
            idiom(cm)
    assert [cm[k].tolist() for k in range(3)] == dense.tolist()  # a true class's row, as dense[k]
    assert cm[2].dtype == np.int64 and np.ndim(cm) == 2 and np.shape(cm) == (3, 3)
    assert np.sum(cm) == 16 and np.sum(cm, axis=1).tolist() == dense.sum(axis=1).tolist()  # np.sum calls cm.sum(axis, out=…)
    assert np.sum(cm, axis=(0, 1)) == 16 and cm.sum(axis=-1).tolist() == dense.sum(axis=-1).tolist()
    for call in (lambda: np.sum(cm, keepdims=True), lambda: np.sum(cm, initial=0)):
        with pytest.raises(TypeError, match=r"SparseMatrix.sum takes `axis` only; .* sum cm.toarray\(\)"):
            call()
    with pytest.raises(np.exceptions.AxisError, match=r"axis 2 is out of bounds for a \[C, C\] SparseMatrix"):
        cm.sum(axis=2)
    with pytest.raises(IndexError, match=r"row 3 is outside \[0, 3\)"):
        cm[3]
    with pytest.raises(TypeError, match=r"index a SparseMatrix by a true class id, cm\[i\], or a cell, cm\[i, j\]"):
        cm[0.5]
    with pytest.raises(TypeError, match=r"`cm` row ids must be integer class ids, received dtype float64"):
        core.SparseMatrix.from_cells(3, [0.0, 1.0], [0, 1], [1, 2])


def test_a_renamed_class_or_changed_count_among_thousands_is_named_in_the_refusal(tmp_path):
    names, cm = [f"class {k}" for k in range(1500)], core.SparseMatrix.from_cells(1500, [0, 1499], [0, 1499], [3, 4])
    counts = list(range(1500))
    tb_imbalance.log_matrix(tmp_path, cm, 0, class_names=names, class_counts=counts, image=False)
    renamed = list(names)
    renamed[1400] = "class 1400b"  # the 8 names a message shows are alike on both sides
    with pytest.raises(ValueError, match=r"the first difference: class 1400 was 'class 1400', received 'class 1400b'\)"):
        tb_imbalance.log_matrix(tmp_path, cm, 1, class_names=renamed, class_counts=counts, image=False)
    with pytest.raises(ValueError, match=r"the first difference: the count of class 1499 was 1499, received 7\)"):
        tb_imbalance.log_matrix(tmp_path, cm, 1, class_names=names, class_counts=counts[:-1] + [7], image=False)
    assert sorted(matrices(tmp_path)["."]) == [0]

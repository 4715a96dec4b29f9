"""The examples behind each cell: choice, scores, rendering, byte bound, writers and the callback.

Runs in every environment. The oracle for which rows a cell keeps is a plain
Python sort over all rows (most confident mistakes, least confident correct
rows, ties to the lower row); cell counts come from scikit-learn and
probabilities from SciPy.
"""

import io
import logging
import os

import keras
import numpy as np
import pytest
from PIL import Image
from scipy.special import expit, softmax
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

import tb_imbalance
from logdir_reader import examples as logged_examples
from logdir_reader import matrices, run_tag_pairs
from tb_imbalance import format as fmt
from tb_imbalance.example_render import render_example
from tb_imbalance.examples import collect_examples
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback
from tb_imbalance.targets import close_directory_writers


@pytest.fixture(autouse=True)
def _close_writers():
    yield
    close_directory_writers()


def oracle(true_ids, pred_ids, confidence, per_cell):
    """``{(true, pred): [rows…]}`` by a plain sort of every row of each cell."""
    kept = {}
    for cell in sorted(set(zip(true_ids.tolist(), pred_ids.tolist()))):
        rows = [r for r in range(len(true_ids)) if (true_ids[r], pred_ids[r]) == cell]
        if cell[0] == cell[1]:
            rows.sort(key=lambda r: (confidence[r], r))
        else:
            rows.sort(key=lambda r: (-confidence[r], r))
        kept[cell] = rows[:per_cell]
    return kept


def kept_rows(example_set):
    return {(c["true"], c["pred"]): [e["row"] for e in c["examples"]] for c in example_set.index["cells"] if c["examples"]}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("per_cell", [1, 3, 8])
def test_each_cell_keeps_exactly_the_oracles_rows(seed, per_cell):
    rng = np.random.default_rng(seed)
    classes = int(rng.integers(2, 7))
    rows = int(rng.integers(20, 300))
    labels = rng.integers(0, classes, rows)
    # scores rounded to one decimal place: many ties, which go to the lower row
    scores = rng.multinomial(10, np.ones(classes) / classes, rows) / 10
    chosen = collect_examples(np.arange(rows), labels, scores, num_classes=classes, examples_per_cell=per_cell)
    pred = scores.argmax(axis=1)
    assert kept_rows(chosen) == oracle(labels, pred, scores[np.arange(rows), pred], per_cell)
    expected_counts = sk_confusion_matrix(labels, pred, labels=range(classes))
    for cell in chosen.index["cells"]:
        assert cell["count"] == expected_counts[cell["true"], cell["pred"]] > 0
        for example in cell["examples"]:
            assert labels[example["row"]] == cell["true"] and pred[example["row"]] == cell["pred"]
    assert len(chosen.index["cells"]) == np.count_nonzero(expected_counts)
    assert chosen.index["scores"] == "probability" and chosen.index["cut"] is None


def test_top_scores_are_the_three_highest_probabilities_of_the_row():
    rng = np.random.default_rng(1)
    scores = rng.dirichlet(np.ones(5), 50)
    chosen = collect_examples(np.zeros((50, 3)), rng.integers(0, 5, 50), scores, num_classes=5)
    for cell in chosen.index["cells"]:
        for example in cell["examples"]:
            row = scores[example["row"]]
            best = np.argsort(-row)[:3]
            assert [k for k, _ in example["top"]] == best.tolist()
            assert [s for _, s in example["top"]] == pytest.approx(row[best], abs=1e-6)
            assert example["top"][0][0] == cell["pred"]


def test_logits_are_ranked_and_shown_as_softmax_probabilities():
    rng = np.random.default_rng(2)
    logits = rng.normal(scale=3, size=(120, 4))
    labels = rng.integers(0, 4, 120)
    chosen = collect_examples(np.arange(120), labels, logits, num_classes=4, from_logits=True)
    probabilities = softmax(logits, axis=1)
    pred = logits.argmax(axis=1)
    assert kept_rows(chosen) == oracle(labels, pred, probabilities[np.arange(120), pred], 8)
    example = chosen.index["cells"][0]["examples"][0]
    assert example["top"][0][1] == pytest.approx(probabilities[example["row"]].max(), abs=1e-6)
    assert chosen.index["scores"] == "probability"


def test_raw_scores_are_kept_as_they_are_and_marked_raw(tmp_path, caplog):
    scores = np.array([[2.0, -1.0], [0.5, 3.0], [1.0, 0.0]])
    chosen = collect_examples(["a", "b", "c"], [0, 0, 1], scores, num_classes=2)
    assert chosen.index["scores"] == "raw"
    assert kept_rows(chosen) == {(0, 0): [0], (0, 1): [1], (1, 0): [2]}
    assert chosen.index["cells"][1]["examples"][0]["top"] == [[1, 3.0], [0, 0.5]]
    with caplog.at_level(logging.WARNING, logger="tb_imbalance"):
        for step in range(2):
            tb_imbalance.log_report(tmp_path, [0, 0, 1], scores, step, examples=["a", "b", "c"])
    said = [r.getMessage() for r in caplog.records if "not probabilities" in r.getMessage()]
    about_examples = [message for message in said if "behind the examples" in message]
    about_curves = [message for message in said if "no PR/ROC curves" in message]
    assert len(about_examples) == 1 and "pass from_logits=True" in about_examples[0]
    assert len(about_curves) == 1 and "pass from_logits=True" in about_curves[0]
    assert len(said) == 2


@pytest.mark.parametrize("from_logits", [False, True])
def test_a_sigmoid_column_is_two_classes_cut_as_the_matrix_cuts(from_logits):
    column = np.array([0.0, 0.7, -2.0, 3.0, 0.5, 0.2]) if from_logits else np.array([0.5, 0.7, 0.1, 0.9, 0.5, 0.2])
    labels = np.array([0, 1, 1, 1, 0, 0])
    chosen = collect_examples(np.arange(6), labels, column, num_classes=2, from_logits=from_logits)
    positive = expit(column) if from_logits else column
    pred = (column > (0.0 if from_logits else 0.5)).astype(int)  # 0.5 (logit 0) is class 0, as in Keras
    confidence = np.where(pred == 1, positive, 1 - positive)
    assert kept_rows(chosen) == oracle(labels, pred, confidence, 8)
    cm = tb_imbalance.core.confusion_matrix(labels, column, num_classes=2, from_logits=from_logits)
    assert {(c["true"], c["pred"]): c["count"] for c in chosen.index["cells"]} == {
        (i, j): cm[i, j] for i in range(2) for j in range(2) if cm[i, j]
    }


def test_float16_scores_are_read_in_float32(recwarn):
    """Half precision: probabilities over many classes stay probabilities, large logits do not overflow."""
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 300, 400)
    probabilities = softmax(rng.normal(size=(400, 300)) * 3, axis=1).astype(np.float16)
    chosen = collect_examples(np.arange(400), labels, probabilities, num_classes=300)
    assert chosen.index["scores"] == "probability"
    column = np.array([-30.0, 12.0, -0.5, 40.0], dtype=np.float16)  # logits past float16's exp range
    chosen = collect_examples(np.arange(4), np.array([0, 1, 1, 0]), column, num_classes=2, from_logits=True)
    scores = {row["id"]: row["top"] for cell in chosen.index["cells"] for row in cell["examples"]}
    assert scores[0][0] == [0, pytest.approx(1.0)] and scores[3][0] == [1, pytest.approx(1.0)]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_bfloat16_probabilities_are_probabilities_also_widened_to_float32():
    """A softmax rounded to bfloat16 (mixed_bfloat16) sums to 1 only within 2**-8: still probabilities."""
    import ml_dtypes

    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, 200)
    rounded = softmax(rng.normal(size=(200, 3)) * 2, axis=1).astype(ml_dtypes.bfloat16)
    assert np.abs(rounded.astype(np.float64).sum(axis=1) - 1).max() > 1e-3  # past float32's tolerance
    for scores in (rounded, rounded.astype(np.float32)):  # Keras hands them over either way
        assert collect_examples(np.arange(200), labels, scores, num_classes=3).index["scores"] == "probability"
    off = rounded.astype(np.float32) * np.float32(1.01)  # not bfloat16 values, 1 % off: not probabilities
    assert collect_examples(np.arange(200), labels, np.minimum(off, 1), num_classes=3).index["scores"] == "raw"


def test_float16_probabilities_are_probabilities_also_widened_to_float32():
    """A softmax computed in float16 (mixed_float16: exp, sum and division in float16) sums to 1 only within
    about 2e-3 (1.03e-3 here), past the 1e-3 of wider floats and within the 2**-7 of 16-bit ones."""
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 4, 200)
    logits = (rng.normal(size=(200, 4)) * 2).astype(np.float16)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    total = exp[:, 0]
    for column in range(1, 4):
        total = (total + exp[:, column]).astype(np.float16)
    rounded = (exp / total[:, None]).astype(np.float16)
    assert np.abs(rounded.astype(np.float64).sum(axis=1) - 1).max() > 1e-3  # past float32's tolerance
    for scores in (rounded, rounded.astype(np.float32)):  # Keras hands them over either way
        assert collect_examples(np.arange(200), labels, scores, num_classes=4).index["scores"] == "probability"
    off = (rounded.astype(np.float64) * 1.01).astype(np.float16)  # float16 values, 1 % off: not probabilities
    assert collect_examples(np.arange(200), labels, np.minimum(off, 1), num_classes=4).index["scores"] == "raw"


def decoded(png):
    return np.asarray(Image.open(io.BytesIO(png)))


def test_pictures_become_png_thumbnails_of_at_most_64_px():
    gray = (np.arange(64).reshape(8, 8) * 4).astype(np.uint8)
    fields, png = render_example(gray)
    assert fields == {"kind": "image", "width": 8, "height": 8, "shape": [8, 8]}
    np.testing.assert_array_equal(decoded(png), gray)
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(decoded(render_example(rgb)[1]), rgb)
    np.testing.assert_array_equal(decoded(render_example(np.moveaxis(rgb, -1, 0))[1]), rgb)  # channels first
    np.testing.assert_array_equal(decoded(render_example(gray[:, :, None])[1]), gray)
    fields, png = render_example(np.zeros((200, 100), dtype=np.float32))
    assert (fields["width"], fields["height"]) == (32, 64) and decoded(png).shape == (64, 32)
    unit = np.linspace(0, 1, 16).reshape(4, 4)
    np.testing.assert_array_equal(decoded(render_example(unit)[1]), np.round(unit * 255).astype(np.uint8))
    fields, png = render_example(np.array([[0.0, 16.0], [8.0, 4.0]]))  # digits' 0..16 scale
    assert fields["scale"] == "min-max"
    np.testing.assert_array_equal(decoded(png), [[0, 255], [128, 64]])


def test_a_list_of_framework_tensors_or_pil_images_is_a_list_of_pictures(tmp_path):
    """One tensor per row (a dataset's items collected in a list), or PIL images: thumbnails, not their repr."""
    rgb = np.random.default_rng(0).integers(0, 256, (4, 9, 9, 3), dtype=np.uint8)
    rows = {
        "backend tensors": [keras.ops.convert_to_tensor(np.moveaxis(picture, -1, 0)) for picture in rgb],
        "PIL images": [Image.fromarray(picture) for picture in rgb],
    }
    if keras.backend.backend() == "torch":
        import torch

        rows["torch tensors with requires_grad, bfloat16"] = [
            torch.tensor(np.moveaxis(picture, -1, 0) / 255.0, requires_grad=True).to(torch.bfloat16) for picture in rgb]
    for kind, examples in rows.items():
        chosen = collect_examples(examples, [0, 1, 0, 1], np.eye(2)[[0, 1, 1, 0]], num_classes=2)
        shown = [example for cell in chosen.index["cells"] for example in cell["examples"]]
        assert {example["kind"] for example in shown} == {"image"}, kind
        assert len(chosen.thumbnails) == 4, kind
        if kind != "torch tensors with requires_grad, bfloat16":  # exact pixels (bfloat16 rounds them)
            for example in shown:
                np.testing.assert_array_equal(decoded(chosen.thumbnails[example["image"] - 1]), rgb[example["row"]])


def test_strings_and_other_rows():
    fields, png = render_example("é" * 500)
    assert png is None and fields == {"kind": "text", "text": "é" * 200, "length": 500}
    assert render_example(b"bytes \xff")[0]["text"] == "bytes \ufffd"
    hostile = '<img src=x onerror="alert(1)">'
    assert render_example(hostile)[0]["text"] == hostile
    fields, _ = render_example(np.arange(20.0))
    assert fields == {"kind": "values", "shape": [20], "values": [float(v) for v in range(8)]}
    assert render_example(np.float32(np.inf))[0] == {"kind": "values", "shape": [], "values": ["inf"], "numbers_as_text": [0]}


def test_a_row_of_one_string_is_its_text_and_a_ragged_record_its_python_text():
    """A text model's rows are ``[1]`` strings (``Input((1,), dtype="string")``); a record of parts of different
    shapes is shown as text, not refused with numpy's error."""
    expected = {"kind": "text", "text": "win money 🙂", "length": 11}
    for rows in (np.array([["win money 🙂"]]), np.array([["win money 🙂"]], dtype=object),
                 np.array([["win money 🙂".encode()]], dtype=object)):
        assert render_example(rows[0])[0] == expected, rows.dtype
    chosen = collect_examples(np.array([["win money 🙂"], ["hello"]]), [0, 1], np.eye(2), num_classes=2)
    assert [cell["examples"][0]["text"] for cell in chosen.index["cells"]] == ["win money 🙂", "hello"]
    assert render_example(np.array([3.5]))[0] == {"kind": "values", "shape": [1], "values": [3.5]}  # numbers stay
    fields, png = render_example(("refund please", [3, 7]))
    assert png is None and fields == {"kind": "text", "text": "('refund please', [3, 7])", "length": 25}
    chosen = collect_examples([("refund please", [3, 7]), ("ok", [1])], [0, 1], np.eye(2), num_classes=2)
    assert [cell["examples"][0]["kind"] for cell in chosen.index["cells"]] == ["text", "text"]


def test_a_row_of_numbers_and_strings_is_its_values_not_numpys_repr():
    """A DataFrame of mixed columns reads as an object array: each row its values, strings as text."""
    rows = np.array([[37, 55.5, "Lyon", None, b"caf\xc3\xa9", np.int64(4)], [40, 2.0, "x" * 100, 1.5, b"", True]],
                    dtype=object)
    fields, png = render_example(rows[0])
    assert png is None and fields == {
        "kind": "values", "shape": [6], "values": [37, 55.5, "Lyon", "None", "café", 4], "numbers_as_text": []}
    assert render_example(rows[1])[0]["values"][2] == "x" * 64
    assert render_example(np.array(["1.5", 2], dtype=object))[0]["values"] == ["1.5", 2]  # a string stays a string
    chosen = collect_examples(rows, [0, 1], np.eye(2), num_classes=2)
    assert [cell["examples"][0]["values"][:3] for cell in chosen.index["cells"]] == [[37, 55.5, "Lyon"], [40, 2.0, "x" * 64]]


def test_a_row_with_dates_decimals_or_missing_values_is_its_values_not_numpys_repr():
    """A DataFrame with a date column or a nullable one (pandas' NA) reads as an object array of such cells."""
    import datetime
    import decimal

    row = np.array([datetime.date(2024, 1, 31), decimal.Decimal("1.5"), datetime.timedelta(hours=1), "Lyon"], dtype=object)
    assert render_example(row)[0] == {
        "kind": "values", "shape": [4], "values": ["2024-01-31", 1.5, "1:00:00", "Lyon"], "numbers_as_text": []}
    assert render_example(np.array([{"a": 1}, 2], dtype=object))[0]["kind"] == "text"  # a dict is no cell of a table
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"when": pd.to_datetime(["2024-01-01", None]), "n": pd.array([None, 3], dtype="Int64"),
                          "amount": [1.5, 2.0]})
    chosen = collect_examples(frame, [0, 1], np.eye(2), num_classes=2)
    shown = {e["row"]: e for cell in chosen.index["cells"] for e in cell["examples"]}
    assert {row: (e["kind"], e["values"], e["names"]) for row, e in shown.items()} == {
        0: ("values", ["2024-01-01 00:00:00", "<NA>", 1.5], ["when", "n", "amount"]),
        1: ("values", ["NaT", 3, 2.0], ["when", "n", "amount"]),
    }


def test_strings_that_read_as_numbers_stay_text_and_big_integers_are_exact(tmp_path):
    """NaN, infinities and integers from 2**53 on are written as strings, listed in `numbers_as_text`;
    a string "nan" or "inf" among the values is text, and listed nowhere."""
    table = np.array([[np.nan, "nan", 2**53 + 1, "inf"], [-np.inf, "-inf", -(2**63), 2**53 - 1]], dtype=object)
    ints = np.array([[2**62 + 3, 7], [2**53, -(2**53 - 1)]], dtype=np.int64)
    labels, scores = [0, 1], np.eye(2)
    tb_imbalance.log_report(tmp_path / "table", labels, scores, 0, examples=table)
    tb_imbalance.log_report(tmp_path / "ints", labels, scores, 0, examples=ints, example_ids=np.array([2**60 + 1, 5]))
    tb_imbalance.log_report(tmp_path / "floats", labels, scores, 0, examples=np.array([[0.5, np.inf], [1.5, 2.5]]))
    close_directory_writers()
    read = logged_examples(tmp_path)
    shown = {run: {e["row"]: (e["values"], e.get("numbers_as_text")) for cell in read[run][0][0]["cells"]
                   for e in cell["examples"]} for run in ("table", "ints", "floats")}
    assert shown["table"] == {
        0: (["nan", "nan", "9007199254740993", "inf"], [0, 2]),
        1: (["-inf", "-inf", "-9223372036854775808", 9007199254740991], [0, 2]),
    }
    assert shown["ints"] == {0: (["4611686018427387907", 7], [0]), 1: (["9007199254740992", -9007199254740991], [0])}
    assert shown["floats"] == {0: ([0.5, "inf"], [1]), 1: ([1.5, 2.5], None)}  # no string: no list
    assert int(shown["ints"][0][0][0]) == 2**62 + 3


class Table:
    """What a DataFrame is to the examples: two dimensions, column names, and its values as an array
    (no ``ndim``: a Polars DataFrame has only ``shape``)."""

    def __init__(self, values, columns):
        self.values, self.columns = values, columns
        self.shape = values.shape

    def __array__(self, dtype=None, copy=None):
        return self.values


@pytest.mark.parametrize("table", ["pandas", "duck"])
def test_the_rows_of_a_dataframe_are_shown_with_their_column_names(tmp_path, table):
    rows = np.array([[30 + i, 1.5 * i, f"city {i}"] + [i] * 7 for i in range(6)], dtype=object)
    columns = ["age", "income", "city"] + [f"f{k}" for k in range(6)] + [("a", 1)]
    if table == "pandas":
        frame = pytest.importorskip("pandas").DataFrame(rows, columns=columns, index=np.arange(6)[::-1] + 100)
    else:
        frame = Table(rows, columns)
    labels, scores = [0, 1, 1, 0, 1, 0], np.eye(2)[[0, 1, 0, 0, 1, 1]]
    tb_imbalance.log_report(tmp_path, labels, scores, 0, examples=frame)
    close_directory_writers()
    index, _ = logged_examples(tmp_path)["."][0]
    shown = [e for cell in index["cells"] for e in cell["examples"]]
    assert len(shown) == 6 and all(e["values"][:3] == [30 + e["row"], 1.5 * e["row"], f"city {e['row']}"] for e in shown)
    assert all(e["names"] == columns[:8] for e in shown)  # the first 8, as the values
    assert render_example(rows[0])[0].keys() == {"kind", "shape", "values", "numbers_as_text"}  # an array's rows have no names
    assert "names" not in collect_examples(np.zeros((2, 3)), [0, 1], np.eye(2), num_classes=2).index["cells"][0]["examples"][0]


def test_non_finite_pixels_of_a_stretched_picture_are_its_lowest_or_highest_value(recwarn):
    for low, high in ((100.0, 200.0), (-100.0, -10.0)):
        picture = np.full((4, 4), (low + high) / 2)
        picture[0, :4] = [np.nan, low, high, -np.inf]
        picture[1, 0] = np.inf
        fields, png = render_example(picture)
        assert fields["scale"] == "min-max"
        pixels = decoded(png)
        assert pixels[0, :4].tolist() == [0, 0, 255, 0] and pixels[1, 0] == 255 and pixels[2, 2] == 128, (low, pixels)
    unit = np.full((4, 4), 0.5)
    unit[0, 0], unit[0, 1] = np.inf, np.nan  # a [0, 1] picture: +inf as its brightest finite value, NaN its darkest
    assert decoded(render_example(unit)[1])[0, :2].tolist() == [128, 128]
    fields, png = render_example(np.array([[-1e308, 1e308], [0.0, 1e308]]))  # high - low overflows float64
    assert decoded(png).tolist() == [[0, 255], [128, 255]]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_the_byte_bound_cuts_rank_by_rank_and_says_so_once(tmp_path, caplog):
    rng = np.random.default_rng(3)
    pictures = rng.random((400, 32, 32))  # noise: PNGs of about 1 kB each
    labels = rng.integers(0, 3, 400)
    scores = rng.dirichlet(np.ones(3), 400)
    full = collect_examples(pictures, labels, scores, num_classes=3)
    cut = collect_examples(pictures, labels, scores, num_classes=3, examples_max_bytes=20_000)
    assert full.index["cut"] is None and cut.index["cut"] == {"kept": cut.kept, "chosen": full.kept}
    assert 0 < cut.kept < full.kept
    assert sum(map(len, cut.blobs())) <= 20_000
    ranks = [len(c["examples"]) for c in cut.index["cells"]]
    assert max(ranks) - min(ranks) <= 1  # every cell keeps its best first
    full_rows = kept_rows(full)
    for cell, rows in kept_rows(cut).items():
        assert rows == full_rows[cell][: len(rows)]
    assert [c["count"] for c in cut.index["cells"]] == [c["count"] for c in full.index["cells"]]
    with caplog.at_level(logging.WARNING, logger="tb_imbalance"):
        for step in range(3):
            tb_imbalance.log_report(tmp_path, labels, scores, step, examples=pictures, examples_max_bytes=20_000)
    said = [r.getMessage() for r in caplog.records if "examples_max_bytes" in r.getMessage()]
    assert len(said) == 1 and "cut to" in said[0] and "confusion_matrix" in said[0]


def test_log_report_writes_examples_next_to_the_matrix(tmp_path):
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (90, 6, 6), dtype=np.uint8)
    labels = rng.integers(0, 3, 90)
    scores = rng.dirichlet(np.ones(3), 90)
    ids = [f"img-{i:03d}" for i in range(90)]
    for step in range(2):
        tb_imbalance.log_report(tmp_path / "run", labels, scores, step, class_names=["a", "b", "<c>"],
                                examples=images, example_ids=ids, examples_per_cell=2)
    close_directory_writers()
    assert ("run", "confusion_matrix_examples") in run_tag_pairs(tmp_path)
    assert set(matrices(tmp_path)["run"]) == {0, 1}
    logged = logged_examples(tmp_path)["run"]
    assert set(logged) == {0, 1}
    index, thumbnails = logged[1]
    for cell in index["cells"]:
        for example in cell["examples"]:
            assert example["id"] == ids[example["row"]]
            np.testing.assert_array_equal(decoded(thumbnails[example["image"] - 1]), images[example["row"]])
    assert index["rows"] == 90 and index["examples_per_cell"] == 2


def test_torch_summary_writer_target(tmp_path):
    torch = pytest.importorskip("torch")
    tensorboard = pytest.importorskip("torch.utils.tensorboard")
    writer = tensorboard.SummaryWriter(str(tmp_path / "torch_run"))
    logits = torch.randn(40, 3, requires_grad=True)
    labels = torch.randint(0, 3, (40,))
    tb_imbalance.log_report(writer, labels, logits, 0, examples=torch.rand(40, 1, 5, 5), from_logits=True)
    writer.close()
    index, thumbnails = logged_examples(tmp_path)["torch_run"][0]
    assert index["scores"] == "probability" and len(thumbnails) == sum(len(c["examples"]) for c in index["cells"])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"predictions": [0, 1, 2, 1]}, ValueError, r"`examples` needs `predictions` as scores"),
        ({"examples": np.zeros((3, 2))}, ValueError, r"`examples` must have one row per label: received 3 rows for 4"),
        ({"example_ids": [1, 2]}, ValueError, r"`example_ids` must have one id per example: received 2 for 4"),
        ({"examples": None, "example_ids": [1, 2, 3, 4]}, ValueError, r"`example_ids` .* pass examples= too"),
        ({"examples_per_cell": 0}, ValueError, r"`examples_per_cell` must be a positive int"),
        ({"examples_max_bytes": 100}, ValueError, r"`examples_max_bytes` must be an int of at least 10000"),
        ({"examples": "abcd"}, TypeError, r"`examples` must hold one row per example"),
        ({"examples": {"image": np.zeros((4, 2)), "meta": np.zeros((4, 3))}}, TypeError,
         r"`examples` is a dict of model inputs \('image', 'meta'\).* e\.g\. examples=inputs\['image'\]"),
        ({"examples": {"text": np.zeros((4, 2))}}, TypeError,  # one named input: not 'several'
         r"^`examples` is a dict of model inputs \('text'\), and one row per example is shown: pass the inputs of one "
         r"of them, e\.g\. examples=inputs\['text'\]$"),
        ({"examples": [np.zeros((4, 2)), np.zeros((4, 3))]}, ValueError,
         r"`examples` is a list of 2 model inputs of 4 rows each.* e\.g\. examples=inputs\[0\]"),
        ({"examples": (np.zeros((4, 6, 6)), np.zeros((4, 3)), np.zeros(4))}, ValueError,
         r"`examples` is a list of 3 model inputs of 4 rows each"),
        ({"examples": [np.zeros((3, 5, 5)), np.zeros((1, 5, 5))]}, ValueError,  # batches of pictures, as a loop keeps them
         r"^`examples` is a list of 2 arrays of 3, 1 rows, 4 in all: batches collected in a loop, one row per label once "
         r"joined; concatenate them first: np\.concatenate, torch\.cat or jnp\.concatenate$"),
        ({"examples": [np.zeros(2), np.zeros(2), np.zeros(2)]}, ValueError,
         r"one row per label: received 3 rows for 4 labels and 4 predictions; pass the inputs of exactly the logged rows"),
        ({"examples": (np.zeros(2) for _ in range(4))}, TypeError,
         r"`examples` is a generator, which can be read only once .* pass its rows as a list or an array"),
        ({"example_ids": map(str, range(4))}, TypeError, r"`example_ids` is a map, .* list\(example_ids\)"),
        ({"examples": {}}, TypeError, r"`examples` must hold one row per example .* received a single dict"),
    ],
)
def test_bad_examples_arguments_are_named_and_write_nothing(tmp_path, kwargs, error, match):
    call = {"labels": [0, 1, 2, 1], "predictions": np.eye(3)[[0, 1, 2, 0]], "examples": np.zeros((4, 2))} | kwargs
    with pytest.raises(error, match=match):
        tb_imbalance.log_report(tmp_path / "run", call.pop("labels"), call.pop("predictions"), 0, num_classes=3, **call)
    close_directory_writers()
    assert not (tmp_path / "run").exists() or not os.listdir(tmp_path / "run")


def test_examples_or_ids_holding_the_labels_index_in_another_order_are_refused(tmp_path):
    """Rows are paired by position: a DataFrame sorted after the split would show each label beside another row."""
    pd = pytest.importorskip("pandas")
    index = np.array([5, 2, 9, 7])
    labels, scores = pd.Series([0, 1, 0, 1], index=index), np.eye(2)[[0, 1, 1, 0]]
    frame, ids = pd.DataFrame({"v": [1.0, 2.0, 3.0, 4.0]}, index=index), pd.Series(index * 10, index=index)
    for kwargs, moved in (({"examples": frame.sort_index()}, "examples"),
                          ({"examples": frame, "example_ids": ids.sort_index()}, "example_ids")):
        with pytest.raises(ValueError, match=rf"`labels` and `{moved}` are pandas objects holding the same index in "
                                             rf"two orders \(row 0: 5 and 2\).* {moved} = {moved}.loc\[labels.index\]"):
            tb_imbalance.log_report(tmp_path / "run", labels, scores, 0, **kwargs)
        close_directory_writers()
        assert not (tmp_path / "run").exists() or not os.listdir(tmp_path / "run")
    for inputs, said in (({"a": frame.sort_index(), "b": frame}, "dict of model inputs"),  # said first: the fix is another
                         ([frame.sort_index(), frame], "list of 2 model inputs")):
        with pytest.raises((TypeError, ValueError), match=said):
            tb_imbalance.log_report(tmp_path / "run", labels, scores, 0, examples=inputs)
    for rows in (frame.sort_index().loc[labels.index], frame.reset_index(drop=True), frame.to_numpy()):
        chosen = collect_examples(rows, labels, scores, num_classes=2, example_ids=ids)  # aligned, or no index
        assert sorted((e["id"], e["values"][0]) for c in chosen.index["cells"] for e in c["examples"]) == [
            (20, 2.0), (50, 1.0), (70, 4.0), (90, 3.0)]


# -- the callback, on the current Keras backend ------------------------------------


def make_model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6, 6)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
    return model


class RecordPredictions(keras.callbacks.Callback):
    """Predicts the examples set after every epoch, as the model stands then."""

    def __init__(self, x):
        super().__init__()
        self.x, self.scores = x, {}

    def on_epoch_end(self, epoch, logs=None):
        self.scores[epoch] = self.model.predict(self.x, verbose=0)


def picture_data(rows=300):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, rows)
    x = rng.random((rows, 6, 6)).astype("float32")
    x[:, 0, :3] += np.eye(3)[y] * 0.8
    return x, y


def test_callback_examples_belong_to_their_cell_at_each_epoch(tmp_path, capsys):
    x, y = picture_data()
    x_ex, y_ex, ids = x[:120], y[:120], [f"ex{i}" for i in range(120)]
    model = make_model()
    spy = RecordPredictions(x_ex)
    callback = ClassificationReportCallback(tmp_path, class_names=["a", "b", "c"], examples=(x_ex, y_ex, ids), examples_per_cell=4)
    model.fit(x, y, validation_data=(x, y), epochs=3, verbose=0, callbacks=[callback, spy])
    close_directory_writers()
    assert "examples= adds one forward pass: predicting the examples set (120 rows of [6, 6])" in capsys.readouterr().out
    logged = logged_examples(tmp_path)["validation_imbalance"]
    assert set(logged) == {0, 1, 2}
    for epoch, (index, thumbnails) in logged.items():
        scores = spy.scores[epoch]
        pred = scores.argmax(axis=1)
        assert kept_rows_of(index) == oracle(y_ex, pred, scores[np.arange(120), pred], 4)
        for cell in index["cells"]:
            for example in cell["examples"]:
                assert example["id"] == ids[example["row"]]
                assert example["top"][0][1] == pytest.approx(float(scores[example["row"]].max()), abs=1e-5)
        assert len(thumbnails) == sum(len(c["examples"]) for c in index["cells"])


def kept_rows_of(index):
    return {(c["true"], c["pred"]): [e["row"] for e in c["examples"]] for c in index["cells"] if c["examples"]}


@pytest.mark.parametrize("said_by", ["loss", "metric"])
def test_callback_examples_of_logits_are_read_as_softmax_probabilities(tmp_path, said_by):
    """The loss says from_logits=True; or, where a user loss cannot say it, BalancedAccuracy(from_logits=True)."""
    x, y = picture_data(150)
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6, 6)), keras.layers.Flatten(), keras.layers.Dense(3)])
    if said_by == "loss":  # the callback predicts its own validation_data
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        callback_options, fit_options = {"validation_data": (x, y)}, {}
    else:  # the callback reads the compiled metric
        loss = lambda y_true, logits: keras.losses.sparse_categorical_crossentropy(y_true, logits, from_logits=True)  # noqa: E731
        model.compile("adam", loss, metrics=[BalancedAccuracy(3, from_logits=True)])
        callback_options, fit_options = {}, {"validation_data": (x, y)}
    spy = RecordPredictions(x[:60])
    model.fit(x, y, epochs=1, verbose=0, **fit_options, callbacks=[
        ClassificationReportCallback(tmp_path, examples=(x[:60], y[:60]), verbose=0, **callback_options), spy])
    close_directory_writers()
    index, _ = logged_examples(tmp_path)["validation_imbalance"][0]
    probabilities = softmax(spy.scores[0].astype(np.float64), axis=1)
    assert index["scores"] == "probability"
    pred = probabilities.argmax(axis=1)
    assert kept_rows_of(index) == oracle(y[:60], pred, probabilities[np.arange(60), pred], 8)


def test_callback_refuses_examples_of_a_multi_output_model_before_training(tmp_path):
    x, y = picture_data(60)
    inputs = keras.Input((6, 6))
    hidden = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, {"a": keras.layers.Dense(3, activation="softmax", name="a")(hidden),
                                 "b": keras.layers.Dense(3, activation="softmax", name="b")(hidden)})
    model.compile("adam", {"a": "sparse_categorical_crossentropy", "b": "sparse_categorical_crossentropy"},
                  metrics={"a": [BalancedAccuracy(3)]})
    trained = []
    callback = ClassificationReportCallback(tmp_path, examples=(x[:20], y[:20]), verbose=0)
    with pytest.raises(ValueError, match=r"^`examples`: the model returns 2 outputs, and the examples behind each "
                       r"cell are read from a single-output model's predictions.*Leave `examples` unset"):
        model.fit(x, {"a": y, "b": y}, validation_data=(x, {"a": y, "b": y}), epochs=1, verbose=0,
                  callbacks=[callback, keras.callbacks.LambdaCallback(on_train_batch_end=lambda *a: trained.append(1))])
    assert not trained


@pytest.mark.parametrize(
    "examples, error, match",
    [
        (np.zeros((4, 6, 6)), TypeError, r"`examples` must be a tuple \(x, y\) or \(x, y, ids\)"),
        ((np.zeros((4, 6, 6)), [0, 1]), ValueError, r"received lengths x=4, y=2"),
        ((np.zeros((2, 6, 6)), [0, 1], ["a"]), ValueError, r"x=2, y=2, ids=1"),
        ((np.zeros((0, 6, 6)), []), ValueError, r"`examples` is empty"),
    ],
)
def test_callback_refuses_bad_examples_at_construction(tmp_path, examples, error, match):
    with pytest.raises(error, match=match):
        ClassificationReportCallback(tmp_path, examples=examples)


def test_callback_checks_example_labels_before_training(tmp_path):
    x, y = picture_data(40)
    model = make_model()
    callback = ClassificationReportCallback(tmp_path, examples=(x[:10], np.full(10, 7)), verbose=0)
    with pytest.raises(ValueError, match=r"`examples` y: `labels` must hold class ids in \[0, 2\]"):
        model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[callback])
    close_directory_writers()
    assert not matrices(tmp_path)


def test_callback_refuses_multi_input_examples(tmp_path):
    with pytest.raises(TypeError, match=r"`examples` x must be the rows of a single-input model"):
        ClassificationReportCallback(tmp_path, examples=({"a": np.zeros((4, 2)), "b": np.zeros((4, 3))}, [0, 1, 0, 1]))
    with pytest.raises(TypeError, match=r"single-input model"):
        ClassificationReportCallback(tmp_path, examples=([np.zeros((4, 2)), np.zeros((4, 3))], [0, 1, 0, 1]))
    with pytest.raises(TypeError, match=r"stack a list of rows with np.stack"):  # Keras would read 4 inputs
        ClassificationReportCallback(tmp_path, examples=([np.zeros((6, 6))] * 4, [0, 1, 0, 1]))
    ClassificationReportCallback(tmp_path, examples=(["a", "b"], [0, 1]))  # strings: one input


def test_callback_examples_of_a_dataframe_are_logged(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    x, y = rng.random((120, 5)).astype("float32"), rng.integers(0, 3, 120)
    frame = pd.DataFrame(x[60:], columns=list("abcde"))  # frame[0] is no row: a KeyError at the first epoch's end
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    callback = ClassificationReportCallback(tmp_path, validation_data=(x[:60], y[:60]), examples=(frame, y[60:]))
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    assert "predicting the examples set (60 rows of [5])" in capsys.readouterr().out
    close_directory_writers()
    logged = logged_examples(tmp_path)["validation_imbalance"]
    assert sorted(logged) == [0, 1]
    shown = [e for cell in logged[1][0]["cells"] for e in cell["examples"]]
    assert shown and all(e["values"] == [float(v) for v in x[60 + e["row"]]] for e in shown)
    assert all(e["names"] == list("abcde") for e in shown)


def test_callback_examples_holding_y_index_in_another_order_are_refused_at_construction(tmp_path):
    pd = pytest.importorskip("pandas")
    index = np.array([5, 2, 9, 7])
    y, frame = pd.Series([0, 1, 0, 1], index=index), pd.DataFrame(np.eye(4, 3), index=index)
    ids = pd.Series(["a", "b", "c", "d"], index=index)
    for examples, moved in (((frame.sort_index(), y), "x"), ((frame, y, ids.sort_index()), "ids")):
        with pytest.raises(ValueError, match=rf"`examples` \(x, y\[, ids\]\): `y` and `{moved}` are pandas objects "
                                             rf"holding the same index in two orders .* {moved} = {moved}.loc\[y.index\]"):
            ClassificationReportCallback(tmp_path, examples=examples)
    ClassificationReportCallback(tmp_path, examples=(frame.sort_index().loc[y.index], y, ids))  # aligned


def test_the_log_line_describes_the_examples_rows():
    from tb_imbalance.keras.examples_source import ExamplesSource

    described = [ExamplesSource((x, [0, 1, 1, 0])).describe() for x in (
        np.zeros((4, 8, 8)), ["a", "b", "c", "d"], np.array(["a", "b", "c", "d"]), np.zeros(4))]
    assert described == ["4 rows of [8, 8]", "4 rows", "4 rows", "4 rows"]  # numpy strings read 'of []'


def test_callback_refuses_a_dataset_of_batches_as_examples_at_construction(tmp_path):
    x, y = np.zeros((60, 5), "float32"), np.arange(60) % 3

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return x[index * 30:(index + 1) * 30]

    with pytest.raises(TypeError, match=r"`examples` x must be the rows themselves .*received a keras.utils.PyDataset"):
        ClassificationReportCallback(tmp_path, examples=(Batches(), y[:2]))


def test_callback_says_when_the_examples_predictions_are_refused(tmp_path):
    x, y = picture_data(60)
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6, 6)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
    bad = x[:10].copy()
    bad[3] = np.nan  # NaN inputs give NaN scores
    callback = ClassificationReportCallback(tmp_path, examples=(bad, y[:10]), verbose=0)
    with pytest.warns(UserWarning, match=r"`examples`: the model's predictions for its x were refused: `predictions` "
                                         r"contains NaN or infinite values \(first at row 3, column 0\).*without examples") as said:
        model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=[callback])
    assert len([w for w in said if "`examples`" in str(w.message)]) == 1  # once, not every epoch
    # The reports themselves are kept, without examples.
    logged = matrices(tmp_path)["validation_imbalance"]
    assert sorted(logged) == [0, 1]
    np.testing.assert_array_equal(logged[1], sk_confusion_matrix(y, model.predict(x, verbose=0).argmax(1), labels=range(3)))


@pytest.mark.parametrize("option", [{"examples_per_cell": 3}, {"examples_max_bytes": 50_000}, {"example_ids": np.arange(4)}])
def test_examples_options_without_examples_are_refused_not_ignored(tmp_path, option):
    with pytest.raises(ValueError, match=rf"`{next(iter(option))}` applies to the examples behind each cell, and `examples` is not given"):
        tb_imbalance.log_report(tmp_path / "run", [0, 1, 1, 0], np.eye(2)[[0, 1, 0, 0]], 0, **option)
    close_directory_writers()
    assert not (tmp_path / "run").exists() or not os.listdir(tmp_path / "run")
    if "example_ids" not in option:
        with pytest.raises(ValueError, match=r"applies to the examples behind each cell"):
            ClassificationReportCallback(tmp_path, **option)


def test_rows_of_weight_zero_are_never_examples(tmp_path):
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 3, 120)
    scores = rng.dirichlet(np.ones(3), 120)
    weights = rng.choice([0.0, 1.0, 2.5], 120)
    chosen = collect_examples(np.arange(120), labels, scores, num_classes=3, sample_weight=weights)
    kept = np.flatnonzero(weights != 0)
    pred = scores.argmax(axis=1)
    expected = oracle(labels[kept], pred[kept], scores[kept, pred[kept]], 8)
    assert kept_rows(chosen) == {cell: [int(kept[r]) for r in rows] for cell, rows in expected.items()}
    assert chosen.index["rows"] == len(kept)
    counts = sk_confusion_matrix(labels[kept], pred[kept], labels=range(3))
    assert {(c["true"], c["pred"]): c["count"] for c in chosen.index["cells"]} == {
        (int(i), int(j)): int(counts[i, j]) for i, j in zip(*np.nonzero(counts))
    }
    tb_imbalance.log_report(tmp_path, labels, scores, 0, sample_weight=weights, examples=np.arange(120))
    close_directory_writers()
    index, _ = logged_examples(tmp_path)["."][0]
    assert {e["row"] for c in index["cells"] for e in c["examples"]} <= set(kept.tolist())
    with pytest.raises(ValueError, match=r"`sample_weight` must have one weight per row: received 3 for 120"):
        collect_examples(np.arange(120), labels, scores, num_classes=3, sample_weight=[1, 0, 1])


def count_argmax(monkeypatch):
    """Count the core's argmax over score rows (the work examples must not repeat)."""
    from tb_imbalance.core import inputs

    calls = []
    original = inputs._argmax_rows
    monkeypatch.setattr(inputs, "_argmax_rows", lambda array: calls.append(array.shape) or original(array))
    return calls


def test_log_report_with_examples_takes_the_argmax_once(tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    labels, scores = rng.integers(0, 5, 400), rng.dirichlet(np.ones(5), 400)
    weights = rng.choice([0.0, 1.0], 400)
    calls = count_argmax(monkeypatch)
    cm = tb_imbalance.log_report(tmp_path, labels, scores, 0, sample_weight=weights, examples=np.arange(400))
    assert calls == [(400, 5)]
    close_directory_writers()
    index, _ = logged_examples(tmp_path)["."][0]
    kept = np.flatnonzero(weights != 0)
    pred = scores.argmax(axis=1)
    assert kept_rows_of(index) == {
        cell: [int(kept[r]) for r in rows]
        for cell, rows in oracle(labels[kept], pred[kept], scores[kept, pred[kept]], 8).items()
    }
    np.testing.assert_array_equal(cm, sk_confusion_matrix(labels, pred, labels=range(5), sample_weight=weights))


def test_examples_sharing_validation_data_reuse_its_predictions(tmp_path, capsys, monkeypatch):
    x, y = picture_data(200)
    calls = {"n": 0}
    argmax_calls = count_argmax(monkeypatch)
    for shared in (True, False):
        argmax_calls.clear()
        model = make_model()
        original = model.predict

        def counting_predict(*args, **kwargs):
            calls["n"] += 1
            return original(*args, **kwargs)

        model.predict = counting_predict
        spy = RecordPredictions(x)
        examples = (x, y) if shared else (x.copy(), y)
        callback = ClassificationReportCallback(tmp_path / str(shared), validation_data=(x, y), examples=examples)
        calls["n"] = 0
        model.fit(x, y, epochs=2, verbose=0, callbacks=[callback, spy])
        close_directory_writers()
        # the spy predicts once per epoch; the callback once (shared x) or twice
        assert calls["n"] == 2 * (2 if shared else 3)
        # one argmax per epoch serves the matrix and the examples when they share the predictions
        assert len(argmax_calls) == 2 * (1 if shared else 2)
        out = capsys.readouterr().out
        assert ("the examples come from the same predictions" in out) == shared
        index, _ = logged_examples(tmp_path / str(shared))["validation_imbalance"][1]
        pred = spy.scores[1].argmax(axis=1)
        assert kept_rows_of(index) == oracle(y, pred, spy.scores[1][np.arange(200), pred], 8)


@pytest.mark.parametrize("num_classes, k", [(2, 3), (3, 3), (10, 3), (1000, 3), (50, 1)])
def test_top_classes_equal_a_stable_argsort_ties_included(num_classes, k):
    from tb_imbalance.examples import top_classes

    rng = np.random.default_rng(num_classes)
    coarse = rng.integers(0, 4, (500, num_classes)).astype(np.float32)  # many ties
    fine = rng.random((500, num_classes))
    for scores in (coarse, fine, np.zeros((3, num_classes))):
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(top_classes(scores, k), expected)


def test_ids_and_rows_that_json_cannot_hold_as_given_are_kept_readable(tmp_path):
    # os.fsdecode of a non-UTF-8 file name holds lone surrogates; ids past 2**53 are not exact in the page's
    # JSON numbers; complex and long double values have no JSON number
    labels, scores = [0, 1, 1, 0], np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    ids = [os.fsdecode(b"caf\xe9.png"), 2**60 + 1, "b", np.uint64(2**63)]
    rows = [np.array([1 + 2j, 3]), np.ones(3, dtype=np.longdouble) / 2, "text\udce9", "ok"]
    tb_imbalance.log_report(tmp_path / "run", labels, scores, 0, examples=rows, example_ids=ids, image=False)
    close_directory_writers()
    index, _ = logged_examples(tmp_path)["run"][0]
    shown = {entry["id"]: entry for cell in index["cells"] for entry in cell["examples"]}
    assert set(shown) == {"caf\ufffd.png", str(2**60 + 1), "b", str(2**63)}
    assert shown["caf\ufffd.png"]["kind"] == "text" and shown["caf\ufffd.png"]["text"] == "array([1.+2.j, 3.+0.j])"
    assert shown[str(2**60 + 1)]["values"] == [0.5, 0.5, 0.5]
    assert shown["b"]["text"] == "text\ufffd"


def test_a_huge_picture_is_thumbnailed_from_a_subsample_that_keeps_its_content():
    picture = np.zeros((2048, 3000), dtype=np.float32)
    picture[:, 1500:] = 1.0  # left half black, right half white
    fields, png = render_example(picture)
    assert fields == {"kind": "image", "width": 64, "height": 44, "shape": [2048, 3000]}
    pixels = np.asarray(Image.open(io.BytesIO(png)))
    assert pixels.shape == (44, 64)
    assert (pixels[:, :31] == 0).all() and (pixels[:, 33:] == 255).all()


def test_examples_at_many_classes_never_hold_the_c_squared_cells():
    """5,000 classes, 300 rows: the index lists the non-empty cells, counted without a C × C array (200 MB)."""
    import tracemalloc

    rng = np.random.default_rng(8)
    classes, rows = 5000, 300
    labels = rng.integers(0, classes, rows)
    predicted = np.where(rng.random(rows) < 0.5, labels, rng.integers(0, classes, rows))
    scores = np.full((rows, classes), 0.1 / classes, dtype=np.float32)
    scores[np.arange(rows), predicted] += 0.9
    texts = np.array([f"row {k}" for k in range(rows)])
    tracemalloc.start()
    chosen = collect_examples(texts, labels, scores, num_classes=classes, examples_per_cell=2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40 * 2**20, peak  # the scores are 6 MB; the dense cells would be 200 MB
    expected = {(int(t), int(p)): int(n) for (t, p), n in zip(*np.unique(np.c_[labels, predicted], axis=0, return_counts=True))}
    assert {(cell["true"], cell["pred"]): cell["count"] for cell in chosen.index["cells"]} == expected
    for cell in chosen.index["cells"]:
        assert all((labels[e["row"]], predicted[e["row"]]) == (cell["true"], cell["pred"]) for e in cell["examples"])


def test_the_callbacks_own_passes_leave_the_training_run_as_it_was(tmp_path):
    """Predicting examples / validation_data draws no random number training would have drawn (PyTorch's DataLoader)."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 8)).astype("float32"), rng.integers(0, 3, 300)

    def trained_weights(run, **options):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dropout(0.3), keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
        callbacks = [ClassificationReportCallback(tmp_path / run, verbose=0, **options)] if options else []
        model.fit(x, y, validation_data=(x[:100], y[:100]), epochs=3, batch_size=32, shuffle=False, verbose=0,
                  callbacks=callbacks)
        return np.concatenate([keras.ops.convert_to_numpy(w).ravel() for w in model.weights])

    alone = trained_weights("none")
    np.testing.assert_array_equal(trained_weights("examples", examples=(x[:50], y[:50])), alone)
    np.testing.assert_array_equal(trained_weights("predict", validation_data=(x[:100], y[:100])), alone)

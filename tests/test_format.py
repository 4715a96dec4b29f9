"""The versioned on-disk format: metadata round trip and refusal of newer versions."""

import io
import json

import numpy as np
import pytest
from tensorboard.compat.proto import summary_pb2

from tb_imbalance import format as fmt


def test_metadata_round_trip():
    names = ["cat", "<img src=x onerror=alert(1)>", "日本"]
    meta = fmt.create_summary_metadata(names, weighted=True, description="val")
    assert meta.plugin_data.plugin_name == "imbalance"
    assert meta.data_class == summary_pb2.DATA_CLASS_TENSOR
    assert meta.summary_description == "val"
    content = json.loads(meta.plugin_data.content.decode("utf-8"))
    assert content == {"version": 1, "num_classes": 3, "class_names": names, "weighted": True, "encoding": "dense"}
    info = fmt.parse_plugin_content(meta.plugin_data.content)
    assert info == fmt.MatrixInfo(version=1, num_classes=3, class_names=tuple(names), weighted=True, encoding="dense")


def test_newer_version_is_refused_with_upgrade_hint():
    content = json.dumps({"version": fmt.FORMAT_VERSION + 1, "num_classes": 2, "class_names": ["a", "b"]}).encode()
    with pytest.raises(fmt.UnsupportedFormatError, match=rf"version {fmt.FORMAT_VERSION + 1} is newer.*pip install --upgrade tb_imbalance"):
        fmt.parse_plugin_content(content)


@pytest.mark.parametrize("parse, what", [
    (fmt.parse_curves_content, "curves plugin content"),
    (fmt.parse_examples_content, "examples plugin content"),
    (fmt.decode_examples_index, "examples index"),
])
def test_a_newer_blob_sequence_is_refused_in_a_sentence(parse, what):
    newer = fmt.FORMAT_VERSION + 1
    with pytest.raises(fmt.UnsupportedFormatError) as refused:
        parse(json.dumps({"version": newer, "kind": "curves", "matrix_tag": "cm"}).encode())
    assert str(refused.value) == (
        f"{what}: format version {newer} is newer than this tb_imbalance reads (up to {fmt.FORMAT_VERSION}); "
        "upgrade with `pip install --upgrade tb_imbalance`"
    )


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[]", b'{"version": 1, "num_classes": 2, "class_names": ["a", "b"], "encoding": "coo"}', b'{"version": 2, "num_classes": 2, "class_names": ["a", "b"], "encoding": "zip"}', b'{"num_classes": 2}', b'{"version": 1, "num_classes": 3, "class_names": ["a"]}', b'{"version": 0, "num_classes": 1, "class_names": ["a"]}'],
)
def test_malformed_content_is_refused(content):
    with pytest.raises(fmt.UnsupportedFormatError):
        fmt.parse_plugin_content(content)


def test_matrix_encoding():
    counts = fmt.encode_matrix(np.array([[1, 2], [3, 4]], dtype=np.int32))
    assert counts.dtype == np.int64
    weights = fmt.encode_matrix(np.array([[0.5, 0], [0, 1]], dtype=np.float32))
    assert weights.dtype == np.float64
    info = fmt.MatrixInfo(1, 2, ("a", "b"), False)
    np.testing.assert_array_equal(fmt.decode_matrix(counts, info), [[1, 2], [3, 4]])
    with pytest.raises(fmt.UnsupportedFormatError, match=r"shape \(3, 3\), expected \(2, 2\)"):
        fmt.decode_matrix(np.zeros((3, 3)), info)


def test_version_1_content_without_encoding_is_still_read():
    info = fmt.parse_plugin_content(b'{"version": 1, "num_classes": 2, "class_names": ["a", "b"], "weighted": false}')
    assert info.encoding == "dense" and info.version == 1


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_large_matrices_use_the_coo_encoding(dtype):
    size = fmt.DENSE_MAX_CLASSES + 1
    rng = np.random.default_rng(0)
    matrix = np.zeros((size, size), dtype=dtype)
    matrix[rng.integers(0, size, 500), rng.integers(0, size, 500)] = rng.integers(1, 9, 500)
    meta = fmt.create_summary_metadata([str(k) for k in range(size)], weighted=dtype is np.float64)
    info = fmt.parse_plugin_content(meta.plugin_data.content)
    assert (info.version, info.encoding) == (2, "coo")
    stored = fmt.encode_matrix(matrix)
    assert stored.shape == (np.count_nonzero(matrix), 3) and stored.dtype == dtype
    decoded = fmt.decode_matrix(stored, info)
    assert decoded.dtype == dtype
    np.testing.assert_array_equal(decoded, matrix)
    with pytest.raises(fmt.UnsupportedFormatError, match="outside"):
        fmt.decode_matrix(np.array([[size, 0, 1]]), info)
    with pytest.raises(fmt.UnsupportedFormatError, match=r"expected \[K, 3\]"):
        fmt.decode_matrix(np.zeros((2, 2)), info)


def test_dense_encoding_up_to_the_limit():
    assert fmt.encoding_for(fmt.DENSE_MAX_CLASSES) == "dense"
    assert fmt.encoding_for(fmt.DENSE_MAX_CLASSES + 1) == "coo"


def test_the_documented_examples_index_is_what_the_reader_accepts():
    import pathlib
    import re

    doc = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "format.md").read_text()
    section = doc.split("## The examples behind each cell", 1)[1]
    documented = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
    assert fmt.decode_examples_index(json.dumps(documented).encode()) == documented
    written = json.loads(fmt.encode_examples(documented, [b"png"])[0])
    assert set(written) == set(documented)
    content = json.loads(fmt.create_examples_metadata("confusion_matrix").plugin_data.content)
    assert content == {"version": 4, "kind": "examples", "matrix_tag": "confusion_matrix"}
    assert f'`{json.dumps(content).replace("confusion_matrix", "<name>")}`' in section


@pytest.mark.parametrize(
    "index, match",
    [
        ({"version": fmt.FORMAT_VERSION + 1, "num_classes": 2, "cells": []}, "newer than this tb_imbalance"),
        ({"version": 4, "num_classes": 2, "cells": [{"true": 2, "pred": 0, "examples": []}]}, "class ids in"),
        ({"version": 4, "num_classes": 2, "cells": [{"true": 0, "pred": 0, "examples": [{"kind": "audio"}]}]}, "of kind"),
        ({"version": 4, "cells": []}, "integer 'num_classes'"),
        ({"version": 4, "num_classes": 2, "cells": [{"true": 0, "pred": 1, "count": -1, "examples": []}]}, r"cell \(0, 1\) has count -1"),
        ({"version": 4, "num_classes": 2, "cells": [{"true": 0, "pred": 1, "count": 1, "examples": [
            {"id": 7, "kind": "text", "top": [[2, 0.5]]}]}]}, "example 7 has malformed scores `top`"),
        ({"version": 4, "num_classes": 2, "cells": [{"true": 0, "pred": 1, "count": 1, "examples": [
            {"id": 7, "kind": "image", "top": [[1, 0.5]], "image": 0}]}]}, "image example 7 has thumbnail position 0"),
    ],
)
def test_bad_examples_indexes_are_refused(index, match):
    with pytest.raises(fmt.UnsupportedFormatError, match=match):
        fmt.decode_examples_index(json.dumps(index).encode())
    with pytest.raises(fmt.UnsupportedFormatError, match="not tb_imbalance JSON"):
        fmt.decode_examples_index(b"\xff")
    with pytest.raises(fmt.UnsupportedFormatError, match="NaN is not JSON"):
        fmt.decode_examples_index(b'{"version": 4, "num_classes": 2, "cells": [], "x": NaN}')


def test_curves_round_trip_through_the_format_and_bad_blobs_are_refused():
    info = fmt.parse_curves_content(fmt.create_curves_metadata("confusion_matrix", 75).plugin_data.content)
    assert (info.matrix_tag, info.bins, info.calibration_bins) == ("confusion_matrix", 75, 15)
    summary = np.random.default_rng(0).integers(0, 50, size=(4, 3, 75)).astype(np.float64)
    summary[:, 2] *= 0.37
    blob = fmt.encode_curves(summary)[0]
    assert np.load(io.BytesIO(blob)).dtype == np.float32
    np.testing.assert_allclose(fmt.decode_curves(blob, info, 3), summary, rtol=1e-7)
    large = summary.copy()
    large[0, 0, 0] = 2.0**24 + 1  # past float32's exact whole numbers: kept as float64
    assert fmt.decode_curves(fmt.encode_curves(large)[0], info, 3)[0, 0, 0] == 2.0**24 + 1
    with pytest.raises(fmt.UnsupportedFormatError, match=r"expected float \(5, 3, 75\)"):
        fmt.decode_curves(blob, info, 4)
    with pytest.raises(fmt.UnsupportedFormatError, match="not an NPY array"):
        fmt.decode_curves(b"not numpy", info, 3)
    negative = io.BytesIO()
    np.save(negative, -summary)
    with pytest.raises(fmt.UnsupportedFormatError, match="negative or non-finite"):
        fmt.decode_curves(negative.getvalue(), info, 3)
    with pytest.raises(fmt.UnsupportedFormatError, match="not tb_imbalance curves metadata"):
        fmt.parse_curves_content(json.dumps({"version": 5, "kind": "curves", "matrix_tag": "x", "bins": 70, "calibration_bins": 15}).encode())


@pytest.mark.parametrize("classes, bins", [(2, 75), (12, 75), (3, 150)])
def test_curves_blob_is_what_numpy_save_writes(classes, bins):
    summary = np.random.default_rng(classes).integers(0, 50, size=(classes + 1, 3, bins)).astype(np.float64)
    for stored in (summary.astype(np.float32), summary * 2.0**30):  # float32 while exact, else float64
        expected = io.BytesIO()
        np.save(expected, stored, allow_pickle=False)
        assert fmt.encode_curves(stored.astype(np.float64))[0] == expected.getvalue()


def test_format_doc_describes_the_curves_content_written():
    import pathlib

    doc = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "format.md").read_text()
    section = doc.split("## The binned scores behind the curves", 1)[1].split("\n## ", 1)[0]
    content = json.loads(fmt.create_curves_metadata("confusion_matrix", 75).plugin_data.content)
    assert content == {"version": 5, "kind": "curves", "matrix_tag": "confusion_matrix", "bins": 75, "calibration_bins": 15}
    assert f'`{json.dumps(content).replace("confusion_matrix", "<name>")}`' in section

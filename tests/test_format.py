"""The versioned on-disk format: metadata round trip and refusal of newer versions."""

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
    assert content == {"version": 1, "num_classes": 3, "class_names": names, "weighted": True}
    info = fmt.parse_plugin_content(meta.plugin_data.content)
    assert info == fmt.MatrixInfo(version=1, num_classes=3, class_names=tuple(names), weighted=True)


def test_newer_version_is_refused_with_upgrade_hint():
    content = json.dumps({"version": fmt.FORMAT_VERSION + 1, "num_classes": 2, "class_names": ["a", "b"]}).encode()
    with pytest.raises(fmt.UnsupportedFormatError, match=r"version 2 is newer.*pip install --upgrade tb_imbalance"):
        fmt.parse_plugin_content(content)


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[]", b'{"num_classes": 2}', b'{"version": 1, "num_classes": 3, "class_names": ["a"]}', b'{"version": 0, "num_classes": 1, "class_names": ["a"]}'],
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

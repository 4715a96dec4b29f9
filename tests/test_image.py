"""The confusion-matrix picture: colours per true-class share, labels, PNG encoding."""

import io

import numpy as np
import pytest
from PIL import Image

from tb_imbalance.image import _LUT, ConfusionMatrixImage, encode_png


def cell_colour(renderer, pixels, i, j):
    top, left = renderer._origin
    c = renderer.cell
    # a pixel near the cell corner: inside the cell, away from text and grid lines
    return tuple(pixels[top + i * c + 3, left + j * c + 3])


def test_minority_rows_are_coloured_by_their_own_share():
    renderer = ConfusionMatrixImage(["big", "tiny", "none"])
    cm = np.array([[9000, 1000, 0], [0, 3, 0], [0, 0, 0]])
    pixels = renderer.render(cm)
    assert cell_colour(renderer, pixels, 1, 1) == tuple(_LUT[255])  # 3 of 3: full colour
    assert cell_colour(renderer, pixels, 0, 0) == tuple(_LUT[round(0.9 * 255)])
    assert cell_colour(renderer, pixels, 2, 2) == tuple(_LUT[0])  # empty row stays pale


def test_counts_are_drawn_only_up_to_the_annotation_limit():
    small = ConfusionMatrixImage([str(k) for k in range(4)])
    assert small.annotate
    pixels = small.render(np.full((4, 4), 7))
    top, left = small._origin
    c = small.cell
    cell = pixels[top + 1 : top + c, left + 1 : left + c]
    assert len(np.unique(cell.reshape(-1, 3), axis=0)) > 2  # text anti-aliasing
    large = ConfusionMatrixImage([str(k) for k in range(40)])
    assert not large.annotate
    pixels = large.render(np.full((40, 40), 7))
    top, left = large._origin
    c = large.cell
    cell = pixels[top + 1 : top + c, left + 1 : left + c]
    assert len(np.unique(cell.reshape(-1, 3), axis=0)) == 1


@pytest.mark.parametrize("classes", [2, 10, 31, 1000])
def test_size_stays_bounded_and_png_round_trips(classes):
    renderer = ConfusionMatrixImage([f"class number {k}" for k in range(classes)])
    pixels = renderer.render(np.random.default_rng(0).integers(0, 100, (classes, classes)))
    assert pixels.dtype == np.uint8 and pixels.shape[2] == 3
    assert max(pixels.shape[:2]) < 2600
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(pixels))).convert("RGB"))
    np.testing.assert_array_equal(decoded, pixels)


def test_awkward_names_and_weighted_counts_render():
    renderer = ConfusionMatrixImage(["<img src=x onerror=alert(1)>", "line\nbreak", "日本語のクラス名がとても長い場合", ""])
    pixels = renderer.render(np.array([[0.5, 1.25, 0, 0], [0, 2, 0, 0], [0, 0, 1e6, 0], [0, 0, 0, 0]]))
    assert pixels.shape[0] > 100


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"`cm` must have shape \(3, 3\)"):
        ConfusionMatrixImage(["a", "b", "c"]).render(np.eye(2))

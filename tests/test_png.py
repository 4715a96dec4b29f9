"""PNG encoding: the picture's canvas gives a valid PNG of exactly its pixels, picture after picture."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tb_imbalance.image import ConfusionMatrixImage
from tb_imbalance.png import PngCanvas, encode_png


def idat(png: bytes) -> bytes:
    """The concatenated IDAT data of ``png`` (chunk CRCs checked)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    offset, data = 8, b""
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset:offset + 4])
        kind, body = png[offset + 4:offset + 8], png[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + body)
        if kind == b"IDAT":
            data += body
        offset += 12 + length
    return data


def decoded(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.mark.parametrize("static_rows", [0, 1, 7, 20])
def test_canvas_encodes_its_pixels_exactly_as_they_change(static_rows):
    rng = np.random.default_rng(static_rows)
    background = rng.integers(0, 256, (20, 13, 3), dtype=np.uint8)
    canvas = PngCanvas(background, static_rows)
    np.testing.assert_array_equal(canvas.pixels, background)
    for _ in range(3):
        canvas.pixels[static_rows:] = rng.integers(0, 256, (20 - static_rows, 13, 3), dtype=np.uint8)
        png = canvas.encode()
        np.testing.assert_array_equal(decoded(png), canvas.pixels)
        rows = zlib.decompress(idat(png))  # zlib checks the stream's Adler-32
        assert rows == np.concatenate([np.zeros((20, 1), np.uint8), canvas.pixels.reshape(20, -1)], axis=1).tobytes()
        assert png[16:24] == struct.pack(">II", 13, 20)


def test_encode_png_round_trips_any_rgb_array():
    pixels = np.random.default_rng(0).integers(0, 256, (5, 9, 3), dtype=np.uint8)
    np.testing.assert_array_equal(decoded(encode_png(pixels)), pixels)


@pytest.mark.parametrize("classes", [3, 10, 1000])
def test_picture_png_is_the_rendered_picture_step_after_step(classes):
    renderer = ConfusionMatrixImage([f"class {k}" for k in range(classes)])
    rng = np.random.default_rng(classes)
    for _ in range(3):  # the most-confused classes change at 1000 classes: another canvas
        cm = rng.integers(0, 100, (classes, classes))
        width, height, png = renderer.png(cm)
        pixels = renderer.render(cm)
        assert (height, width) == pixels.shape[:2]
        np.testing.assert_array_equal(decoded(png), pixels)
        assert abs(len(png) - len(encode_png(pixels))) < 0.05 * len(png)  # no larger than encoding it whole


@pytest.mark.parametrize("classes", [3, 10, 25, 1000])
def test_rows_redrawn_one_by_one_make_the_picture_a_fresh_renderer_draws(classes):
    rng = np.random.default_rng(classes)
    names = [f"class {k}" for k in range(classes)]
    renderer = ConfusionMatrixImage(names)
    cm = rng.integers(0, 300, (classes, classes))
    for step in range(12):  # a few cells change a step, as late in training; sometimes none; weights
        cm = cm.copy()
        for _ in range(rng.integers(0, 4)):
            i, j = rng.integers(0, classes, 2)
            cm[i, j] = max(0, cm[i, j] + rng.integers(-5, 50))
        if step % 5 == 4:
            cm = cm * 0.5
        np.testing.assert_array_equal(decoded(renderer.png(cm)[2]), ConfusionMatrixImage(names).render(cm))


def test_only_changed_rows_are_redrawn_and_an_unchanged_picture_is_not_recompressed():
    renderer = ConfusionMatrixImage(["a", "b", "c"])
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    first = renderer.png(cm)[2]
    assert renderer.png(cm.copy())[2] is first  # an epoch whose matrix did not change
    canvas = renderer.draw(cm)
    top, left = renderer._origin
    cell = renderer.cell
    canvas.pixels[top + cell + 2, left + 2] = (255, 0, 0)  # inside row 1's first cell
    changed = cm.copy()
    changed[0, 0] += 1
    renderer.draw(changed)
    assert tuple(canvas.pixels[top + cell + 2, left + 2]) == (255, 0, 0)  # row 1 did not change: not redrawn
    np.testing.assert_array_equal(renderer.render(changed)[top : top + cell], ConfusionMatrixImage(["a", "b", "c"]).render(changed)[top : top + cell])
    assert decoded(renderer.png(changed)[2])[top + cell + 2, left + 2].tolist() == [255, 0, 0]  # encoded as drawn


def test_rendered_pictures_are_not_changed_by_later_draws():
    renderer = ConfusionMatrixImage(["a", "b"])
    first = renderer.render(np.array([[5, 0], [0, 5]]))
    kept = first.copy()
    renderer.png(np.array([[0, 5], [5, 0]]))
    renderer.render(np.array([[1, 4], [4, 1]]))
    np.testing.assert_array_equal(first, kept)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="fork only")
def test_a_process_forked_while_a_picture_is_drawn_can_draw_pictures():
    import os
    import signal

    from tb_imbalance import image

    renderer = ConfusionMatrixImage(["a", "b", "c"])
    with image._DRAWING:  # another thread of the parent draws at the moment of the fork
        pid = os.fork()
        if pid == 0:  # the child: no thread of it will ever release the parent's lock
            signal.alarm(20)
            try:
                renderer.png(np.eye(3, dtype=int))
                os._exit(0)
            except BaseException:
                os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

"""The confusion-matrix picture: colours per true-class share, labels, PNG encoding."""

import io

import numpy as np
import pytest
from PIL import Image

from tb_imbalance.image import _LUT, ConfusionMatrixImage, encode_png


def cell_colour(renderer, pixels, i, j, layout=None):
    layout = layout or renderer._full
    top, left = layout.origin
    # a pixel near the cell corner: inside the cell, away from text and grid lines
    return tuple(pixels[top + i * layout.cell_h + 2, left + j * layout.cell_w + 2])


def test_minority_rows_are_coloured_by_their_own_share():
    renderer = ConfusionMatrixImage(["big", "tiny", "none"])
    cm = np.array([[9000, 1000, 0], [0, 3, 0], [0, 0, 0]])
    pixels = renderer.render(cm)
    assert cell_colour(renderer, pixels, 1, 1) == tuple(_LUT[255])  # 3 of 3: full colour
    assert cell_colour(renderer, pixels, 0, 0) == tuple(_LUT[round(0.9 * 255)])
    assert cell_colour(renderer, pixels, 2, 2) == tuple(_LUT[0])  # empty row stays pale


def cell_pixels(renderer, pixels, i=0, j=0):
    layout = renderer._full
    top, left = layout.origin
    return pixels[top + i * layout.cell_h + 1 : top + (i + 1) * layout.cell_h,
                  left + j * layout.cell_w + 1 : left + (j + 1) * layout.cell_w]


@pytest.mark.parametrize("classes, lines", [(2, 2), (4, 2), (8, 2), (9, 1), (13, 1), (14, 0), (30, 0)])
def test_cells_show_numbers_while_they_have_room(classes, lines):
    renderer = ConfusionMatrixImage([str(k) for k in range(classes)])
    assert renderer._full.lines == lines and renderer.annotate == (lines > 0)
    pixels = renderer.render(np.full((classes, classes), 7))
    cell = cell_pixels(renderer, pixels)
    if lines:
        assert len(np.unique(cell.reshape(-1, 3), axis=0)) > 2  # text anti-aliasing
        ink_rows = np.flatnonzero((np.abs(cell.astype(int) - cell[-1, -1]).sum(-1) > 60).any(1))
        assert len(np.split(ink_rows, np.flatnonzero(np.diff(ink_rows) > 1) + 1)) == lines  # one band per line
    else:
        assert len(np.unique(cell.reshape(-1, 3), axis=0)) == 1


@pytest.mark.parametrize("classes", [2, 3, 5, 10, 20, 30, 31, 1000])
def test_the_picture_fits_the_images_card_at_full_size(classes):
    from tb_imbalance.image import CARD_HEIGHT, CARD_WIDTH

    names = [f"transaction type {k} with a long name" for k in range(classes)]
    pixels = ConfusionMatrixImage(names).render(np.random.default_rng(1).integers(0, 50, (classes, classes)))
    assert pixels.shape[0] <= CARD_HEIGHT and pixels.shape[1] <= CARD_WIDTH


@pytest.mark.parametrize("classes", [2, 10, 31, 1000])
def test_size_stays_bounded_and_png_round_trips(classes):
    renderer = ConfusionMatrixImage([f"class number {k}" for k in range(classes)])
    pixels = renderer.render(np.random.default_rng(0).integers(0, 100, (classes, classes)))
    assert pixels.dtype == np.uint8 and pixels.shape[2] == 3
    assert max(pixels.shape[:2]) < 400
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(pixels))).convert("RGB"))
    np.testing.assert_array_equal(decoded, pixels)


def test_awkward_names_and_weighted_counts_render():
    renderer = ConfusionMatrixImage(["<img src=x onerror=alert(1)>", "line\nbreak", "日本語のクラス名がとても長い場合", ""])
    pixels = renderer.render(np.array([[0.5, 1.25, 0, 0], [0, 2, 0, 0], [0, 0, 1e6, 0], [0, 0, 0, 0]]))
    assert pixels.shape[0] > 100


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"`cm` must have shape \(3, 3\)"):
        ConfusionMatrixImage(["a", "b", "c"]).render(np.eye(2))


def test_picture_stays_legible_without_matplotlib_or_system_fonts(monkeypatch):
    from PIL import ImageFont

    from tb_imbalance import image_text

    monkeypatch.setattr(image_text, "font_paths", lambda: [])
    image_text._fonts.cache_clear()
    try:
        face = image_text.font(11)
        assert isinstance(face, ImageFont.FreeTypeFont) and face.size == 11  # scalable, not the 6 px bitmap
        left, top, right, bottom = face.getbbox("fraud")
        assert right - left >= 20 and 7 <= bottom - top <= 13
        renderer = ConfusionMatrixImage(["normal", "fraud"])
        pixels = renderer.render(np.array([[90, 3], [2, 5]]))
        top_, left_ = renderer._origin
        label_area = pixels[top_ : top_ + renderer.cell * 2, : left_ - 2]
        assert (label_area.sum(axis=2) < 300).sum() > 30  # dark ink of the row labels
    finally:
        image_text._fonts.cache_clear()


def ink_columns(pixels, rows):
    """Columns holding dark text pixels within ``rows``."""
    band = pixels[rows].sum(axis=2) < 400
    return np.flatnonzero(band.any(axis=0))


@pytest.mark.parametrize("classes", [2, 3, 4])
def test_caption_is_not_clipped_with_few_classes(classes):
    from tb_imbalance.image_text import font

    renderer = ConfusionMatrixImage([f"c{k}" for k in range(classes)])
    pixels = renderer.render(np.eye(classes, dtype=int) * 5)
    caption = "rows: true · columns: predicted"
    caption_rows = slice(23, 34)  # between the title and the column numbers
    columns = ink_columns(pixels, caption_rows)
    assert columns.min() <= 8 and columns.max() >= 6 + font(10).getlength(caption) + 60  # caption, then the scale
    assert columns.max() < pixels.shape[1] - 2  # and it ends inside the picture


def test_long_names_with_a_shared_prefix_stay_distinct():
    from tb_imbalance.image_text import MAX_LABEL_CHARS, display_labels

    names = [f"very_long_shared_prefix_of_a_feature_{k:02d}_{suffix}" for k in range(3) for suffix in ("a", "b")]
    labels = display_labels(names)
    assert len(set(labels)) == len(names)
    assert all(len(label) <= MAX_LABEL_CHARS for label in labels)
    same = display_labels(["x" * 40 + "tail", "x" * 41 + "tail"])
    assert len(set(same)) == 2 and all(label.startswith(("#0 ", "#1 ")) for label in same)


def test_bidi_controls_and_invisible_characters_are_labelled_as_code_points():
    from tb_imbalance.image_text import display_labels

    names = ["\u202etxt.exe", "cat", "cat\u202e", "cat\u200b", "a\u2066b\u2069c", "\u200fok\u200e", "caf\u00e9 \u200d"]
    # the override drew "txt.exe" as "exe.txt"; "cat\u202e" and "cat\u200b" were drawn as "cat"
    assert display_labels(names) == ["U+202Etxt.exe", "cat", "catU+202E", "catU+200B", "aU+2066bU+2069c",
                                     "U+200FokU+200E", "caf\u00e9 \u200d"]
    renderer = ConfusionMatrixImage(names)
    assert renderer.labels[0].startswith("0 \u2068U+202E") and renderer.render(np.eye(7, dtype=int)).shape[0] > 100


def test_a_right_to_left_name_keeps_its_class_index_on_the_left():
    from PIL import ImageDraw, features

    from tb_imbalance import image_text

    if not features.check("raqm"):
        pytest.skip("without libraqm Pillow draws every label left to right")

    def drawn(text):
        face, shown = image_text.drawable(text, 22)
        image = Image.new("L", (400, 40), 0)
        ImageDraw.Draw(image).text((0, 20), shown, font=face, fill=255, anchor="lm")
        return np.asarray(image)

    renderer = ConfusionMatrixImage(["ok", "שלום abc"])
    digit = drawn("1")
    width = np.flatnonzero(digit.any(axis=0)).max() + 1
    # the Hebrew name turned the whole label right to left: "abc שלום 1", the index on the right
    np.testing.assert_array_equal(drawn(renderer.labels[1])[:, :width], digit[:, :width])
    assert image_text.drawable(renderer.labels[1], 11)[1] == "1 \u2068שלום abc\u2069"  # the isolates draw nothing


def test_cjk_and_emoji_names_are_never_boxes():
    from tb_imbalance import image_text

    paths = image_text.font_paths()
    has_cjk_font = any("CJK" in path for path in paths)
    has_emoji_font = any("Symbola" in path for path in paths)
    face, shown = image_text.drawable("日本語", 11)
    if has_cjk_font:
        assert shown == "日本語" and "CJK" in face.path
    else:
        assert shown == "U+65E5U+672CU+8A9E"
    face, shown = image_text.drawable("fraud 🚨", 11)
    if has_emoji_font:
        assert shown == "fraud 🚨" and "Symbola" in face.path and image_text._has_glyph(face, "🚨")
    else:
        assert shown == "fraud U+1F6A8"
    face, shown = image_text.drawable("日本 🚨", 11)  # no single font has both: the best one, the rest as code points
    assert shown in ("日本 U+1F6A8", "U+65E5U+672C 🚨", "U+65E5U+672C U+1F6A8")
    renderer = ConfusionMatrixImage(["ok", "日本語", "fraud 🚨"])
    assert renderer.render(np.eye(3, dtype=int)).shape[0] > 100


def test_the_fonts_ci_installs_are_found():
    """make test installs Debian's fonts-noto-cjk and fonts-symbola (scripts/ensure_chromium.sh)."""
    import pathlib

    from tb_imbalance import image_text

    script = (pathlib.Path(__file__).parents[1] / "scripts" / "ensure_chromium.sh").read_text()
    assert "fonts-noto-cjk" in script and "fonts-symbola" in script
    paths = image_text.font_paths()
    if pathlib.Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc").exists():
        assert any("CJK" in path for path in paths)
    if pathlib.Path("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf").exists():
        assert any("Symbola" in path for path in paths)


def test_thousands_of_classes_draw_the_most_confused_sub_matrix():
    from tb_imbalance.image import most_confused_classes

    classes = 2000
    rng = np.random.default_rng(0)
    cm = np.diag(rng.integers(50, 100, classes))
    cm[1500, 7] = 40  # the worst confusion
    cm[3, 1999] = 30
    renderer = ConfusionMatrixImage([f"class {k}" for k in range(classes)])
    pixels = renderer.render(cm)
    assert renderer.draws_subset and renderer.subset_size == 30
    assert max(pixels.shape[:2]) < 400  # a readable picture, not a 2000-px diagonal
    chosen = most_confused_classes(cm, 30)
    assert {7, 1500, 3, 1999} <= set(chosen.tolist()) and len(chosen) == 30
    layout, _ = renderer._subset_layout(chosen)
    i, j = chosen.tolist().index(1500), chosen.tolist().index(7)
    # the worst cell is coloured by its share of class 1500's full support
    share = cm[1500, 7] / cm[1500].sum()
    assert cell_colour(renderer, pixels, i, j, layout) == tuple(_LUT[round(share * 255)])


def test_prepare_draws_the_shared_frame_before_the_first_picture():
    renderer = ConfusionMatrixImage([f"class {k}" for k in range(40)])
    assert renderer._subset is None
    renderer.prepare()
    frame = renderer._subset
    assert frame is not None and frame.num_classes == 30
    pixels = renderer.render(np.random.default_rng(0).integers(0, 9, (40, 40)))
    assert renderer._subset is frame and pixels.shape == (frame.frame.shape[0], frame.frame.shape[1], 3)

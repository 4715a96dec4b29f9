"""The picture's cells drawn from a glyph atlas: same labels, same look as drawing each label with PIL."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tb_imbalance.image import ConfusionMatrixImage, _INK, _LUT, _WHITE_TEXT, most_confused_classes
from tb_imbalance.image_cells import CellCache, GlyphAtlas, count_labels, draw_cells, percent_labels
from tb_imbalance.image_text import font


def reference_count(value: float) -> str:
    """How a count reads in a cell, written with Python's own formatting."""
    if float(value).is_integer():
        value = int(value)
        return f"{value}" if value < 100_000 else f"{value / 1000:.0f}k"
    return f"{value:.3g}"


@pytest.fixture(scope="module")
def atlas():
    return GlyphAtlas(font(12))


def test_count_labels_read_as_python_formats_them(atlas):
    rng = np.random.default_rng(0)
    values = np.concatenate([
        [0, 1, 9, 10, 99, 100, 99_999, 100_000, 100_499, 100_500, 101_500, 123_456_789],
        rng.integers(0, 10**7, 300),
    ])
    glyphs = count_labels(values.reshape(-1, 4))
    assert [atlas.text(g) for g in glyphs.reshape(-1, glyphs.shape[-1])] == [reference_count(v) for v in values]
    weights = np.concatenate([rng.random(50) * 10.0 ** rng.integers(-3, 7, 50), [2.0, 0.5, 1e6, 12345.678]])
    glyphs = count_labels(weights)
    assert [atlas.text(g) for g in glyphs] == [reference_count(v) for v in weights]


def test_percent_labels_read_as_python_formats_them(atlas):
    shares = np.concatenate([np.linspace(0, 1, 2001), [0.125, 0.135, 0.005, 0.015, 1 / 3, 2 / 3, 0.995]])
    shown = np.ones(len(shares), dtype=bool)
    shown[5] = False
    texts = [atlas.text(g) for g in percent_labels(shares, shown)]
    assert texts == ["" if k == 5 else f"{share:.0%}" for k, share in enumerate(shares)]
    assert [atlas.text(g) for g in percent_labels(shares, shown, sign=False)] == [text[:-1] for text in texts]
    beyond = np.array([0.5, 1.5, 12.345])  # past a row's shares: written all the same
    assert [atlas.text(g) for g in percent_labels(beyond, np.ones(3, dtype=bool))] == ["50%", "150%", "1234%"]


def pil_cell(height, width, count, share, face):
    """One cell drawn label by label with PIL, the way the picture looked before the atlas."""
    level = int(np.clip(round(share * 255), 0, 255))
    cell = Image.new("RGB", (width, height), tuple(int(c) for c in _LUT[level]))
    draw = ImageDraw.Draw(cell)
    colour = (255, 255, 255) if _WHITE_TEXT[level] else tuple(int(c) for c in _INK)
    line = face.size // 2 + 1
    draw.text((width // 2, height // 2 - line), reference_count(count), font=face, fill=colour, anchor="mm")
    draw.text((width // 2, height // 2 + line), f"{share:.0%}", font=face, fill=colour, anchor="mm")
    pixels = np.asarray(cell).copy()
    pixels[0, :] = pixels[:, 0] = 255
    return pixels


def test_cells_look_like_labels_drawn_one_by_one():
    cm = np.array([[950, 40, 10], [3, 57, 0], [120, 2, 2878]])
    renderer = ConfusionMatrixImage(["a", "b", "c"])
    pixels = renderer.render(cm)
    layout = renderer._full
    top, left = layout.origin
    h, w = layout.cell_h, layout.cell_w
    assert layout.lines == 2
    share = cm / cm.sum(1, keepdims=True)
    for i in range(3):
        for j in range(3):
            drawn = pixels[top + i * h : top + (i + 1) * h, left + j * w : left + (j + 1) * w].astype(int)
            expected = pil_cell(h, w, cm[i, j], share[i, j], layout.text_font).astype(int)
            # the same background, and ink in the same places within a pixel or two
            assert tuple(drawn[h - 2, w - 2]) == tuple(expected[h - 2, w - 2])
            ink_drawn = np.abs(drawn - drawn[h - 2, w - 2]).sum(-1) > 60
            ink_expected = np.abs(expected - expected[h - 2, w - 2]).sum(-1) > 60
            rows_d, cols_d = np.nonzero(ink_drawn)
            rows_e, cols_e = np.nonzero(ink_expected)
            assert abs(rows_d.min() - rows_e.min()) <= 2 and abs(rows_d.max() - rows_e.max()) <= 2
            assert abs(cols_d.min() - cols_e.min()) <= 2 and abs(cols_d.max() - cols_e.max()) <= 2
            assert abs(int(ink_drawn.sum()) - int(ink_expected.sum())) <= 0.25 * ink_expected.sum()


def test_labels_kept_between_epochs_equal_labels_drawn_afresh(monkeypatch):
    import tb_imbalance.image_cells as image_cells

    def fresh(glyphs, cell):
        return GlyphAtlas(font(10))._strips(glyphs.reshape(-1, glyphs.shape[-1]), cell).reshape(
            glyphs.shape[:-1] + (-1, cell)
        )

    atlas = GlyphAtlas(font(10))
    monkeypatch.setattr(image_cells, "_KEPT_STRIPS", 6)  # force the kept labels to be dropped and drawn again
    rng = np.random.default_rng(3)
    for epoch in range(6):
        counts = rng.integers(0, 10 ** (1 + epoch % 4), size=(3, 4))  # labels of 1 to 4 digits, "5" and "50" alike
        counts[0, 0], counts[0, 1] = 5, 50
        for cell in (20, 31):
            glyphs = count_labels(counts)
            np.testing.assert_array_equal(atlas.line(glyphs, cell), fresh(glyphs, cell))
    assert 0 < len(atlas._drawn[20]) <= 12  # the limit, or one grid's own 12 labels


@pytest.mark.parametrize("cell_h, cell_w, lines", [(16, 25, 1), (30, 40, 2), (5, 5, 0)])
def test_cells_kept_between_epochs_equal_the_grid_drawn_afresh(monkeypatch, cell_h, cell_w, lines):
    import tb_imbalance.image_cells as image_cells

    atlas = GlyphAtlas(font(10))
    monkeypatch.setattr(image_cells, "_KEPT_CELL_BYTES", 60 * cell_h * cell_w * 3)  # force the kept cells to be dropped
    cache = CellCache(cell_h, cell_w, atlas, _LUT, _WHITE_TEXT, _INK)
    drawn = []
    monkeypatch.setattr(image_cells, "draw_cells", lambda colours, *args, **kwargs: drawn.append(colours.shape[1])
                        or draw_cells(colours, *args, **kwargs))
    rng = np.random.default_rng(5)
    for epoch in range(8):
        cm = rng.integers(0, 10 ** (1 + epoch % 5), size=(6, 7)) * (rng.random((6, 7)) < 0.7)
        share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        levels = np.clip(np.rint(share * 255), 0, 255).astype(np.intp)
        labels = [count_labels(cm), percent_labels(share, np.broadcast_to(cm.sum(axis=1, keepdims=True) > 0, cm.shape))][2 - lines :]
        expected = draw_cells(_LUT[levels], cell_h, cell_w, labels, atlas, light_text=_WHITE_TEXT[levels], ink=_INK)
        np.testing.assert_array_equal(cache.grid(levels, labels), expected)
        count = len(drawn)
        np.testing.assert_array_equal(cache.grid(levels, labels), expected)  # the same looks again: none drawn
        assert len(drawn) == count
    assert sum(drawn) > 60 and 0 < len(cache._rows) <= 60  # the limit, the last grid's looks among them


def test_threads_drawing_with_one_font_get_their_own_labels(monkeypatch):
    # The callback's background writer and a log_report call on the caller's thread draw with the
    # same font's atlas at once; dropping the kept labels in one must not break the other.
    import tb_imbalance.image_cells as image_cells
    from threads import run_in_threads

    monkeypatch.setattr(image_cells, "_KEPT_STRIPS", 3)
    atlas = GlyphAtlas(font(10))
    expected = {seed: GlyphAtlas(font(10)).line(count_labels(np.arange(seed, seed + 40).reshape(5, 8)), 24)
                for seed in range(4)}
    failures = []

    def draw(seeds):
        try:
            for _ in range(200):
                for seed in seeds:
                    drawn = atlas.line(count_labels(np.arange(seed, seed + 40).reshape(5, 8)), 24)
                    assert np.array_equal(drawn, expected[seed])
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(repr(error))

    run_in_threads(draw, [([0, 1],), ([2, 3],), ([1, 3],)])
    assert failures == []


def brute_force_most_confused(cm, k):
    off = np.array(cm, dtype=np.float64)
    np.fill_diagonal(off, 0)
    chosen = {}
    for cell in np.argsort(-off, axis=None, kind="stable"):
        if len(chosen) >= k or off.flat[cell] <= 0:
            break
        i, j = divmod(int(cell), off.shape[1])
        chosen.setdefault(i)
        if len(chosen) < k:
            chosen.setdefault(j)
    for c in np.argsort(-np.asarray(cm).sum(axis=1), kind="stable"):
        if len(chosen) >= k:
            break
        chosen.setdefault(int(c))
    return sorted(chosen)


@pytest.mark.parametrize("seed", range(12))
def test_most_confused_classes_equal_a_full_sort(seed):
    rng = np.random.default_rng(seed)
    classes = int(rng.integers(35, 400))
    density = [0.001, 0.01, 0.3][seed % 3]
    cm = rng.integers(0, [3, 50, 1000][seed % 3], (classes, classes)) * (rng.random((classes, classes)) < density)
    if seed % 4 == 0:  # the same few classes confused over and over, ties everywhere
        cm[:6, :6] = 9
    np.fill_diagonal(cm, rng.integers(0, 500, classes))
    assert most_confused_classes(cm, 30).tolist() == brute_force_most_confused(cm, 30)


def _contrast(first, second):
    def luminance(colour):
        linear = np.asarray(colour, float) / 255
        linear = np.where(linear <= 0.03928, linear / 12.92, ((linear + 0.055) / 1.055) ** 2.4)
        return float(linear @ [0.2126, 0.7152, 0.0722])

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_cell_text_contrasts_at_least_4_5_to_1_with_its_cell():
    """WCAG's 4.5:1 for text; a fixed threshold on the share (white above 55 %) gave 2.8:1 mid-scale."""
    rows = np.array([[k, 100 - k] for k in (0, 20, 40, 48, 52, 55, 58, 62, 80, 100)])  # shares in column 0
    cm = np.zeros((len(rows), len(rows)), dtype=np.int64)
    cm[:, :2] = rows
    renderer = ConfusionMatrixImage([f"c{k}" for k in range(len(rows))])
    pixels = renderer.render(cm).astype(int)
    layout = renderer._full
    top, left = layout.origin
    h, w = layout.cell_h, layout.cell_w
    assert layout.lines >= 1
    for i in range(len(rows)):
        cell = pixels[top + i * h : top + (i + 1) * h, left : left + w]
        background = cell[h - 2, w - 2]
        text = cell.reshape(-1, 3)[np.abs(cell - background).sum(-1).reshape(-1).argmax()]  # a glyph's core
        assert _contrast(background, text) >= 4.5, (rows[i], background, text)

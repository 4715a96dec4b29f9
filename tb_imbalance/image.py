"""Confusion-matrix pictures for TensorBoard's Images tab, drawn cheaply every epoch.

Designed for the Images tab's card at its default size: TensorBoard 2.21
shows a picture scaled to the card's image area, about 215 px tall and 320
to 400 px wide (cards are at least 335 px wide and 320 px tall), with
pixelated scaling. So the picture is at most :data:`CARD_HEIGHT` ×
:data:`CARD_WIDTH` pixels and shown at full size or larger, with 10–12 px
text: rows are the true classes, labelled ``"<index> <name>"`` on the left;
columns the predicted classes, numbered by class index on top; the colour
scale on the caption line.

Cells are coloured by the *row-normalised* value (share of the true class),
so a minority class with 12 examples is as visible as a majority class with
12,000. A cell shows its count and share when it has room for two lines,
its share alone when it has room for one (up to about 12 classes), and
colour only beyond; row and column labels thin out so they stay legible.
Above ``max_drawn_classes`` (30) a full grid would be cells of a pixel or
two: the picture then shows the sub-matrix of the most-confused classes
(those in the largest off-diagonal cells), titled as such; colours stay the
share of each true class's full support.

The title, captions and colour bar are drawn once per geometry; per epoch
only the rows of cells whose counts changed are filled
(:mod:`tb_imbalance.image_cells`, no Python call per cell), and a picture
that did not change is not compressed again. Fonts and labels (any script, long names kept distinct) come from
:mod:`tb_imbalance.image_text`; the colour scale is ColorBrewer "Blues", the
same ramp matplotlib calls ``Blues``.

Example:
    >>> import numpy as np
    >>> picture = ConfusionMatrixImage(["cat", "dog"]).render(np.array([[5, 1], [0, 3]]))
    >>> picture.dtype, picture.shape[2], picture.shape[0] <= CARD_HEIGHT
    (dtype('uint8'), 3, True)
"""

from __future__ import annotations

import os
import threading
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from tb_imbalance import core
from tb_imbalance.image_cells import CellCache, atlas_for, count_labels, percent_labels
from tb_imbalance.image_text import display_labels, drawable, font, isolated
from tb_imbalance.png import PngCanvas, encode_png

__all__ = ["CARD_HEIGHT", "CARD_WIDTH", "ConfusionMatrixImage", "encode_png", "most_confused_classes"]

# ColorBrewer "Blues" (9 classes), the anchors of matplotlib's ``Blues``.
_BLUES = np.array(
    [
        [0xF7, 0xFB, 0xFF], [0xDE, 0xEB, 0xF7], [0xC6, 0xDB, 0xEF],
        [0x9E, 0xCA, 0xE1], [0x6B, 0xAE, 0xD6], [0x42, 0x92, 0xC6],
        [0x21, 0x71, 0xB5], [0x08, 0x51, 0x9C], [0x08, 0x30, 0x6B],
    ],
    dtype=np.float64,
)
_LUT = np.stack(
    [np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_BLUES)), _BLUES[:, ch]) for ch in range(3)],
    axis=1,
).round().astype(np.uint8)

_INK = np.array([0, 0, 0], dtype=np.uint16)


def _white_text_levels(colours: np.ndarray) -> np.ndarray:
    """Per colour, whether white text contrasts more with it than black (WCAG contrast: at least
    4.58:1 either way, where a fixed threshold on the share left 2.8:1 mid-scale)."""
    linear = colours / 255.0
    linear = np.where(linear <= 0.03928, linear / 12.92, ((linear + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05


_WHITE_TEXT = _white_text_levels(_LUT)  # per level of _LUT
# One picture drawn at a time in the process: a drawing thread and the writer's threads may share pictures.
_DRAWING = threading.Lock()


def _forget_after_fork() -> None:
    global _DRAWING
    _DRAWING = threading.Lock()  # a child has no thread that could release the parent's


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)

#: Height of the image area of TensorBoard's Images card at its default size.
CARD_HEIGHT = 215
#: Width up to which a picture of :data:`CARD_HEIGHT` is shown whole in a default card.
CARD_WIDTH = 320
_MARGIN = 6
_LABEL_PX = 11  # class labels, captions
_CELL_PX = 10  # numbers in cells and column headers
_LABEL_CHARS = 12  # class names are shortened to this in the picture


class _Layout:
    """Geometry and frame of one picture kind: title, caption, colour bar; labels pasted per class set.

    Args:
        num_shown: classes shown (rows and columns).
        label_width: px reserved for row labels.
        largest_index: the largest class index a column may be numbered with.
        title: first line of the picture.
    """

    def __init__(self, num_shown: int, label_width: int, largest_index: int, title: str) -> None:
        n = self.num_classes = num_shown
        top = _MARGIN + 15 + 14 + 12  # title; caption and colour bar; column numbers
        self.cell_h = int(np.clip((CARD_HEIGHT - top - _MARGIN) // n, 1, 48))
        width = (CARD_WIDTH - 2 * _MARGIN - label_width) // n
        self.cell_w = int(np.clip(width, max(1, self.cell_h // 2), 2 * self.cell_h))
        self.text_font = font(_CELL_PX)
        atlas = atlas_for(self.text_font)
        digit = int(atlas.advances[0])
        self.lines = 0  # label lines per cell: 2 = count and share, 1 = share in % (no sign), 0 = colour only
        if self.cell_w >= 5 * digit + 4 and self.cell_h >= 2 * atlas.height + 4:
            self.lines = 2
        elif self.cell_w >= 3 * digit + 2 and self.cell_h >= atlas.height + 2:
            self.lines = 1
        self.cells = CellCache(self.cell_h, self.cell_w, atlas, _LUT, _WHITE_TEXT, _INK)
        self.row_step = max(1, int(np.ceil((_LABEL_PX + 1) / self.cell_h)))  # labels never overlap
        self.column_step = max(1, int(np.ceil((len(str(largest_index)) * digit + 3) / self.cell_w)))
        caption = "rows: true · columns: predicted"
        scale = "% of row:"
        grid_h, grid_w = self.cell_h * n, self.cell_w * n
        left = _MARGIN + label_width
        self.origin = (top, left)
        title_font, small = font(12), font(_CELL_PX)
        scratch = ImageDraw.Draw(Image.new("L", (1, 1)))
        ramp_w = 40
        bar_w = int(sum(scratch.textlength(text, font=small) for text in (scale, "0%", "100%")) + ramp_w + 12)
        needed = max(scratch.textlength(title, font=title_font), scratch.textlength(caption, font=small) + 10 + bar_w)
        width = int(max(left + grid_w, _MARGIN + needed) + _MARGIN)
        canvas = Image.new("RGB", (width, top + grid_h + _MARGIN), "white")
        draw = ImageDraw.Draw(canvas)
        ink = tuple(int(c) for c in _INK)
        draw.text((_MARGIN, _MARGIN), title, font=title_font, fill=ink)
        caption_y = _MARGIN + 16
        draw.text((_MARGIN, caption_y), caption, font=small, fill=ink)
        # Colour bar on the caption line, at the right edge: 0 % ... 100 % of the true class.
        x = width - _MARGIN - bar_w
        for text in (scale, "0%"):
            draw.text((x, caption_y + 5), text, font=small, fill=ink, anchor="lm")
            x += int(scratch.textlength(text, font=small)) + 4
        ramp = _LUT[np.linspace(0, 255, ramp_w).astype(int)]
        canvas.paste(Image.fromarray(np.repeat(ramp[None], 8, axis=0)), (x, caption_y + 1))
        draw.text((x + ramp_w + 4, caption_y + 5), "100%", font=small, fill=ink, anchor="lm")
        self.frame = np.asarray(canvas).copy()

    def canvas(self, classes: Sequence[int], labels: Sequence[str], masks: "_TextMasks") -> PngCanvas:
        """The frame with the row labels and column numbers of ``classes`` pasted in; only the grid changes."""
        pixels = self.frame.copy()
        top, left = self.origin
        for k in range(0, self.num_classes, self.row_step):  # row labels, right-aligned at the grid
            masks.paste(pixels, labels[k], _LABEL_PX, (left - 4, top + k * self.cell_h + self.cell_h // 2), "rm")
        for k in range(0, self.num_classes, self.column_step):  # column numbers: each column's class index
            masks.paste(pixels, str(classes[k]), _CELL_PX, (left + k * self.cell_w + self.cell_w // 2, top - 2), "mb")
        return PngCanvas(pixels, static_rows=top)

    @property
    def cell(self) -> int:
        """Cell height (the grid's row pitch)."""
        return self.cell_h


class _TextMasks:
    """Labels rendered once as coverage masks, pasted in ink wherever a picture needs them."""

    def __init__(self, limit: int = 8192) -> None:
        self.limit = limit
        self._masks: dict[tuple[str, int, str], tuple[np.ndarray, int, int]] = {}

    def paste(self, pixels: np.ndarray, text: str, size: int, at: tuple[int, int], anchor: str) -> None:
        key = (text, size, anchor)
        found = self._masks.get(key)
        if found is None:
            if len(self._masks) >= self.limit:
                self._masks.clear()
            face, shown = drawable(text, size)
            x0, y0, x1, y1 = face.getbbox(shown, anchor=anchor)
            image = Image.new("L", (max(1, int(x1 - x0)), max(1, int(y1 - y0))), 0)
            ImageDraw.Draw(image).text((-x0, -y0), shown, font=face, fill=255, anchor=anchor)
            found = self._masks[key] = (np.asarray(image, dtype=np.uint16)[:, :, None], int(x0), int(y0))
        mask, dx, dy = found
        x, y = at[0] + dx, at[1] + dy
        region = pixels[max(0, y) : y + mask.shape[0], max(0, x) : x + mask.shape[1]]
        mask = mask[max(0, -y) : max(0, -y) + region.shape[0], max(0, -x) : max(0, -x) + region.shape[1]]
        region[:] = (region * (255 - mask) + _INK * mask) // 255


def most_confused_classes(cm: np.ndarray | core.SparseMatrix, k: int) -> np.ndarray:
    """The ``k`` classes in the largest off-diagonal cells (sorted by index).

    Classes are taken pair by pair from the most frequent confusion down;
    when fewer than ``k`` classes are ever confused, the largest classes
    fill the rest. Only non-empty cells are looked at: a
    :class:`~tb_imbalance.core.SparseMatrix` gives them without a ``C²`` pass.

    Example:
        >>> cm = np.diag([50, 40, 30, 20]); cm[3, 1] = 7; cm[0, 2] = 2
        >>> most_confused_classes(cm, 3).tolist()
        [0, 1, 3]
        >>> most_confused_classes(core.SparseMatrix.from_dense(cm), 3).tolist()
        [0, 1, 3]
    """
    if isinstance(cm, core.SparseMatrix):
        n = cm.num_classes
        off = cm.rows != cm.columns
        cells = cm.rows[off] * n + cm.columns[off]  # row-major, as flatnonzero gives them
        values = cm.values[off].astype(np.float64)
    else:
        cm = np.asarray(cm)
        n = cm.shape[0]
        cells = np.flatnonzero(cm != 0)  # only non-empty cells can be confusions (a bool mask is the fast way)
        cells = cells[cells // n != cells % n]
        values = cm.reshape(-1)[cells].astype(np.float64)
    wanted = 2 * k  # enough confusions to name k classes, unless the same few classes recur
    while True:
        top = np.arange(len(cells))
        if len(cells) > wanted:  # every cell at least as large as the wanted-th largest
            top = np.flatnonzero(values >= -np.partition(-values, wanted - 1)[wanted - 1])
        chosen: dict[int, None] = {}
        for cell in cells[top[np.lexsort((cells[top], -values[top]))]].tolist():  # largest first, then by index
            if len(chosen) >= k:
                break
            i, j = divmod(cell, n)
            chosen.setdefault(i)
            if len(chosen) < k:
                chosen.setdefault(j)
        if len(chosen) >= k or len(top) == len(cells):
            break
        wanted *= 4
    for c in np.argsort(-cm.sum(axis=1), kind="stable"):
        if len(chosen) >= k:
            break
        chosen.setdefault(int(c))
    return np.array(sorted(chosen), dtype=np.int64)


#: Above this many labels only the likely widest are measured (measuring one takes about 40 µs).
_MEASURED_LABELS = 512


def _widest_candidates(labels: Sequence[str], classes: Sequence[int]) -> Sequence[int]:
    """``classes``, or above :data:`_MEASURED_LABELS` of them the ones whose labels are likely widest.

    The estimate is the sum of each character's advance in the main font, a
    character the font may lack counted as its ``U+XXXX`` stand-in; the
    exact widths (fallback fonts, kerning) are then measured for the
    :data:`_MEASURED_LABELS` widest estimates only.
    """
    if len(classes) <= _MEASURED_LABELS:
        return classes
    face = font(_LABEL_PX)
    stand_in = face.getlength("U+0000")
    advance: dict[str, float] = {}

    def estimate(text: str) -> float:
        total = 0.0
        for char in text:
            width = advance.get(char)
            if width is None:
                width = advance[char] = face.getlength(char) if char.isascii() else max(face.getlength(char), stand_in)
            total += width
        return total

    estimates = np.array([estimate(labels[k]) for k in classes])
    top = np.argpartition(-estimates, _MEASURED_LABELS - 1)[:_MEASURED_LABELS]
    return [classes[i] for i in top]


class ConfusionMatrixImage:
    """Renders confusion matrices for fixed class names; build once, render every epoch.

    Args:
        class_names: the C class names, in matrix order.
        max_annotated_classes: the size of the most-confused sub-matrix drawn
            above ``max_drawn_classes`` classes.
        max_drawn_classes: above this many classes only the most-confused
            ``max_annotated_classes`` are drawn (a full grid of more would have
            cells of a pixel or two at the card's size).
        title: drawn above the matrix.
    """

    def __init__(
        self,
        class_names: Sequence[str],
        *,
        max_annotated_classes: int = 30,
        max_drawn_classes: int = 30,
        title: str = "Confusion matrix",
    ) -> None:
        self.class_names = [str(name) for name in class_names]
        self.num_classes = len(self.class_names)
        self.labels = [f"{k} {isolated(label)}" for k, label in enumerate(display_labels(self.class_names, _LABEL_CHARS))]
        self.title = title
        self.subset_size = min(max_annotated_classes, self.num_classes)
        self.draws_subset = self.num_classes > max_drawn_classes
        self._masks = _TextMasks()
        self._subset_canvases: dict[tuple, PngCanvas] = {}
        self._subset: _Layout | None = None
        self._full = None
        if not self.draws_subset:
            classes = list(range(self.num_classes))
            self._full = _Layout(self.num_classes, self._labels_width(classes), self.num_classes - 1, title)
            self._full_canvas = self._full.canvas(classes, self.labels, self._masks)

    def _labels_width(self, classes: Sequence[int]) -> int:
        scratch = ImageDraw.Draw(Image.new("L", (1, 1)))
        widest = max(scratch.textlength(text, font=face) for face, text in
                     (drawable(self.labels[k], _LABEL_PX) for k in _widest_candidates(self.labels, classes)))
        return int(np.ceil(widest)) + 6

    # The full layout's geometry (tests and callers use it to find cells).
    @property
    def annotate(self) -> bool:
        """Whether the full grid's cells show numbers."""
        return self._full is not None and self._full.lines > 0

    @property
    def cell(self) -> int:
        """The full grid's cell height (0 when a sub-matrix is drawn)."""
        return self._full.cell_h if self._full is not None else 0

    @property
    def _origin(self) -> tuple[int, int]:
        return self._full.origin

    def prepare(self) -> None:
        """Draw the parts every picture shares now rather than at the first draw (a sub-matrix picture's frame)."""
        if self.draws_subset and self._subset is None:  # the widest label of all classes: the size stays the same
            title = f"{self.subset_size} most-confused of {self.num_classes} classes"
            width = self._labels_width(range(self.num_classes))
            self._subset = _Layout(self.subset_size, width, self.num_classes - 1, title)

    def _subset_layout(self, classes: np.ndarray) -> tuple[_Layout, PngCanvas]:
        """The sub-matrix picture's layout (one geometry for every class set) and its canvas for ``classes``."""
        self.prepare()
        key = tuple(classes.tolist())
        canvas = self._subset_canvases.pop(key, None)
        if canvas is None:
            canvas = self._subset.canvas(key, [self.labels[c] for c in key], self._masks)
        self._subset_canvases[key] = canvas  # most recently used last
        while len(self._subset_canvases) > 4:
            del self._subset_canvases[next(iter(self._subset_canvases))]
        return self._subset, canvas

    # -- per epoch -------------------------------------------------------
    def render(self, cm: np.ndarray | core.SparseMatrix) -> np.ndarray:
        """Draw ``cm`` (``[C, C]``, rows = true class; dense or sparse) and return RGB uint8 pixels."""
        with _DRAWING:
            return self.draw(cm).pixels.copy()

    def png(self, cm: np.ndarray | core.SparseMatrix) -> tuple[int, int, bytes]:
        """Draw ``cm`` as :meth:`render` does and return ``(width, height, PNG bytes)``.

        Faster than ``encode_png(render(cm))``: the picture is drawn in place
        and its static top compressed once (:class:`tb_imbalance.png.PngCanvas`).
        """
        with _DRAWING:
            canvas = self.draw(cm)
            return canvas.width, canvas.height, canvas.encode()

    def draw(self, cm: np.ndarray | core.SparseMatrix) -> PngCanvas:
        """Draw ``cm`` into the picture's canvas and return it: its pixels hold the picture until the next draw."""
        if not isinstance(cm, core.SparseMatrix):
            cm = np.asarray(cm)
        if cm.shape != (self.num_classes, self.num_classes):
            raise ValueError(
                f"`cm` must have shape {(self.num_classes,) * 2} for this image, received {cm.shape}"
            )
        if self.draws_subset:
            classes = most_confused_classes(cm, self.subset_size)
            layout, canvas = self._subset_layout(classes)
            if isinstance(cm, core.SparseMatrix):
                support = cm.sum(axis=1)[classes, None].astype(np.float64)  # the full rows' support
                cm = cm.submatrix(classes)
            else:
                support = cm[classes].sum(axis=1, keepdims=True).astype(np.float64)
                cm = cm[np.ix_(classes, classes)]
        else:
            cm = cm.toarray() if isinstance(cm, core.SparseMatrix) else cm
            layout, canvas = self._full, self._full_canvas
            support = cm.sum(axis=1, keepdims=True).astype(np.float64)
        rows = _rows_to_draw(canvas, cm, support)  # a row's cells depend on that row of cm and its support only
        if rows.size:
            _draw_rows(canvas, layout, rows, cm[rows], support[rows])
        canvas.source = (cm.copy(), support.copy())
        return canvas


def _rows_to_draw(canvas: PngCanvas, cm: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``cm`` whose cells differ from what ``canvas`` shows (all on its first draw)."""
    if canvas.source is None or canvas.source[0].dtype != cm.dtype:
        return np.arange(cm.shape[0])
    drawn_cm, drawn_support = canvas.source
    return np.flatnonzero((cm != drawn_cm).any(axis=1) | (support[:, 0] != drawn_support[:, 0]))


def _draw_rows(canvas: PngCanvas, layout: _Layout, rows: np.ndarray, cm: np.ndarray, support: np.ndarray) -> None:
    """Fill the grid rows ``rows`` of ``canvas`` with the cells of ``cm`` (those rows of the matrix)."""
    share = np.divide(cm, support, out=np.zeros(cm.shape), where=support > 0)
    levels = np.clip(np.rint(share * 255), 0, 255).astype(np.intp)
    shares = percent_labels(share, np.broadcast_to(support > 0, cm.shape), sign=layout.lines == 2)
    lines = [count_labels(cm), shares] if layout.lines == 2 else [shares] if layout.lines == 1 else []
    cells = layout.cells.grid(levels, lines)
    top, left = layout.origin
    h, right = layout.cell_h, left + layout.num_classes * layout.cell_w
    if rows.size == layout.num_classes:
        canvas.pixels[top : top + rows.size * h, left:right] = cells
        return
    for k, row in enumerate(rows.tolist()):
        canvas.pixels[top + row * h : top + (row + 1) * h, left:right] = cells[k * h : (k + 1) * h]

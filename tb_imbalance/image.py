"""Confusion-matrix pictures for TensorBoard's Images tab, drawn cheaply every epoch.

A matplotlib figure with one text label per cell costs about 2 ms per label:
hundreds of milliseconds per epoch for a 10-class matrix, on the training
thread. Most of the picture never changes (title, class names, colour bar),
so :class:`ConfusionMatrixImage` draws that once into a background and, per
epoch, only fills the cells and pastes cached text bitmaps. Fonts and labels
(any script, long names kept distinct) come from :mod:`tb_imbalance.image_text`;
the colour scale is ColorBrewer "Blues", the same ramp matplotlib calls ``Blues``.

Cells are coloured by the *row-normalised* value (share of the true class),
so a minority class with 12 examples is as visible as a majority class with
12,000. Up to ``max_annotated_classes`` classes each cell shows its count and
that share; above it the grid has colour only, and class labels thin out so
they stay legible. Above ``max_drawn_classes`` a full grid would be a thin
diagonal nobody can read: the picture then shows the sub-matrix of the
``max_annotated_classes`` most-confused classes (those in the largest
off-diagonal cells), with counts, titled as such; colours stay the share of
each true class's full support.

Example:
    >>> import numpy as np
    >>> picture = ConfusionMatrixImage(["cat", "dog"]).render(np.array([[5, 1], [0, 3]]))
    >>> picture.dtype, picture.shape[2]
    (dtype('uint8'), 3)
"""

from __future__ import annotations

import struct
import zlib
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from tb_imbalance.image_cells import atlas_for, count_labels, draw_cells, percent_labels
from tb_imbalance.image_text import display_labels, drawable, font

__all__ = ["ConfusionMatrixImage", "encode_png", "most_confused_classes"]

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

_WHITE = np.array([255, 255, 255], dtype=np.uint16)
_INK = np.array([33, 33, 33], dtype=np.uint16)
_TARGET_GRID_PX = 640


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of an ``[H, W, 3]`` uint8 array.

    Written directly (no row filters, zlib level 1): the pictures are flat
    colour, so this is about half the time of a general encoder's adaptive
    filtering for a few percent more bytes.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = pixels.shape[:2]
    rows = np.zeros((height, 1 + width * 3), dtype=np.uint8)  # filter byte 0 = none
    rows[:, 1:] = pixels.reshape(height, width * 3)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
        + _png_chunk(b"IEND", b"")
    )


class _Layout:
    """The static part of one picture: background, label positions, cell size."""

    def __init__(self, labels: Sequence[str], title: str, annotate: bool) -> None:
        self.num_classes = len(labels)
        self.annotate = annotate
        cell = _TARGET_GRID_PX // self.num_classes
        self.cell = int(np.clip(cell, 1, 48 if annotate else 24))
        if annotate:
            self.cell = max(self.cell, 26)
        self.text_font = font(max(8, min(12, self.cell // 4)))
        self._draw_background(labels, title)

    def _label_step(self, font_px: int) -> int:
        """Label every k-th class so that labels never overlap."""
        return max(1, int(np.ceil((font_px + 2) / self.cell)))

    def _draw_background(self, names: Sequence[str], title: str) -> None:
        size = 11
        step = self._label_step(size)
        labels = [(k, *drawable(name, size)) for k, name in enumerate(names) if k % step == 0]
        scratch = ImageDraw.Draw(Image.new("L", (1, 1)))
        label_w = int(max(scratch.textlength(text, font=face) for _, face, text in labels)) + 8
        grid = self.cell * self.num_classes
        margin = 10
        axis_title_h = 18
        top = margin + 24 + axis_title_h  # title + "predicted" caption
        left = margin + axis_title_h + label_w
        caption = "predicted class  (colour: share of the true class)"
        title_font, caption_font = font(14), font(size)
        text_right = max(
            margin + scratch.textlength(title, font=title_font), left + scratch.textlength(caption, font=caption_font)
        )
        width = int(max(left + grid + 16 + 70, text_right + margin))  # 70: colour bar and its ticks
        height = top + grid + label_w + margin
        self.origin = (top, left)

        canvas = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(canvas)
        draw.text((margin, margin), title, font=title_font, fill=tuple(_INK))
        draw.text((left, margin + 24), caption, font=caption_font, fill=tuple(_INK))
        for k, face, text in labels:  # true classes, right-aligned left of each row
            y = top + k * self.cell + self.cell // 2
            draw.text((left - 4, y), text, font=face, fill=tuple(_INK), anchor="rm")
        # Predicted-class labels, rotated 90 degrees under each column.
        rotated = Image.new("L", (label_w, grid), 0)
        rotated_draw = ImageDraw.Draw(rotated)
        for k, face, text in labels:
            rotated_draw.text((label_w - 4, k * self.cell + self.cell // 2), text, font=face, fill=255, anchor="rm")
        canvas.paste(tuple(_INK), (left, top + grid + 4), rotated.transpose(Image.Transpose.ROTATE_90))
        true_caption = Image.new("L", (grid, axis_title_h), 0)
        ImageDraw.Draw(true_caption).text((grid // 2, 2), "true class", font=caption_font, fill=255, anchor="mt")
        canvas.paste(tuple(_INK), (margin, top), true_caption.transpose(Image.Transpose.ROTATE_90))
        # Colour bar: 0 % at the bottom, 100 % at the top.
        bar_x = left + grid + 16
        ramp = _LUT[np.linspace(255, 0, grid).astype(int)]
        canvas.paste(Image.fromarray(np.repeat(ramp[:, None, :], 14, axis=1)), (bar_x, top))
        for share in (0.0, 0.25, 0.5, 0.75, 1.0):
            y = top + int(round((1 - share) * (grid - 1)))
            draw.text((bar_x + 18, y), f"{share:.0%}", font=caption_font, fill=tuple(_INK), anchor="lm")
        self.background = np.asarray(canvas).copy()


def most_confused_classes(cm: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` classes in the largest off-diagonal cells (sorted by index).

    Classes are taken pair by pair from the most frequent confusion down;
    when fewer than ``k`` classes are ever confused, the largest classes
    fill the rest.

    Example:
        >>> cm = np.diag([50, 40, 30, 20]); cm[3, 1] = 7; cm[0, 2] = 2
        >>> most_confused_classes(cm, 3).tolist()
        [0, 1, 3]
    """
    cm = np.asarray(cm)
    n = cm.shape[0]
    cells = np.flatnonzero(cm)  # only non-empty cells can be confusions
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


class ConfusionMatrixImage:
    """Renders confusion matrices for fixed class names; build once, render every epoch.

    Args:
        class_names: the C class names, in matrix order.
        max_annotated_classes: above this many classes cells get no text; also
            the size of the most-confused sub-matrix drawn above ``max_drawn_classes``.
        max_drawn_classes: above this many classes only the most-confused
            ``max_annotated_classes`` are drawn.
        title: drawn above the matrix.
    """

    def __init__(
        self,
        class_names: Sequence[str],
        *,
        max_annotated_classes: int = 30,
        max_drawn_classes: int = 100,
        title: str = "Confusion matrix",
    ) -> None:
        self.class_names = [str(name) for name in class_names]
        self.num_classes = len(self.class_names)
        self.labels = display_labels(self.class_names)
        self.title = title
        self.subset_size = min(max_annotated_classes, self.num_classes)
        self.draws_subset = self.num_classes > max_drawn_classes
        self._subset_layouts: dict[tuple, _Layout] = {}
        self._full = None if self.draws_subset else _Layout(
            self.labels, title, self.num_classes <= max_annotated_classes
        )

    # The full layout's geometry (tests and callers use it to find cells).
    @property
    def annotate(self) -> bool:
        return self._full is not None and self._full.annotate

    @property
    def cell(self) -> int:
        return self._full.cell if self._full is not None else 0

    @property
    def _origin(self) -> tuple[int, int]:
        return self._full.origin

    def _subset_layout(self, classes: np.ndarray) -> _Layout:
        key = tuple(classes.tolist())
        layout = self._subset_layouts.pop(key, None)
        if layout is None:
            title = f"{self.title}: the {len(classes)} most-confused of {self.num_classes} classes"
            layout = _Layout([self.labels[c] for c in classes], title, annotate=True)
        self._subset_layouts[key] = layout  # most recently used last
        while len(self._subset_layouts) > 4:
            del self._subset_layouts[next(iter(self._subset_layouts))]
        return layout

    # -- per epoch -------------------------------------------------------
    def render(self, cm: np.ndarray) -> np.ndarray:
        """Draw ``cm`` (``[C, C]``, rows = true class) and return RGB uint8 pixels."""
        cm = np.asarray(cm)
        if cm.shape != (self.num_classes, self.num_classes):
            raise ValueError(
                f"`cm` must have shape {(self.num_classes,) * 2} for this image, received {cm.shape}"
            )
        if self.draws_subset:
            classes = most_confused_classes(cm, self.subset_size)
            layout = self._subset_layout(classes)
            support = cm[classes].sum(axis=1, keepdims=True).astype(np.float64)  # the full rows' support
            cm = cm[np.ix_(classes, classes)]
        else:
            layout = self._full
            support = cm.sum(axis=1, keepdims=True).astype(np.float64)
        share = np.divide(cm, support, out=np.zeros(cm.shape), where=support > 0)
        pixels = layout.background.copy()
        top, left = layout.origin
        grid = layout.cell * layout.num_classes
        colours = _LUT[np.clip(np.rint(share * 255), 0, 255).astype(np.intp)]
        lines = atlas = None
        if layout.annotate:
            lines = [count_labels(cm), percent_labels(share, np.broadcast_to(support > 0, cm.shape))]
            atlas = atlas_for(layout.text_font)
        pixels[top : top + grid, left : left + grid] = draw_cells(
            colours, layout.cell, lines, atlas, light_text=share > 0.55, ink=_INK
        )
        return pixels

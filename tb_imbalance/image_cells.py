"""The cells of the confusion-matrix picture, drawn for the whole grid at once.

Drawing each cell's label with a text call costs Python work per cell,
every epoch. Here every character a cell label can hold (digits, ``%``,
``k``, ``.``, ``e``, ``+``, ``-``) is rendered once per font into a
:class:`GlyphAtlas`; each epoch the labels become arrays of glyph indices
(:func:`count_labels`, :func:`percent_labels`) and the whole grid — colours,
grid lines and both label lines of every cell — is composed with numpy
indexing (:func:`draw_cells`), with no Python call per cell. A grid's
cells are few distinct looks (a colour level and its labels), which epochs
repeat: :class:`CellCache` draws each look once and composes grids from them.

Example:
    >>> from tb_imbalance.image_text import font
    >>> atlas = GlyphAtlas(font(12))
    >>> glyphs = count_labels(np.array([[7, 12345], [0, 150_000]]))
    >>> atlas.text(glyphs[1, 1])
    '150k'
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["CHARACTERS", "CellCache", "GlyphAtlas", "count_labels", "percent_labels", "draw_cells"]

#: Every character a cell label can hold; index ``len(CHARACTERS)`` is "no character".
CHARACTERS = "0123456789%k.e+-"
_BLANK = len(CHARACTERS)
_PERCENT, _K = CHARACTERS.index("%"), CHARACTERS.index("k")
_KEPT_STRIPS = 4096  # drawn labels kept per cell width
_KEPT_CELL_BYTES = 1 << 20  # drawn cells kept per CellCache, in bytes of pixels


class GlyphAtlas:
    """Each label character of one font, rendered once: ``masks[index]`` is ``[height, width]`` coverage.

    Args:
        face: the font cells are labelled with.
    """

    def __init__(self, face: ImageFont.FreeTypeFont) -> None:
        self.face = face
        top = min(face.getbbox(char)[1] for char in CHARACTERS)
        bottom = max(face.getbbox(char)[3] for char in CHARACTERS)
        self.height = int(bottom - top)
        self.advances = np.array([round(face.getlength(char)) for char in CHARACTERS] + [0], dtype=np.int64)
        self.width = int(self.advances.max()) + 2  # room for ink past the advance
        masks = np.zeros((len(CHARACTERS) + 1, self.height, self.width), dtype=np.uint16)
        for index, char in enumerate(CHARACTERS):
            image = Image.new("L", (self.width, self.height), 0)
            ImageDraw.Draw(image).text((1, -top), char, font=face, fill=255)
            masks[index] = np.asarray(image)
        self.masks = masks
        self._drawn: dict[int, dict[bytes, np.ndarray]] = {}  # cell width -> label's glyphs -> strip

    def text(self, glyphs: np.ndarray) -> str:
        """The characters of one label's glyph indices (for tests and debugging)."""
        return "".join(CHARACTERS[g] for g in np.asarray(glyphs).tolist() if g != _BLANK)

    def line(self, glyphs: np.ndarray, cell: int) -> np.ndarray:
        """Coverage ``[..., height, cell]`` of labels ``[..., L]`` centred in cells ``cell`` px wide."""
        labels = glyphs.reshape(-1, glyphs.shape[-1])
        # Grids repeat few labels ("0", "100%", …) and epochs repeat most of them:
        # each distinct label is drawn once per cell width and kept.
        keys = np.ascontiguousarray(labels, dtype=np.uint8).view(f"V{labels.shape[-1]}").reshape(-1)
        distinct, first, which = np.unique(keys, return_index=True, return_inverse=True)
        kept = self._drawn.setdefault(cell, {})  # shared by the threads drawing with this font
        strips = [kept.get(key) for key in distinct.tolist()]
        missing = [k for k, strip in enumerate(strips) if strip is None]
        if missing:
            drawn = self._strips(labels[first[missing]], cell)
            for k, strip in zip(missing, drawn):
                strips[k] = strip
            if len(kept) + len(missing) > _KEPT_STRIPS:
                kept.clear()
            kept.update(zip(distinct[missing].tolist(), drawn))
        block = np.stack(strips)
        return block[which.reshape(-1)].reshape(glyphs.shape[:-1] + block.shape[1:])

    def _strips(self, glyphs: np.ndarray, cell: int) -> np.ndarray:
        advances = self.advances[glyphs]
        starts = np.cumsum(advances, axis=-1) - advances  # x of each character in its label
        starts += ((cell - advances.sum(axis=-1, keepdims=True)) // 2) - 1  # centred; -1: the mask's margin
        coverage = np.zeros(glyphs.shape[:-1] + (self.height, cell), dtype=np.uint16)
        columns = np.arange(cell)
        rows = np.arange(self.height)[:, None]
        for slot in range(glyphs.shape[-1]):
            x = columns - starts[..., slot, None]  # [..., cell]: column inside the glyph
            inside = (x >= 0) & (x < self.width)
            ink = self.masks[glyphs[..., slot, None, None], rows, np.clip(x, 0, self.width - 1)[..., None, :]]
            np.maximum(coverage, ink * inside[..., None, :], out=coverage)
        return coverage


def _digits(values: np.ndarray, suffix: int | None = None) -> np.ndarray:
    """Glyph indices ``[..., L]`` of non-negative integers, left-aligned, optional suffix glyph."""
    values = np.asarray(values, dtype=np.int64)
    lengths = np.floor(np.log10(np.maximum(values, 1))).astype(np.int64) + 1
    width = int(lengths.max(initial=1)) + (suffix is not None)
    slots = np.arange(width)
    power = lengths[..., None] - 1 - slots  # the decimal place each slot shows
    glyphs = np.where(power >= 0, (values[..., None] // 10 ** np.maximum(power, 0)) % 10, _BLANK)
    if suffix is not None:
        glyphs = np.where(slots == lengths[..., None], suffix, glyphs)
    return glyphs


_PERCENTS = {sign: _digits(np.arange(101), suffix=_PERCENT if sign else None) for sign in (False, True)}  # 0 … 100


def count_labels(cm: np.ndarray) -> np.ndarray:
    """Glyph indices of each cell's count: ``1234``, ``150k`` from 100,000, weight sums as ``%.3g``.

    Example:
        >>> atlas = GlyphAtlas(__import__("tb_imbalance.image_text").image_text.font(11))
        >>> [atlas.text(g) for g in count_labels(np.array([3, 99_999, 100_499, 2.5, 1234.5, 1e200]))]
        ['3', '99999', '100k', '2.5', '1.23e+03', '1e+200']
    """
    cm = np.asarray(cm)
    # whole sums past 2**53 (not exact, nor int64 beyond 2**63) are written as %.3g too
    whole = np.equal(np.mod(cm, 1), 0) & (cm < 2**53) if cm.dtype.kind == "f" else np.ones(cm.shape, dtype=bool)
    large = cm >= 100_000
    shown = np.where(large, np.round(np.where(whole, cm, 0) / 1000), np.where(whole, cm, 0))
    glyphs = _digits(shown)
    if large.any():
        thousands = _digits(shown, suffix=_K)
        glyphs = _pad(glyphs, thousands.shape[-1])
        glyphs[large] = thousands[large]
    if not whole.all():  # weighted counts: rare, so formatted one by one
        texts = [f"{value:.3g}" for value in cm[~whole].tolist()]
        glyphs = _pad(glyphs, max(len(text) for text in texts))
        width = glyphs.shape[-1]
        glyphs[~whole] = [[CHARACTERS.index(c) for c in text] + [_BLANK] * (width - len(text)) for text in texts]
    return glyphs


def percent_labels(share: np.ndarray, shown: np.ndarray, *, sign: bool = True) -> np.ndarray:
    """Glyph indices of each cell's share as ``f"{share:.0%}"`` (without ``%`` if not ``sign``); blank where ``shown`` is False."""
    percent = np.rint(np.asarray(share, dtype=np.float64) * 100)
    if percent.size and percent.min() >= 0 and percent.max() <= 100:  # shares of a row: from the table
        glyphs = _PERCENTS[sign][percent.astype(np.intp)]
    else:
        glyphs = _digits(percent, suffix=_PERCENT if sign else None)
    glyphs[~np.asarray(shown, dtype=bool)] = _BLANK
    return glyphs


def _pad(glyphs: np.ndarray, width: int) -> np.ndarray:
    extra = width - glyphs.shape[-1]
    if extra <= 0:
        return glyphs
    return np.concatenate([glyphs, np.full(glyphs.shape[:-1] + (extra,), _BLANK, dtype=glyphs.dtype)], axis=-1)


def draw_cells(
    colours: np.ndarray, cell_h: int, cell_w: int, lines: list[np.ndarray], atlas: GlyphAtlas,
    light_text: np.ndarray, ink: np.ndarray,
) -> np.ndarray:
    """The ``[r·cell_h, n·cell_w, 3]`` grid: cell colours ``[r, n, 3]``, white grid lines, label lines.

    ``lines`` are glyph arrays ``[r, n, L]`` drawn one under the other around
    each cell's middle, in white where ``light_text`` is True, else in ``ink``.
    A cell's pixels depend on its own colour, labels and text colour only, so
    any subset of a grid's rows is drawn as the whole grid draws them.
    """
    r, n = colours.shape[:2]
    # [row, y, column, x, rgb]; np.repeat copies whole pixels, far faster than broadcasting 3-byte pixels
    grid = np.repeat(np.repeat(colours, cell_w, axis=1)[:, None], cell_h, axis=1).reshape(r, cell_h, n, cell_w, 3)
    if min(cell_h, cell_w) >= 6:  # thin white grid lines keep neighbouring cells apart
        grid[:, 0] = 255
        grid[:, :, :, 0] = 255
    if lines:
        step = atlas.face.size // 2 + 1
        tops = [max(0, cell_h // 2 + (2 * k - (len(lines) - 1)) * step - atlas.height // 2) for k in range(len(lines))]
        first, last = min(tops), min(cell_h, max(tops) + atlas.height)  # the rows any label reaches
        coverage = np.zeros((r, n, last - first, cell_w), dtype=np.uint16)
        for top, glyphs in zip(tops, lines):  # lines centred on the cell's middle, one under the other
            block = atlas.line(glyphs, cell_w)[:, :, : cell_h - top]  # [n, n, height, cell_w]
            rows = slice(top - first, top - first + block.shape[2])
            np.maximum(coverage[:, :, rows], block, out=coverage[:, :, rows])
        # Blend the text into the band of rows that holds it (where coverage is 0 the colour stays),
        # on arrays whose last axis is a whole pixel row: numpy is slow on broadcasts over 3-byte pixels.
        row = n * cell_w * 3
        amount = np.repeat(coverage.transpose(0, 2, 1, 3), 3, axis=-1).reshape(r, last - first, row)
        text = np.where(light_text[..., None], np.uint16(255), ink.astype(np.uint16))  # [r, n, 3]
        band = grid[:, first:last].reshape(r, last - first, row).astype(np.uint16)
        band *= 255 - amount
        band += amount * np.repeat(text, cell_w, axis=1).reshape(r, 1, row)
        band //= 255
        grid[:, first:last] = band.reshape(r, last - first, n, cell_w, 3)
    return grid.reshape(r * cell_h, n * cell_w, 3)


class CellCache:
    """The cells of one geometry, each distinct look drawn once by :func:`draw_cells` and kept.

    A cell's pixels depend on its colour level and its labels only, so a grid
    is its distinct cells, drawn where not kept yet, put in place.

    Not for concurrent use: callers draw under one lock.

    Args:
        cell_h, cell_w: the cells' size.
        atlas: the labels' font.
        colours: ``[256, 3]`` uint8 cell colour per level.
        light_text: ``[256]`` per level, whether its text is white (else ``ink``).
        ink: the dark text colour.
    """

    def __init__(
        self, cell_h: int, cell_w: int, atlas: GlyphAtlas, colours: np.ndarray, light_text: np.ndarray, ink: np.ndarray
    ) -> None:
        self.cell_h, self.cell_w, self.atlas = cell_h, cell_w, atlas
        self.colours, self.light_text, self.ink = colours, light_text, ink
        self._limit = max(1, _KEPT_CELL_BYTES // (cell_h * cell_w * 3))  # cells kept at most
        self._rows: dict[bytes, int] = {}  # a cell's level and glyphs -> its row of _cells
        self._cells = np.zeros((16, cell_h, cell_w, 3), dtype=np.uint8)  # the kept cells' pixels, and room for more

    def grid(self, levels: np.ndarray, lines: list[np.ndarray]) -> np.ndarray:
        """:func:`draw_cells` of the levels ``[r, n]`` (0…255) and label lines ``[r, n, L]``: ``[r·cell_h, n·cell_w, 3]``."""
        (r, n), h, w = levels.shape, self.cell_h, self.cell_w
        looks = np.concatenate([levels[..., None], *lines], axis=-1).astype(np.uint8)  # glyph indices are below 256 too
        keys = looks.view(f"V{looks.shape[-1]}").reshape(-1).tolist()
        rows = [self._rows.get(key, -1) for key in keys]
        if -1 in rows:
            rows = self._keep(keys, rows, levels, lines)
        block = self._cells[rows]  # [r·n, cell_h, cell_w, 3]
        return block.reshape(r, n, h, w, 3).transpose(0, 2, 1, 3, 4).reshape(r * h, n * w, 3)

    def _keep(self, keys: list[bytes], rows: list[int], levels: np.ndarray, lines: list[np.ndarray]) -> list[int]:
        """Draw and keep the looks of ``keys`` not kept yet (row -1); every key's row of the kept cells."""
        first: dict[bytes, int] = {}  # each missing look, and where the grid has it first
        for k, (key, row) in enumerate(zip(keys, rows)):
            if row < 0:
                first.setdefault(key, k)
        if self._rows and len(self._rows) + len(first) > self._limit:  # full: start again from this grid's looks
            self._rows = {}
            return self._keep(keys, [-1] * len(keys), levels, lines)
        at, columns = np.divmod(np.fromiter(first.values(), dtype=np.intp, count=len(first)), levels.shape[1])
        chosen = levels[at, columns][None]  # the missing looks as one row of cells
        drawn = draw_cells(self.colours[chosen], self.cell_h, self.cell_w, [line[at, columns][None] for line in lines],
                           self.atlas, light_text=self.light_text[chosen], ink=self.ink)
        start, end = len(self._rows), len(self._rows) + len(first)
        if end > len(self._cells):
            grown = np.zeros((max(end, min(2 * len(self._cells), self._limit)),) + self._cells.shape[1:], dtype=np.uint8)
            grown[:start] = self._cells[:start]
            self._cells = grown
        self._cells[start:end] = drawn.reshape(self.cell_h, len(first), self.cell_w, 3).transpose(1, 0, 2, 3)
        self._rows.update(zip(first, range(start, end)))
        return [self._rows[key] for key in keys]


@functools.lru_cache(maxsize=16)
def atlas_for(face: ImageFont.FreeTypeFont) -> GlyphAtlas:
    """The atlas of ``face``, built once per font object."""
    return GlyphAtlas(face)

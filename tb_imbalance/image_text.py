"""Text in the confusion-matrix picture: fonts, glyph coverage and short distinct labels.

Class names are user data in any script. Each label is drawn with the first
font that has every one of its characters:

1. DejaVu Sans (Latin, Greek, Cyrillic, many symbols) — from matplotlib when
   it is installed, else the system's (Debian's ``fonts-dejavu-core``);
2. Noto Sans CJK (Chinese, Japanese, Korean) — Debian's ``fonts-noto-cjk``;
3. Symbola (Latin and emoji, drawn in outline: colour emoji fonts cannot be
   drawn at label size) — Debian's ``fonts-symbola``;
4. Pillow's built-in scalable font (Latin only), when no other font exists.

When no single font has every character of a label, the font that has the
most of them draws it and the others are written as their code point,
``U+1F600``, so a label is never a row of boxes.

A character drawn as nothing (a zero-width space, a control character) or
that reorders the text around it (a bidi control, such as the right-to-left
override) is written as its code point too: ``"\u202etxt.exe"`` is labelled
``U+202Etxt.exe``, never ``exe.txt``, and ``"cat\u200b"`` apart from ``cat``.

Long names are shortened to :data:`MAX_LABEL_CHARS` with the ellipsis in
the middle, so names that share a long prefix stay distinct; labels that
would still collide get their class index.

Example:
    >>> display_labels(["transaction_type_online_card_not_present_fraud",
    ...                 "transaction_type_online_card_not_present_legit"])
    ['transaction_t…resent_fraud', 'transaction_t…resent_legit']
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from typing import Sequence

from PIL import ImageFont

__all__ = ["MAX_LABEL_CHARS", "display_labels", "font", "drawable", "isolated"]

MAX_LABEL_CHARS = 26

_DEJAVU = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)
_CJK = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
_EMOJI = (
    "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
    "/usr/share/fonts/truetype/symbola/Symbola.ttf",
    "/usr/share/fonts/TTF/Symbola.ttf",
)


def _matplotlib_dejavu() -> list[str]:
    spec = importlib.util.find_spec("matplotlib")  # finds the file without importing matplotlib
    if spec is None or not spec.submodule_search_locations:
        return []
    package = list(spec.submodule_search_locations)[0]
    return [os.path.join(package, "mpl-data", "fonts", "ttf", "DejaVuSans.ttf")]


def font_paths() -> list[str]:
    """The installed fonts labels may use, in order of preference (may be empty)."""
    found = [path for path in _matplotlib_dejavu() + list(_DEJAVU) if os.path.exists(path)][:1]
    found += [path for path in _CJK if os.path.exists(path)][:1]
    found += [path for path in _EMOJI if os.path.exists(path)][:1]
    return found


@functools.lru_cache(maxsize=None)
def _fonts(size: int) -> tuple[ImageFont.FreeTypeFont, ...]:
    fonts = [ImageFont.truetype(path, size) for path in font_paths()]
    return tuple(fonts) or (ImageFont.load_default(size=size),)


def font(size: int) -> ImageFont.FreeTypeFont:
    """The preferred font at ``size`` px (for digits and fixed captions)."""
    return _fonts(size)[0]


@functools.lru_cache(maxsize=65536)
def _has_glyph(face: ImageFont.FreeTypeFont, char: str) -> bool:
    if char.isspace():
        return True
    missing = face.getmask("\U0010fffd")  # a private-use code point: the font's "no glyph" shape
    mask = face.getmask(char)
    return not (mask.size == missing.size and bytes(mask) == bytes(missing))


_ISOLATES = "\u2068\u2069"


def isolated(label: str) -> str:
    """``label`` between FSI and PDI, so that a right-to-left name keeps its own
    direction without moving the text around it (the class index stays on the left)."""
    return f"\u2068{label}\u2069"


def drawable(text: str, size: int) -> tuple[ImageFont.FreeTypeFont, str]:
    """A font that has every character of ``text``, and the text to draw with it.

    The isolates of :func:`isolated` are kept where the font lays text out
    with libraqm (which reads them and draws nothing), dropped elsewhere.

    Example:
        >>> face, shown = drawable("fraud 🚨", 11)
        >>> shown.startswith("fraud ")
        True
    """
    fonts = _fonts(size)
    chars = [char for char in text if char not in _ISOLATES]
    face = next((face for face in fonts if all(_has_glyph(face, char) for char in chars)), None)
    if face is None:
        face = max(fonts, key=lambda f: sum(_has_glyph(f, char) for char in chars))  # first of the best
    raqm = getattr(face, "layout_engine", None) == ImageFont.Layout.RAQM

    def shown(char: str) -> str:
        if char in _ISOLATES:
            return char if raqm else ""
        return char if _has_glyph(face, char) else f"U+{ord(char):04X}"

    return face, "".join(map(shown, text))


# Drawn as nothing, or reordering the text around them: control characters, the soft hyphen, the
# zero-width space, the bidi marks, embeddings, overrides and isolates, the word joiner, invisible
# operators and the byte-order mark (not the zero-width (non-)joiners emoji and scripts need).
_UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _shorten(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    head = (limit - 1) // 2 + (limit - 1) % 2
    tail = limit - 1 - head
    return name[:head] + "…" + name[len(name) - tail:]


def display_labels(names: Sequence[str], limit: int = MAX_LABEL_CHARS) -> list[str]:
    """One short label per class name, all distinct.

    Whitespace runs (newlines, tabs) become single spaces; characters drawn
    as nothing and bidi controls become their code points (``U+202E``);
    names longer than ``limit`` keep their start and end around an ellipsis;
    labels that still collide get their class index in front (``"#12 …"``).
    """
    labels = [_shorten(_UNSHOWN.sub(lambda m: f"U+{ord(m[0]):04X}", " ".join(str(name).split())), limit)
              for name in names]
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    return [f"#{k} {label}" if seen[label] > 1 else label for k, label in enumerate(labels)]

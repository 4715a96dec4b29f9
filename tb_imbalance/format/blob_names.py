r"""Run and tag names whose blobs TensorBoard's default loader cannot read.

The curves and the examples are blob sequences (the matrix and the scalars
are tensors). TensorBoard's Rust data server (the default loader,
``--load_fast=true``) names each blob by a JSON key that holds the run and
tag names, and parses the key back only when neither name needs a JSON
escape: under a name holding a double quote, a backslash or a control
character (U+0000 to U+001F) it lists the blobs but cannot read them
("failed to parse blob key"). ``--load_fast=false`` reads them all.

Example:
    >>> [blob_key_trouble(name) for name in ("val", "val/step 2", "é")]
    [None, None, None]
    >>> print(blob_key_trouble('say "hi"'), blob_key_trouble("tab\there"), blob_key_trouble("C:\\runs"))
    '"' '\t' '\\'
"""

from __future__ import annotations

import re

__all__ = ["BLOB_NAME_ADVICE", "blob_key_trouble"]

_NEEDS_JSON_ESCAPE = re.compile(r'["\\\x00-\x1f]')

#: What the messages about such names say, after naming the character.
BLOB_NAME_ADVICE = (
    "TensorBoard's default data server (the Rust one, --load_fast=true) cannot read the curves and "
    "examples stored under a run or tag name with a double quote, a backslash or a control character"
)


def blob_key_trouble(name: str) -> str | None:
    """The first character of ``name`` (its ``repr``) that blob keys cannot hold, or None."""
    found = _NEEDS_JSON_ESCAPE.search(name)
    return None if found is None else repr(found.group())

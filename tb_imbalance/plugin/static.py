"""The dashboard's static files: its ES modules and stylesheet, served safely.

TensorBoard loads ``index.js`` into the plugin iframe; it imports its other
modules from ``static/<path>``. :func:`read_static_file` serves only files
inside the static folder with a known content type (JavaScript must be
``text/javascript``: TensorBoard sends ``X-Content-Type-Options: nosniff``).

Example:
    >>> content, content_type = read_static_file(find_static_dir(), "index.js")
    >>> content_type, b"render" in content
    ('text/javascript', True)
"""

from __future__ import annotations

import os
import pathlib

from tb_imbalance.plugin.errors import NotFoundError, shown_value

__all__ = ["STATIC_CONTENT_TYPES", "find_static_dir", "read_static_file"]

#: File extensions served from the static folder, and their content types.
STATIC_CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
}


def find_static_dir() -> pathlib.Path | None:
    """Locate the dashboard's static folder.

    An installed wheel ships it inside the package
    (``tb_imbalance/plugin_static/``); a source or editable checkout has it
    next to the package (``<repo>/plugin_static/``). The first one that
    exists wins.

    Returns:
        The folder, or None when neither exists.

    Example:
        >>> find_static_dir().name
        'plugin_static'
    """
    package_dir = pathlib.Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "plugin_static", package_dir.parent / "plugin_static"):
        if candidate.is_dir():
            return candidate
    return None


def read_static_file(static_dir: pathlib.Path | None, relative_path: str) -> tuple[bytes, str]:
    """Read one file of the static folder, refusing anything outside it.

    Args:
        static_dir: from :func:`find_static_dir`.
        relative_path: the (already URL-decoded) path below the folder, e.g.
            ``"views/table.js"``.

    Returns:
        ``(content, content_type)``.

    Raises:
        NotFoundError: no such file, a path that leaves the folder (``..``,
            absolute paths, symlinks pointing outside) or an extension not in
            :data:`STATIC_CONTENT_TYPES`.

    Example:
        >>> read_static_file(find_static_dir(), "index.js")[1]
        'text/javascript'
    """
    not_found = NotFoundError(f"no static file {shown_value(relative_path, width=100)}")
    if static_dir is None or not relative_path or "\x00" in relative_path or "\\" in relative_path:
        raise not_found
    parts = relative_path.split("/")
    if relative_path.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise not_found
    content_type = STATIC_CONTENT_TYPES.get(os.path.splitext(parts[-1])[1].lower())
    if content_type is None:
        raise not_found
    root = static_dir.resolve()
    try:
        target = root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        raise not_found from None
    if root not in target.parents or not target.is_file():
        raise not_found
    try:
        return target.read_bytes(), content_type
    except OSError:
        raise not_found from None



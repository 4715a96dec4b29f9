"""Blank class names (empty, or only whitespace) served as a visible placeholder.

The writers refuse such names, but event files written by earlier versions hold them, and a
blank name drew a blank row, label and option. Every route serves a tag's class names from its
parsed metadata, so they are replaced there, once: ``(unnamed class k)``, ``k`` the class's
index (its label), in more parentheses where a real name of the tag is already that text. The
dashboard draws a name of that form as a placeholder (``isUnnamedClass`` in
``plugin_static/format.js``).
"""

from __future__ import annotations

import dataclasses

from tb_imbalance import format as fmt

__all__ = ["placeholder_name", "visible_class_names"]


def placeholder_name(index: int, taken: set[str]) -> str:
    """The placeholder of class ``index``'s blank name: none of ``taken`` (the tag's other names).

    Example:
        >>> placeholder_name(3, {"cat"})
        '(unnamed class 3)'
        >>> placeholder_name(3, {"(unnamed class 3)"})
        '((unnamed class 3))'
    """
    name = f"(unnamed class {index})"
    while name in taken:
        name = f"({name})"
    return name


def visible_class_names(info: fmt.MatrixInfo) -> fmt.MatrixInfo:
    """``info`` with each blank class name as its placeholder, in the class groups too.

    Two blank names of one tag (``""`` twice) become two placeholders, so such a tag is served
    like any other.

    Example:
        >>> info = fmt.MatrixInfo(1, 3, ("cat", "", " "), False, class_groups=(("pets", ("cat", "")),))
        >>> shown = visible_class_names(info)
        >>> shown.class_names, shown.class_groups
        (('cat', '(unnamed class 1)', '(unnamed class 2)'), (('pets', ('cat', '(unnamed class 1)')),))
        >>> named = fmt.MatrixInfo(1, 2, ("cat", "dog"), False)
        >>> visible_class_names(named) is named
        True
    """
    names = info.class_names
    if all(name.strip() for name in names):
        return info
    taken = set(names)
    shown = []
    for index, name in enumerate(names):
        if not name.strip():
            name = placeholder_name(index, taken)
            taken.add(name)
        shown.append(name)
    placeholders: dict[str, str] = {}
    for name, placeholder in zip(names, shown):
        placeholders.setdefault(name, placeholder)  # a group names a blank name as its first class of that name
    groups = info.class_groups and tuple(
        (group, tuple(placeholders.get(member, member) for member in members)) for group, members in info.class_groups
    )
    return dataclasses.replace(info, class_names=tuple(shown), class_groups=groups)

"""Class groups: a confusion matrix rolled up to groups of classes.

Example:
    >>> group_matrix([[5, 1, 0], [2, 3, 1], [0, 1, 4]], {"pets": ["cat", "dog"]}, ["cat", "dog", "car"])[1]
    ['pets', 'car']
"""

from __future__ import annotations

import unicodedata
from typing import Any, Mapping, Sequence

import numpy as np

from tb_imbalance.core.sparse_matrix import SPARSE_ABOVE_CLASSES, SparseMatrix
from tb_imbalance.core.validators import REPORT_KEYS, validate_class_names, validate_matrix

__all__ = ["validate_class_groups", "group_matrix"]


def validate_class_groups(class_groups: Any, class_names: Sequence[str] | None) -> dict[str, list[str]] | None:
    """Return ``class_groups`` as ``{group name: [class names…]}`` (None stays None).

    ``class_names`` None: the classes are not known yet (a Keras callback
    before training); only the rules that need no class names are checked,
    and the members must be checked again once they are known.

    Rules: group names are non-empty strings without whitespace at their
    ends (as class names); each group lists at least one
    class; every member is one of ``class_names``; a class is in at most one
    group. Classes in no group are allowed: :func:`group_matrix` keeps each
    as a group of its own, under its class name, so a group name may not be
    the name of a class outside that group. The rolled-up matrix must have at
    least two groups, and group names may not be the report's own keys
    (``accuracy``, ``macro avg``, …), nor one text in two Unicode forms with
    another group's name or a class's in no group.

    Raises:
        TypeError: not a mapping of strings to lists of strings.
        ValueError: a rule above is broken (the message names the group and class).

    Example:
        >>> validate_class_groups({"pets": ("cat", "dog")}, ["cat", "dog", "car"])
        {'pets': ['cat', 'dog']}
    """
    if class_groups is None:
        return None
    if not isinstance(class_groups, Mapping):
        raise TypeError(
            '`class_groups` must be a dict {"group name": [class names…]}, received '
            f"{type(class_groups).__name__}"
        )
    known = {str(name): index for index, name in enumerate(class_names or ())}
    owner: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for group, members in class_groups.items():
        if not isinstance(group, str) or not group.strip():
            raise ValueError(f"`class_groups` names must be non-empty strings, received {group!r}")
        if isinstance(members, (str, bytes)) or not isinstance(members, (Sequence, np.ndarray)):
            raise TypeError(
                f"`class_groups[{group!r}]` must be a list of class names, received "
                f"{type(members).__name__}"
            )
        if group != group.strip():  # as class names (validate_class_names), told as a group's
            raise ValueError(_padded_group(group, members, class_groups, known))
        names = [str(name) for name in members]
        if not names:
            raise ValueError(f"`class_groups[{group!r}]` lists no class; every group needs at least one")
        groups[group] = names
        if class_names is None:
            continue
        for name in names:
            if name not in known:
                same = unicodedata.normalize("NFC", name)
                spelled = [other for other in known if unicodedata.normalize("NFC", other) == same]
                raise ValueError(
                    f"`class_groups[{group!r}]` names {name!r}, which is not a class name"
                    + (f" ({ascii(name)} differs from the class {ascii(spelled[0])} only in its Unicode form: "
                       "spell it as the class name is)" if spelled else "")
                    + (f" (it differs from the class {name.strip()!r} only by whitespace at its ends: strip the "
                       "members, [name.strip() for name in members])" if name.strip() in known else "")
                    + f"; class names: {list(known)[:8]}{'…' if len(known) > 8 else ''}"
                )
            if owner.get(name) == group:
                raise ValueError(f"`class_groups[{group!r}]` lists {name!r} twice")
            if name in owner:
                raise ValueError(
                    f"`class_groups`: class {name!r} is in two groups ({owner[name]!r} and {group!r}); "
                    "a class may be in at most one group"
                )
            owner[name] = group
    if class_names is None:
        return groups
    for group in groups:
        if group in known and owner.get(group) != group:
            raise ValueError(
                f"`class_groups`: group {group!r} has the name of a class outside it; classes in no "
                "group are shown as groups of their own under their class name, so rename the group"
            )
    rolled_up = list(groups) + [name for name in known if name not in owner]
    if len(rolled_up) < 2:
        raise ValueError(
            f"`class_groups` must leave at least two groups (counting classes in no group), received "
            f"{rolled_up}"
        )
    _check_group_keys(list(groups), rolled_up[len(groups):])
    try:
        validate_class_names(rolled_up, len(rolled_up))
    except ValueError as error:  # what _check_group_keys does not tell as the groups'
        raise ValueError(f"`class_groups`: the group names are not usable report keys: {error}") from None
    return groups


def _check_group_keys(groups: Sequence[str], ungrouped: Sequence[str]) -> None:
    """Refuse group names the rolled-up report cannot key its rows by, told as the groups' (not as ``class_names``
    of the rolled-up names): a report's own key, or one text in two Unicode forms with another group's name or
    the name of a class in no group.

    Example:
        >>> _check_group_keys(["pets", "accuracy"], ["car"])
        Traceback (most recent call last):
        ...
        ValueError: `class_groups` name 'accuracy' is one of the report's own keys ['accuracy', 'macro avg', 'micro avg', 'weighted avg']; rename the group, e.g. 'accuracy (group)'
    """
    clash = next((group for group in groups if group in REPORT_KEYS), None)
    if clash is not None:
        raise ValueError(
            f"`class_groups` name {clash!r} is one of the report's own keys {sorted(REPORT_KEYS)}; rename the group, "
            f"e.g. {clash + ' (group)'!r}"
        )
    first: dict[str, str] = {}
    for name, said in [*((group, f"group {ascii(group)}") for group in groups),
                       *((name, f"class {ascii(name)} (in no group)") for name in ungrouped)]:
        other = first.setdefault(unicodedata.normalize("NFC", name), said)
        if other is not said:
            fix = ("if they are two groups, name them apart in words; if one, list its classes under one name"
                   if said.startswith("group") else "rename the group in other words")
            raise ValueError(
                f"`class_groups`: the {other} and the {said} are the same text in two Unicode forms, shown alike "
                f"everywhere; {fix}"
            )


def _padded_group(group: str, members: Sequence[Any], class_groups: Mapping, known: Mapping[str, int]) -> str:
    """Why the group name ``group``, with whitespace at its ends, is refused, and a name to give it instead: its
    stripped name, unless that is another group's name or a class's outside it (then refused in turn, or, in a
    dict literal, one group silently replacing the other).

    Example:
        >>> _padded_group("pets ", ["cat"], {"pets ": ["cat"]}, {"cat": 0, "car": 1}).split("; ")[-1]
        "name the group 'pets'"
        >>> _padded_group("car ", ["cat"], {"car ": ["cat"]}, {"cat": 0, "car": 1}).split("; ")[-1]
        'give the group a name of its own in words'
    """
    stripped = group.strip()
    twin = next((other for other in class_groups if other != group and isinstance(other, str) and
                 other.strip() == stripped), None)
    if twin is not None:
        alike, fix = (f"those of the group {twin!r}", "if they are two groups, name them apart in words; if one, list "
                      "its classes under one name")
    elif stripped in known and stripped not in {str(name) for name in members}:
        alike, fix = f"those of {stripped!r} (the class {stripped!r}, not in this group)", (
            "give the group a name of its own in words")
    else:
        alike, fix = f"those of {stripped!r}", f"name the group {stripped!r}"
    return (f"`class_groups` name {group!r} starts or ends with whitespace, which TensorBoard's Scalars tab and the "
            f"picture do not show: its tags would look like {alike}, yet be charted apart from them; {fix}")


def group_matrix(
    cm: Any, groups: Mapping[str, Sequence[str]], class_names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Roll a confusion matrix up to groups of classes.

    Cell ``[g, h]`` of the result sums the cells whose true class is in group
    ``g`` and predicted class in group ``h``: a prediction of another class
    of the same group counts as correct for the group. The groups come in
    ``groups``' order, followed by every class in no group as a group of its
    own (named by the class), in class order.

    Args:
        cm: ``[C, C]`` confusion matrix.
        groups: ``{group name: [class names…]}`` (see :func:`validate_class_groups`).
        class_names: C names of ``cm``'s classes (default ``"0"…"C-1"``).

    Returns:
        ``(group_cm, group_names)``: the ``[G, G]`` matrix (int64 counts or float64 sums of weights;
        a :class:`~tb_imbalance.core.SparseMatrix` of a sparse ``cm`` when G
        is above :data:`~tb_imbalance.core.SPARSE_ABOVE_CLASSES`) and its G names.

    Example:
        >>> cm = [[5, 1, 0], [2, 3, 1], [0, 1, 4]]
        >>> group_cm, names = group_matrix(cm, {"animals": ["cat", "dog"]}, ["cat", "dog", "car"])
        >>> group_cm.tolist(), names
        ([[11, 1], [1, 4]], ['animals', 'car'])
    """
    cm = validate_matrix(cm, "cm")
    names = validate_class_names(class_names, cm.shape[0])
    checked = validate_class_groups(groups, names)
    if checked is None:
        raise TypeError("`groups` must be a dict {\"group name\": [class names…]}, received None")
    return _group_matrix(cm, checked, names)


def _group_matrix(
    cm: np.ndarray | SparseMatrix, groups: Mapping[str, Sequence[str]], names: Sequence[str]
) -> tuple[np.ndarray | SparseMatrix, list[str]]:
    """:func:`group_matrix` of a :func:`validate_matrix` result, its names and groups of them, not checked again
    (a stored tag's, which an earlier version may have written by other rules).

    Example:
        >>> _group_matrix(validate_matrix([[5, 1, 0], [2, 3, 1], [0, 1, 4]]), {"pets ": ["cat", "dog"]},
        ...               ["cat", "dog", "car"])[1]
        ['pets ', 'car']
    """
    index = {name: k for k, name in enumerate(names)}
    group_of = np.empty(cm.shape[0], dtype=np.int64)
    group_names = list(groups)
    for g, members in enumerate(groups.values()):
        group_of[[index[name] for name in members]] = g
    grouped = {name for members in groups.values() for name in members}
    for k, name in enumerate(names):
        if name not in grouped:
            group_of[k] = len(group_names)
            group_names.append(name)
    size = len(group_names)
    if isinstance(cm, SparseMatrix):  # sum the cells into their groups' cells
        grouped_cells = SparseMatrix.count(group_of[cm.rows], group_of[cm.columns], cm.values.astype(np.float64), size)
        if np.issubdtype(cm.dtype, np.integer):
            grouped_cells = grouped_cells.astype(np.int64)
        return (grouped_cells if size > SPARSE_ABOVE_CLASSES else grouped_cells.toarray()), group_names
    one_hot = np.zeros((cm.shape[0], size), dtype=cm.dtype)
    one_hot[np.arange(cm.shape[0]), group_of] = 1
    return one_hot.T @ cm @ one_hot, group_names

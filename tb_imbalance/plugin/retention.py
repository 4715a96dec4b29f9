"""How many steps TensorBoard keeps of the plugin's series: the ``--samples_per_plugin`` flag.

TensorBoard keeps only 10 (Python loader) or 100 (data server) points of a
third-party tensor series by default. :func:`with_every_step_kept` reads the
flag as TensorBoard or ``TensorBoard.configure`` hands it over and keeps every
step of ``imbalance`` unless the user chose a count, which must be 0 (every
step) or more: TensorBoard's Python loader fails every read of a series kept
with a negative count (the dashboard would answer 503 for every run), and its
data server does not start.

TensorBoard's own parser keeps the spaces around ``=`` in the plugin's name
(``imbalance = 5`` becomes ``{'imbalance ': 5}``), which no plugin is called,
so the count would be silently ignored; a name that is ``imbalance`` once
stripped is read as ``imbalance``, as the string form always was. Other
plugins' names are left as TensorBoard parsed them.

Example:
    >>> with_every_step_kept("images=3")
    {'images': 3, 'imbalance': 0}
    >>> with_every_step_kept({"imbalance": 20})
    {'imbalance': 20}
    >>> with_every_step_kept({"images ": 3, "imbalance ": 5})
    {'images ': 3, 'imbalance': 5}
"""

from __future__ import annotations

from typing import Any, Mapping

from tensorboard.plugins import base_plugin

from tb_imbalance import format as fmt

__all__ = ["with_every_step_kept"]


def with_every_step_kept(value: Any) -> dict[str, int]:
    """``flags.samples_per_plugin`` as a dict, with ``imbalance`` kept whole (0) unless chosen.

    Args:
        value: a dict (parsed from the command line), a ``"a=1,b=2"`` string
            (passed to ``TensorBoard.configure``) or None.

    Raises:
        base_plugin.FlagsError: ``value`` is malformed, or its ``imbalance``
            count is not an integer of 0 or more (the message names the flag
            and the fix).

    Example:
        >>> with_every_step_kept(None)
        {'imbalance': 0}
        >>> with_every_step_kept("imbalance=-1")
        Traceback (most recent call last):
        ...
        tensorboard.plugins.base_plugin.FlagsError: --samples_per_plugin imbalance=-1: ...
    """
    hints = _samples_per_plugin(value)
    hints.setdefault(fmt.PLUGIN_NAME, 0)
    count = hints[fmt.PLUGIN_NAME]
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise base_plugin.FlagsError(
            f"--samples_per_plugin {fmt.PLUGIN_NAME}={count!r}: the steps to keep of each run and tag must be "
            f"a count of 0 or more, where 0 keeps every step; pass {fmt.PLUGIN_NAME}=0, or leave "
            f"{fmt.PLUGIN_NAME} out of the flag to keep every step"
        )
    return hints


def _samples_per_plugin(value: Any) -> dict[str, int]:
    """Normalise ``flags.samples_per_plugin`` (dict, ``"a=1,b=2"`` string or None)."""
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return {_own_name_unpadded(name): count for name, count in value.items()}
    if isinstance(value, str):
        hints: dict[str, int] = {}
        for token in value.split(","):
            token = token.strip()
            if not token:
                continue
            name, separator, count = token.partition("=")
            try:
                if not separator:
                    raise ValueError(token)
                hints[name.strip()] = int(count)
            except ValueError:
                raise base_plugin.FlagsError(
                    "--samples_per_plugin must be comma-separated plugin=count pairs such as "
                    f"`imbalance=50`, received {value!r}"
                ) from None
        return hints
    raise base_plugin.FlagsError(
        f"--samples_per_plugin must be a dict or a string, received {value!r}"
    )


def _own_name_unpadded(name: Any) -> Any:
    """``imbalance`` for a name that is ``imbalance`` once stripped of whitespace, else ``name`` as given."""
    if isinstance(name, str) and name.strip() == fmt.PLUGIN_NAME:
        return fmt.PLUGIN_NAME
    return name

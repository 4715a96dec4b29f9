"""Which output of a functional model of several outputs each compiled metric reads, and that output's loss.

Keras 3 places ``compile(metrics=..., weighted_metrics=..., loss=...)`` on a
model whose outputs are a dict or a list (``keras.src.trainers.compile_utils``):
metrics as a dict keyed by output or a list with one entry per output; one
loss for every output, a dict keyed by output, or a list with one per output.
Read the same way before training, they tell what a compiled metric will be
handed and what that output's loss says about logits. A model of one output
takes every metric whatever their layout, and its loss given as a list of one
or a dict keyed by its output is that loss (:func:`single_output_loss`); a
subclassed model (no symbolic outputs), nested outputs and layouts Keras
would refuse tell nothing.

Example:
    >>> import keras
    >>> from tb_imbalance.keras import BalancedAccuracy
    >>> inputs = keras.Input((4,))
    >>> model = keras.Model(inputs, {"kind": keras.layers.Dense(3, activation="softmax")(inputs),
    ...                              "score": keras.layers.Dense(1)(inputs)})
    >>> metric = BalancedAccuracy(2, from_logits=True)
    >>> model.compile(loss={"kind": "sparse_categorical_crossentropy",
    ...                     "score": keras.losses.BinaryCrossentropy(from_logits=True)},
    ...               metrics={"score": [metric]})
    >>> placed = metric_placements(model, [metric])[0]
    >>> placed.name, tuple(placed.output.shape), placed.loss.name
    ('score', (None, 1), 'binary_crossentropy')
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, NamedTuple, Sequence

import keras

__all__ = ["Placement", "named_outputs", "output_losses", "metric_placements", "single_output_loss"]


class Placement(NamedTuple):
    """The output a compiled metric reads: its name (a dict's key, else the output layer's name), its symbolic
    tensor, and the loss compiled for it (``None``: no loss, or the loss argument's layout places none)."""

    name: str
    output: Any
    loss: Any


def named_outputs(model: Any) -> list[tuple[str, Any]] | None:
    """A functional model's several outputs, named and ordered as Keras places per-output metrics; else ``None``.

    Example:
        >>> inputs = keras.Input((4,))
        >>> model = keras.Model(inputs, [keras.layers.Dense(3, name=n)(inputs) for n in ("main", "aux")])
        >>> [name for name, _ in named_outputs(model)]
        ['main', 'aux']
    """
    try:
        structure, names = model.output, list(model.output_names)
    except (AttributeError, ValueError, TypeError):  # subclassed, Sequential, or never built
        return None
    if isinstance(structure, dict):
        keys = list(structure)
        if set(keys) == set(names):  # Keras keeps the model's order when the keys are the output names
            order = names
        elif isinstance(structure, OrderedDict):
            order = keys
        elif all(isinstance(key, str) for key in keys):
            order = sorted(keys)
        else:
            return None
        named = [(key, structure[key]) for key in order]
    elif isinstance(structure, (list, tuple)) and len(structure) == len(names):
        named = list(zip(names, structure))
    else:
        return None
    if len(named) < 2 or not all(isinstance(output, keras.KerasTensor) for _, output in named):
        return None
    return named


def output_losses(model: Any, named: list[tuple[str, Any]]) -> list[Any]:
    """The loss compiled for each of the ``named`` outputs (``None``: none, or not placed by the layout given).

    Example:
        >>> inputs = keras.Input((4,))
        >>> model = keras.Model(inputs, [keras.layers.Dense(3, name=n)(inputs) for n in ("main", "aux")])
        >>> model.compile(loss={"aux": "mse", "main": "sparse_categorical_crossentropy"})
        >>> output_losses(model, named_outputs(model))
        ['sparse_categorical_crossentropy', 'mse']
    """
    loss, unplaced = getattr(model, "loss", None), [None] * len(named)
    if not keras.tree.is_nested(loss):  # one loss: every output's
        return [loss] * len(named)
    if isinstance(loss, dict):
        if isinstance(model.output, dict):
            return [loss.get(name) for name, _ in named]
        return [loss[name] for name, _ in named] if set(loss) == set(model.output_names) else unplaced
    if isinstance(loss, (list, tuple)) and len(loss) == len(named) and not any(map(keras.tree.is_nested, loss)):
        flat = list(model.outputs)  # Keras packs a list of losses in the order the outputs flatten to
        return [loss[next(k for k, tensor in enumerate(flat) if tensor is output)] for _, output in named]
    return unplaced


def _per_output(given: Any, named: list[tuple[str, Any]]) -> list[Any]:
    """``compile()``'s metrics (or weighted_metrics) for each output, as Keras places them ([]: not placed)."""
    if isinstance(given, (list, tuple)) and len(given) == len(named):
        return list(given)
    if isinstance(given, dict) and len(given) <= len(named) and set(given) <= {name for name, _ in named}:
        return [given.get(name) for name, _ in named]
    return []


def metric_placements(model: Any, metrics: Sequence[Any]) -> list[Placement | None]:
    """Where each of ``metrics`` is compiled on a functional model of several outputs (``None``: cannot tell)."""
    named = named_outputs(model)
    if named is None:
        return [None] * len(metrics)
    compiled = getattr(model, "_compile_metrics", None)
    losses, where = output_losses(model, named), {}
    for given in (getattr(compiled, "_user_metrics", None), getattr(compiled, "_user_weighted_metrics", None)):
        for index, entry in enumerate(_per_output(given, named)):
            for metric in keras.tree.flatten(entry) if entry is not None else ():
                where.setdefault(id(metric), index)
    placed = [where.get(id(metric)) for metric in metrics]
    return [None if k is None else Placement(named[k][0], named[k][1], losses[k]) for k in placed]


def single_output_loss(model: Any) -> Any:
    """``model.loss`` as Keras applies it to a model of one output (or a subclassed one, whose outputs are not
    known before it runs): a list or tuple of one loss, or a dict of one entry keyed by that output (its key in a
    dict of outputs, else its name), is that loss; anything else is returned as given.

    Example:
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> model.compile(loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True)])
        >>> single_output_loss(model).get_config()["from_logits"]
        True
    """
    loss = getattr(model, "loss", None)
    try:
        structure = model.output
    except (AttributeError, ValueError, TypeError):  # subclassed, or never built
        structure = None
    if structure is not None and len(keras.tree.flatten(structure)) != 1:
        return loss
    if isinstance(loss, (list, tuple)) and len(loss) == 1 and not keras.tree.is_nested(loss[0]):
        return loss[0]
    keys = structure if isinstance(structure, dict) else (getattr(model, "output_names", None) or ())
    if isinstance(loss, dict) and len(loss) == 1 and next(iter(loss)) in keys and not keras.tree.is_nested(
            next(iter(loss.values()))):
        return next(iter(loss.values()))
    return loss

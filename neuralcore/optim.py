"""Optimizers as pure ``(init, update)`` pairs, in the style of optax.

``init(params) -> state`` and ``update(grads, state, params) -> (updates, state)``;
``apply_updates(params, updates)`` adds the updates. State is a NamedTuple that
goes in and comes out, so an optimizer holds no hidden mutable state and any
array it keeps stays on the parameters' device. Parameters and gradients are
dicts of arrays with the same keys (``{"W": ..., "b": ...}``).
"""

from __future__ import annotations

import numbers
from typing import Callable, NamedTuple

__all__ = ["OPTIMIZERS", "GradientDescentState", "Optimizer", "apply_updates", "gradient_descent", "get_optimizer"]


class Optimizer(NamedTuple):
    """A pair of pure functions ``init(params)`` and ``update(grads, state, params)``."""

    init: Callable
    update: Callable


class GradientDescentState(NamedTuple):
    """Plain gradient descent keeps no state beyond a step counter (a host int)."""

    step: int


def apply_updates(params: dict, updates: dict) -> dict:
    """New parameter dict ``params[k] + updates[k]``; never writes into ``params``.

    Examples
    --------
    >>> import numpy as np
    >>> apply_updates({"b": np.asarray([1.0])}, {"b": np.asarray([-0.5])})
    {'b': array([0.5])}
    """
    return {key: params[key] + updates[key] for key in params}


def gradient_descent(learning_rate: float) -> Optimizer:
    """The textbook update ``W = W - learning_rate * dW``.

    Parameters
    ----------
    learning_rate : float
        Step size, a positive Python number (kept as a weak scalar so float32
        parameters stay float32).

    Examples
    --------
    >>> import numpy as np
    >>> opt = gradient_descent(0.1)
    >>> params = {"W": np.ones((2, 1))}
    >>> updates, state = opt.update({"W": np.ones((2, 1))}, opt.init(params), params)
    >>> apply_updates(params, updates)["W"].ravel()
    array([0.9, 0.9])
    """
    learning_rate = _check_positive("learning_rate", learning_rate)

    def init(params):
        return GradientDescentState(step=0)

    def update(grads, state, params=None):
        return {key: -learning_rate * g for key, g in grads.items()}, GradientDescentState(state.step + 1)

    return Optimizer(init, update)


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__}")
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


#: Optimizer factories by name, each taking the learning rate.
OPTIMIZERS = {"gd": gradient_descent}


def get_optimizer(optimizer, learning_rate: float) -> Optimizer:
    """An :class:`Optimizer` from a name in :data:`OPTIMIZERS` or an Optimizer itself."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    try:
        factory = OPTIMIZERS[optimizer]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optimizer {optimizer!r}; valid names: {', '.join(OPTIMIZERS)}") from None
    return factory(learning_rate)

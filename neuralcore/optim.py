"""Optimizers as pure ``(init, update)`` functions, in the style of optax.

``init(params) -> state`` and ``update(grads, state, params) -> (updates, state)``;
``apply_updates(params, updates)`` adds the updates. State is a NamedTuple that
goes in and comes out: any array in it (velocities, moment estimates) is
created on the parameters' device in their dtype, and the step counter is a
host integer, so learning-rate schedules and Adam's bias corrections are
Python numbers that never make the device wait.

The formulas are the course's (exponentially weighted averages):

========== =================================================================
gd         ``W = W - lr * dW``
momentum   ``v = beta * v + (1 - beta) * dW``; ``W = W - lr * v``
           (Nesterov: ``W = W - lr * (beta * v + (1 - beta) * dW)``)
rmsprop    ``s = rho * s + (1 - rho) * dW**2``; ``W = W - lr * dW / (sqrt(s) + eps)``
adam       momentum and rmsprop with bias correction ``1 - beta**t``
========== =================================================================

File order follows increasing complexity: schedules, then the optimizers.
"""

from __future__ import annotations

import inspect
import math
import numbers
from typing import Callable, NamedTuple

from array_api_compat import array_namespace, device

from . import kernels
from .validation import is_finite

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "AdamState",
    "GradientDescentState",
    "MomentumState",
    "Optimizer",
    "PlainRate",
    "RMSPropState",
    "adam",
    "apply_updates",
    "constant",
    "descend",
    "exponential_decay",
    "get_optimizer",
    "gradient_descent",
    "inverse_time_decay",
    "momentum",
    "plain_rate",
    "rmsprop",
    "step_decay",
]


class PlainRate(NamedTuple):
    """What :func:`gradient_descent` says of itself: its ``update`` is exactly ``-rate * grads``.

    ``rate(state) -> (learning_rate, next_state)``; ``update`` is the update
    function this holds for, so that an Optimizer whose ``update`` was
    replaced (``_replace(update=...)``) is never taken for plain gradient descent.
    """

    rate: Callable
    update: Callable


class Optimizer(NamedTuple):
    """Pure functions ``init(params)`` and ``update(grads, state, params)``, and what they are.

    ``plain_rate`` is None, or a :class:`PlainRate` when the update is plain
    gradient descent: the training loop may then hand the whole step to a
    fused kernel (:func:`neuralcore.logistic.gd_step`). Read it through
    :func:`plain_rate`.
    """

    init: Callable
    update: Callable
    plain_rate: PlainRate | None = None


def plain_rate(optimizer: Optimizer) -> Callable | None:
    """``state -> (learning_rate, next_state)`` when ``optimizer`` is plain gradient descent, else None.

    Examples
    --------
    >>> plain_rate(gradient_descent(0.1))(GradientDescentState(step=0))
    (0.1, GradientDescentState(step=1))
    >>> plain_rate(adam(0.1)) is None
    True
    """
    declared = optimizer.plain_rate
    if declared is None or declared.update is not optimizer.update:
        return None
    return declared.rate


def apply_updates(params: dict, updates: dict) -> dict:
    """New parameter dict ``params[k] + updates[k]``; never writes into ``params``.

    Examples
    --------
    >>> import numpy as np
    >>> apply_updates({"b": np.asarray([1.0])}, {"b": np.asarray([-0.5])})
    {'b': array([0.5])}
    """
    return {key: params[key] + updates[key] for key in params}


def descend(params: dict, grads: dict, learning_rate: float) -> dict:
    """New parameters ``params[k] - learning_rate * grads[k]``: one plain gradient-descent step.

    Bit for bit ``apply_updates(params, updates)`` with :func:`gradient_descent`'s
    ``updates = -learning_rate * grads`` (two array operations per parameter);
    where the backend has a compiled kernel for it (CuPy), one launch per
    parameter instead of two. Never writes into ``params``.

    Examples
    --------
    >>> import numpy as np
    >>> descend({"W": np.ones(2)}, {"W": np.asarray([1.0, -1.0])}, 0.5)["W"]
    array([0.5, 1.5])
    """
    new = {}
    for key, value in params.items():
        fused = kernels.descend(value, grads[key], -learning_rate)
        new[key] = fused if fused is not None else value + -learning_rate * grads[key]
    return new


# -------------------------------------------------------------------- helpers


def _check_positive(name: str, value, *, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__}")
    if not (value > 0 and is_finite(value)) or (upper is not None and value >= upper):
        bound = f" below {upper}" if upper is not None else ""
        raise ValueError(f"{name} must be a positive finite number{bound}, got {value!r}")
    return float(value)


def _as_schedule(learning_rate) -> Callable[[int], float]:
    if callable(learning_rate):
        return learning_rate
    return constant(learning_rate)


def _rate(schedule, step: int) -> float:
    # A Python float: a NumPy float64 scalar from a user's schedule would promote float32 parameters.
    value = schedule(step)
    if isinstance(value, (bool, str, bytes)) or not (
        isinstance(value, numbers.Real) or getattr(value, "shape", None) == ()
    ):
        raise TypeError(f"the learning-rate schedule returned {type(value).__name__} {value!r} at step {step}; "
                        "it must return a positive finite number")
    try:
        rate = float(value)
    except OverflowError:  # an int beyond float64 (10**400)
        rate = math.inf
    if not (rate > 0 and math.isfinite(rate)):
        raise ValueError(f"the learning-rate schedule returned {rate!r} at step {step}; it must be positive and finite")
    return rate


def _moment(average: dict, values: dict, decay: float, power: int = 1) -> dict:
    """The exponentially weighted average ``decay * average + (1 - decay) * values**power``, per key."""
    if power == 1:
        return {k: decay * average[k] + (1 - decay) * v for k, v in values.items()}
    return {k: decay * average[k] + (1 - decay) * (v * v) for k, v in values.items()}


def _zeros_like(params: dict) -> dict:
    # On each parameter's own device, in its dtype: the state lives where the parameters do.
    return {
        key: array_namespace(value).zeros(value.shape, dtype=value.dtype, device=device(value))
        for key, value in params.items()
    }


# ------------------------------------------------------------------ schedules


def constant(learning_rate: float) -> Callable[[int], float]:
    """The same learning rate at every step.

    Examples
    --------
    >>> constant(0.1)(1000)
    0.1
    """
    learning_rate = _check_positive("learning_rate", learning_rate)
    return lambda step: learning_rate


def inverse_time_decay(learning_rate: float, decay_rate: float, decay_steps: int = 1) -> Callable[[int], float]:
    """``learning_rate / (1 + decay_rate * step / decay_steps)`` (the course's learning-rate decay).

    ``step`` counts optimizer updates (one per mini-batch), starting at 0.

    Examples
    --------
    >>> inverse_time_decay(1.0, decay_rate=1.0, decay_steps=10)(10)
    0.5
    """
    learning_rate = _check_positive("learning_rate", learning_rate)
    decay_rate = _check_positive("decay_rate", decay_rate)
    decay_steps = _check_positive("decay_steps", decay_steps)
    return lambda step: learning_rate / (1 + decay_rate * step / decay_steps)


def exponential_decay(learning_rate: float, decay_rate: float, decay_steps: int = 1) -> Callable[[int], float]:
    """``learning_rate * decay_rate ** (step / decay_steps)``.

    Examples
    --------
    >>> exponential_decay(1.0, decay_rate=0.5, decay_steps=10)(20)
    0.25
    """
    learning_rate = _check_positive("learning_rate", learning_rate)
    decay_rate = _check_positive("decay_rate", decay_rate, upper=1.0 + 1e-12)
    decay_steps = _check_positive("decay_steps", decay_steps)
    return lambda step: learning_rate * decay_rate ** (step / decay_steps)


def step_decay(learning_rate: float, drop: float = 0.5, every: int = 1000) -> Callable[[int], float]:
    """``learning_rate * drop ** floor(step / every)``: a staircase.

    Examples
    --------
    >>> [step_decay(1.0, drop=0.5, every=10)(s) for s in (0, 9, 10, 25)]
    [1.0, 1.0, 0.5, 0.25]
    """
    learning_rate = _check_positive("learning_rate", learning_rate)
    drop = _check_positive("drop", drop, upper=1.0 + 1e-12)
    every = int(_check_positive("every", every))
    return lambda step: learning_rate * drop ** (step // every)


#: Learning-rate schedules by name.
SCHEDULES = {
    "constant": constant,
    "inverse_time": inverse_time_decay,
    "exponential": exponential_decay,
    "step": step_decay,
}


# ----------------------------------------------------------------- optimizers


class GradientDescentState(NamedTuple):
    """Plain gradient descent keeps only the step counter (a host int)."""

    step: int


def gradient_descent(learning_rate=0.01) -> Optimizer:
    """The textbook update ``W = W - learning_rate * dW``.

    Parameters
    ----------
    learning_rate : float or callable
        Step size, or a schedule ``step -> float`` (see :func:`exponential_decay`).

    Examples
    --------
    >>> import numpy as np
    >>> opt = gradient_descent(0.1)
    >>> params = {"W": np.ones((2, 1))}
    >>> updates, state = opt.update({"W": np.ones((2, 1))}, opt.init(params), params)
    >>> apply_updates(params, updates)["W"].ravel()
    array([0.9, 0.9])
    """
    schedule = _as_schedule(learning_rate)

    def init(params):
        return GradientDescentState(step=0)

    def rate(state):
        return _rate(schedule, state.step), GradientDescentState(state.step + 1)

    def update(grads, state, params=None):
        lr, state = rate(state)
        return {key: -lr * g for key, g in grads.items()}, state

    return Optimizer(init, update, PlainRate(rate, update))


class MomentumState(NamedTuple):
    step: int
    velocity: dict


def momentum(learning_rate=0.01, beta: float = 0.9, nesterov: bool = False) -> Optimizer:
    """Gradient descent with momentum (heavy-ball, or Nesterov's look-ahead form).

    ``v = beta * v + (1 - beta) * dW`` then ``W = W - lr * v``; with
    ``nesterov=True`` the step uses the look-ahead ``beta * v + (1 - beta) * dW``.

    Examples
    --------
    >>> import numpy as np
    >>> opt = momentum(1.0, beta=0.5)
    >>> params = {"W": np.zeros(1)}
    >>> updates, state = opt.update({"W": np.ones(1)}, opt.init(params), params)
    >>> updates["W"]
    array([-0.5])
    """
    schedule = _as_schedule(learning_rate)
    beta = _check_positive("beta", beta, upper=1.0)

    def init(params):
        return MomentumState(step=0, velocity=_zeros_like(params))

    def update(grads, state, params=None):
        lr = _rate(schedule, state.step)
        velocity = _moment(state.velocity, grads, beta)
        if nesterov:
            updates = {k: -lr * (beta * velocity[k] + (1 - beta) * g) for k, g in grads.items()}
        else:
            updates = {k: -lr * v for k, v in velocity.items()}
        return updates, MomentumState(state.step + 1, velocity)

    return Optimizer(init, update)


class RMSPropState(NamedTuple):
    step: int
    square_avg: dict


def rmsprop(learning_rate=0.001, rho: float = 0.9, eps: float = 1e-8) -> Optimizer:
    """RMSProp: ``s = rho * s + (1 - rho) * dW**2``; ``W = W - lr * dW / (sqrt(s) + eps)``."""
    schedule = _as_schedule(learning_rate)
    rho = _check_positive("rho", rho, upper=1.0)
    eps = _check_positive("eps", eps)

    def init(params):
        return RMSPropState(step=0, square_avg=_zeros_like(params))

    def update(grads, state, params=None):
        lr = _rate(schedule, state.step)
        square_avg = _moment(state.square_avg, grads, rho, power=2)
        updates = {
            k: -lr * g / (array_namespace(g).sqrt(square_avg[k]) + eps) for k, g in grads.items()
        }
        return updates, RMSPropState(state.step + 1, square_avg)

    return Optimizer(init, update)


class AdamState(NamedTuple):
    step: int
    first_moment: dict
    second_moment: dict


def adam(learning_rate=0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam (Kingma & Ba, 2015), with the course's bias-corrected moment estimates.

    Examples
    --------
    >>> import numpy as np
    >>> opt = adam(0.1)
    >>> params = {"W": np.zeros(2)}
    >>> updates, _ = opt.update({"W": np.asarray([3.0, -0.001])}, opt.init(params), params)
    >>> np.round(updates["W"], 6)  # the first step has the learning rate's size whatever the gradient's
    array([-0.1     ,  0.099999])
    """
    schedule = _as_schedule(learning_rate)
    beta1 = _check_positive("beta1", beta1, upper=1.0)
    beta2 = _check_positive("beta2", beta2, upper=1.0)
    eps = _check_positive("eps", eps)

    def init(params):
        return AdamState(step=0, first_moment=_zeros_like(params), second_moment=_zeros_like(params))

    def update(grads, state, params=None):
        t = state.step + 1
        lr = _rate(schedule, state.step)
        first = _moment(state.first_moment, grads, beta1)
        second = _moment(state.second_moment, grads, beta2, power=2)
        correction1, correction2 = 1 - beta1**t, 1 - beta2**t
        updates = {
            k: -lr * (first[k] / correction1) / (array_namespace(g).sqrt(second[k] / correction2) + eps)
            for k, g in grads.items()
        }
        return updates, AdamState(t, first, second)

    return Optimizer(init, update)


#: Optimizer factories by name; each takes ``learning_rate`` first, then its own hyperparameters.
OPTIMIZERS = {
    "gd": gradient_descent,
    "momentum": momentum,
    "nesterov": lambda learning_rate=0.01, beta=0.9: momentum(learning_rate, beta, nesterov=True),
    "rmsprop": rmsprop,
    "adam": adam,
}


def get_optimizer(optimizer, learning_rate, params: dict | None = None) -> Optimizer:
    """An :class:`Optimizer` from a name in :data:`OPTIMIZERS` or an Optimizer itself.

    ``learning_rate`` (a float or a schedule) and ``params`` (a dict of the
    optimizer's other hyperparameters, e.g. ``{"beta": 0.95}``) apply to a name.
    """
    if isinstance(optimizer, Optimizer):
        if params:
            raise ValueError("optimizer_params applies to an optimizer given by name, not to an Optimizer object")
        return optimizer
    try:
        factory = OPTIMIZERS[optimizer]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown optimizer {optimizer!r}; valid names: {', '.join(OPTIMIZERS)}, or an optim.Optimizer"
        ) from None
    params = dict(params or {})
    valid = [name for name in inspect.signature(factory).parameters if name != "learning_rate"]
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"optimizer {optimizer!r} has no hyperparameter {', '.join(map(repr, unknown))}; "
            f"valid: {', '.join(valid) or 'none'}"
        )
    if not callable(learning_rate):
        _check_positive("learning_rate", learning_rate)
    return factory(learning_rate, **params)

"""The training loop: forward, cost, backward, optimizer update, apply.

The cost of every iteration is kept as a 0-d array on the training device and
read back to the host in blocks (``xp.stack`` then one transfer), so a GPU is
never made to wait for the host after each step.
"""

from __future__ import annotations

import math
import sys
from typing import Callable, NamedTuple

from array_api_compat import array_namespace

from .device import to_numpy
from .exceptions import DivergenceError
from .optim import Optimizer, apply_updates

__all__ = ["TrainResult", "train_full_batch"]

#: Iterations between two read-backs of the costs when nothing is printed.
READBACK_EVERY = 256


class TrainResult(NamedTuple):
    """Parameters after training, the cost per iteration, and the number of updates."""

    params: dict
    loss_curve: list
    n_iter: int


def train_full_batch(
    loss_and_grads: Callable,
    params: dict,
    X,
    Y,
    *,
    optimizer: Optimizer,
    max_iter: int,
    verbose: int = 0,
    print_every: int = 100,
    stream=None,
) -> TrainResult:
    """Full-batch gradient-based training, the textbook loop.

    Parameters
    ----------
    loss_and_grads : callable
        ``loss_and_grads(params, X, Y) -> (cost, grads)`` with ``cost`` a 0-d
        array and ``grads`` a dict keyed like ``params``.
    params : dict of arrays
        Starting parameters, on the device of ``X``. Not modified.
    X : array of shape (n_samples, n_features)
    Y : array of shape (n_samples, 1)
    optimizer : Optimizer
    max_iter : int
        Number of updates.
    verbose : int
        ``0`` silent; ``>= 1`` prints ``Cost after iteration i: J`` every
        ``print_every`` iterations, as the course does.
    stream : file-like, optional
        Where to print (default ``sys.stdout``).

    Returns
    -------
    TrainResult
        ``loss_curve[i]`` is the cost at the parameters after ``i`` updates,
        computed in the forward pass of iteration ``i`` before its update.

    Raises
    ------
    DivergenceError
        When a cost is NaN or infinite; it names the iteration and carries the
        last parameters whose cost was finite.
    """
    xp = array_namespace(X)
    stream = sys.stdout if stream is None else stream
    block = print_every if verbose else READBACK_EVERY
    state = optimizer.init(params)
    loss_curve: list[float] = []
    pending = []
    # The last parameters known to give a finite cost, and their iteration.
    anchor = (params, state, 0)
    for i in range(max_iter):
        iteration_params, iteration_state = params, state
        cost, grads = loss_and_grads(params, X, Y)
        pending.append(cost)
        updates, state = optimizer.update(grads, state, params)
        params = apply_updates(params, updates)
        if len(pending) == block or i == max_iter - 1:
            values = [float(v) for v in to_numpy(xp.stack(pending))]
            first_bad = next((k for k, v in enumerate(values) if not math.isfinite(v)), None)
            if first_bad is not None:
                _raise_divergence(loss_and_grads, optimizer, anchor, X, Y, loss_curve + values[:first_bad])
            if verbose:
                for k, value in enumerate(values, start=len(loss_curve)):
                    if k % print_every == 0:
                        print(f"Cost after iteration {k}: {value:f}", file=stream, flush=True)
            loss_curve.extend(values)
            pending = []
            anchor = (iteration_params, iteration_state, i)
    return TrainResult(params, loss_curve, max_iter)


def _raise_divergence(loss_and_grads, optimizer, anchor, X, Y, loss_curve):
    # Costs are read back in blocks, so replay the few updates from the last
    # parameters known to be good up to the last finite cost: the loop is
    # deterministic, and this keeps the last good parameters without copying
    # them at every step.
    iteration = len(loss_curve)
    params, state, anchor_iteration = anchor
    for _ in range(max(iteration - 1, 0) - anchor_iteration):
        _, grads = loss_and_grads(params, X, Y)
        updates, state = optimizer.update(grads, state, params)
        params = apply_updates(params, updates)
    if iteration == 0:
        message = (
            "training diverged: the cost at the starting parameters is not finite "
            "(check the input scale and the initial parameters)"
        )
    else:
        message = (
            f"training diverged: the cost became NaN or infinite at iteration {iteration} "
            f"(last finite cost {loss_curve[-1]:.6g}); try a smaller learning_rate. "
            "The last finite parameters are kept in this error's .params"
        )
    raise DivergenceError(message, iteration=iteration, params=params, loss_curve=loss_curve)

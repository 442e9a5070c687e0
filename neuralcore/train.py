"""The training loop: forward, cost, backward, optimizer update, apply.

One *epoch* is one pass over the data: a single update in full-batch mode (the
textbook algorithm, where epochs and iterations coincide), one update per
mini-batch otherwise. The loop trains on a *data source*
(:mod:`neuralcore.data`: arrays in memory or Dask chunks) and never asks which.

The cost of each epoch (and the validation score, when there is a validation
set) stays a 0-d array on the training device; they are read back to the host
in blocks (``xp.stack`` then one transfer), so a GPU is not made to wait after
every step. Because parameter updates are functional (new arrays, never
in-place), the loop keeps plain references to the parameters of the epochs in
the current block: stopping rules and divergence handling then return the
exact parameters of any epoch without recomputation. The block length is
bounded so that those references stay within :data:`REFERENCE_BUDGET` bytes.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable, NamedTuple

import numpy as np

from .data import as_source
from .device import to_numpy, to_numpy_dtype
from .exceptions import ConvergenceWarning, DivergenceError, sklearn_compatible
from .optim import Optimizer, apply_updates, plain_rate
from .progress import Progress, Verbosity

__all__ = [
    "EXPLOSION_FACTOR",
    "EXPLOSION_MARGIN",
    "READBACK_EVERY",
    "REFERENCE_BUDGET",
    "Steps",
    "TrainResult",
    "default_print_every",
    "train",
]

#: Epochs between two read-backs of the costs (at most).
READBACK_EVERY = 256

#: Bytes of parameters the loop may keep referenced between two read-backs.
REFERENCE_BUDGET = 64 * 2**20

#: A cost above ``max(EXPLOSION_FACTOR * start, start + EXPLOSION_MARGIN)`` is a divergence (see :func:`train`).
EXPLOSION_FACTOR = 100.0
EXPLOSION_MARGIN = 100.0


class Steps(NamedTuple):
    """The model functions the loop calls.

    ``loss_and_grads(params, X, Y) -> (cost, grads)``: a 0-d array and a dict
    keyed like ``params``. ``gd_step(params, X, Y, learning_rate) -> (cost,
    new_params)``, optional: one whole plain gradient-descent step
    (:func:`neuralcore.logistic.gd_step`, or a compiled kernel with its
    contract), used instead of ``loss_and_grads`` plus ``optimizer.update``
    when the optimizer is plain gradient descent
    (:attr:`neuralcore.optim.Optimizer.plain_rate`).
    """

    loss_and_grads: Callable
    gd_step: Callable | None = None


class TrainResult(NamedTuple):
    """What :func:`train` returns.

    Attributes
    ----------
    params : dict
        Final parameters (the best ones on the validation set when early stopping used one).
    loss_curve : list of float
        One training cost per epoch.
    n_iter : int
        Epochs run (full batch: updates made).
    validation_scores : list of float or None
        Validation accuracy per epoch, when a validation set was given.
    best_iteration : int or None
        Epoch whose parameters were returned by early stopping on the validation set.
    optimizer_state : object or None
        The optimizer's state that goes with ``params`` (pass it back as
        ``train(..., optimizer_state=)`` to continue training exactly), or
        None when there is none (a second-order solver).
    """

    params: dict
    loss_curve: list
    n_iter: int
    validation_scores: list | None
    best_iteration: int | None
    optimizer_state: object = None


class _Record(NamedTuple):
    cost: object  # 0-d device array
    score: object  # 0-d device array or None
    scored: dict  # the parameters that ``score`` (and, in full batch, ``cost``) describe
    end: dict  # the parameters at the end of the epoch
    scored_state: object = None  # the optimizer states that go with them (kept only when a stopping
    end_state: object = None  # rule may return the parameters of an epoch inside a block)


def train(
    steps,
    params: dict,
    data,
    *,
    optimizer: Optimizer,
    max_iter: int,
    rng: np.random.Generator | None = None,
    tol: float | None = None,
    n_iter_no_change: int = 10,
    validation: Callable | None = None,
    verbose: int | Verbosity = 0,
    optimizer_state=None,
) -> TrainResult:
    """Train ``params`` by an optimizer, full batch or in mini-batches.

    Parameters
    ----------
    steps : Steps or callable
        The model functions; a callable is ``loss_and_grads`` alone.
    params : dict of arrays
        Starting parameters, where ``data`` trains them. Not modified.
    data : data source or tuple (X, Y)
        A source of :mod:`neuralcore.data` (which also says full batch or
        mini-batches), or a pair of arrays ``X`` of shape (n_samples,
        n_features) and ``Y`` of shape (n_samples, n_outputs), trained full batch.
        ``params`` must be on its library and device (else a ValueError).
    optimizer : Optimizer
    max_iter : int
        Epochs (full batch: updates, the textbook's iterations).
    rng : numpy.random.Generator
        Source of the mini-batch shuffling, used as it is (it advances): pass
        the generator a previous call advanced to continue its sequence.
    tol, n_iter_no_change : float or None, int
        Training-cost rule: stop after ``n_iter_no_change`` consecutive epochs
        whose cost did not improve on the best by at least ``tol``. ``None``
        disables it. Without a validation set, reaching ``max_iter`` while the
        rule is on issues a :class:`ConvergenceWarning`.
    validation : callable, optional
        ``validation(params) -> 0-d array``, a score where higher is better
        (accuracy). Enables early stopping: training stops after
        ``n_iter_no_change`` epochs without improvement by more than ``tol``
        (or 0), and the best parameters are returned.
    verbose : int or Verbosity
        0 silent; 1 a progress bar (tqdm, on a terminal, for runs longer than
        a second); 2 the course's ``Cost after iteration i: J`` lines, every
        ``Verbosity.print_every`` epochs (by default the power of ten that
        gives 10 to 100 lines, see :func:`default_print_every`).
    optimizer_state : optional
        The optimizer's state to start from (a previous result's
        ``optimizer_state``: velocities, moments, step counter); default
        ``optimizer.init(params)``. With the ``params``, ``rng`` and state a
        run ended with, ``max_iter=100`` twice gives exactly what
        ``max_iter=200`` gives once.

    Returns
    -------
    TrainResult
        Full batch: ``loss_curve[i]`` is the cost at the parameters after
        ``i`` updates, computed before update ``i``; validation scores describe
        the same parameters. Mini-batches: ``loss_curve[e]`` is the mean of the
        batch costs met during epoch ``e``, and the validation score is
        measured after the epoch.

    Raises
    ------
    DivergenceError
        A NaN or infinite cost, or an exploding one: a cost above
        ``max(100 * start, start + 100)`` (:data:`EXPLOSION_FACTOR`,
        :data:`EXPLOSION_MARGIN`), where ``start`` is the cost at the starting
        parameters (mini-batches: the first batch's cost, before any update).
        A sane run of cross-entropy from logits stays near or below its
        starting cost; one that climbs a hundredfold (or by 100 nats per
        sample) has left the region where its learning rate works, and its
        parameters, though finite, are meaningless. NaN or infinite
        parameters after the last update (which no cost measures) are one too.
        The error names the epoch and carries the last parameters whose cost
        was finite and within that bound.
    """
    steps = steps if isinstance(steps, Steps) else Steps(steps)
    data = as_source(data)
    if hasattr(data, "check_params"):  # parameters elsewhere would fail deep in the loop, in a library's words
        data.check_params(params)
    verbose = verbose if isinstance(verbose, Verbosity) else Verbosity(verbose)
    xp, full_batch = data.xp, data.full_batch
    print_every = verbose.print_every or default_print_every(max_iter)
    rng = np.random.default_rng() if rng is None else rng
    watcher = _Stopping(tol, n_iter_no_change, has_validation=validation is not None)
    progress = Progress(max_iter, verbose=verbose.level, print_every=print_every, full_batch=full_batch,
                        stream=verbose.stream, first=verbose.first)
    state = optimizer.init(params) if optimizer_state is None else optimizer_state
    # the states of the epochs inside a block are kept only where a stopping rule may return one of them
    keep_states = tol is not None or validation is not None
    block = _block_length(params, print_every if verbose.level >= 2 else READBACK_EVERY,
                          extra=_leaves(state) if keep_states else ())
    if not full_batch:
        block = 1  # an epoch is many steps: one read-back per epoch costs nothing
    rate = plain_rate(optimizer) if steps.gd_step is not None else None
    if full_batch:
        whole = _Whole(data.objective(steps.loss_and_grads), data.fused(steps.gd_step) if rate else None, rate)
    else:
        fused = _Fused(steps.gd_step, rate) if rate is not None and data.fused(steps.gd_step) is not None else None
        batch_loss = data.on_batch(steps.loss_and_grads)
    loss_curve: list[float] = []
    scores: list[float] | None = [] if validation is not None else None
    pending: list[_Record] = []
    last_good = params
    stop_at = None
    start_cost = None  # 0-d device array until read back, then the float the explosion bound derives from
    limit = math.inf
    try:
        for epoch in range(max_iter):
            start, start_state = params, state
            if full_batch:
                score = validation(params) if validation is not None else None
                cost, params, state = whole(optimizer, params, state)
                kept = (start_state, state) if keep_states else ()
                pending.append(_Record(cost, score, start, params, *kept))
            else:
                cost, params, state, first_cost = _epoch(batch_loss, params, state, optimizer, data, rng, fused)
                start_cost = first_cost if start_cost is None else start_cost
                score = validation(params) if validation is not None else None
                kept = (state, state) if keep_states else ()
                pending.append(_Record(cost, score, params, params, *kept))
            progress.advance()
            if len(pending) < block and epoch < max_iter - 1:
                continue
            first, count = len(loss_curve), len(pending)
            # one read-back (one device sync) per block: the costs, the scores, and the first batch's cost
            wanted = [r.cost for r in pending] + ([r.score for r in pending] if validation is not None else [])
            read = _read(xp, wanted + ([start_cost] if first == 0 and not full_batch else []))
            costs, values = read[:count], (read[count:2 * count] if validation is not None else [None] * count)
            if first == 0:
                start_cost = costs[0] if full_batch else read[-1]
                limit = _explosion_limit(start_cost)
            for offset, (record, value, score_value) in enumerate(zip(pending, costs, values)):
                index = first + offset
                if not math.isfinite(value) or value > limit:
                    # full batch: the parameters of the previous iteration; mini-batches: those
                    # at the start of this epoch (every batch cost before was finite)
                    previous = pending[offset - 1] if offset else None
                    good = last_good if previous is None else (previous.scored if full_batch else previous.end)
                    progress.close()
                    raise _divergence(
                        index, good, loss_curve, n_iter=max(index - 1, 0) if full_batch else index,
                        full_batch=full_batch, cost=value, start_cost=start_cost, limit=limit, shown=verbose.first,
                    )
                loss_curve.append(value)
                if scores is not None:
                    scores.append(score_value)
                if watcher.update(index, value, score_value, record):
                    stop_at = index
                    break
            progress.report(first, loss_curve[first:])
            last_good = pending[-1].scored if full_batch else pending[-1].end
            pending = []
            if stop_at is not None:
                break
    finally:
        progress.close()
    n_iter = len(loss_curve)
    if stop_at is not None:
        params, state = watcher.result()
    elif watcher.best_params is not None:
        params, state = watcher.best_params, watcher.best_state
    elif n_iter and not _finite(xp, params):
        # each cost is measured before its update: the last update's parameters have no cost of their
        # own, and a one-epoch run (partial_fit in full batch) has no other; NaN there is a divergence too
        index = n_iter if full_batch else n_iter - 1
        raise _divergence(index, start, loss_curve if full_batch else loss_curve[:-1], n_iter=n_iter - 1,
                          full_batch=full_batch, final=True, shown=verbose.first)
    if watcher.tol is not None and stop_at is None and validation is None:
        warnings.warn(
            f"training stopped at max_iter={max_iter} before the cost stopped improving by tol={watcher.tol:g} "
            f"for {watcher.patience} epochs; increase max_iter or tol",
            sklearn_compatible(ConvergenceWarning),
            stacklevel=3,
        )
    return TrainResult(params, loss_curve, n_iter, scores, watcher.best_iteration, state)


def default_print_every(max_iter: int) -> int:
    """A power of ten giving between 10 and 100 printed lines for ``max_iter`` epochs.

    Examples
    --------
    >>> [default_print_every(n) for n in (50, 2000, 10000)]
    [1, 100, 1000]
    """
    return 10 ** max(0, len(str(max(int(max_iter), 1))) - 2)


class _Fused(NamedTuple):
    """A fused gradient-descent step and the optimizer's learning-rate source."""

    step: Callable
    plain_rate: Callable

    def __call__(self, params, state, X, Y, sample_weight=None):
        rate, state = self.plain_rate(state)
        if sample_weight is None:
            cost, params = self.step(params, X, Y, rate)
        else:
            cost, params = self.step(params, X, Y, rate, sample_weight=sample_weight)
        return cost, params, state


class _Whole(NamedTuple):
    """One full-batch update: a fused step on all the data where the source has one, else
    the objective on all the data and the optimizer's update."""

    objective: Callable
    fused: Callable | None
    plain_rate: Callable | None

    def __call__(self, optimizer, params, state):
        if self.fused is not None:
            rate, state = self.plain_rate(state)
            cost, params = self.fused(params, rate)
            return cost, params, state
        cost, grads = self.objective(params)
        updates, state = optimizer.update(grads, state, params)
        return cost, apply_updates(params, updates), state


def _step(loss_and_grads, optimizer, fused, params, state, X, Y, sample_weight=None):
    """One update on ``X``, ``Y`` (rows weighted by ``sample_weight``): ``(cost at params, new params, new state)``."""
    if fused is not None:
        return fused(params, state, X, Y, sample_weight)
    if sample_weight is None:
        cost, grads = loss_and_grads(params, X, Y)
    else:
        cost, grads = loss_and_grads(params, X, Y, sample_weight=sample_weight)
    updates, state = optimizer.update(grads, state, params)
    return cost, apply_updates(params, updates), state


def _epoch(loss_and_grads, params, state, optimizer, data, rng, fused=None):
    """One pass over the source's batches: ``(mean cost, new params, new state, first batch's cost)``."""
    total = first = None
    for X_batch, Y_batch, *weights in data.batches(rng):  # weighted sources add each batch's weights
        cost, params, state = _step(loss_and_grads, optimizer, fused, params, state, X_batch, Y_batch, *weights)
        first = cost if first is None else first
        weighted = cost * X_batch.shape[0]
        total = weighted if total is None else total + weighted
    return total / data.n_samples, params, state, first


def _block_length(params: dict, wanted: int, extra=()) -> int:
    """Epochs per block, so that the parameters (and ``extra`` arrays) of a block fit the budget."""
    nbytes = sum(math.prod(v.shape) * to_numpy_dtype(v.dtype).itemsize for v in (*params.values(), *extra))
    return max(1, min(wanted, REFERENCE_BUDGET // max(nbytes, 1)))


def _leaves(tree) -> list:
    """The arrays in an optimizer state (NamedTuples, tuples, lists and dicts of arrays and numbers)."""
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in _leaves(value)]
    if isinstance(tree, (tuple, list)):
        return [leaf for value in tree for leaf in _leaves(value)]
    return [tree] if hasattr(tree, "shape") and hasattr(tree, "dtype") and len(getattr(tree, "shape", ())) else []


def _read(xp, values) -> list:
    return [float(v) for v in to_numpy(xp.stack(values))]


def _explosion_limit(start: float) -> float:
    """The largest cost not taken for a divergence, given the cost at the start (see :func:`train`)."""
    if not math.isfinite(start):
        return math.inf  # reported as a non-finite cost by the caller
    return max(EXPLOSION_FACTOR * start, start + EXPLOSION_MARGIN)


def _finite(xp, params: dict) -> bool:
    """Whether every parameter is finite (one read-back)."""
    return all(value == 1.0 for value in _read(xp, [xp.all(xp.isfinite(v)) for v in params.values()]))


def _divergence(index, params, loss_curve, *, n_iter, full_batch=True, cost=math.nan, start_cost=None, limit=math.inf,
                final=False, shown=0):
    # ``shown``: added to the numbers in the message, as to the printed lines' (a warm fit continues loss_curve_'s)
    last = f"last accepted cost {loss_curve[-1]:.6g}" if loss_curve else f"starting cost {start_cost:.6g}"
    advice = "try a smaller learning_rate (or scale the features)"
    kept = None  # what the error's .params hold (a Python caller's business: the command line leaves it out)
    if final:
        summary = (f"training diverged: the last update of iteration {(index - 1 if full_batch else index) + shown} "
                   f"made the parameters NaN or infinite; {advice}")
        kept = "The parameters before that update are kept in this error's .params"
    elif math.isfinite(cost) and cost > limit:
        summary = (
            f"training diverged: the cost exploded to {cost:.3g} at iteration {index + shown}, above "
            f"max({EXPLOSION_FACTOR:g} x starting cost, starting cost + {EXPLOSION_MARGIN:g}) = {limit:.4g} "
            f"({last}); {advice}"
        )
        kept = "The last parameters within the bound are kept in this error's .params"
    elif index == 0 and full_batch:
        summary = ("training diverged: the cost at the starting parameters is not finite "
                   "(check the input scale and the initial parameters)")
    elif index == 0:
        # mini-batches: epoch 0's cost is the mean of its batches' costs, each after the previous batch's
        # update, so the starting parameters may well have a finite cost
        summary = (f"training diverged: the cost became NaN or infinite during epoch {shown} (the first pass over the "
                   f"data{' of this fit' if shown else ''}); try a smaller learning_rate, or check the input scale and "
                   "the initial parameters")
        kept = "The starting parameters are kept in this error's .params"
    else:
        summary = f"training diverged: the cost became NaN or infinite at iteration {index + shown} ({last}); {advice}"
        kept = "The last finite parameters are kept in this error's .params"
    message = summary if kept is None else f"{summary}. {kept}"
    return DivergenceError(message, iteration=index, params=params, loss_curve=list(loss_curve), n_iter=n_iter,
                           summary=summary)


class _Stopping:
    """The stopping rules, fed one epoch at a time with host values."""

    def __init__(self, tol, patience, *, has_validation):
        self.tol = tol
        self.patience = patience
        self.has_validation = has_validation
        self.best = math.inf if not has_validation else -math.inf
        self.count = 0
        self.best_iteration = None
        self.best_params = self.best_state = None
        self.last_params = self.last_state = None

    def update(self, index, cost, score, record) -> bool:
        self.last_params, self.last_state = record.end, record.end_state
        threshold = self.tol or 0.0
        if self.has_validation:
            if score > self.best + threshold:
                self.best, self.best_iteration, self.count = score, index, 0
                self.best_params, self.best_state = record.scored, record.scored_state
            else:
                self.count += 1
            return self.count >= self.patience
        if self.tol is None:
            return False
        if cost < self.best - threshold:
            self.count = 0
        else:
            self.count += 1
        self.best = min(self.best, cost)
        return self.count >= self.patience

    def result(self):
        """The parameters the stopping rule returns and the optimizer state that goes with them."""
        if self.has_validation:
            return self.best_params, self.best_state
        return self.last_params, self.last_state

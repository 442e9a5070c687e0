"""Training and prediction on chunked (Dask) arrays, with the same model code.

A Dask array split along samples (all features in one chunk) may be larger
than memory or live on a ``dask.distributed`` cluster. The parameters stay
small in-memory NumPy arrays; each iteration evaluates the cost and gradient
of every chunk with the ordinary Array-API model functions, as one Dask graph
of ``n_chunks`` tasks, and brings back only the per-chunk sums. Because the
parameters are concrete values, the graph of an iteration never contains the
previous ones: it does not grow as training goes on (a naive lazy loop would
recompute the whole history at every step). Chunks are read (or generated)
once per iteration and dropped, so memory stays bounded by a few chunks;
``X.persist()`` keeps them in (cluster) memory when they fit.
"""

from __future__ import annotations

import numpy as np

from .device import chunk_rows, compute, delayed
from .solvers import _hessian

__all__ = ["ChunkedData"]


def _weighted_terms(loss_and_grads, params, X_block, Y_block):
    # Chunk means times chunk sizes: summed over chunks and divided by n they give the
    # full-data means exactly (up to rounding), L2 term included (its weights sum to 1).
    cost, grads = loss_and_grads(params, X_block, Y_block)
    n = X_block.shape[0]
    return float(cost) * n, {key: value * n for key, value in grads.items()}, n


def _correct(logits_fn, params, X_block, Y_block):
    Z = logits_fn(params, X_block, np)
    if Y_block.shape[1] == 1:
        return int(np.count_nonzero((Z[:, 0] > 0) == (Y_block[:, 0] > 0.5)))
    return int(np.count_nonzero(np.argmax(Z, axis=1) == np.argmax(Y_block, axis=1)))


def _weighted_hessian(params, X_block, alpha):
    return _hessian(params, X_block, alpha, np) * X_block.shape[0]


class ChunkedData:
    """Row chunks of ``X`` (lazy) and the matching rows of the targets ``Y`` (host).

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features), floating dtype
    Y : ndarray of shape (n_samples, n_outputs)
    """

    def __init__(self, X, Y: np.ndarray):
        self.X_blocks = chunk_rows(X)
        sizes = [int(s) for s in X.chunks[0]]
        bounds = np.cumsum(sizes)[:-1]
        self.Y_blocks = np.split(Y, bounds)
        self.sizes = sizes
        self.n_samples = int(X.shape[0])

    def objective(self, loss_and_grads):
        """``fn(params, *ignored) -> (cost, grads)`` over all chunks, one graph per call."""

        def value_and_grads(params, *_):
            terms = delayed(_weighted_terms)
            parts = [terms(loss_and_grads, params, xb, yb) for xb, yb in zip(self.X_blocks, self.Y_blocks)]
            results = compute(*parts)
            n = sum(r[2] for r in results)
            cost = sum(r[0] for r in results) / n
            grads = {key: sum(r[1][key] for r in results) / n for key in params}
            dtype = next(iter(params.values())).dtype
            return np.asarray(cost, dtype=dtype), {k: v.astype(dtype, copy=False) for k, v in grads.items()}

        return value_and_grads

    def hessian(self, alpha: float):
        """``fn(params) -> H`` of logistic regression, summed over chunks (Newton's method)."""

        def full_hessian(params):
            parts = [delayed(_weighted_hessian)(params, xb, alpha) for xb in self.X_blocks]
            return sum(compute(*parts)) / self.n_samples

        return full_hessian

    def accuracy(self, logits_fn):
        """``fn(params) -> 0-d accuracy`` of ``logits_fn(params, X, xp)`` on all chunks, one graph per call.

        ``Y`` holds 0/1 targets (one column) or one-hot rows, as the training targets do.
        """

        def score(params):
            parts = [delayed(_correct)(logits_fn, params, xb, yb) for xb, yb in zip(self.X_blocks, self.Y_blocks)]
            dtype = next(iter(params.values())).dtype
            return np.asarray(sum(compute(*parts)) / self.n_samples, dtype=dtype)

        return score

    def batches(self, rng: np.random.Generator, shuffle: bool = True):
        """One epoch of mini-batches, one chunk each (in an order drawn from ``rng``), computed one at a time."""
        order = rng.permutation(len(self.X_blocks)) if shuffle else range(len(self.X_blocks))
        for index in order:
            (X_block,) = compute(self.X_blocks[index])
            yield np.asarray(X_block), self.Y_blocks[index]


def map_rows(X, function, n_columns: int | None, dtype):
    """Apply ``function`` (host NumPy rows -> rows) to each row chunk of ``X``, lazily.

    Returns a Dask array of shape (n_samples, n_columns), or (n_samples,) for
    ``n_columns=None``, chunked like ``X``'s rows.
    """
    if X.numblocks[1] != 1:
        X = X.rechunk({1: -1})
    if n_columns is None:
        return X.map_blocks(lambda block: function(np.asarray(block)), dtype=dtype, drop_axis=1, chunks=(X.chunks[0],))
    return X.map_blocks(lambda block: function(np.asarray(block)), dtype=dtype, chunks=(X.chunks[0], (n_columns,)))

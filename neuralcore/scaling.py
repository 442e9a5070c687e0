"""Standardization of the features: the statistics ``fit`` learns and every prediction applies.

With ``standardize=True`` an estimator learns each feature's mean and scale
(the population standard deviation, as scikit-learn's ``StandardScaler``) on
the rows given to ``fit``, trains on ``(X - mean) / scale`` and applies the
same numbers before every prediction. The statistics are computed where the
data is, in its working dtype: one reduction on the device for arrays in
memory, one lazy graph of per-chunk moments (computed once, combined on the
host) for a Dask array, whose chunks are then standardized where they are.

A constant feature (all its values equal) gets scale 1: it is centred, never
divided by zero.
"""

from __future__ import annotations

import numpy as np

from .device import (
    backend_of,
    chunk_rows,
    compute,
    delayed,
    is_chunked,
    to_backend,
    to_numpy,
    to_numpy_dtype,
    whole_rows,
)
from .weights import relative

__all__ = ["check_statistics", "fit_statistics", "standardize"]


def fit_statistics(X, *, xp=None, sample_weight=None):
    """The mean and scale of each column of ``X``: ``(mean, scale)``, each of shape (n_features,).

    Parameters
    ----------
    X : array of shape (n_samples, n_features), or a Dask array
        Checked features in the working dtype (floating).
    xp : namespace, optional
        ``X``'s namespace (found from ``X`` when None); not used for Dask.
    sample_weight : host array of shape (n_samples,), optional
        Non-negative weights, not all zero (as :func:`neuralcore.weights.check_sample_weight`
        returns them): the weighted mean and the weighted population standard
        deviation, as scikit-learn's ``StandardScaler.fit(X, sample_weight=w)``;
        an integer weight counts as the row repeated, a weight of 0 leaves the
        row out.

    Returns
    -------
    mean, scale : arrays on ``X``'s library and device, in its dtype (host
        NumPy arrays for a Dask ``X``). ``scale`` is the population standard
        deviation, 1 where a column is constant.

    Raises
    ------
    ValueError
        When the standard deviation overflows the working dtype (values too
        large to standardize in it).

    Examples
    --------
    >>> import numpy as np
    >>> mean, scale = fit_statistics(np.asarray([[1.0, 5.0], [3.0, 5.0]]))
    >>> mean.tolist(), scale.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    """
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, in words
        weights = None if sample_weight is None else relative(np.asarray(sample_weight, dtype=np.float64))
        if is_chunked(X):
            mean, scale = _chunked_statistics(X, weights)
            xp = np
        else:
            xp = backend_of(X).xp if xp is None else xp
            w = None if weights is None else to_backend(weights.reshape(-1, 1), backend_of(X), dtype=X.dtype)
            mean = _mean(X, w, xp)
            # two passes (the mean, then the spread around it), as numpy.std: no cancellation; the deviations
            # divided by the power of two at or below their largest, so that squaring them neither overflows (1e300 in
            # float64, 1e20 in float32) nor underflows to 0 (1e-170, 1e-23): exact, when nothing would have
            deviations = X - mean
            power = _power_of_two(xp.max(xp.abs(deviations), axis=0), xp)
            scale = power * xp.sqrt(_mean((deviations / power) ** 2, w, xp))
            constant = xp.max(X, axis=0) == xp.min(X, axis=0)
            scale = xp.where(constant | (scale == 0), xp.ones_like(scale), scale)
    if not bool(xp.all(xp.isfinite(mean))) or not bool(xp.all(xp.isfinite(scale))):
        dtype = to_numpy_dtype(X.dtype).name
        raise ValueError(f"standardize=True: the mean or standard deviation of some features overflows {dtype} "
                         "(values too large); rescale the features" + (" or use dtype='float64'" if dtype != "float64"
                                                                        else ""))
    return mean, scale


def _mean(X, w, xp):
    """The column means of ``X``, weighted by the column ``w`` (weights of at most 1: no overflow) when given."""
    if w is None:
        return xp.mean(X, axis=0)
    return xp.sum(X * w, axis=0) / xp.sum(w)


def _chunked_statistics(X, weights=None):
    """Mean and scale of a Dask ``X`` from per-chunk moments, each computed where its chunk is, in one graph."""
    X = whole_rows(X)
    sizes = [int(size) for size in X.chunks[0]]
    blocks = [None] * len(sizes) if weights is None else np.split(weights, np.cumsum(sizes)[:-1])
    parts = compute(*[delayed(_chunk_moments)(block, w) for block, w in zip(chunk_rows(X), blocks)])
    dtype = np.dtype(X.dtype)
    count, mean, m2, power, high, low = 0, None, None, None, None, None
    for n, chunk_mean, chunk_m2, chunk_power, chunk_max, chunk_min in parts:
        if n == 0:  # no rows, or rows that all weigh 0
            continue
        if mean is None:
            count, mean, m2, power, high, low = n, chunk_mean, chunk_m2, chunk_power, chunk_max, chunk_min
            continue
        # Chan et al.'s pairwise update: exact merging of two (count, mean, sum of squared deviations), the
        # sums of squares kept as multiples of power ** 2 (see fit_statistics), brought to a common power
        total = count + n  # rows, or sums of weights: the update is the same
        delta = chunk_mean - mean
        # (a part without spread has power 1, which says nothing of its size: it does not choose the common power)
        common = np.maximum(np.maximum(np.where(m2 > 0, power, 0), np.where(chunk_m2 > 0, chunk_power, 0)),
                            np.where(delta != 0, _power_of_two(np.abs(delta), np), 0))
        common = np.where(common > 0, common, dtype.type(1))
        m2 = (_rescaled(m2, power, common) + _rescaled(chunk_m2, chunk_power, common)
              + (delta / common) ** 2 * dtype.type(count * n / total))
        mean = mean + delta * dtype.type(n / total)
        count, power, high, low = total, common, np.maximum(high, chunk_max), np.minimum(low, chunk_min)
    scale = power * np.sqrt(m2 / dtype.type(count))
    scale = np.where((high == low) | (scale == 0), dtype.type(1), scale).astype(dtype, copy=False)
    return mean.astype(dtype, copy=False), scale


def _chunk_moments(block, weights=None):
    """``(rows, mean, sum of squared deviations / power ** 2, power, max, min)`` of one chunk, per column,
    back on the host; with ``weights`` (host, of at most 1), the sum of the weights instead of the rows, and
    weighted sums."""
    placement = backend_of(block)
    xp = placement.xp
    n = int(block.shape[0]) if weights is None else float(np.sum(weights))
    if n == 0:
        return 0, None, None, None, None, None
    with np.errstate(over="ignore", invalid="ignore"):  # Dask's worker threads: an overflow is reported in words
        w = None if weights is None else to_backend(weights.reshape(-1, 1), placement, dtype=block.dtype)
        mean = _mean(block, w, xp)
        deviations = block - mean
        power = _power_of_two(xp.max(xp.abs(deviations), axis=0), xp)
        squares = (deviations / power) ** 2
        m2 = xp.sum(squares if w is None else squares * w, axis=0)
    return (n, to_numpy(mean), to_numpy(m2), to_numpy(power), to_numpy(xp.max(block, axis=0)),
            to_numpy(xp.min(block, axis=0)))


def _rescaled(m2, power, common):
    """A sum of squares kept as a multiple of ``power ** 2``, as a multiple of ``common ** 2`` (0 stays 0)."""
    return np.where(m2 > 0, m2 * (power / common) ** 2, 0).astype(m2.dtype, copy=False)


def _power_of_two(largest, xp):
    """Per column, the power of two at or below ``largest`` (1 where it is 0; not finite where it is not)."""
    positive = largest > 0
    exponent = xp.floor(xp.log2(xp.where(positive, largest, xp.ones_like(largest))))
    return xp.where(positive, 2.0 ** exponent, xp.ones_like(largest))


def standardize(X, mean, scale):
    """``(X - mean) / scale``: a new array, where ``X`` is (lazily, chunk by chunk, for a Dask array).

    ``mean`` and ``scale`` (arrays of shape (n_features,)) move to ``X``'s
    library, device and dtype when they are elsewhere; ``X`` is never modified.
    """
    if is_chunked(X):
        mean, scale = to_numpy(mean), to_numpy(scale)
        return whole_rows(X).map_blocks(_standardize_chunk, mean, scale, dtype=X.dtype)
    return _standardize_chunk(X, mean, scale)


def _standardize_chunk(block, mean, scale):
    placement = backend_of(block)
    mean = to_backend(mean, placement, dtype=block.dtype)
    scale = to_backend(scale, placement, dtype=block.dtype)
    return (block - mean) / scale


def check_statistics(mean, scale, n_features: int, *, values: bool = False) -> None:
    """A ValueError unless ``mean`` and ``scale`` are both None, or both arrays of shape (n_features,)
    (and, with ``values``, finite, with ``scale > 0``: checked on the host)."""
    if mean is None and scale is None:
        return
    if mean is None or scale is None:
        raise ValueError("feature_mean_ and feature_scale_ go together: both arrays, or both None (not standardized)")
    for name, value in (("feature_mean_", mean), ("feature_scale_", scale)):
        shape = tuple(getattr(value, "shape", ()))
        if shape != (n_features,):
            raise ValueError(f"{name} must have shape ({n_features},) for n_features_in_={n_features}, got {shape}")
    if values:
        mean, scale = to_numpy(mean), to_numpy(scale)
        if mean.dtype.kind != "f" or scale.dtype.kind != "f":
            raise ValueError(f"feature_mean_ and feature_scale_ must be floating, got {mean.dtype} and {scale.dtype}")
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError("feature_mean_ must be finite and feature_scale_ finite and > 0 (the standardization "
                             "statistics are corrupted)")

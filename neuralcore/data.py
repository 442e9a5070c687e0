"""Data sources: what the training loop and the solvers train on, in memory or in chunks.

A source holds the features ``X`` and the encoded targets ``Y`` and answers
the few questions that :func:`neuralcore.train.train` and
:mod:`neuralcore.solvers` ask, so that neither they nor the estimators need to
know which kind of data they hold:

=================== ==================================================================
``n_samples``       number of samples
``xp``              namespace of the costs and scores the source returns
``full_batch``      whether one epoch is one update on all the data
``objective(f)``    ``params -> (cost, grads)`` of ``f(params, X, Y)`` on all the data
``fused(step)``     ``(params, rate) -> (cost, new params)`` on all the data, or None
``batches(rng)``    one epoch's mini-batches ``(X_batch, Y_batch)``, or ``(X_batch, Y_batch, w_batch)``
``sample_weight``   the weights (a column, mean 1 over the rows) or None: unweighted
``accuracy(f)``     ``params -> 0-d accuracy`` of the logits ``f(params, X, xp)``
``hessian(f)``      ``params -> H``, the mean of ``f(params, X)`` over the data
``place(params)``   host parameters moved to where this source trains them
``model_xp``        the namespace the model functions take (None: each chunk's own)
``on_batch(f)``     ``f`` as it applies to one of ``batches``
``kernel_input``    the array compiled fast paths are chosen for, or None
=================== ==================================================================

With sample weights, a source holds them normalized to mean 1 over its rows
(:func:`neuralcore.weights.normalized`), so that the cost of every batch is
``mean(w * loss)`` and the objective ``sum(w * loss) / sum(w)``; the model
functions get them as ``sample_weight=`` (a column ``(n, 1)`` in the working
dtype, where the rows are), and the scores are weighted accuracies. Without
weights nothing changes: no column of ones is made.

:class:`ArrayData` holds arrays of one backend on one device.
:class:`ChunkedData` holds a Dask array split along samples (all features in
one chunk), possibly larger than memory or on a ``dask.distributed`` cluster:
the parameters stay small host NumPy arrays, and each evaluation on all the
data is one Dask graph of per-chunk terms, of which only the sums come back.
Because the parameters are concrete values, the graph of an iteration never
contains the previous ones: it does not grow as training goes on, and chunks
are read (or generated) once per iteration and dropped.

:func:`sources` builds the training and the validation source of a fit.
"""

from __future__ import annotations

import functools

import numpy as np
from array_api_compat import device

from .device import (
    Backend,
    backend_of,
    chunk_rows,
    compute,
    delayed,
    get_namespace,
    is_chunked,
    is_host,
    resolve_backend,
    to_backend,
    to_numpy,
    to_numpy_dtype,
)
from .metrics import correct_from_logits
from .validation import check_chunked, check_int, check_labels, check_X, encode_labels, stratified_split
from .weights import check_sample_weight, effective_weights, normalized

__all__ = ["ArrayData", "ChunkedData", "as_source", "sources"]


class ArrayData:
    """``X`` of shape (n_samples, n_features) and ``Y`` of shape (n_samples, n_outputs) on one device.

    ``batch_size=None`` (or at least ``n_samples``) trains on all of it at each
    update; otherwise mini-batches of that size, the last smaller one
    included, in a new order each epoch when ``shuffle`` (drawn on the host
    from the loop's generator: the same batches on every backend).

    ``sample_weight`` (host data or an array of ``X``'s library and device, of
    shape (n_samples,)) weighs each row: the cost becomes ``sum(w * loss) /
    sum(w)`` and the accuracy ``sum(w * correct) / sum(w)``. The compiled
    kernels take no weights: a weighted source offers none (``kernel_input`` is None).
    """

    def __init__(self, X, Y, *, sample_weight=None, batch_size: int | None = None, shuffle: bool = True):
        X, Y = (np.asarray(a) if is_host(a) else a for a in (X, Y))  # lists: NumPy (never the caller's memory changed)
        get_namespace(X, Y, names=("X", "Y"))  # one library, one device
        for name, a, what in (("X", X, "n_features"), ("Y", Y, "n_outputs")):
            if a.ndim != 2:
                hint = " (a target column: Y.reshape(-1, 1))" if name == "Y" and a.ndim == 1 else ""
                raise ValueError(f"{name} must be 2-D of shape (n_samples, {what}), got shape {tuple(a.shape)}{hint}")
        if X.shape[0] != Y.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but Y has {Y.shape[0]}; they must match")
        check_int("batch_size", batch_size, minimum=1, allow_none=True)
        self.X, self.Y = X, Y
        placement = backend_of(X)
        self.xp = self.model_xp = placement.xp
        self.n_samples, self.n_outputs = int(X.shape[0]), int(Y.shape[1])
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.full_batch = batch_size is None or batch_size >= self.n_samples
        self.placement = placement
        self.backend_name, self.trained_on = placement.name, str(placement)
        self.kernel_input = X  # compiled fast paths are chosen for this array (see neuralcore.kernels)
        self.sample_weight = None
        if sample_weight is not None:
            weights = normalized(check_sample_weight(sample_weight, self.n_samples, X=X))
            self.sample_weight = to_backend(weights.reshape(-1, 1), placement, dtype=X.dtype)
            self.kernel_input = None  # the compiled kernels take no weights: the Array API code runs

    @staticmethod
    def on_batch(loss_and_grads):
        """``loss_and_grads`` as it applies to one of :meth:`batches` (as it is: batches are our arrays)."""
        return loss_and_grads

    def place(self, host_params: dict) -> dict:
        return {key: to_backend(value, self.placement, dtype=self.X.dtype) for key, value in host_params.items()}

    def check_params(self, params: dict, name: str = "params"):
        """A ValueError naming the first parameter that is not on this source's library and device."""
        _check_placement(params, self.placement, name)

    def objective(self, loss_and_grads):
        if self.sample_weight is not None:
            return functools.partial(_on_weighted_arrays, loss_and_grads, self.X, self.Y, self.sample_weight)
        return functools.partial(_on_arrays, loss_and_grads, self.X, self.Y)

    def fused(self, step):
        if self.sample_weight is not None:
            return lambda params, rate: step(params, self.X, self.Y, rate, sample_weight=self.sample_weight)
        return lambda params, rate: step(params, self.X, self.Y, rate)

    def batches(self, rng: np.random.Generator):
        xp, X, Y, n, w = self.xp, self.X, self.Y, self.n_samples, self.sample_weight
        if self.shuffle:
            # The permutation comes from the host generator: one seed, the same batches everywhere.
            order = xp.asarray(rng.permutation(n), dtype=xp.int64, device=device(X))
        for begin in range(0, n, self.batch_size):
            end = min(begin + self.batch_size, n)
            if self.shuffle:
                index = order[begin:end]
                batch = xp.take(X, index, axis=0), xp.take(Y, index, axis=0)
                yield batch if w is None else (*batch, xp.take(w, index, axis=0))
            else:
                batch = X[begin:end, ...], Y[begin:end, ...]
                yield batch if w is None else (*batch, w[begin:end, ...])

    def accuracy(self, logits_fn):
        X, Y, xp, n, w = self.X, self.Y, self.xp, self.n_samples, self.sample_weight
        if w is not None:
            return lambda params: correct_from_logits(logits_fn(params, X, xp), Y, xp=xp, sample_weight=w) / n
        return lambda params: correct_from_logits(logits_fn(params, X, xp), Y, xp=xp) / n

    def hessian(self, hessian_fn):
        if self.sample_weight is not None:
            return lambda params: hessian_fn(params, self.X, sample_weight=self.sample_weight)
        return lambda params: hessian_fn(params, self.X)


def _on_arrays(function, X, Y, params):
    return function(params, X, Y)


def _on_weighted_arrays(function, X, Y, sample_weight, params):
    return function(params, X, Y, sample_weight=sample_weight)


def _check_placement(params, placement: Backend, name: str):
    if not isinstance(params, dict):
        raise TypeError(f"{name} must be a dict of arrays, got {type(params).__name__}")
    for key, value in params.items():
        here = backend_of(value)
        if here.name != placement.name or str(here) != str(placement):
            raise ValueError(
                f"{name}[{key!r}] is a {here.name} array on {here}, but the data is on {placement}; move the "
                f"parameters there first (data.place(host_params), or neuralcore.device.to_backend)"
            )


def as_source(data, name: str = "data"):
    """``data`` as a data source: a source as it is, a pair ``(X, Y)`` as a full-batch :class:`ArrayData`."""
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise TypeError(f"{name} must be a data source or a pair (X, Y), got a {type(data).__name__} of {len(data)}")
        return ArrayData(*data)
    if not all(hasattr(data, attribute) for attribute in ("objective", "n_samples", "xp")):
        raise TypeError(f"{name} must be a data source (neuralcore.data.ArrayData, ChunkedData) or a pair (X, Y), "
                        f"got {type(data).__name__}")
    return data


class ChunkedData:
    """Row chunks of a Dask ``X`` (lazy) and the matching rows of the host targets ``Y``.

    With ``batch_size``, each mini-batch is one chunk (in an order drawn from
    the loop's generator when ``shuffle``), so ``batch_size`` must equal the
    chunk size (the last chunk may be smaller). ``sample_weight`` (host, shape
    (n_samples,)) is split along the chunks as ``Y`` is. Empty chunks are left out.
    """

    xp = np  # the costs, gradients and scores that come back are small host arrays
    model_xp = None  # the model functions take each chunk's own namespace: chunks may live on a GPU
    backend_name, trained_on = "numpy", "dask"  # small host parameters; predictions on Dask input stay lazy
    kernel_input = None  # no compiled fast path over a whole Dask array
    fused = staticmethod(lambda step: None)  # an update on all the data is a graph of chunk terms

    def __init__(self, X, Y: np.ndarray, *, sample_weight=None, batch_size: int | None = None, shuffle: bool = True):
        sizes = [int(s) for s in X.chunks[0]]
        bounds = np.cumsum(sizes)[:-1]
        # an empty chunk (a filter leaves them) holds no term: its mean cost would be 0 / 0
        self.X_blocks = [block for block, size in zip(chunk_rows(X), sizes) if size > 0]
        self.Y_blocks = [part for part, size in zip(np.split(Y, bounds), sizes) if size > 0]
        self.sizes = [size for size in sizes if size > 0]
        self.n_samples, self.n_outputs = int(X.shape[0]), int(Y.shape[1])
        self.dtype = to_numpy_dtype(X.dtype)
        self.sample_weight = self.W_blocks = None
        if sample_weight is not None:
            weights = normalized(check_sample_weight(sample_weight, self.n_samples, X=X))
            self.sample_weight = weights.reshape(-1, 1).astype(self.dtype)
            self.W_blocks = [part for part, size in zip(np.split(self.sample_weight, bounds), sizes) if size > 0]
        if batch_size is not None:
            _check_chunk_batches(self.sizes, batch_size)
        self.batch_size, self.shuffle = batch_size, shuffle
        self.full_batch = batch_size is None

    def place(self, host_params: dict) -> dict:
        return {key: np.array(value, dtype=self.dtype) for key, value in host_params.items()}

    def check_params(self, params: dict, name: str = "params"):
        """A ValueError naming the first parameter that is not a host (NumPy) array."""
        _check_placement(params, resolve_backend("numpy"), name)

    def objective(self, loss_and_grads):
        def value_and_grads(params):
            terms = delayed(_weighted_terms)
            results = compute(*[terms(loss_and_grads, params, *blocks) for blocks in self._pairs()])
            cost = sum(r[0] for r in results) / self.n_samples
            grads = {key: sum(r[1][key] for r in results) / self.n_samples for key in params}
            dtype = next(iter(params.values())).dtype
            return np.asarray(cost, dtype=dtype), {k: v.astype(dtype, copy=False) for k, v in grads.items()}

        return value_and_grads

    def batches(self, rng: np.random.Generator):
        """One chunk per mini-batch, as the chunk is (NumPy, or another library's array on its device)."""
        order = rng.permutation(len(self.X_blocks)) if self.shuffle else range(len(self.X_blocks))
        for index in order:
            (X_block,) = compute(self.X_blocks[index])
            if self.W_blocks is None:
                yield X_block, self.Y_blocks[index]
            else:
                yield X_block, self.Y_blocks[index], self.W_blocks[index]

    def on_batch(self, loss_and_grads):
        """``loss_and_grads`` for one chunk from :meth:`batches`: computed where the chunk is, with the
        (small) host parameters moved there; the cost and gradients come back as host arrays."""

        def host_terms(params, X_block, Y_block, sample_weight=None):
            cost, grads = _on_chunk(loss_and_grads, params, X_block, Y_block, sample_weight)
            return np.asarray(to_numpy(cost)), {key: to_numpy(value) for key, value in grads.items()}

        return host_terms

    def accuracy(self, logits_fn):
        def score(params):
            counts = compute(*[delayed(_correct)(logits_fn, params, *blocks) for blocks in self._pairs()])
            dtype = next(iter(params.values())).dtype
            return np.asarray(sum(counts) / self.n_samples, dtype=dtype)

        return score

    def hessian(self, hessian_fn):
        def full_hessian(params):
            weights = [None] * len(self.X_blocks) if self.W_blocks is None else self.W_blocks
            parts = [delayed(_weighted_hessian)(hessian_fn, params, xb, wb) for xb, wb in zip(self.X_blocks, weights)]
            return sum(compute(*parts)) / self.n_samples

        return full_hessian

    def _pairs(self):
        """``(X block, Y block)``, or ``(X block, Y block, weight block)`` when weighted."""
        if self.W_blocks is None:
            return zip(self.X_blocks, self.Y_blocks)
        return zip(self.X_blocks, self.Y_blocks, self.W_blocks)


def _check_chunk_batches(sizes: list, batch_size: int):
    """A ValueError unless every row chunk but the last holds ``batch_size`` rows and the last at most that."""
    if all(size == batch_size for size in sizes[:-1]) and sizes[-1] <= batch_size:
        return
    if all(size == sizes[0] for size in sizes[:-1]) and sizes[-1] <= sizes[0]:  # even chunks of another size
        raise ValueError(
            f"with a Dask array, each mini-batch is one chunk: pass batch_size equal to the chunk size "
            f"({sizes[0]}), or rechunk X (X.rechunk({{0: {batch_size}}}))"
        )
    shown = ", ".join(str(size) for size in sizes[:12]) + (", ..." if len(sizes) > 12 else "")
    raise ValueError(
        f"with a Dask array, each mini-batch is one chunk, but the row chunks of X are uneven ({shown} rows): "
        f"rechunk X (X.rechunk({{0: {batch_size}}})) so that every chunk but the last holds batch_size={batch_size} "
        "rows and the last at most that"
    )


def _to_chunk(X_block, params: dict, Y_block=None, w_block=None):
    """The chunk, the host parameters and targets on the chunk's library and device, all in the parameters'
    (working) dtype: a chunk may hold another dtype than its Dask array declares (``map_blocks(..., dtype=)``
    is the caller's word), and is then cast where it is (no copy when it agrees)."""
    placement = backend_of(X_block)
    dtype = to_numpy_dtype(next(iter(params.values())).dtype).name
    X_block = to_backend(X_block, placement, dtype=dtype)
    placed = {key: to_backend(value, placement, dtype=dtype) for key, value in params.items()}
    Y = None if Y_block is None else to_backend(Y_block, placement, dtype=dtype)
    if w_block is None:
        return placement, X_block, placed, Y
    return placement, X_block, placed, Y, to_backend(w_block, placement, dtype=dtype)


def _on_chunk(loss_and_grads, params, X_block, Y_block, w_block=None):
    if w_block is None:
        _, X_block, placed, Y = _to_chunk(X_block, params, Y_block)
        return loss_and_grads(placed, X_block, Y)
    _, X_block, placed, Y, w = _to_chunk(X_block, params, Y_block, w_block)
    return loss_and_grads(placed, X_block, Y, sample_weight=w)


def _weighted_terms(loss_and_grads, params, X_block, Y_block, w_block=None):
    # Chunk means times chunk sizes: summed over chunks and divided by n they give the
    # full-data means exactly (up to rounding), L2 term included (its weights sum to 1).
    # (Sample weights of mean 1 over all the data compose the same way.)
    # Computed where the chunk is; only the sums come back to the host.
    cost, grads = _on_chunk(loss_and_grads, params, X_block, Y_block, w_block)
    n = X_block.shape[0]
    return float(cost) * n, {key: to_numpy(value) * n for key, value in grads.items()}


def _correct(logits_fn, params, X_block, Y_block, w_block=None):
    if w_block is None:
        placement, X_block, placed, Y = _to_chunk(X_block, params, Y_block)
        return int(correct_from_logits(logits_fn(placed, X_block, placement.xp), Y, xp=placement.xp))
    placement, X_block, placed, Y, w = _to_chunk(X_block, params, Y_block, w_block)
    Z = logits_fn(placed, X_block, placement.xp)
    return float(correct_from_logits(Z, Y, xp=placement.xp, sample_weight=w))


def _weighted_hessian(hessian_fn, params, X_block, w_block=None):
    if w_block is None:
        _, X_block, placed, _ = _to_chunk(X_block, params)
        return to_numpy(hessian_fn(placed, X_block)) * X_block.shape[0]
    _, X_block, placed, _, w = _to_chunk(X_block, params, None, w_block)
    return to_numpy(hessian_fn(placed, X_block, sample_weight=w)) * X_block.shape[0]


# ------------------------------------------------------------------------------ building


def sources(
    X, Y_host: np.ndarray, placement: Backend, *, classes, batch_size, shuffle, eval_set, fraction, rng,
    sample_weight=None, class_weight=None, transform=None,
):
    """The training source of a fit and its validation source (or None).

    ``X`` is the checked training data (an array on ``placement``, or a Dask
    array), ``Y_host`` its encoded targets on the host in the working dtype.
    ``eval_set=(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)`` gives
    the validation data; otherwise ``fraction`` (a float) holds out a
    stratified part of ``X``, drawn from ``rng``. Validation data is checked as
    the training data is, its labels encoded with the training ``classes``.
    ``transform`` (the fitted standardization, or None) maps the checked
    features, training and validation alike, to what the model trains on
    (before any split).

    ``sample_weight`` (host float64 of shape (n_samples,), or None) holds the
    effective weight of each training row (sample weight times class weight,
    :func:`neuralcore.weights.effective_weights`); a held-out part keeps its
    rows' weights, and each source normalizes its own. ``class_weight`` (the
    weight of each class, or None) weighs the rows of ``eval_set`` too, so that
    the validation score measures what the training cost weighs.
    """
    transform = transform or (lambda features: features)
    X = transform(X)
    if is_chunked(X):
        if eval_set is None and fraction is not None:
            raise ValueError(
                "validation_fraction is not supported with Dask arrays (splitting one would shuffle every chunk); "
                "pass a validation set as eval_set=(X_val, y_val) instead"
            )
        # already in dtype: no copy
        data = ChunkedData(X, Y_host, sample_weight=sample_weight, batch_size=batch_size, shuffle=shuffle)
        if eval_set is None:
            return data, None
        return data, _chunked_validation(eval_set, classes, data.dtype, X.shape[1], transform, class_weight)
    xp, dtype = placement.xp, X.dtype
    validation = None
    if eval_set is not None:
        X_val, y_val, w_val = _pair(eval_set)
        Xv, _ = check_X(
            X_val, name="eval_set X", dtype=to_numpy_dtype(dtype).name, model=placement,
            n_features=X.shape[1], placed_with="X",
        )
        Yv = _targets(y_val, Xv, X_val, classes, to_numpy_dtype(dtype))
        wv = _validation_weights(w_val, Xv, X_val, Yv, class_weight)
        validation = ArrayData(transform(Xv), to_backend(Yv, placement, dtype=dtype), sample_weight=wv)
    elif fraction is not None:
        n_outputs = Y_host.shape[1]
        y_index = np.argmax(Y_host, axis=1) if n_outputs > 1 else Y_host[:, 0].astype(np.intp)
        train_index, val_index = stratified_split(y_index, fraction, rng, classes.tolist())
        val_rows = to_backend(val_index, placement)
        val_weight = None
        if sample_weight is not None:
            sample_weight, val_weight = sample_weight[train_index], sample_weight[val_index]
            for part, weights in (("training", sample_weight), ("validation", val_weight)):
                if not np.any(weights > 0):
                    raise ValueError(
                        f"every sample of the {part} part that validation_fraction={fraction!r} drew has weight 0 "
                        "(sample_weight times class_weight); give weight to more samples, or pass eval_set"
                    )
        validation = ArrayData(
            xp.take(X, val_rows, axis=0), to_backend(Y_host[val_index], placement, dtype=dtype),
            sample_weight=val_weight,
        )
        X, Y_host = xp.take(X, to_backend(train_index, placement), axis=0), Y_host[train_index]
    data = ArrayData(X, to_backend(Y_host, placement, dtype=dtype), sample_weight=sample_weight,
                     batch_size=batch_size, shuffle=shuffle)
    return data, validation


def _validation_weights(w_val, Xv, X_val, Yv, class_weight):
    """The effective weights of the validation rows (host float64), or None when unweighted."""
    weights = check_sample_weight(w_val, Xv.shape[0], X=X_val, name="eval_set sample_weight", x_name="eval_set X")
    return effective_weights(weights, class_weight, Yv, name="eval_set sample_weight")


def _chunked_validation(eval_set, classes, dtype: np.dtype, n_features: int, transform, class_weight=None):
    """A Dask validation set is scored chunk by chunk (one graph per epoch), host data directly."""
    X_val, y_val, w_val = _pair(eval_set)
    if is_chunked(X_val):
        Xv = check_chunked(X_val, n_features=n_features, dtype=dtype.name, name="eval_set X")
    elif is_host(X_val):
        Xv, _ = check_X(X_val, name="eval_set X", backend="numpy", dtype=dtype.name, n_features=n_features)
    else:
        raise ValueError(
            f"eval_set X is a {backend_of(X_val).name} array, but X is a Dask array whose model trains on the "
            "host; pass eval_set X as a Dask array or as host (NumPy) data"
        )
    Yv = _targets(y_val, Xv, X_val, classes, dtype)
    wv = _validation_weights(w_val, Xv, X_val, Yv, class_weight)
    Xv = transform(Xv)
    return ChunkedData(Xv, Yv, sample_weight=wv) if is_chunked(Xv) else ArrayData(Xv, Yv, sample_weight=wv)


def _pair(eval_set):
    """``(X_val, y_val, sample_weight_val or None)`` from a pair or a triple."""
    if not isinstance(eval_set, (tuple, list)) or len(eval_set) not in (2, 3):
        raise TypeError("eval_set must be a pair (X_val, y_val) or a triple (X_val, y_val, sample_weight_val), got "
                        + (f"a {type(eval_set).__name__} of {len(eval_set)}" if isinstance(eval_set, (tuple, list))
                           else type(eval_set).__name__))
    return (*eval_set, None) if len(eval_set) == 2 else tuple(eval_set)


def _targets(y_val, Xv, X_val, classes, dtype):
    """The validation labels checked against ``Xv`` and encoded with the training ``classes``, on the host."""
    labels = check_labels(y_val, n_samples=Xv.shape[0], X=X_val, name="eval_set y", x_name="eval_set X")
    return encode_labels(labels, classes, name="eval_set y", dtype=dtype)[1]

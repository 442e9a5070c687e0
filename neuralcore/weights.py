"""Sample and class weights: checked once on the host, then normalized for the data sources.

The weighted cost is ``sum(w_i * loss_i) / sum(w_i) + penalty``, where the
effective weight of a row is ``sample_weight[i] * class_weight[y_i]``. The
sources (:mod:`neuralcore.data`) hold the weights normalized to mean 1 over
their rows (:func:`normalized`), so that a batch's cost is the plain mean
``mean(w'_i * loss_i)`` and chunk sums and mini-batches compose exactly as
they do without weights. Without any weight (``sample_weight=None`` and
``class_weight=None``) nothing is materialized: the unweighted code runs.
"""

from __future__ import annotations

import numbers

import numpy as np

from .device import backend_of, compute, is_chunked, is_host, to_numpy
from .validation import is_finite

__all__ = ["check_class_weight", "check_sample_weight", "class_weights", "effective_weights", "normalized",
           "relative"]


def check_sample_weight(sample_weight, n_samples: int, *, X=None, name: str = "sample_weight", x_name: str = "X"):
    """``sample_weight`` as a new host float64 array of shape (n_samples,), or None.

    Accepts a number (every row weighs the same), or a 1-D array-like of
    ``n_samples`` real, finite, non-negative numbers, not all zero: a list,
    NumPy array, pandas Series, an array of ``X``'s library and device, or a
    Dask array when ``X`` is one (computed to the host once). The caller's
    array is never modified.

    Examples
    --------
    >>> check_sample_weight([1, 2], 2).tolist()
    [1.0, 2.0]
    >>> check_sample_weight(3, 2).tolist()
    [3.0, 3.0]
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number) and not isinstance(sample_weight, bool):
        if isinstance(sample_weight, numbers.Complex) and not isinstance(sample_weight, numbers.Real):
            raise TypeError(f"{name} must be real numbers, got the complex number {sample_weight!r}")
        if not (is_finite(sample_weight) and sample_weight > 0):
            raise ValueError(f"{name} given as one number must be finite and > 0, got {sample_weight!r}")
        return np.full(n_samples, float(sample_weight))
    if isinstance(sample_weight, (str, bytes, bool, dict, set)):
        raise TypeError(f"{name} must be a number or a 1-D array-like of {n_samples} numbers, got "
                        f"{type(sample_weight).__name__} {sample_weight!r}")
    if is_chunked(sample_weight):
        if X is not None and not is_chunked(X):
            raise ValueError(f"{name} is a Dask array but {x_name} is not; pass {name} as host data or on "
                             f"{x_name}'s library and device")
        (sample_weight,) = compute(sample_weight)
    if not is_host(sample_weight):
        here = backend_of(sample_weight)
        if X is not None and not is_host(X) and not is_chunked(X):
            there = backend_of(X)
            if here.name != there.name or str(here) != str(there):
                raise ValueError(f"{x_name} is a {there.name} array on {there} but {name} is a {here.name} array "
                                 f"on {here}; pass both on one library and device, or {name} as host data")
        elif X is not None and not is_chunked(X):
            raise ValueError(f"{x_name} is host data but {name} is a {here.name} array on {here}; pass {name} as "
                             "host data too")
        try:
            host = to_numpy(sample_weight)
        except TypeError:  # a dtype NumPy lacks (torch.bfloat16): float32 holds each of its values exactly
            xp = here.xp
            try:
                host = to_numpy(xp.astype(sample_weight, xp.float32))
            except (TypeError, ValueError, RuntimeError):
                raise TypeError(f"{name} must hold real numbers, got dtype {sample_weight.dtype}") from None
    else:
        try:
            host = np.asarray(getattr(sample_weight, "to_numpy", lambda: sample_weight)())
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a number or a 1-D array-like of numbers: {exc}") from None
    if host.dtype.kind == "O":
        try:
            host = host.astype(np.float64)
        except OverflowError:  # Python ints beyond float64 (10**400)
            raise ValueError(f"{name} contains NaN or infinite values (numbers too large for float64)") from None
        except (TypeError, ValueError):
            index, value = _first_not_real(host.ravel())
            where = "" if index is None else f", got {type(value).__name__} {value!r} at index {index}"
            raise TypeError(f"{name} must hold real numbers{where}") from None
    if host.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {host.dtype}")
    if host.ndim != 1:
        raise ValueError(f"{name} must be a number or 1-D of shape (n_samples,) = ({n_samples},), got shape "
                         f"{host.shape}")
    if host.shape[0] != n_samples:
        raise ValueError(f"{x_name} has {n_samples} samples but {name} has {host.shape[0]}; they must match")
    weights = np.array(host, dtype=np.float64, copy=True)  # ours: never the caller's memory
    if not np.isfinite(weights).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(weights < 0):
        raise ValueError(f"{name} must be >= 0, got negative values such as {weights[weights < 0][0]!r}")
    if not np.any(weights > 0):
        raise ValueError(f"{name} is zero for every sample; at least one sample must have a positive weight")
    return weights


def _first_not_real(values) -> tuple:
    """``(index, value)`` of the first of ``values`` that ``float()`` refuses (a string, None, pandas' NA)."""
    for index, value in enumerate(values):
        try:
            float(value)
        except OverflowError:  # a number, only too large: reported as such elsewhere
            continue
        except (TypeError, ValueError):
            return index, value
    return None, None


def check_class_weight(class_weight, name: str = "class_weight"):
    """A TypeError or ValueError unless ``class_weight`` is None, ``"balanced"`` or a dict label -> weight
    (weights real, finite and >= 0)."""
    if class_weight is None or (isinstance(class_weight, str) and class_weight == "balanced"):
        return
    if not isinstance(class_weight, dict):
        given = repr(class_weight) if isinstance(class_weight, str) else type(class_weight).__name__
        raise TypeError(f"{name} must be None, 'balanced' or a dict mapping labels to weights, got {given}")
    for label, weight in class_weight.items():
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
            raise TypeError(f"{name}[{label!r}] must be a real number, got {type(weight).__name__} {weight!r}")
        if not (is_finite(weight) and weight >= 0):
            raise ValueError(f"{name}[{label!r}] must be finite and >= 0, got {weight!r}")


def class_weights(class_weight, classes: np.ndarray, index: np.ndarray, sample_weight=None,
                  name: str = "class_weight"):
    """The weight of each class (float64 of shape (n_classes,)), or None for ``class_weight=None``.

    ``"balanced"`` gives ``n_samples / (n_classes * count(class))`` over
    ``index`` (the class index of each training row), as scikit-learn's
    ``compute_class_weight``; with ``sample_weight``, the counts and
    ``n_samples`` are sums of sample weights (as scikit-learn >= 1.6), so that
    an integer weight is still the row repeated. A dict gives its weights, 1
    for the labels it does not name; a key that is not one of ``classes`` is
    an error.
    """
    check_class_weight(class_weight, name)
    if class_weight is None:
        return None
    n_classes = classes.shape[0]
    if isinstance(class_weight, str):
        if sample_weight is not None:  # balanced weights are the same for w and c * w: keep the sums finite
            sample_weight = relative(sample_weight)
        counts = np.bincount(index, weights=sample_weight, minlength=n_classes).astype(np.float64)
        total = index.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        # a class with no rows (a warm fit's subset of classes_) or whose rows all weigh 0 weighs nothing
        # either way: 0, without dividing by its count (an overflow warning)
        return np.divide(total, n_classes * counts, out=np.zeros(n_classes), where=counts > 0)
    known = classes.tolist()
    weights = np.ones(n_classes)
    for label, weight in class_weight.items():
        matches = [k for k, c in enumerate(known) if _same_label(c, label)]
        if not matches:
            raise ValueError(f"{name} names the label {label!r}, which is not one of the classes of y: "
                             f"{known[:20]}")
        weights[matches[0]] = float(weight)
    return weights


def _same_label(known, label) -> bool:
    booleans = (bool, np.bool_)
    if isinstance(known, str) != isinstance(label, str) or isinstance(known, booleans) != isinstance(label, booleans):
        return False  # "1" is not 1, and True is not 1 (scikit-learn treats them as distinct labels)
    try:
        return bool(known == label)
    except (TypeError, ValueError):
        return False


def class_index(Y_host: np.ndarray) -> np.ndarray:
    """The class index of each row of encoded targets (a 0/1 column, or one-hot rows)."""
    return np.argmax(Y_host, axis=1) if Y_host.shape[1] > 1 else (Y_host[:, 0] > 0.5).astype(np.intp)


def effective_weights(sample_weight, per_class, Y_host: np.ndarray, *, name: str = "sample_weight"):
    """``sample_weight[i] * per_class[y_i]`` on the host (float64), or None when both are None.

    ``sample_weight`` is what :func:`check_sample_weight` returns; ``per_class`` what
    :func:`class_weights` returns. Weights that are all zero once combined are an error.
    Only ratios matter (the sources normalize them): each factor is scaled to a largest
    value of 1 first, so that the product of two large weights cannot overflow to inf.
    """
    if sample_weight is None and per_class is None:
        return None
    weights = np.ones(Y_host.shape[0]) if sample_weight is None else sample_weight
    if per_class is not None:
        # w and c * w weigh the same: relative factors keep a product of huge weights finite
        weights = relative(weights) * relative(per_class)[class_index(Y_host)]
    if not np.any(weights > 0):
        why = ""
        if per_class is not None and not np.any(per_class[class_index(Y_host)] > 0):
            present = ", ".join(str(k) for k in np.unique(class_index(Y_host)).tolist()[:10])
            why = (f" (class_weight gives weight 0 to every class these samples hold, the classes_ at index "
                   f"{present}; 'balanced' gives 0 to a class absent from the training data)")
        raise ValueError(f"every sample has weight 0 once {name} and class_weight are combined{why}; at least one "
                         "sample must have a positive weight")
    return weights


def relative(weights: np.ndarray) -> np.ndarray:
    """``weights / max(weights)`` (host float64, in [0, 1]; as they are when all are 0).

    Weights ``w`` and ``c * w`` weigh the same; dividing by the largest first keeps
    every sum of them finite (at most the number of rows) and lifts denormals,
    where ``n / sum(w)`` would be infinite (``1e308`` weights, ``5e-324``).
    """
    largest = float(np.max(weights)) if weights.size else 0.0
    return weights / largest if largest > 0 else weights


def normalized(weights: np.ndarray, what: str = "the training data") -> np.ndarray:
    """``weights * n / sum(weights)``: mean 1 over the rows, so a mean of ``w' * loss`` is the weighted mean.

    Computed from :func:`relative` weights: weights near the float64 limit (whose sum would
    overflow to inf) or subnormal ones (whose ``n / sum`` would) give the same result as any
    other multiple of them.

    Examples
    --------
    >>> normalized(np.asarray([0.5e308, 1.5e308])).tolist()
    [0.5, 1.5]
    """
    weights = relative(weights)
    total = float(np.sum(weights))
    if not total > 0:
        raise ValueError(f"every sample of {what} has weight 0 (sample_weight times class_weight); at least one "
                         "must have a positive weight")
    return weights * (weights.shape[0] / total)


"""Input validation at the public entry points, once, on entry.

Errors name the argument, what was expected and what was given. Host data
(NumPy arrays, lists, DataFrames) is checked with NumPy; arrays of another
Array API library are checked in their own namespace, on their own device, with
one read-back for the finiteness test.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from array_api_compat import array_namespace

from .frames import (
    check_feature_names,
    check_saved_feature_names,
    feature_names_of,
    host_features,
    store_feature_names,
    _host_labels,
    _is_missing,
)
from .exceptions import DataConversionWarning, sklearn_compatible
from .device import (
    Backend,
    chunk_rows,
    compute,
    delayed,
    backend_of,
    detach,
    is_chunked,
    is_host,
    require_host_export,
    resolve_backend,
    to_backend,
    to_numpy,
    to_numpy_dtype,
    whole_rows,
)

__all__ = [
    "check_X",
    "check_feature_names",
    "check_saved_feature_names",
    "feature_names_of",
    "host_features",
    "store_feature_names",
    "check_choice",
    "check_int",
    "check_labels",
    "check_number",
    "dtype_name",
    "encode_labels",
    "is_finite",
    "stratified_split",
]

_FLOAT_NAMES = ("float32", "float64")

#: Above this many classes, labels with more distinct values than half the samples are refused as continuous.
MAX_CLASSES = 50


def dtype_name(dtype) -> str | None:
    """``"float32"``/``"float64"`` for a dtype given by name or by any backend's dtype object.

    ``None`` stays ``None``. Raises a TypeError for a non-floating or unsupported dtype.
    """
    if dtype is None:
        return None
    try:
        name = to_numpy_dtype(dtype).name
    except (TypeError, ValueError, SyntaxError):  # NumPy parses odd specs: np.dtype((None,)) is a SyntaxError
        name = repr(dtype)
    if name not in _FLOAT_NAMES:
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return name


def _refuse_complex(dtype, name: str):
    # a ValueError with scikit-learn's words, as its estimators raise (and its checks expect)
    raise ValueError(f"{name} has complex dtype {dtype}: Complex data not supported; neuralcore needs real numbers")


def _check_kind(kind: str, dtype, name: str):
    if kind == "c":
        _refuse_complex(dtype, name)
    if kind not in "biuf":
        raise TypeError(f"{name} has non-numeric dtype {dtype}; neuralcore needs a numeric array")


def _check_shape(shape, name: str, n_features: int | None, owner: str | None = None):
    # scikit-learn's words where its checks look for them ("Reshape your data", "0 sample(s) (shape=...) while a
    # minimum of 1 is required", "is expecting 3 features as input"), with ours: what was expected, what was given
    if len(shape) != 2:
        hint = ""
        if len(shape) == 1:
            hint = " (Reshape your data: a single feature? use X.reshape(-1, 1); a single sample? use X.reshape(1, -1))"
        elif len(shape) > 2 and shape[0] > 0:
            hint = f" (images? flatten them first: X.reshape({shape[0]}, -1))"
        raise ValueError(f"{name} must be 2-D of shape (n_samples, n_features), got shape {tuple(shape)}{hint}")
    if shape[0] == 0:
        raise ValueError(f"{name} has 0 sample(s) (shape={tuple(shape)}) while a minimum of 1 is required; pass at least one row")
    if shape[1] == 0:
        raise ValueError(f"{name} has 0 feature(s) (shape={tuple(shape)}) while a minimum of 1 is required; pass at least one column")
    if n_features is not None and shape[1] != n_features:
        if owner is None:  # validation data during a fit: the model is not fitted yet
            raise ValueError(f"{name} has {shape[1]} features, but the model was fitted with {n_features}")
        raise ValueError(f"{name} has {shape[1]} features, but {owner} is expecting {n_features} features as input "
                         "(the number it was fitted with)")


def check_X(
    X, *, backend=None, dtype=None, name: str = "X", model: Backend | None = None, n_features=None, placed_with: str | None = None,
    owner: str | None = None,
):
    """Validate ``X`` and place it on its backend in a floating dtype.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
    backend : str or None
        For fitting: where host data goes (``None``: environment, then auto).
        An array of another library stays where it is, unless ``backend`` is
        set explicitly to a different place, which is an error.
    dtype : str or None
        Working dtype name; ``None`` keeps a float32/float64 input's dtype and
        gives integer and boolean input the backend's default floating dtype.
    model : Backend, optional
        For prediction: the fitted model's backend. Host data moves there; an
        array on another library or device is an error that suggests ``to()``.
    n_features : int, optional
        Expected number of features (prediction).
    owner : str, optional
        The fitted estimator's class name, for a wrong number of features (prediction).
    placed_with : str, optional
        Validation data: the name of the training data ``X`` must sit with;
        a mismatch then says so instead of suggesting ``to()``.

    Returns
    -------
    X : array on the backend, floating dtype (a new array when converted;
        the input is never modified)
    backend : Backend
    """
    if is_host(X):
        arr = host_features(X, name)
        _check_kind(arr.dtype.kind, arr.dtype, name)
        _check_shape(arr.shape, name, n_features, owner)
        if arr.dtype.kind == "f" and not _all_finite(arr, np):
            raise ValueError(f"{name} contains NaN or infinite values; remove or impute them first")
        target = model if model is not None else resolve_backend(backend)
        kind = arr.dtype.name if arr.dtype.name in _FLOAT_NAMES else None
        if arr.dtype.kind == "f" and kind is None and dtype is None:
            raise TypeError(f"{name} has dtype {arr.dtype}, which neuralcore does not train in; pass dtype='float32'")
        work = dtype or kind or _default_float(target)
        if arr.dtype.itemsize > np.dtype(work).itemsize and arr.dtype.kind == "f" and _beyond(arr, float(np.finfo(work).max), np):
            raise ValueError(f"{name} has values beyond the range of {work} (up to {np.finfo(work).max:.3g}); "
                             "rescale the features or pass dtype='float64'")
        return to_backend(arr, target, dtype=work), target
    here = backend_of(X)
    if is_chunked(X):
        if model is None and backend not in (None, "auto") and resolve_backend(backend).name not in ("numpy", "dask"):
            raise ValueError(
                f"{name} is a Dask array, whose model trains with host (NumPy) parameters, but backend={backend!r} "
                "was requested; leave backend unset (or 'numpy') for Dask data, or pass host (NumPy) data to use "
                "that backend"
            )
        return check_chunked(X, n_features=n_features, dtype=dtype, name=name, owner=owner), here
    require_host_export(X, name=name)
    if model is not None:
        if (here.name != model.name or str(here) != str(model)) and placed_with is not None:
            raise ValueError(
                f"{name} is a {here.name} array on {here}, but {placed_with} trains on {model}; "
                f"pass {name} as host (NumPy) data or on the same backend and device as {placed_with}"
            )
        if here.name != model.name or str(here) != str(model):
            raise ValueError(
                f"{name} is a {here.name} array on {here}, but the model's parameters are on {model}; "
                f"move the model with .to({str(here)!r}) or pass host (NumPy) data"
            )
    elif backend not in (None, "auto"):
        requested = resolve_backend(backend)
        if str(requested) != str(here):
            raise ValueError(
                f"{name} is a {here.name} array on {here}, but backend={backend!r} was requested; "
                "pass host (NumPy) data to use that backend, or leave backend unset to train where the data is"
            )
    xp = here.xp
    X = detach(X)
    if not hasattr(X, "shape") or not hasattr(X, "dtype"):
        raise TypeError(f"{name} is not an array: {type(X).__name__}")
    if xp.isdtype(X.dtype, "complex floating"):
        _refuse_complex(X.dtype, name)
    if not xp.isdtype(X.dtype, ("real floating", "integral", "bool")):
        raise TypeError(f"{name} has non-numeric dtype {X.dtype}; neuralcore needs a numeric array")
    _check_shape(X.shape, name, n_features, owner)
    if xp.isdtype(X.dtype, "real floating") and not _all_finite(X, xp):
        raise ValueError(f"{name} contains NaN or infinite values; remove or impute them first")
    kind = dtype_name(X.dtype) if xp.isdtype(X.dtype, "real floating") and _is_supported(X.dtype) else None
    if xp.isdtype(X.dtype, "real floating") and kind is None and dtype is None:
        raise TypeError(f"{name} has dtype {X.dtype}, which neuralcore does not train in; pass dtype='float32'")
    work = dtype or kind or _default_float(here)
    target_dtype = getattr(xp, work)
    if X.dtype == target_dtype:
        return X, here
    narrowing = xp.isdtype(X.dtype, "real floating") and xp.finfo(X.dtype).bits > xp.finfo(target_dtype).bits
    if narrowing and _beyond(X, float(xp.finfo(target_dtype).max), xp):
        raise ValueError(f"{name} has values beyond the range of {work} (up to {float(xp.finfo(target_dtype).max):.3g}); "
                         "rescale the features or pass dtype='float64'")
    return to_backend(X, here, dtype=work), here  # the cast, checked: a backend may not silently change the dtype


def check_chunked(X, *, n_features=None, dtype=None, name: str = "X", owner: str | None = None):
    """Validate a chunked (Dask) array lazily where possible: shape, dtype, and finiteness in one streaming pass.

    Returns ``X`` cast (lazily) to the working dtype, all features in one chunk.
    """
    import math as _math

    if X.ndim == 2 and any(_math.isnan(s) for s in X.shape):
        raise ValueError(f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() first")
    _check_shape(X.shape, name, n_features, owner)
    kind = np.dtype(X.dtype).kind
    _check_kind(kind, X.dtype, name)
    if kind == "f" and np.dtype(X.dtype).name not in _FLOAT_NAMES and dtype is None:
        raise TypeError(f"{name} has dtype {X.dtype}, which neuralcore does not train in; pass dtype='float32'")
    work = dtype_name(dtype) if dtype is not None else (np.dtype(X.dtype).name if kind == "f" else "float64")
    X = whole_rows(X)
    # checked chunk by chunk, each in its own namespace and on its own device (chunks may be GPU arrays)
    if kind == "f" and not all(compute(*[delayed(_chunk_finite)(block) for block in chunk_rows(X)])):
        raise ValueError(f"{name} contains NaN or infinite values; remove or impute them first")
    if kind == "f" and np.dtype(X.dtype).itemsize > np.dtype(work).itemsize:
        # as for data in memory: a cast would turn these values into infinities, silently
        limit = float(np.finfo(work).max)
        if any(compute(*[delayed(_chunk_beyond)(block, limit) for block in chunk_rows(X)])):
            raise ValueError(f"{name} has values beyond the range of {work} (up to {limit:.3g}); "
                             "rescale the features or pass dtype='float64'")
    if np.dtype(X.dtype).name == work:
        return X
    return X.map_blocks(_cast_chunk, work, dtype=np.dtype(work))


def _chunk_finite(block) -> bool:
    return _all_finite(block, array_namespace(block))


def _chunk_beyond(block, limit: float) -> bool:
    return _beyond(block, limit, array_namespace(block))


def _cast_chunk(block, dtype: str):
    """``block`` in ``dtype``, in its own library and on its own device."""
    return to_backend(block, backend_of(block), dtype=dtype)


def _all_finite(X, xp) -> bool:
    """Whether every entry is finite, without an (n_samples, n_features) temporary in the common case.

    The sum of finite numbers is finite unless it overflows, and a NaN or an
    infinity makes it NaN or infinite: one streaming pass. Only when the sum is
    not finite is each entry tested.
    """
    with warnings.catch_warnings():  # an overflowing sum of finite values is expected, not a problem
        warnings.simplefilter("ignore", RuntimeWarning)
        total = float(xp.sum(X))
    if math.isfinite(total):
        return True
    return bool(xp.all(xp.isfinite(X)))


def _beyond(X, limit: float, xp) -> bool:
    """Whether any entry's magnitude exceeds ``limit`` (two reductions, no temporary array)."""
    return float(xp.max(X)) > limit or float(xp.min(X)) < -limit


def _is_supported(dtype) -> bool:
    try:
        dtype_name(dtype)
    except TypeError:
        return False
    return True


def _default_float(backend: Backend) -> str:
    info = backend.xp.__array_namespace_info__()
    return dtype_name(info.default_dtypes(device=backend.device)["real floating"])


def check_labels(y, *, n_samples: int, X=None, name: str = "y", x_name: str = "X", warn_column: bool = True,
                 stacklevel: int = 3) -> np.ndarray:
    """Validate labels and return them as a 1-D host NumPy array.

    ``y`` may be host data or an array of the same library and device as ``X``
    (any other placement is an error). A column vector ``(n, 1)`` is raveled,
    with a :class:`~neuralcore.exceptions.DataConversionWarning` (as
    scikit-learn's ``fit``) unless ``warn_column`` is false (``score``);
    ``stacklevel`` makes the warning point at the user's call.
    """
    if y is None:
        raise ValueError(f"{name} is required (labels of shape (n_samples,)): this classifier requires {name} to be "
                         f"passed, but the target {name} is None")
    if not is_host(y):
        here = backend_of(y)
        if X is not None and not is_host(X):
            there = backend_of(X)
            if str(here) != str(there) or here.name != there.name:
                raise ValueError(
                    f"{x_name} is a {there.name} array on {there} but {name} is a {here.name} array on {here}; "
                    f"pass both on one library and device"
                )
        elif X is not None:
            raise ValueError(
                f"{x_name} is host data but {name} is a {here.name} array on {here}; pass both as host data or "
                "both on one backend"
            )
        arr = to_numpy(y)
    else:
        arr = _host_labels(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        if warn_column:  # scikit-learn's words: its checks and users' filters look for them
            warnings.warn(f"A column-vector {name} was passed when a 1d array was expected. Please change the shape "
                          f"of {name} to (n_samples,), for example using ravel().",
                          sklearn_compatible(DataConversionWarning), stacklevel=stacklevel)
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D of shape (n_samples,), got shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise ValueError(f"{x_name} has {n_samples} samples but {name} has {arr.shape[0]}; they must match")
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} has complex dtype {arr.dtype}: Complex data not supported; labels must be real "
                         "numbers, strings or booleans")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if arr.dtype.kind == "f" and np.any(arr != np.round(arr)):
        example = arr[arr != np.round(arr)][0].item()
        raise ValueError(
            f"{name} holds non-integer numbers such as {example!r}: these models classify, so labels must be "
            "classes (integers, strings or booleans), not continuous values"
        )
    if arr.dtype.kind == "O":
        if any(_is_missing(v) or (isinstance(v, numbers.Real) and not np.isfinite(v)) for v in arr):
            raise ValueError(f"{name} contains missing values (None or NaN)")
    return arr


def encode_labels(y: np.ndarray, classes: np.ndarray | None = None, name: str = "y", dtype=np.float64):
    """Sorted ``classes`` and targets ``Y`` as host columns of ``dtype`` (float64 by default).

    Two classes: ``Y`` of shape (n, 1), 1 for ``classes[1]`` (the sigmoid
    output). More: one-hot rows of shape (n, n_classes) (the softmax output).
    With ``classes`` given (validation data), labels outside them are an error.
    ``dtype`` lets a fit encode straight into its working dtype (no second copy
    of the targets for large data).
    """
    if classes is None:
        try:
            classes = np.unique(y)
        except TypeError:
            kinds = sorted({type(v).__name__ for v in y})
            raise TypeError(f"{name} mixes label types that cannot be ordered: {kinds}") from None
        if classes.shape[0] < 2:
            raise ValueError(
                f"{name} has only one class ({classes.tolist()[0]!r}); classification needs at least two distinct labels"
            )
        if classes.shape[0] > MAX_CLASSES and classes.shape[0] > y.shape[0] // 2:
            raise ValueError(
                f"{name} has {classes.shape[0]} distinct values for {y.shape[0]} samples: it looks like a "
                "continuous target, and these models classify (at most one output per class)"
            )
    else:
        unknown = np.setdiff1d(np.unique(y), classes)
        if unknown.size:
            raise ValueError(
                f"{name} holds labels {unknown.tolist()} that are not among the training classes {classes.tolist()}"
            )
    index = np.searchsorted(classes, y)
    if classes.shape[0] == 2:
        return classes, (index == 1).astype(dtype).reshape(-1, 1)
    return classes, np.eye(classes.shape[0], dtype=dtype)[index]


def stratified_split(y_index: np.ndarray, fraction: float, rng: np.random.Generator, classes=None, *,
                     clamp: bool = False):
    """Indices ``(train, validation)``: ``fraction`` of each class to validation, drawn from ``rng``.

    ``y_index`` holds class indices; ``classes`` names them in messages. Each
    class gives ``round(fraction * n_class)`` rows; where that leaves either
    side empty, an error, or with ``clamp`` at least one row on each side (a
    class of one row is still an error). Both index arrays are sorted.
    """
    train, held_out = [], []
    for label in np.unique(y_index):
        members = rng.permutation(np.flatnonzero(y_index == label))
        n_val = int(round(fraction * members.shape[0]))
        if clamp:
            n_val = min(max(n_val, 1), members.shape[0] - 1)
        if n_val < 1 or n_val >= members.shape[0]:
            raise ValueError(
                f"validation_fraction={fraction} leaves class {label if classes is None else classes[label]!r} with {members.shape[0] - n_val} training and "
                f"{n_val} validation samples; each needs at least one (use more data or another fraction)"
            )
        held_out.append(members[:n_val])
        train.append(members[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(held_out))


def is_finite(value) -> bool:
    """``math.isfinite`` of a real number, False for an int beyond float64 (``10**400``) instead of an OverflowError."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_number(name, value, *, minimum=None, positive=False, below=None, allow_none=False):
    """A finite real hyperparameter, optionally bounded; raises naming it."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not is_finite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    if below is not None and value >= below:
        raise ValueError(f"{name} must be below {below}, got {value!r}")


def check_int(name, value, *, minimum, allow_none=False):
    """An integer hyperparameter of at least ``minimum``; raises naming it."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def check_choice(name, value, choices):
    """One of ``choices``; the message lists them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")

"""Host data as users pass it: pandas DataFrames and Series, object arrays, scipy sparse, feature names.

Everything here turns what a user hands to ``fit`` or ``predict`` into plain
NumPy arrays on the host, or refuses it with a message that says what it is
(a column with missing values, text in a numeric column, a sparse matrix),
and keeps scikit-learn's feature-name rules: ``feature_names_in_`` from a
DataFrame's string column names, checked again at prediction. pandas and
scipy are never imported here: an input is recognised by its type's module.
:mod:`neuralcore.validation` checks shapes, dtypes, labels and finiteness
on top of this.
"""

from __future__ import annotations

import decimal
import math
import numbers
import warnings

import numpy as np


def _host_array(X, name: str) -> np.ndarray:
    try:
        arr = np.asarray(X)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} could not be read as a rectangular array: {exc}") from None
    return arr


def _is_sparse(X) -> bool:
    return type(X).__module__.startswith("scipy.sparse")


def _is_pandas(X) -> bool:
    return type(X).__module__.partition(".")[0] == "pandas" and hasattr(X, "isna")


def _refuse_sparse(X, name: str):
    # Dense math only: densifying behind the user's back could need n_samples * n_features * 8 bytes for
    # a matrix that holds a few nonzeros (as scikit-learn's dense-only estimators, the user converts).
    if _is_sparse(X):
        shape = tuple(getattr(X, "shape", ()))
        dense = f" (dense: {math.prod(shape) * 8 / 1e6:.3g} MB in float64)" if len(shape) == 2 else ""
        raise TypeError(f"{name} is a scipy sparse {type(X).__name__} of shape {shape}; scipy sparse input is not "
                        f"supported; convert with {name}.toarray(){dense}")


def host_features(X, name: str = "X") -> np.ndarray:
    """Host feature data as a NumPy array of numbers (a new array when converted; ``X`` is never modified).

    A pandas DataFrame is read column by column: numeric and boolean columns,
    extension dtypes included (``Int64``, ``Float64``, ``boolean``); a missing
    value (NA, NaN) or a non-numeric column is an error naming the column.
    Object arrays holding real numbers become float64 (as in scikit-learn);
    anything else in them is an error naming the entry. scipy sparse input is
    refused with how to convert it.
    """
    _refuse_sparse(X, name)
    if _is_pandas(X) and getattr(X, "ndim", 0) == 2:
        return _dataframe_values(X, name)
    arr = _host_array(X, name)
    if arr.dtype.kind == "O":
        return _numbers_from_objects(arr, name)
    return arr


def _dataframe_values(frame, name: str) -> np.ndarray:
    import pandas as pd  # only reached with a pandas DataFrame

    if frame.shape[1] == 0:
        return np.empty(frame.shape)
    missing = frame.isna().to_numpy()
    dtypes = []
    for j, dtype in enumerate(frame.dtypes):
        label = frame.columns[j]
        if isinstance(dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype) or dtype == object
        ):
            raise TypeError(f"{name} column {label!r} has dtype {dtype}, not numbers; encode it as numbers first "
                            "(for categories: pandas.get_dummies)")
        if missing[:, j].any():
            raise ValueError(f"{name} column {label!r} has missing values (NA or NaN; the first at row "
                             f"{frame.index[int(np.argmax(missing[:, j]))]!r}); remove or impute them first")
        if dtype == object:
            dtypes.append(_numbers_from_objects(frame.iloc[:, j].to_numpy(), f"{name} column {label!r}").dtype)
        else:
            dtypes.append(np.dtype(getattr(dtype, "numpy_dtype", dtype)))
    return frame.to_numpy(dtype=np.result_type(*dtypes))


def _numbers_from_objects(arr: np.ndarray, name: str) -> np.ndarray:
    """An object array of real numbers (bools and Decimals included) as float64; anything else is an error naming the entry."""
    for index, value in enumerate(arr.flat):
        if isinstance(value, (numbers.Real, np.bool_, decimal.Decimal)):
            continue
        where = tuple(int(i) for i in np.unravel_index(index, arr.shape)) if arr.ndim > 1 else index
        if value is None or _is_missing(value):
            raise ValueError(f"{name} has a missing value ({value!r}) at {where}; remove or impute it first")
        # the words of NumPy's float() refusal, which scikit-learn's checks look for
        other = "" if isinstance(value, (str, bytes)) else f" or {type(value).__name__}"
        raise TypeError(f"{name} holds {type(value).__name__} {value!r} at {where}; neuralcore needs numbers (each "
                        f"argument must be a real number, not a string{other}: convert the entries to numbers first)")
    return arr.astype(np.float64)


def _is_missing(value) -> bool:
    """None, NaN, and pandas' NA and NaT (recognised without importing pandas)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, numbers.Real) and not math.isfinite(value) and value != value


def _host_labels(y, name: str) -> np.ndarray:
    """Host labels as a NumPy array: pandas extension dtypes as plain NumPy ones, missing values refused."""
    _refuse_sparse(y, name)
    if not _is_pandas(y):
        return _host_array(y, name)
    missing = np.asarray(y.isna()).reshape(-1)
    if missing.any():
        raise ValueError(f"{name} contains missing values (NA or NaN; the first at position {int(np.argmax(missing))})")
    dtype = getattr(y, "dtype", None)
    if dtype is not None and getattr(dtype, "numpy_dtype", None) is not None:  # Int64, Float64, boolean
        return y.to_numpy(dtype=dtype.numpy_dtype)
    arr = _host_array(y, name)
    if arr.dtype.kind == "O" and arr.size and all(isinstance(v, str) for v in arr.flat):
        return arr.astype(str)  # pandas' string and categorical labels: NumPy str, as from a list
    return arr


def feature_names_of(X):
    """Column names of a DataFrame ``X`` as an object ndarray of str, or None (scikit-learn's rule).

    Names are kept only when every column name is a string; a mix of string
    and other names is a TypeError, and a name given twice a ValueError
    (prediction could not tell the two columns apart).

    Examples
    --------
    >>> feature_names_of(np.zeros((2, 2))) is None
    True
    """
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = np.asarray(list(columns), dtype=object)
    types = sorted({type(v).__qualname__ for v in names})
    if len(types) > 1 and "str" in types:
        raise TypeError(
            f"Feature names are only supported if all input features have string names, but X has {types} as "
            "column name types; convert them all to strings (X.columns = X.columns.astype(str)) or none of them"
        )
    if types != ["str"]:
        return None
    if len(set(names.tolist())) != len(names):
        seen = set()
        duplicates = sorted({v for v in names.tolist() if v in seen or seen.add(v)})
        raise ValueError(f"X has duplicate column names {duplicates}; each feature needs its own name")
    return names


def check_feature_names(expected, X, *, owner: str = "the model", name: str = "X"):
    """Compare ``X``'s column names with those seen in fit (``expected``, None when fitted without names).

    Different names or order is a ValueError naming the mismatch; names on
    one side only is a UserWarning, as in scikit-learn.
    """
    names = feature_names_of(X)
    if expected is None and names is None:
        return
    if names is None:
        warnings.warn(f"{name} does not have valid feature names, but {owner} was fitted with feature names",
                      UserWarning, stacklevel=3)
        return
    if expected is None:
        warnings.warn(f"{name} has feature names, but {owner} was fitted without feature names", UserWarning, stacklevel=3)
        return
    if len(names) == len(expected) and all(a == b for a, b in zip(names, expected)):
        return
    unseen = sorted(set(names.tolist()) - set(expected.tolist()))
    missing = sorted(set(expected.tolist()) - set(names.tolist()))
    parts = []
    if unseen:
        parts.append(f"feature names unseen at fit time: {_some(unseen)}")
    if missing:
        parts.append(f"feature names seen at fit time, yet now missing: {_some(missing)}")
    if not parts:
        parts.append(f"the feature names must be in the same order as they were in fit: got {_some(names.tolist())}, "
                     f"fitted with {_some(expected.tolist())}")
    raise ValueError(f"The feature names should match those that were passed during fit ({name}); {'; '.join(parts)}")


def _some(names: list, limit: int = 10) -> str:
    return repr(names) if len(names) <= limit else f"{names[:limit]!r} and {len(names) - limit} more"


def store_feature_names(model, names):
    """Set ``model.feature_names_in_`` (an object ndarray of str), or remove it when ``names`` is None."""
    if names is None:
        model.__dict__.pop("feature_names_in_", None)
    else:
        model.feature_names_in_ = np.asarray(list(names), dtype=object)


def check_saved_feature_names(names, n_features: int):
    """Feature names read from a model file: None, or a list of ``n_features`` distinct str; else a ValueError."""
    if names is None:
        return None
    if (not isinstance(names, list) or len(names) != n_features or not all(isinstance(v, str) for v in names)
            or len(set(names)) != len(names)):
        raise ValueError(f"feature_names_in must be None or {n_features} distinct strings, got {names!r:.200}")
    return names

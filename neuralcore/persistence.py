"""Model files: one ``.npz`` of NumPy arrays plus JSON metadata. Never pickled.

A file holds the parameters (``param.W1``...), the class labels, and a JSON
document (stored as bytes) with the estimator's class and hyperparameters,
the dtype, the number of features, the neuralcore version, the backend it was
trained on, the training history and any metadata the caller adds (the command
line stores its preprocessing there). Loading uses ``allow_pickle=False``,
checks every shape against the metadata, and works without CuPy.

Saving is atomic: the file is written next to its destination under a
temporary name, flushed to disk, then renamed over it, so an interrupted save
never leaves a half-written model in place of a good one.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile

import numpy as np

from . import __version__
from .device import resolve_backend, to_backend, to_numpy
from .validation import check_saved_feature_names, store_feature_names

__all__ = ["FORMAT", "FORMAT_VERSION", "load", "save"]

FORMAT = "neuralcore-model"
#: Bumped when a file written now could not be read correctly by an older reader.
FORMAT_VERSION = 1
_PARAM_PREFIX = "param."


def save(model, path, *, metadata: dict | None = None) -> str:
    """Write a fitted estimator to ``path`` (a ``.npz`` file), atomically.

    Parameters
    ----------
    model : LogisticRegression or TwoLayerNet, fitted
    path : str or path-like
    metadata : dict, optional
        JSON-serializable data kept with the model (``model.metadata_`` after loading).

    Returns
    -------
    str
        The path written.
    """
    model._check_fitted()
    path = os.fspath(path)
    classes = _classes_array(model.classes_)
    hyperparameters, dropped = _json_hyperparameters(model.get_params())
    params = {key: to_numpy(value) for key, value in model.params_.items()}
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "neuralcore_version": __version__,
        "estimator": type(model).__name__,
        "hyperparameters": hyperparameters,
        "unsaved_hyperparameters": dropped,
        "dtype": next(iter(params.values())).dtype.name,
        "n_features_in": int(model.n_features_in_),
        "feature_names_in": [str(v) for v in model.feature_names_in_] if hasattr(model, "feature_names_in_") else None,
        "n_classes": int(classes.shape[0]),
        "param_shapes": {key: list(value.shape) for key, value in params.items()},
        "trained_on": getattr(model, "trained_on_", None) or model.backend_,
        "n_iter": int(model.n_iter_),
        "loss_curve": [float(v) for v in model.loss_curve_],
        "metadata": metadata or {},
    }
    try:
        encoded = json.dumps(document, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise TypeError(f"metadata must be JSON-serializable (no NaN): {exc}") from None
    arrays = {f"{_PARAM_PREFIX}{key}": value for key, value in params.items()}
    arrays["classes"] = classes
    arrays["metadata"] = np.frombuffer(encoded, dtype=np.uint8)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {path}: folder {folder} does not exist")
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".neuralcore-", suffix=".tmp", delete=False)
    try:
        with handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
        raise
    return path


def load(path, *, backend=None):
    """Read a model written by :func:`save` (or ``model.save``).

    Parameters
    ----------
    path : str or path-like
    backend : str, optional
        Where to put the parameters: ``"numpy"`` (default), ``"cupy"``,
        ``"auto"``... The file itself holds NumPy arrays only.

    Returns
    -------
    LogisticRegression or TwoLayerNet, fitted; ``metadata_`` holds the saved
    metadata and ``trained_on_`` the backend that trained it.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing, truncated, corrupted, foreign or newer-format files, and
        arrays whose shapes do not match the metadata.
    """
    from .estimators import LogisticRegression, TwoLayerNet  # estimators sit above this module's callers

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: {path}")
    if os.path.isdir(path) or not zipfile.is_zipfile(path):
        # checked first: for a file that is no archive, NumPy's own message talks of unpickling
        raise ValueError(f"{path} is not a neuralcore model file (not a .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            contents = {name: archive[name] for name in archive.files}
    except Exception as exc:  # zipfile, zlib, OS and NumPy errors of a damaged archive
        raise ValueError(f"{path} is not a neuralcore model file (not a readable .npz archive: "
                         f"{type(exc).__name__}: {exc})") from None
    if "metadata" not in contents or contents["metadata"].dtype != np.uint8:
        raise ValueError(f"{path} is not a neuralcore model file (no metadata); was it written by model.save?")
    try:
        document = json.loads(contents["metadata"].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: the model metadata is corrupted ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise ValueError(f"{path} is not a neuralcore model file (format {found!r})")
    version = document.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by a newer neuralcore ({document.get('neuralcore_version')}, model format "
            f"{version}); this is neuralcore {__version__}, which reads format {FORMAT_VERSION}: upgrade neuralcore"
        )
    estimators = {"LogisticRegression": LogisticRegression, "TwoLayerNet": TwoLayerNet}
    try:
        cls = estimators[document["estimator"]]
        model = cls(**{k: v for k, v in dict(document["hyperparameters"]).items() if k in cls._param_names()})
        model._check_hyperparameters()
        n_features, n_classes = int(document["n_features_in"]), int(document["n_classes"])
        if n_features < 1 or n_classes < 2:
            raise ValueError(f"n_features_in={n_features}, n_classes={n_classes}")
        expected = model._param_shapes(n_features, 1 if n_classes == 2 else n_classes)
        dtype = np.dtype(document["dtype"])
        saved_shapes = dict(document["param_shapes"])
        loss_curve = [float(v) for v in document.get("loss_curve", [])]
        n_iter = int(document.get("n_iter", len(loss_curve)))
        metadata = dict(document.get("metadata") or {})
        feature_names = check_saved_feature_names(document.get("feature_names_in"), n_features)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ValueError(f"{path}: the model metadata is incomplete or invalid ({type(exc).__name__}: {exc})") from None
    params = {}
    for key, shape in expected.items():
        value = contents.get(f"{_PARAM_PREFIX}{key}")
        if value is None:
            raise ValueError(f"{path}: parameter {key!r} is missing from the file")
        if value.shape != tuple(shape) or list(value.shape) != saved_shapes.get(key):
            raise ValueError(f"{path}: parameter {key!r} has shape {value.shape}, the metadata says {tuple(shape)}")
        if value.dtype != dtype or not np.isfinite(value).all():
            raise ValueError(f"{path}: parameter {key!r} is corrupted (dtype {value.dtype}, or non-finite values)")
        params[key] = value
    classes = contents.get("classes")
    if classes is None or classes.shape != (n_classes,):
        raise ValueError(f"{path}: the class labels are missing or do not match the metadata")
    placement = resolve_backend(backend or "numpy")
    model.params_ = {key: to_backend(value, placement) for key, value in params.items()}
    model.classes_ = classes
    model.n_features_in_ = n_features
    store_feature_names(model, feature_names)
    model.backend_ = placement.name
    model.loss_curve_ = loss_curve
    model.n_iter_ = n_iter
    model.validation_scores_ = None
    model.best_iteration_ = None
    model.trained_on_ = document.get("trained_on")
    model.metadata_ = metadata
    return model


def _classes_array(classes) -> np.ndarray:
    classes = np.asarray(classes)
    if classes.dtype.kind == "O":
        if all(isinstance(c, str) for c in classes):
            return classes.astype(str)
        raise TypeError("only numeric, boolean or string class labels can be saved without pickling")
    return classes


def _json_hyperparameters(params: dict):
    kept, dropped = {}, {}
    for key, value in params.items():
        if _json_safe(value):
            kept[key] = value
        else:
            dropped[key] = repr(value)
    return kept, dropped


def _json_safe(value) -> bool:
    if value is None or isinstance(value, (bool, str, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_json_safe(v) for v in value)
    return False

"""Model files: one ``.npz`` of NumPy arrays plus JSON metadata. Never pickled.

A file holds the parameters (``param.W1``...), the class labels, and a JSON
document (stored as bytes) with the estimator's class and hyperparameters,
the dtype, the number of features, the neuralcore version, the backend it was
trained on, the training history and any metadata the caller adds (the command
line stores its preprocessing there); a model fitted with ``standardize=True``
also holds its statistics (``feature_mean``, ``feature_scale``). Loading uses ``allow_pickle=False``,
reads only the members the format defines, checks each one's size and
dtype against the metadata before reading it, and works without CuPy.

One function, :func:`_check_model`, decides what a valid model is; ``save``
runs it on what it is about to write and ``load`` on what it read, so ``save``
never writes a file that ``load`` would refuse. Saving goes through
:func:`neuralcore.files.atomic_write`: an interrupted save never leaves a
half-written model in place of a good one.
"""

from __future__ import annotations

import json
import math
import os
import stat
import zipfile

import numpy as np

from . import __version__
from .device import resolve_backend, to_backend, to_numpy
from .files import atomic_write, check_output_path
from .frames import check_saved_feature_names
from .scaling import check_statistics

__all__ = ["ESTIMATORS", "FORMAT", "FORMAT_VERSION", "load", "register", "save"]

FORMAT = "neuralcore-model"
#: Bumped when a file written now could not be read correctly by an older reader.
FORMAT_VERSION = 1
_PARAM_PREFIX = "param."
#: Limits that keep a hostile file from using much more memory than its own size.
MAX_DOCUMENT_BYTES = 64 * 2**20
MAX_METADATA_DEPTH = 32
_PARAM_DTYPES = ("float32", "float64")
#: The members of a model fitted with ``standardize=True``, and the fitted attributes they hold.
_STATISTICS = {"feature_mean": "feature_mean_", "feature_scale": "feature_scale_"}

#: The estimator classes a model file may name, by class name (filled by :func:`register`).
ESTIMATORS: dict = {}


def register(cls):
    """Class decorator: ``cls`` may be saved and loaded by name.

    What this module needs of an estimator is a small public contract:
    ``cls(**hyperparameters)``, ``get_params()``, ``param_shapes(n_features,
    n_classes)`` (which validates the hyperparameters), ``fitted_state()``
    and ``restore(**state)`` (see :class:`neuralcore.base.BaseClassifier`).
    """
    known = ESTIMATORS.get(cls.__name__)
    if known is not None and known is not cls and (known.__module__, known.__qualname__) in _BUILTIN:
        raise ValueError(f"cannot register {cls.__module__}.{cls.__qualname__}: the name {cls.__name__!r} is "
                         f"neuralcore's {known.__qualname__}, which model files of that name must load as; "
                         "give your class another name")
    ESTIMATORS[cls.__name__] = cls  # a class redefined under its own name (a re-run notebook cell) replaces itself
    return cls


#: neuralcore's own estimators, which no other class may replace in :data:`ESTIMATORS`.
_BUILTIN = {("neuralcore.estimators", name) for name in ("LogisticRegression", "TwoLayerNet", "NeuralNet")}


def save(model, path, *, metadata: dict | None = None) -> str:
    """Write a fitted estimator to ``path`` (a ``.npz`` file), atomically.

    Parameters
    ----------
    model : LogisticRegression or TwoLayerNet, fitted
    path : str or path-like
        A symbolic link is followed and its target replaced; a folder, device,
        FIFO, socket or read-only file is refused. A replaced file keeps its
        permission bits, a new one gets ``0666 & ~umask``.
    metadata : dict, optional
        JSON-serializable data kept with the model (``model.metadata_`` after loading).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    ValueError
        The model or ``metadata`` is something :func:`load` would refuse (``classes_`` or
        hyperparameters changed after fit, ``metadata`` not a dict...), or its class is not the one
        :func:`load` would return for its name (a subclass not registered with :func:`register`):
        nothing is written.
    TypeError
        ``metadata`` is not JSON-serializable.
    OSError
        ``path`` cannot be written (see :func:`neuralcore.files.check_output_path`).
    """
    state = model.fitted_state()
    name = type(model).__name__
    if ESTIMATORS.get(name) is not type(model):  # it would load as another class, or not at all
        raise ValueError(f"cannot save {type(model).__module__}.{type(model).__qualname__}: model files name "
                         f"their class, and {name!r} is " + ("not registered; decorate the class with "
                         "neuralcore.persistence.register" if name not in ESTIMATORS else
                         f"{ESTIMATORS[name].__module__}.{ESTIMATORS[name].__qualname__}, which load would "
                         "return instead; give your class another name and register it") + "; nothing was written")
    path = os.fspath(path)
    check_output_path(path, what="model file")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None, got {type(metadata).__name__}")
    classes = _classes_array(state["classes_"])
    hyperparameters, dropped = _json_hyperparameters(model.get_params())
    params = {key: to_numpy(value) for key, value in state["params_"].items()}
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "neuralcore_version": __version__,
        "estimator": type(model).__name__,
        "hyperparameters": hyperparameters,
        "unsaved_hyperparameters": dropped,
        "dtype": next(iter(params.values())).dtype.name,
        "n_features_in": int(state["n_features_in_"]),
        "feature_names_in": None if state["feature_names_in_"] is None else [str(v) for v in state["feature_names_in_"]],
        "n_classes": int(classes.shape[0]),
        "param_shapes": {key: list(value.shape) for key, value in params.items()},
        "standardized": state.get("feature_mean_") is not None,
        "trained_on": state["trained_on_"] or state["backend_"],
        "n_iter": int(state["n_iter_"]),
        "loss_curve": [float(v) for v in state["loss_curve_"]],
        "metadata": {} if metadata is None else metadata,
    }
    try:
        encoded = json.dumps(document, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise TypeError(f"metadata must be JSON-serializable (no NaN): {exc}") from None
    arrays = {f"{_PARAM_PREFIX}{key}": value for key, value in params.items()}
    arrays["classes"] = classes
    arrays["metadata"] = np.frombuffer(encoded, dtype=np.uint8)
    if document["standardized"]:
        arrays.update({member: to_numpy(state[name]) for member, name in _STATISTICS.items()})
    try:  # the very checks load will make, on the very bytes it will read
        spec = _check_document(_parse_document(encoded))
        _check_arrays(spec, arrays)
    except ValueError as exc:
        raise ValueError(f"cannot save {type(model).__name__} to {path}: load would refuse it: {exc}") from None
    with atomic_write(path, what="model file") as handle:
        np.savez(handle, **arrays)
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
        Missing, truncated, corrupted, foreign or newer-format files; special
        files (folders, FIFOs, devices); members the format does not define,
        compressed members, or members whose size, shape or dtype does not
        match the metadata (checked before they are read); class labels that
        are not unique and sorted; parameters that are not finite float32 or
        float64 of one dtype; invalid hyperparameters; metadata nested deeper
        than 32 levels or larger than 64 MiB.
    """
    path = os.fspath(path)
    if path == "":
        raise ValueError("model file path is empty")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: {path}")
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot read model file {path}: {exc.strerror}") from None
    mode = os.fstat(descriptor).st_mode  # of what was opened: no race with a swapped path
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        kind = "a directory" if stat.S_ISDIR(mode) else "a special file (FIFO, device or socket)"
        raise ValueError(f"{path} is not a neuralcore model file (it is {kind}, not a regular file)")
    with open(descriptor, "rb") as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            # for a file that is no archive, NumPy's own message talks of unpickling
            raise ValueError(f"{path} is not a neuralcore model file (not a .npz archive: {exc})") from None
        try:
            with archive:
                spec, arrays = _read_members(archive, path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise ValueError(f"{path} is not a neuralcore model file (not a readable .npz archive: "
                             f"{type(exc).__name__}: {exc})") from None
    try:
        _check_arrays(spec, arrays)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    placement = resolve_backend(backend or "numpy")
    model = spec["model"]
    model.restore(
        params_={key: to_backend(arrays[f"{_PARAM_PREFIX}{key}"], placement) for key in spec["shapes"]},
        classes_=arrays["classes"],
        n_features_in_=spec["n_features"],
        backend_=placement.name,
        trained_on_=spec["trained_on"],
        loss_curve_=spec["loss_curve"],
        n_iter_=spec["n_iter"],
        validation_scores_=None,
        best_iteration_=None,
        feature_names_in_=spec["feature_names"],
        **{name: to_backend(arrays[member], placement) if spec["standardized"] else None
           for member, name in _STATISTICS.items()},
    )
    model.metadata_ = spec["metadata"]
    return model


# ------------------------------------------------------------------ reading members


def _read_members(archive: zipfile.ZipFile, path: str):
    """The checked document and the arrays of an open archive; sizes checked before anything is read."""
    members = {}
    for info in archive.infolist():
        if info.filename in members:
            raise ValueError(f"{path} is not a valid neuralcore model file (member {info.filename!r} appears twice)")
        members[info.filename] = info
    if "metadata.npy" not in members:
        raise ValueError(f"{path} is not a neuralcore model file (no metadata); was it written by model.save?")
    metadata = _read_npy(archive, members["metadata.npy"], path, "metadata", limit=MAX_DOCUMENT_BYTES)
    if metadata.dtype != np.uint8 or metadata.ndim != 1:
        raise ValueError(f"{path} is not a neuralcore model file (no metadata); was it written by model.save?")
    try:
        spec = _check_document(_parse_document(metadata.tobytes()))
    except _NotAModel as exc:
        raise ValueError(f"{path} is not a neuralcore model file ({exc})") from None
    except _NewerFormat as exc:
        raise ValueError(f"{path} was written by {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    statistics = list(_STATISTICS) if spec["standardized"] else []
    expected = {"metadata.npy", "classes.npy", *(f"{_PARAM_PREFIX}{key}.npy" for key in spec["shapes"]),
                *(f"{member}.npy" for member in statistics)}
    unknown = sorted(set(members) - expected)
    if unknown:
        raise ValueError(f"{path}: the file holds members the model format does not define: {unknown[:5]}; "
                         "refusing a file that may have been tampered with")
    arrays = {"metadata": metadata}
    for key, shape in spec["shapes"].items():
        name = f"{_PARAM_PREFIX}{key}"
        if f"{name}.npy" not in members:
            raise ValueError(f"{path}: parameter {key!r} is missing from the file")
        arrays[name] = _read_npy(archive, members[f"{name}.npy"], path, f"parameter {key!r}", shape=shape,
                                 dtype=spec["dtype"])
    if "classes.npy" not in members:
        raise ValueError(f"{path}: the class labels are missing or do not match the metadata")
    arrays["classes"] = _read_npy(archive, members["classes.npy"], path, "the class labels",
                                  shape=(spec["n_classes"],))
    for member in statistics:
        if f"{member}.npy" not in members:
            raise ValueError(f"{path}: the standardization statistics ({member}) are missing from the file")
        arrays[member] = _read_npy(archive, members[f"{member}.npy"], path, f"the standardization {member}",
                                   shape=(spec["n_features"],), dtype=spec["dtype"])
    return spec, arrays


def _read_npy(archive, info, path, what, *, shape=None, dtype=None, limit=None):
    """One ``.npy`` member, its header checked against ``shape``/``dtype`` and its size before the data is read."""
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"{path}: {what} is stored compressed; neuralcore model files store arrays uncompressed "
                         "(re-save the model with model.save)")
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            if version not in ((1, 0), (2, 0), (3, 0)):
                raise ValueError(f"unknown .npy version {version}")
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            found_shape, fortran, found_dtype = reader(member, max_header_size=10_000)
        except (ValueError, SyntaxError, TypeError, EOFError) as exc:
            raise ValueError(f"{path} is not a neuralcore model file ({what} is not NumPy array data: "
                             f"{' '.join(str(exc).split())[:200]})") from None
        if found_dtype.hasobject or found_dtype.fields is not None or found_dtype.subdtype is not None:
            raise ValueError(f"{path} is not a neuralcore model file ({what} has dtype {found_dtype}, which a "
                             "model file never holds: pickled objects and structured arrays are refused)")
        if shape is not None and tuple(found_shape) != tuple(shape):
            raise ValueError(f"{path}: {what} has shape {tuple(found_shape)}, the metadata says {tuple(shape)}")
        if dtype is not None and found_dtype != np.dtype(dtype):
            raise ValueError(f"{path}: {what} is corrupted (dtype {found_dtype}, the metadata says {dtype})")
        nbytes = math.prod(found_shape) * found_dtype.itemsize
        if info.file_size != member.tell() + nbytes:
            raise ValueError(f"{path}: {what} holds {info.file_size - member.tell()} bytes of data where its "
                             f"header declares {nbytes}: the file is damaged or tampered with")
        if limit is not None and nbytes > limit:
            raise ValueError(f"{path}: {what} is {nbytes} bytes, more than the {limit} a model file may hold there")
        data = member.read(nbytes)
        if len(data) != nbytes:
            raise ValueError(f"{path}: {what} is truncated")
    return np.frombuffer(data, dtype=found_dtype).reshape(found_shape, order="F" if fortran else "C")


# ---------------------------------------------------------------- what a model is


class _NotAModel(ValueError):
    """The bytes are no neuralcore model document at all."""


class _NewerFormat(ValueError):
    """A model document of a format this version cannot read."""


def _parse_document(encoded: bytes):
    """The JSON document of a model file; bounded in size and nesting, no NaN or Infinity."""
    if len(encoded) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"the model metadata is {len(encoded)} bytes, more than the limit of {MAX_DOCUMENT_BYTES}")
    try:
        document = json.loads(encoded.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:  # the C decoder stops, cleanly, at the interpreter's recursion limit
        document = None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the model metadata is corrupted ({exc})") from None
    if document is None or _nesting_depth(document) > MAX_METADATA_DEPTH:
        raise ValueError(f"the model metadata is nested more than {MAX_METADATA_DEPTH} levels deep")
    return document


def _refuse_constant(name):
    raise ValueError(f"the model metadata holds {name}, which JSON does not allow")


def _nesting_depth(document) -> int:
    """Deepest nesting of lists and dicts in a parsed JSON document, counted without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            if depth <= MAX_METADATA_DEPTH:  # deeper is refused anyway: stop counting
                stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return deepest


def _check_document(document) -> dict:
    """Validate a parsed model document; return what loading needs (an unfitted model, shapes, dtype...)."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise _NotAModel(f"format {found!r}")
    version = document.get("format_version")
    if not _is_int(version) or not 1 <= version <= FORMAT_VERSION:
        if _is_int(version) and version > FORMAT_VERSION:
            raise _NewerFormat(
                f"a newer neuralcore ({document.get('neuralcore_version')}, model format {version}); this is "
                f"neuralcore {__version__}, which reads format {FORMAT_VERSION}: upgrade neuralcore")
        raise ValueError(f"the model metadata has an invalid format_version {version!r}")
    try:
        if document.get("estimator") not in ESTIMATORS:
            raise ValueError(f"unknown estimator {document.get('estimator')!r}; known: {', '.join(ESTIMATORS)}")
        cls = ESTIMATORS[document["estimator"]]
        hyperparameters = document["hyperparameters"]
        if not isinstance(hyperparameters, dict):
            raise TypeError(f"hyperparameters must be an object, got {type(hyperparameters).__name__}")
        names = set(cls().get_params())
        # JSON has no tuples: a list hyperparameter (hidden_units) comes back as the tuple it was
        model = cls(**{k: _restored(k, v) for k, v in hyperparameters.items() if k in names})
        n_features, n_classes = document["n_features_in"], document["n_classes"]
        if not (_is_int(n_features) and _is_int(n_classes) and n_features >= 1 and n_classes >= 2):
            raise ValueError(f"n_features_in={n_features!r}, n_classes={n_classes!r}")
        expected = {key: tuple(shape) for key, shape in model.param_shapes(n_features, n_classes).items()}
        dtype = document["dtype"]
        if dtype not in _PARAM_DTYPES:
            raise ValueError(f"parameter dtype {dtype!r}; a model holds float32 or float64")
        saved_shapes = document["param_shapes"]
        if not isinstance(saved_shapes, dict) or {k: tuple(v) if isinstance(v, list) else v
                                                  for k, v in saved_shapes.items()} != expected:
            raise ValueError(f"param_shapes {saved_shapes!r} do not match the hyperparameters, which give "
                             f"{ {k: list(v) for k, v in expected.items()} }")
        loss_curve = document.get("loss_curve", [])
        if not isinstance(loss_curve, list) or not all(_is_number(v) for v in loss_curve):
            raise ValueError("loss_curve must be a list of numbers")
        n_iter = document.get("n_iter", len(loss_curve))
        if not _is_int(n_iter) or n_iter < 0:
            raise ValueError(f"n_iter={n_iter!r}")
        metadata = document.get("metadata", {})
        if not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a JSON object (a dict), got {type(metadata).__name__}")
        trained_on = document.get("trained_on")
        if trained_on is not None and not isinstance(trained_on, str):
            raise TypeError(f"trained_on must be a string, got {type(trained_on).__name__}")
        feature_names = check_saved_feature_names(document.get("feature_names_in"), n_features)
        standardized = document.get("standardized", False)  # absent in files written before standardize existed
        if not isinstance(standardized, bool):
            raise TypeError(f"standardized must be true or false, got {standardized!r}")
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ValueError(f"the model metadata is incomplete or invalid ({type(exc).__name__}: {exc})") from None
    return {"model": model, "feature_names": feature_names, "shapes": expected, "dtype": dtype, "n_features": n_features, "n_classes": n_classes,
            "loss_curve": [float(v) for v in loss_curve], "n_iter": n_iter, "trained_on": trained_on,
            "metadata": metadata, "standardized": standardized}


def _check_arrays(spec: dict, arrays: dict) -> None:
    """The arrays of a model against its checked document: shapes, one finite float dtype, sorted unique classes."""
    for key, shape in spec["shapes"].items():
        value = arrays.get(f"{_PARAM_PREFIX}{key}")
        if value is None:
            raise ValueError(f"parameter {key!r} is missing")
        if value.shape != shape:
            raise ValueError(f"parameter {key!r} has shape {value.shape}, the metadata says {shape}")
        if value.dtype != np.dtype(spec["dtype"]) or not np.isfinite(value).all():
            raise ValueError(f"parameter {key!r} is corrupted (dtype {value.dtype}, or non-finite values)")
    classes = arrays.get("classes")
    if classes is None or classes.shape != (spec["n_classes"],):
        raise ValueError("the class labels are missing or do not match the metadata")
    if classes.dtype.kind not in "biufU":
        raise ValueError(f"the class labels have dtype {classes.dtype}; a model holds numbers, booleans or strings")
    if not bool(np.all(classes[:-1] < classes[1:])):  # also false for NaN
        raise ValueError(f"the class labels {classes.tolist()[:10]} are not unique and sorted (as np.unique "
                         "gives them), so predictions would be relabelled: was classes_ changed after fit?")
    if spec["standardized"]:
        for member in _STATISTICS:
            value = arrays.get(member)
            if value is None or value.dtype != np.dtype(spec["dtype"]):
                raise ValueError(f"the standardization {member} is missing or not {spec['dtype']}")
        try:
            check_statistics(arrays["feature_mean"], arrays["feature_scale"], spec["n_features"], values=True)
        except ValueError as exc:
            raise ValueError(f"the standardization statistics are invalid: {exc}") from None
    statistics = _STATISTICS if spec["standardized"] else {}
    extra = set(arrays) - {"metadata", "classes", *(f"{_PARAM_PREFIX}{key}" for key in spec["shapes"]), *statistics}
    if extra:
        raise ValueError(f"unexpected parameters {sorted(extra)} for {type(spec['model']).__name__} with these "
                         "hyperparameters: were they changed after fit?")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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
        value = _plain(value)
        if key == "class_weight" and isinstance(value, dict):
            # JSON turns every key into a string: the labels (1, 1.5, True, "a") are kept as [label, weight] pairs
            value = [[_plain(label), weight] for label, weight in value.items()]
        if _json_safe(value):
            kept[key] = value
        else:
            dropped[key] = repr(value)
    return kept, dropped


def _restored(name: str, value):
    """A hyperparameter as it was before JSON: ``class_weight`` pairs as the dict, other lists as tuples."""
    if name == "class_weight" and isinstance(value, list):
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in value):
            raise ValueError(f"class_weight must be stored as [label, weight] pairs, got {value!r}")
        restored = {label: weight for label, weight in value}
        if len(restored) != len(value):  # save writes each label once: a later pair would silently win
            labels = [label for label, _ in value]
            twice = next(label for label in labels if labels.count(label) > 1)
            raise ValueError(f"class_weight names the label {twice!r} twice in its [label, weight] pairs {value!r}")
        return restored
    return tuple(value) if isinstance(value, list) else value


def _plain(value):
    """NumPy scalars (what a grid over ``np.arange`` gives) as the Python numbers they stand for, in containers too."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value] if isinstance(value, list) else tuple(_plain(v) for v in value)
    return value


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

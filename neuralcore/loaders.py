"""Host-side data loading: built-in datasets, CSV, NPZ and HDF5 files.

Everything here returns NumPy arrays on the host; the estimators place them.
Reading HDF5 needs the optional ``h5py`` (``pip install "neuralcore[io]"``).
"""

from __future__ import annotations

import csv
import os
import re
import stat
import zipfile
from typing import NamedTuple

import numpy as np

from .datasets import BUILTIN, load_builtin
from .validation import stratified_split as _stratified

__all__ = ["Dataset", "apply_preprocessing", "flatten_images", "load_csv",
           "load_data", "load_hdf5", "load_npz", "stratified_split"]

_SUFFIXES = {".csv": "csv", ".npz": "npz", ".h5": "hdf5", ".hdf5": "hdf5", ".hdf": "hdf5"}


class Dataset(NamedTuple):
    """Features ready for a model, labels, and how they were obtained.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or None
    feature_names : list of str or None
        CSV column names, kept with a model to select columns at prediction.
    preprocessing : dict or None
        What was done to the stored arrays (``{"kind": "images", "shape":
        [h, w, c], "scale": 255}``); stored with a model and applied again to
        the data it predicts on.
    source : str
        A short description for messages.
    target : str or None
        CSV: the name of the label column read (None when there was none), kept
        with a model so that evaluation finds its labels by name.
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list | None
    preprocessing: dict | None
    source: str
    target: str | None = None


def load_data(
    spec: str,
    *,
    target: str | None = None,
    x_key: str | None = None,
    y_key: str | None = None,
    labels: str = "required",
    preprocessing: dict | None = None,
    feature_names: list | None = None,
    as_trained: bool = False,
    n_features: int | None = None,
    text_labels: bool = False,
) -> Dataset:
    """Load a built-in dataset (``"planar:n_samples=1000"``) or a CSV, NPZ or HDF5 file.

    Parameters
    ----------
    spec : str
        A file path (by its suffix: .csv, .npz, .h5/.hdf5), or a built-in name
        with optional ``key=value`` parameters.
    target : str, optional
        CSV: the label column (default: the last one).
    x_key, y_key : str, optional
        NPZ: array names (default ``X`` and ``y``); HDF5: dataset names
        (default: the one ``<name>_x`` / ``<name>_y`` pair).
    labels : {"required", "optional"}
        ``"optional"`` (prediction) accepts data without labels.
    preprocessing, feature_names : optional
        A fitted model's: image data is flattened and scaled as it was in
        training, and CSV columns are selected by the model's feature names.
    as_trained : bool
        ``preprocessing`` is what was done to a model's training data, None
        included (2-D features used as they were): repeat it exactly instead of
        inferring one, so images are refused by a model trained on flat
        features, and a CSV (which holds no image shape) by a model trained on images.
    n_features : int, optional
        A fitted model's number of features: a CSV without ``feature_names``
        that has exactly this many columns has no label column.
    text_labels : bool
        CSV: keep the labels as text, as a model trained on text labels
        (``["1", "cat"]``) knows them, even when every label here looks like a number.
    """
    spec = os.fspath(spec)
    kind = _SUFFIXES.get(os.path.splitext(spec)[1].lower())
    if kind is None and spec.partition(":")[0] in BUILTIN and not os.path.exists(spec):
        X, y = load_builtin(spec)
        return Dataset(X, y, None, None, f"built-in {spec}")
    if kind is None:
        if not os.path.exists(spec):
            raise FileNotFoundError(
                f"no such file or built-in dataset: {spec!r} (built-ins: {', '.join(BUILTIN)}; "
                "files: .csv, .npz, .h5/.hdf5)"
            )
        raise ValueError(f"{spec}: unknown file type; use a .csv, .npz, .h5 or .hdf5 file")
    _regular_file(spec)
    optional = labels == "optional"
    if kind == "csv":
        if preprocessing is not None and preprocessing.get("kind") == "images":
            raise ValueError(f"{spec}: the model was trained on images of shape {tuple(preprocessing['shape'])}, "
                             "flattened and scaled; a CSV file holds no image shape: give the images as a .npz "
                             "or HDF5 array of that shape")
        X, y, names, label = _load_csv(spec, target=target, labels_optional=optional, feature_names=feature_names,
                                       n_features=n_features, text_labels=text_labels)
        return Dataset(X, y, names, None, spec, label)
    if kind == "npz":
        X, y = load_npz(spec, x_key=x_key, y_key=y_key, labels_optional=optional)
    else:
        X, y = load_hdf5(spec, x_key=x_key, y_key=y_key, labels_optional=optional)
    X, steps = apply_preprocessing(X, preprocessing, source=spec, as_trained=as_trained)
    if np.ndim(X) != 2:
        raise ValueError(f"{spec}: the features must be a 2-D array (n_samples, n_features), got shape {np.shape(X)}")
    return Dataset(X, y, None, steps, spec)


def _regular_file(path) -> str:
    """``path`` as a str, once it is known to be a regular file (after symlinks): checked before any read,
    so a FIFO, a device (``/dev/zero``, ``/dev/urandom``) or a folder is refused instead of hanging or
    filling memory."""
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    except OSError as exc:
        raise ValueError(f"{path} cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        what = next((name for test, name in (
            (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
            (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
        ) if test(mode)), "a special file")
        raise ValueError(f"{path} is {what}, not a regular file; data must be read from a regular file")
    return path


def apply_preprocessing(X: np.ndarray, preprocessing: dict | None, *, source: str = "data", as_trained: bool = False):
    """Flatten and scale image arrays; with a model's ``preprocessing``, repeat exactly what it did.

    ``as_trained=True`` says that ``preprocessing`` is a model's even when it is
    None (its 2-D features were used as they were): images are then refused,
    not flattened and scaled by a guess.

    Returns the 2-D features and the preprocessing applied (None when there was none).
    """
    X = np.asarray(X)
    if preprocessing is not None and preprocessing.get("kind") == "images":
        shape = tuple(preprocessing["shape"])
        if X.shape[1:] != shape:
            raise ValueError(
                f"{source}: the model was trained on images of shape {shape}, got samples of shape {X.shape[1:]}"
            )
        # the scale the model's images had (none: 1), not one inferred from these images' dtype
        return flatten_images(X, scale=preprocessing.get("scale") or 1), preprocessing
    if as_trained and X.ndim > 2:
        raise ValueError(f"{source}: the model was trained on 2-D features (n_samples, n_features), used as they "
                         f"were; got samples of shape {X.shape[1:]}: flatten and scale them as its training data was")
    if X.ndim > 2:
        steps = {"kind": "images", "shape": list(X.shape[1:]), "scale": 255 if X.dtype == np.uint8 else None}
        return flatten_images(X, scale=steps["scale"]), steps
    return X, None


def flatten_images(X, *, scale=None) -> np.ndarray:
    """Images ``(n, height, width, channels)`` to rows ``(n, height * width * channels)``.

    ``scale`` divides the pixels (uint8 images: 255, as the course does, giving
    [0, 1]); by default uint8 input is scaled by 255 and other dtypes are kept.
    The input is not modified.

    Examples
    --------
    >>> flatten_images(np.full((2, 4, 4, 3), 255, dtype=np.uint8)).max()
    np.float64(1.0)
    """
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"expected an array of images (n, height, width, channels), got shape {X.shape}")
    if scale is None and X.dtype == np.uint8:
        scale = 255
    flat = X.reshape(X.shape[0], -1)
    return flat / float(scale) if scale else flat


def load_csv(path, *, target: str | None = None, labels_optional: bool = False, feature_names: list | None = None):
    """A CSV file with a header row: numeric feature columns and one label column.

    The first line names the columns (each once, none empty); every other
    non-blank line is one sample with a cell for each column. UTF-8 with or
    without a byte-order mark, ``\\n``, ``\\r\\n`` or ``\\r`` line ends and
    quoted fields are read as the csv module reads them. Anything else (an
    empty header, a name given twice, a ragged row, an empty or non-numeric
    cell, an empty label, a pandas index column ``Unnamed: 0`` among the features) is a ValueError naming the
    line or the column.

    Returns ``X`` (float64), ``y`` (int64 when every label is an integer,
    float64 for other numbers, else str; ``None`` when labels are optional and
    the column is absent or entirely empty) and the feature names.
    """
    return _load_csv(path, target=target, labels_optional=labels_optional, feature_names=feature_names)[:3]


def _load_csv(path, *, target=None, labels_optional=False, feature_names=None, n_features=None, text_labels=False):
    """:func:`load_csv`, and the name of the label column read (None when none was)."""
    path = _regular_file(path)
    header_line, header, records = _read_csv(path)
    if feature_names is not None:  # prediction: the model's columns, the label column if present
        missing = [name for name in feature_names if name not in header]
        if missing:
            raise ValueError(f"{path}: the model needs the columns {missing}, which the file lacks (it has {header})")
        if target is not None:  # the model's label column, by name: another column is never taken for it
            target_index = header.index(target) if target in header else None
        else:  # a model file that does not name its label column: the one column left over, if one is
            label_columns = [name for name in header if name not in feature_names]
            target_index = header.index(label_columns[-1]) if len(label_columns) == 1 else None
        if target_index is None and not labels_optional:
            if target is None and len(label_columns) > 1:
                raise ValueError(f"{path}: which column holds the labels? Besides the model's features "
                                 f"{feature_names} the file has {label_columns}; name it with --target")
            named = f"the label column {target!r}" if target is not None else "a label column"
            raise ValueError(f"{path} has no labels: the model's features are {feature_names} and the file lacks "
                             f"{named} (it has {header})")
        feature_index = [header.index(name) for name in feature_names]
    else:
        if target is None and n_features is not None and len(header) == n_features:
            if not labels_optional:  # exactly the model's features: nothing is left for the labels
                raise ValueError(f"{path} has no label column: its {len(header)} columns are the model's "
                                 f"{n_features} features")
            target_index = None
        elif target is None:
            target_index = len(header) - 1
        elif target in header:
            target_index = header.index(target)
        elif labels_optional:
            target_index = None
        else:
            raise ValueError(f"{path}: no column {target!r} for the labels; the columns are {header}")
        feature_index = [i for i in range(len(header)) if i != target_index]
        if not feature_index:
            raise ValueError(f"{path}: no feature columns besides the label column {header[target_index]!r}")
        index = next((header[i] for i in feature_index if re.fullmatch(r"Unnamed: \d+", header[i])), None)
        if index is not None:  # pandas' name for a column without one: a row index, which would be a feature here
            raise ValueError(f"{path}: column {index!r} is a pandas index written to the file (pandas names a column "
                             "without a header so), not a feature: write the file with index=False, or remove that "
                             "column")
    X = np.empty((len(records), len(feature_index)))
    for r, (line, row) in enumerate(records):
        for c, i in enumerate(feature_index):
            cell = row[i].strip()
            try:
                X[r, c] = float(cell)
            except ValueError:
                what = "is empty" if not cell else f"holds {cell!r}, not a number"
                raise ValueError(f"{path}, line {line}, column {header[i]!r} {what}") from None
    y = None
    if target_index is not None:
        cells = [row[target_index].strip() for _, row in records]
        if not (labels_optional and not any(cells)):  # prediction data may leave the whole label column empty
            for (line, _), cell in zip(records, cells):
                if not cell:
                    raise ValueError(f"{path}, line {line}, column {header[target_index]!r} (the labels) is empty; "
                                     "every sample needs a label")
            y = np.asarray(cells) if text_labels else _parse_labels(cells)
    return X, y, [header[i] for i in feature_index], None if target_index is None else header[target_index]


def _read_csv(path: str):
    """``(header line number, stripped column names, [(line number, cells)...])``, the rows checked for shape.

    Blank lines between samples are skipped; line numbers are those of the
    file (a quoted field may span lines: a row is numbered by its first line).
    """
    records = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, strict=True)
        first = 1
        try:
            for row in reader:
                if len(row) > 1 or (row and row[0].strip()):
                    records.append((first, row))
                elif not records:
                    raise ValueError(f"{path}, line {first}: the header row is empty; the first line must name the columns")
                first = reader.line_num + 1
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise ValueError(f"{path}, line {first}: a quoted field starts in this row and is never closed") from None
            raise ValueError(f"{path}, line {reader.line_num}: not a readable CSV file: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: not a readable CSV file (not UTF-8 text): {exc}") from None
    if not records:
        raise ValueError(f"{path} is empty; a CSV file needs a header row and at least one data row")
    header_line, header_row = records[0]
    header = [name.strip() for name in header_row]
    where = f"{path}, line {header_line}"
    if not any(header):
        raise ValueError(f"{where}: the header row is empty; the first line must name the columns")
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        if len(header) == 1 and separator in header[0]:
            raise ValueError(f"{where}: the header {header[0]!r} is one column: the file seems separated by {name}; "
                             "neuralcore reads comma-separated files (save as CSV with commas)")
    for column, name in enumerate(header, start=1):
        if not name:
            hint = (" (an unnamed first column is often a pandas index: write the file with index=False, or "
                    "remove that column)" if column == 1 else
                    " (a trailing comma at the end of the lines?)" if column == len(header) else "")
            raise ValueError(f"{where}: column {column} of the header has no name; every column needs one{hint}")
        if header.index(name) != column - 1:
            raise ValueError(f"{where}: the header names column {name!r} twice (columns {header.index(name) + 1} and "
                             f"{column}); column names must be unique")
    if all(_is_number(name) for name in header) and header != [str(i) for i in range(len(header))]:
        raise ValueError(f"{where}: the header row {header} holds only numbers: is the header missing? The first line "
                         "must name the columns (else it is not read as a sample)")
    numbers = [name for name in header if _is_number(name)]
    if len(numbers) >= len(header) - 1 and any(not name.lstrip("+-").isdigit() for name in numbers):
        # 5.1,3.5,1.4,0.2,setosa: a first sample with a text label, not column names (0,1,label may be names)
        raise ValueError(f"{where}: the header row {header} looks like a sample (numbers such as {numbers[0]!r} "
                         "in every column but one): is the header missing? The first line must name the columns")
    if len(records) < 2:
        raise ValueError(f"{where} is the header and no data rows follow; a CSV file needs at least one data row")
    for line, row in records[1:]:
        if len(row) != len(header):
            raise ValueError(f"{path}, line {line}: {len(row)} fields, but the header (line {header_line}) has {len(header)}")
    return header_line, header, records[1:]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_labels(cells: list) -> np.ndarray:
    """Integers when every label is one (within int64), other numbers as float64, else the text."""
    try:
        integers = [int(cell) for cell in cells]
    except ValueError:
        integers = None
    if integers is not None:
        if all(-(2**63) <= v < 2**63 for v in integers):
            return np.asarray(integers, dtype=np.int64)
        return np.asarray(cells)  # beyond int64: keep them exact, as text
    try:
        numbers = np.asarray([float(cell) for cell in cells])
    except ValueError:
        return np.asarray(cells)
    exact = np.isfinite(numbers) & (np.abs(numbers) < 2**53)
    if np.all(exact) and np.all(numbers == np.round(numbers)):
        return numbers.astype(np.int64)
    if np.all(np.isfinite(numbers)) and np.any(~exact & (numbers == np.round(numbers))):
        return np.asarray(cells)  # integers beyond 2**53 are names, not values: keep them exact, as text
    return numbers  # NaN or infinity stay numbers, for validation to refuse


def load_npz(path, *, x_key: str | None = None, y_key: str | None = None, labels_optional: bool = False):
    """``X`` and ``y`` arrays from a ``.npz`` file (names ``X``/``y`` unless given). Never unpickles."""
    x_key, y_key = x_key or "X", y_key or "y"
    path = _regular_file(path)
    if not zipfile.is_zipfile(path):  # else NumPy would read a .npy, or suggest unpickling
        raise ValueError(f"{path} is not a readable .npz file (not a zip archive of arrays)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if x_key not in names:
                raise ValueError(f"{path} has no array {x_key!r}; it has {names} (choose it with --x-key)")
            X = archive[x_key]
            y = None
            if y_key in names:
                y = archive[y_key]
            elif not labels_optional:
                raise ValueError(f"{path} has no array {y_key!r}; it has {names} (choose it with --y-key)")
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise ValueError(f"{path} holds Python objects (pickled arrays), which neuralcore does not load") from None
        raise
    except Exception as exc:  # zipfile, zlib and OS errors of a damaged archive: all one thing to the user
        raise ValueError(f"{path} is not a readable .npz file: {type(exc).__name__}: {exc}") from None
    if y is not None and (np.ndim(X) == 0 or np.ndim(y) == 0 or len(X) != len(y)):
        raise ValueError(f"{path}: {x_key!r} has shape {np.shape(X)} but {y_key!r} has shape {np.shape(y)}; "
                         "they need the same number of samples")
    return X, y


def load_hdf5(path, *, x_key: str | None = None, y_key: str | None = None, labels_optional: bool = False):
    """Read an array of samples and its labels from an HDF5 file.

    Parameters
    ----------
    path : str or path-like
    x_key, y_key : str, optional
        Dataset names. By default the file must hold exactly one pair of
        datasets named ``<prefix>_x`` and ``<prefix>_y`` (as the course's
        ``train_set_x`` / ``train_set_y``).

    Returns
    -------
    X : ndarray, as stored (for images: ``(n, height, width, channels)``, uint8)
    y : ndarray of shape (n,)

    Raises
    ------
    FileNotFoundError, ValueError (not HDF5, missing or ambiguous keys, length mismatch),
    ImportError (h5py not installed).
    """
    try:
        import h5py
    except ImportError:
        raise ImportError('reading HDF5 files needs h5py: pip install "neuralcore[io]"') from None
    except Exception as exc:  # installed but broken: say it is h5py, not a bare message of its own
        raise ImportError(f"reading HDF5 files needs h5py, which failed to import: {type(exc).__name__}: {exc}") from None
    path = _regular_file(path)
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"{path} is not a readable HDF5 file: {exc}") from None
    try:
        with handle:
            return _read_hdf5(handle, path, x_key, y_key, labels_optional, h5py)
    except (KeyError, RuntimeError, OSError) as exc:  # h5py: dangling links, damaged groups or chunks
        raise ValueError(f"{path}: the HDF5 file could not be read: {exc}") from None


def _read_hdf5(handle, path, x_key, y_key, labels_optional, h5py):
    keys = [k for k in handle if isinstance(handle.get(k, getlink=False), h5py.Dataset)]
    if x_key is None:
        pairs = [k[:-2] for k in keys if k.endswith("_x") and (f"{k[:-2]}_y" in keys or labels_optional)]
        if len(pairs) != 1:
            found = "no" if not pairs else f"{len(pairs)}"
            raise ValueError(
                f"{path}: found {found} '<name>_x'/'<name>_y' dataset pairs among {keys}; "
                "name the datasets with --x-key and --y-key"
            )
        x_key = f"{pairs[0]}_x"
        y_key = y_key or f"{pairs[0]}_y"
    if x_key not in keys:
        raise ValueError(f"{path} has no dataset {x_key!r}; it has {keys}")
    if y_key is None or y_key not in keys:
        if not labels_optional:
            raise ValueError(f"{path} has no dataset {y_key!r}; it has {keys}")
        y = None
    else:
        y = handle[y_key][()]
    try:
        X = handle[x_key][()]
    except OSError as exc:
        raise ValueError(f"{path}: dataset {x_key!r} could not be read: {exc}") from None
    if np.ndim(X) == 0:
        raise ValueError(f"{path}: dataset {x_key!r} is a single value, not an array of samples")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and 1 in y.shape:
            y = y.reshape(-1)
        if y.ndim == 0 or len(X) != len(y):
            raise ValueError(f"{path}: {x_key!r} has {len(X)} samples but {y_key!r} has {y.size if y.ndim else 'a single value'}")
    return X, y


def stratified_split(y, test_fraction: float, *, seed: int = 0, name: str = "test_fraction"):
    """Row indices ``(train, test)`` holding out ``test_fraction`` of each class, drawn with ``seed``.

    Each class gives ``round(test_fraction * n_class)`` rows to the test part,
    but at least one, and keeps at least one for training; both index arrays
    are sorted, so the rows keep their order. The same ``y``, fraction and
    seed give the same split (this is the split of ``neuralcore train
    --test-fraction``).

    Parameters
    ----------
    y : array_like of shape (n_samples,)
        The labels.
    test_fraction : float
        Strictly between 0 and 1.
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    name : str
        How messages name the fraction (the command line says ``--test-fraction``).

    Returns
    -------
    train, test : ndarray of int64

    Examples
    --------
    >>> train, test = stratified_split([0, 0, 0, 0, 1, 1, 1, 1], 0.25, seed=0)
    >>> len(train), len(test)
    (6, 2)
    """
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.integer, np.floating)) \
            or not 0 < test_fraction < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {test_fraction!r}")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name}: the labels must be one value per sample, got shape {y.shape}")
    if y.shape[0] == 0:
        raise ValueError(f"{name}: there are no labels to split (0 samples)")
    try:
        classes, codes = np.unique(y, return_inverse=True)
    except TypeError:  # labels that cannot be ordered: 1 next to "a"
        raise TypeError(f"{name}: the labels mix types that cannot be ordered "
                        f"({sorted({type(v).__name__ for v in y.tolist()})}); use one type of label") from None
    counts = np.bincount(codes, minlength=classes.shape[0])
    if np.any(counts < 2):
        label = classes[int(np.argmax(counts < 2))]
        raise ValueError(f"{name}: class {label.item() if isinstance(label, np.generic) else label!r} has "
                         f"1 sample; a split needs at least 2 of each class (one to train on, one to "
                         "test on): use more data, or give a separate test file")
    # the library's split (validation_fraction's), each class clamped to at least one row on each side
    train, test = _stratified(codes, test_fraction, np.random.default_rng(seed), clamp=True)
    return train.astype(np.int64), test.astype(np.int64)


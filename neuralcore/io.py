"""Host-side data loading: HDF5 files of images and labels.

Reading HDF5 needs the optional ``h5py`` (``pip install "neuralcore[io]"``).
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["flatten_images", "load_hdf5"]


def load_hdf5(path, *, x_key: str | None = None, y_key: str | None = None):
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
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"{path} is not a readable HDF5 file: {exc}") from None
    with handle:
        keys = [k for k in handle if isinstance(handle[k], h5py.Dataset)]
        if x_key is None or y_key is None:
            pairs = [k[:-2] for k in keys if k.endswith("_x") and f"{k[:-2]}_y" in keys]
            if len(pairs) != 1:
                found = "no" if not pairs else f"{len(pairs)}"
                raise ValueError(
                    f"{path}: found {found} '<name>_x'/'<name>_y' dataset pairs among {keys}; "
                    "name the datasets with x_key= and y_key="
                )
            x_key = x_key or f"{pairs[0]}_x"
            y_key = y_key or f"{pairs[0]}_y"
        for key in (x_key, y_key):
            if key not in keys:
                raise ValueError(f"{path} has no dataset {key!r}; it has {keys}")
        X, y = handle[x_key][()], handle[y_key][()]
    y = np.asarray(y).reshape(-1) if np.ndim(y) == 2 and 1 in np.shape(y) else np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"{path}: {x_key!r} has {len(X)} samples but {y_key!r} has {len(y)}")
    return X, y


def flatten_images(X) -> np.ndarray:
    """Images ``(n, height, width, channels)`` to rows ``(n, height * width * channels)``.

    uint8 pixels are scaled to [0, 1] (divided by 255, as the course does);
    other dtypes are kept as they are. The input is not modified.

    Examples
    --------
    >>> flatten_images(np.full((2, 4, 4, 3), 255, dtype=np.uint8)).shape
    (2, 48)
    """
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"expected an array of images (n, height, width, channels), got shape {X.shape}")
    flat = X.reshape(X.shape[0], -1)
    if X.dtype == np.uint8:
        return flat / 255.0
    return flat

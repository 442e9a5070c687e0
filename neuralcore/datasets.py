"""Built-in datasets, generated on the host with a seeded generator."""

from __future__ import annotations

import inspect
import os

import numpy as np

from .init import check_random_state

__all__ = ["BUILTIN", "load_builtin", "make_blobs", "make_circles", "make_moons", "make_planar", "make_xor"]


#: Noise beyond this makes the generated points overflow or lose all structure.
MAX_NOISE = 1e6


def _check_common(n_samples, noise, noise_name="noise"):
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.number)) or not (0 <= noise <= MAX_NOISE):
        raise ValueError(f"{noise_name} must be a number between 0 and {MAX_NOISE:g}, got {noise!r}")


def _check_memory(name, n_samples, n_features, extra=0):
    """Refuse up front a dataset whose arrays alone exceed this machine's memory (not MemoryError, or swap, later)."""
    need = 8 * (n_samples * (n_features + 1) + extra)  # X in float64, y in int64, and ``extra`` float64s
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: let NumPy report it
        return
    if need > memory:
        raise ValueError(
            f"{name} with n_samples={n_samples}, n_features={n_features} needs at least {_gib(need)}; "
            f"this machine has {_gib(memory)} of memory"
        )


def _gib(size: int) -> str:
    return f"{size / 2**40:.3g} TiB" if size >= 2**40 else f"{size / 2**30:.3g} GiB"


def make_planar(n_samples: int = 400, *, noise: float = 0.2, radius: float = 4.0, random_state=0):
    """The two-class "flower": points on the petals of ``r = radius * sin(4 t)``.

    Each class fills an interval of angles ``t`` (of length 3.12, as in the
    classic course data), so the two colours alternate from petal to petal and
    no straight line separates them: logistic regression stays near chance,
    while a small hidden layer learns the petals.

    Parameters
    ----------
    n_samples : int, default 400
        Total number of points, split evenly between the two classes (the
        second class gets the extra point when ``n_samples`` is odd).
    noise : float, default 0.2
        Standard deviation of the Gaussian noise added to ``t`` and to ``r``.
    radius : float, default 4.0
        Length of a petal (the course's ``a``).
    random_state : int, numpy.random.Generator or None, default 0

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
        Points in our ``(n_samples, n_features)`` layout (the course's
        ``X`` of shape ``(2, m)`` transposed).
    y : ndarray of shape (n_samples,), int64
        Labels 0 and 1.

    Examples
    --------
    >>> X, y = make_planar(n_samples=10, random_state=0)
    >>> X.shape, y.tolist()
    ((10, 2), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    """
    _check_common(n_samples, noise)
    if not (np.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a positive finite number, got {radius!r}")
    _check_memory("planar", n_samples, 2)
    rng = check_random_state(random_state)
    sizes = (n_samples // 2, n_samples - n_samples // 2)
    points, labels = [], []
    for label, size in enumerate(sizes):
        t = np.linspace(label * 3.12, (label + 1) * 3.12, size) + rng.normal(scale=abs(noise), size=size)
        r = radius * np.sin(4 * t) + rng.normal(scale=abs(noise), size=size)
        points.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        labels.append(np.full(size, label, dtype=np.int64))
    return np.concatenate(points), np.concatenate(labels)


def make_moons(n_samples: int = 400, *, noise: float = 0.1, random_state=0):
    """Two interleaving half circles (class 0 on top, class 1 below, shifted).

    Returns ``X`` of shape (n_samples, 2), float64, and ``y`` of 0/1, int64.

    Examples
    --------
    >>> X, y = make_moons(n_samples=6)
    >>> X.shape, y.tolist()
    ((6, 2), [0, 0, 0, 1, 1, 1])
    """
    _check_common(n_samples, noise)
    _check_memory("moons", n_samples, 2)
    rng = check_random_state(random_state)
    n0 = n_samples // 2
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n_samples - n0)
    top = np.column_stack([np.cos(t0), np.sin(t0)])
    bottom = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.concatenate([top, bottom]) + rng.normal(scale=abs(noise), size=(n_samples, 2))
    return X, np.repeat(np.asarray([0, 1], dtype=np.int64), [n0, n_samples - n0])


def make_circles(n_samples: int = 400, *, noise: float = 0.05, factor: float = 0.5, random_state=0):
    """A small circle (class 1) inside a large one (class 0); ``factor`` is the ratio of radii.

    Examples
    --------
    >>> X, y = make_circles(n_samples=8, noise=0.0)
    >>> bool(np.allclose(np.hypot(*X[y == 0].T), 1.0))
    True
    """
    _check_common(n_samples, noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor must be between 0 and 1, got {factor!r}")
    _check_memory("circles", n_samples, 2)
    rng = check_random_state(random_state)
    n0 = n_samples // 2
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n_samples - n0, endpoint=False)
    outer = np.column_stack([np.cos(t0), np.sin(t0)])
    inner = factor * np.column_stack([np.cos(t1), np.sin(t1)])
    X = np.concatenate([outer, inner]) + rng.normal(scale=abs(noise), size=(n_samples, 2))
    return X, np.repeat(np.asarray([0, 1], dtype=np.int64), [n0, n_samples - n0])


def make_blobs(n_samples: int = 400, *, centers: int = 2, n_features: int = 2, cluster_std: float = 1.0, random_state=0):
    """Gaussian clusters around centers drawn uniformly in [-10, 10]^n_features; labels 0..centers-1.

    Examples
    --------
    >>> X, y = make_blobs(n_samples=9, centers=3, n_features=4)
    >>> X.shape, sorted(set(y.tolist()))
    ((9, 4), [0, 1, 2])
    """
    _check_common(n_samples, cluster_std, "cluster_std")
    if isinstance(centers, bool) or not isinstance(centers, (int, np.integer)) or not 2 <= centers <= n_samples:
        raise ValueError(f"centers must be an integer between 2 and n_samples, got {centers!r}")
    if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or n_features < 1:
        raise ValueError(f"n_features must be a positive integer, got {n_features!r}")
    _check_memory("blobs", n_samples, n_features, extra=centers * n_features)
    rng = check_random_state(random_state)
    middles = rng.uniform(-10, 10, size=(centers, n_features))
    y = np.arange(n_samples, dtype=np.int64) % centers
    return middles[y] + rng.normal(scale=abs(cluster_std), size=(n_samples, n_features)), y


def make_xor(n_samples: int = 400, *, noise: float = 0.0, random_state=0):
    """Points uniform in [-1, 1]^2, class 1 where exactly one coordinate is positive: no line separates them.

    Examples
    --------
    >>> X, y = make_xor(n_samples=5)
    >>> bool(((X[:, 0] > 0) != (X[:, 1] > 0)).astype(int).tolist() == y.tolist())
    True
    """
    _check_common(n_samples, noise)
    _check_memory("xor", n_samples, 2)
    rng = check_random_state(random_state)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    return X + rng.normal(scale=abs(noise), size=X.shape), y


#: Built-in datasets by name, as the command line knows them.
BUILTIN = {
    "planar": make_planar,
    "moons": make_moons,
    "circles": make_circles,
    "blobs": make_blobs,
    "xor": make_xor,
}


def load_builtin(spec: str):
    """A built-in dataset from a spec such as ``"planar"`` or ``"planar:n_samples=1000,noise=0.3"``.

    Values are parsed as int, then float, then kept as text.

    Examples
    --------
    >>> X, y = load_builtin("moons:n_samples=10,noise=0.2")
    >>> X.shape
    (10, 2)
    """
    name, _, arguments = spec.partition(":")
    if name not in BUILTIN:
        raise ValueError(f"unknown built-in dataset {name!r}; built-ins: {', '.join(BUILTIN)}")
    kwargs = {}
    for item in filter(None, (part.strip() for part in arguments.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"dataset parameters are key=value pairs separated by commas, got {item!r} in {spec!r}")
        if key.strip() in kwargs:
            raise ValueError(f"dataset parameter {key.strip()!r} is given twice in {spec!r}")
        kwargs[key.strip()] = _parse_value(value.strip())
    maker = BUILTIN[name]
    valid = [p for p in inspect.signature(maker).parameters]
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(f"dataset {name!r} has no parameter {', '.join(map(repr, unknown))}; it takes {', '.join(valid)}")
    try:
        return maker(**kwargs)
    except TypeError as exc:
        raise ValueError(f"dataset {spec!r}: {exc}") from None


def _parse_value(text: str):
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return text

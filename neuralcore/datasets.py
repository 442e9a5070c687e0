"""Built-in datasets, generated on the host with a seeded generator."""

from __future__ import annotations

import numpy as np

from .init import check_random_state

__all__ = ["make_planar"]


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
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if not (np.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a positive finite number, got {radius!r}")
    rng = check_random_state(random_state)
    sizes = (n_samples // 2, n_samples - n_samples // 2)
    points, labels = [], []
    for label, size in enumerate(sizes):
        t = np.linspace(label * 3.12, (label + 1) * 3.12, size) + rng.normal(scale=noise, size=size)
        r = radius * np.sin(4 * t) + rng.normal(scale=noise, size=size)
        points.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        labels.append(np.full(size, label, dtype=np.int64))
    return np.concatenate(points), np.concatenate(labels)

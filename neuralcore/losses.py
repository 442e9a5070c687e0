"""Losses computed from logits, never from probabilities.

Working from the logit ``z`` instead of ``a = sigmoid(z)`` avoids ``log(0)``
when the sigmoid saturates, and pairs with the sigmoid output layer so that
the gradient with respect to ``z`` is simply ``a - y``.
"""

from __future__ import annotations

from array_api_compat import array_namespace

__all__ = ["LOSSES", "binary_cross_entropy", "binary_cross_entropy_per_sample"]


def binary_cross_entropy_per_sample(z, y, /, *, xp=None):
    """Per-sample binary cross-entropy ``-[y log a + (1 - y) log(1 - a)]``, ``a = sigmoid(z)``.

    Evaluated as ``max(z, 0) - z * y + log1p(exp(-|z|))``, which is exact
    algebra and never overflows: ``exp`` only sees non-positive numbers and the
    ``log1p`` argument lies in (0, 1].

    Parameters
    ----------
    z : array of shape (n_samples, 1) or (n_samples,)
        Logits.
    y : array of the same shape, dtype and device
        Targets in {0, 1} (soft targets in [0, 1] also work).

    Returns
    -------
    array of the same shape: non-negative, finite for finite inputs

    Examples
    --------
    >>> import numpy as np
    >>> binary_cross_entropy_per_sample(np.asarray([0.0]), np.asarray([1.0]))
    array([0.69314718])
    """
    xp = array_namespace(z, y) if xp is None else xp
    return xp.where(z > 0, z, xp.zeros_like(z)) - z * y + xp.log1p(xp.exp(-xp.abs(z)))


def binary_cross_entropy(z, y, /, *, xp=None):
    """Mean binary cross-entropy over samples (the course's cost ``J``), from logits.

    Returns a 0-d array on the device of ``z`` (read it with ``float(...)``
    only when you need it on the host: that waits for the device).

    Examples
    --------
    >>> import numpy as np
    >>> float(binary_cross_entropy(np.zeros((4, 1)), np.asarray([[0.0], [1.0], [0.0], [1.0]])))
    0.6931471805599453
    """
    xp = array_namespace(z, y) if xp is None else xp
    return xp.mean(binary_cross_entropy_per_sample(z, y, xp=xp))


#: Losses by name, each ``loss(logits, targets) -> 0-d array``.
LOSSES = {"binary_cross_entropy": binary_cross_entropy}

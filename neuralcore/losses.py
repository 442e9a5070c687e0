"""Losses computed from logits, never from probabilities.

Working from the logits ``z`` instead of the probabilities avoids ``log(0)``
when the output saturates, and pairs with the output activation (sigmoid for
two classes, softmax for more) so that the gradient with respect to ``z`` is
simply ``A - Y``.
"""

from __future__ import annotations

from array_api_compat import array_namespace, device

from . import kernels
from .activations import constant_like, shift_by_max

__all__ = [
    "LOSSES",
    "binary_cross_entropy",
    "binary_cross_entropy_per_sample",
    "categorical_cross_entropy",
    "cross_entropy",
    "l2_penalty",
    "log_softmax",
    "output_and_cross_entropy",
    "weight_column",
]


def weight_column(sample_weight, like, /, *, xp=None, name: str = "sample_weight"):
    """``sample_weight`` as a column ``(n_samples, 1)`` in the dtype of ``like`` (the working dtype), or None.

    The model functions take a weight per row of ``like`` (logits, targets or
    ``X``), as a column or 1-D, on ``like``'s device. A 1-D vector would
    broadcast against a column of logits into an ``(n, n)`` matrix (a wrong
    cost, silently), so it becomes a column here; weights in another floating
    dtype (float64 weights of a float32 model) are cast, so that they never
    promote the cost or the gradients.

    Raises
    ------
    ValueError
        Another number of rows than ``like``, more than two dimensions, or
        another device than ``like``'s.

    Examples
    --------
    >>> import numpy as np
    >>> weight_column(np.asarray([1.0, 2.0]), np.zeros((2, 1), dtype=np.float32)).dtype
    dtype('float32')
    """
    if sample_weight is None:
        return None
    xp = array_namespace(sample_weight, like) if xp is None else xp
    shape = tuple(sample_weight.shape)
    if shape not in ((like.shape[0],), (like.shape[0], 1)):
        raise ValueError(f"{name} must have shape ({like.shape[0]}, 1) or ({like.shape[0]},), one weight per "
                         f"sample, got shape {shape}")
    if device(sample_weight) != device(like):
        raise ValueError(f"{name} is on device {device(sample_weight)} but the data is on {device(like)}; "
                         f"put {name} on the data's device")
    if len(shape) == 1:
        sample_weight = xp.reshape(sample_weight, (-1, 1))
    if sample_weight.dtype != like.dtype:
        sample_weight = xp.astype(sample_weight, like.dtype)
    return sample_weight


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
    return xp.where(z > 0, z, constant_like(0.0, z, xp=xp)) - z * y + xp.log1p(xp.exp(-xp.abs(z)))


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


def log_softmax(z, /, *, xp=None):
    """``z - logsumexp(z)`` along the last axis, shifted by the row maximum (no overflow)."""
    xp = array_namespace(z) if xp is None else xp
    shifted = shift_by_max(z, axis=-1, xp=xp)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def categorical_cross_entropy(z, y, /, *, xp=None):
    """Mean categorical cross-entropy ``-sum(y * log softmax(z))`` over samples, from logits.

    Parameters
    ----------
    z : array of shape (n_samples, n_classes)
        Logits.
    y : array of the same shape
        One-hot targets (rows of soft targets summing to 1 also work).

    Examples
    --------
    >>> import numpy as np
    >>> round(float(categorical_cross_entropy(np.zeros((2, 3)), np.eye(3)[:2])), 6)
    1.098612
    """
    xp = array_namespace(z, y) if xp is None else xp
    # a class with target 0 contributes 0 even where its log-probability is -inf
    return -xp.sum(xp.where(y != 0, y * log_softmax(z, xp=xp), constant_like(0.0, z, xp=xp))) / z.shape[0]


def output_and_cross_entropy(z, y, /, *, xp=None, sample_weight=None):
    """The output activation and the mean cross-entropy of logits ``z``, computed together.

    For one logit column, ``exp(-|z|)`` serves both the sigmoid and the loss,
    so the hot loop evaluates it once; for several, the softmax and its
    log-sum-exp share the shifted exponentials.

    On a backend with a compiled kernel for it (CuPy: one elementwise pass and
    one sum, see :func:`neuralcore.kernels.binary_output_and_cross_entropy`), the binary case runs
    that kernel instead of the about twenty array operations below.

    Parameters
    ----------
    z : array of shape (n_samples, K)
        Logits.
    y : array of the same shape, dtype and device
        0/1 targets (K = 1) or one-hot rows.
    sample_weight : array of shape (n_samples, 1) or (n_samples,), optional
        Weight of each sample's loss, on ``z``'s device (cast to ``z``'s
        dtype, see :func:`weight_column`): the cost is then
        ``mean(sample_weight * loss)`` (weights normalized to mean 1 make it
        the weighted mean). The compiled kernels take no weights: with
        weights the Array API code runs.

    Returns
    -------
    A : array like ``z``
        Probabilities (sigmoid or softmax).
    cost : 0-d array
        As :func:`cross_entropy` (times the weights, when given).
    """
    xp = array_namespace(z, y) if xp is None else xp
    m = z.shape[0]
    sample_weight = weight_column(sample_weight, z, xp=xp)
    if z.shape[-1] == 1:
        compiled = kernels.binary_output_and_cross_entropy(z, y) if sample_weight is None else None
        if compiled is not None:
            return compiled
        # Every step here is a cheap elementwise op or a reduction (no `where`, which costs
        # as much as several of them): sigmoid(z) = 1/2 + sign(z) (sigmoid(|z|) - 1/2) is exact
        # to the absolute rounding that the gradient A - Y needs, and
        # max(z, 0) = z/2 + |z|/2 exactly (no overflow: each half is at most half the largest
        # number). The cost is summed per sample, as the compiled kernels do, so the two
        # overflow (and report divergence) at the same logits.
        magnitude = xp.abs(z)
        e = xp.exp(-magnitude)
        A = 0.5 + xp.sign(z) * (1 / (1 + e) - 0.5)
        terms = 0.5 * z + 0.5 * magnitude - z * y + xp.log1p(e)
        if sample_weight is not None:
            terms = terms * sample_weight
        return A, xp.sum(terms) / m
    shifted = shift_by_max(z, axis=-1, xp=xp)
    exps = xp.exp(shifted)
    sums = xp.sum(exps, axis=-1, keepdims=True)
    # a class with target 0 contributes 0 even where its log-probability is -inf
    terms = xp.where(y != 0, y * (shifted - xp.log(sums)), constant_like(0.0, z, xp=xp))
    if sample_weight is not None:
        terms = terms * sample_weight
    cost = -xp.sum(terms) / m
    return exps / sums, cost


def cross_entropy(z, y, /, *, xp=None):
    """The cross-entropy paired with the output layer: binary for one logit
    column, categorical for several."""
    if z.shape[-1] == 1:
        return binary_cross_entropy(z, y, xp=xp)
    return categorical_cross_entropy(z, y, xp=xp)


def l2_penalty(weights, alpha: float, /, *, xp=None):
    """``alpha / 2 * sum(W**2)`` over the given weight matrices (biases are not penalized).

    With the mean cross-entropy this is scikit-learn's ``LogisticRegression``
    objective for ``C = 1 / (alpha * n_samples)``, and the course's
    ``lambd / (2 m) * sum(W**2)`` for ``alpha = lambd / m``.
    """
    xp = array_namespace(*weights) if xp is None else xp
    total = xp.sum(weights[0] * weights[0])
    for W in weights[1:]:
        total = total + xp.sum(W * W)
    return (alpha / 2) * total


#: Losses by name, each ``loss(logits, targets) -> 0-d array``.
LOSSES = {
    "binary_cross_entropy": binary_cross_entropy,
    "categorical_cross_entropy": categorical_cross_entropy,
    "cross_entropy": cross_entropy,
}

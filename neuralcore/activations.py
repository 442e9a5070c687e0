"""Activations and their derivatives, as name -> function tables.

Each derivative is written from the activation's *output* ``a`` (as the course
and scikit-learn do: ``sigmoid'(z) = a * (1 - a)``), so the backward pass needs
only what the forward pass cached.
"""

from __future__ import annotations

from array_api_compat import array_namespace, device

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_GRADS",
    "LEAKY_RELU_SLOPE",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
    "relu",
    "relu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "output_activation",
    "shift_by_max",
    "softmax",
]

#: Slope of ``leaky_relu`` for negative inputs.
LEAKY_RELU_SLOPE = 0.01


def constant_like(value: float, like, /, *, xp):
    """A 0-d array holding ``value`` in the dtype and on the device of ``like``.

    The third argument of ``where`` must be an array before the 2024.12 Array
    API standard (the oldest neuralcore supports is 2023.12); ``full`` makes
    it on the device without a host-to-device copy.
    """
    return xp.full((), value, dtype=like.dtype, device=device(like))


def sigmoid(z, /, *, xp=None):
    """Logistic function ``1 / (1 + exp(-z))`` without overflow.

    ``exp`` only ever sees ``-|z|``, so no input overflows, and both tails keep
    full relative precision (``sigmoid(-800)`` is a tiny positive number, not
    a warning).

    Parameters
    ----------
    z : array of any shape, real floating dtype

    Returns
    -------
    array of the same shape, dtype and device, values in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> sigmoid(np.asarray([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    xp = array_namespace(z) if xp is None else xp
    e = xp.exp(-xp.abs(z))
    r = 1 / (1 + e)
    return xp.where(z >= 0, r, e * r)


def sigmoid_grad(a, /, *, xp=None):
    """Derivative of the sigmoid written from its output ``a``: ``a * (1 - a)``."""
    return a * (1 - a)


def tanh(z, /, *, xp=None):
    """Hyperbolic tangent.

    Examples
    --------
    >>> import numpy as np
    >>> tanh(np.asarray([0.0]))
    array([0.])
    """
    xp = array_namespace(z) if xp is None else xp
    return xp.tanh(z)


def tanh_grad(a, /, *, xp=None):
    """Derivative of tanh written from its output ``a``: ``1 - a**2``."""
    return 1 - a * a


def relu(z, /, *, xp=None):
    """Rectified linear unit ``max(z, 0)``.

    Examples
    --------
    >>> import numpy as np
    >>> relu(np.asarray([-2.0, 3.0]))
    array([0., 3.])
    """
    xp = array_namespace(z) if xp is None else xp
    # one elementwise pass (a where() over a comparison takes three); NaN propagates, as it should
    return xp.maximum(z, constant_like(0.0, z, xp=xp))


def relu_grad(a, /, *, xp=None):
    """Derivative of relu from its output: 1 where ``a > 0``, else 0."""
    xp = array_namespace(a) if xp is None else xp
    return xp.astype(a > 0, a.dtype)


def leaky_relu(z, /, *, xp=None):
    """``z`` for positive inputs, ``LEAKY_RELU_SLOPE * z`` otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> leaky_relu(np.asarray([-2.0, 3.0]))
    array([-0.02,  3.  ])
    """
    xp = array_namespace(z) if xp is None else xp
    return xp.maximum(z, LEAKY_RELU_SLOPE * z)  # the slope is below 1: the larger of the two is the answer


def leaky_relu_grad(a, /, *, xp=None):
    """Derivative of leaky relu from its output (``a > 0`` exactly when ``z > 0``)."""
    xp = array_namespace(a) if xp is None else xp
    positive = xp.astype(a > 0, a.dtype)
    return positive + LEAKY_RELU_SLOPE * (1 - positive)


def softmax(z, /, *, axis: int = -1, xp=None):
    """Softmax along ``axis``, shifted by the maximum so ``exp`` never overflows.

    Examples
    --------
    >>> import numpy as np
    >>> softmax(np.asarray([[0.0, 0.0], [1000.0, 0.0]]))
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    xp = array_namespace(z) if xp is None else xp
    e = xp.exp(shift_by_max(z, axis=axis, xp=xp))
    return e / xp.sum(e, axis=axis, keepdims=True)


def shift_by_max(z, /, *, axis: int = -1, xp=None):
    """``z - max(z)`` along ``axis``, without overflow even when a row spans more than the dtype's range.

    Halves cannot overflow and scaling by 2 is exact, so in the normal range
    this is bit for bit ``z - max(z)``; a larger gap saturates
    at a quarter of the dtype's largest number (its exponential is 0 either way).
    """
    xp = array_namespace(z) if xp is None else xp
    half = z / 2 - xp.max(z, axis=axis, keepdims=True) / 2
    floor = -float(xp.finfo(z.dtype).max) / 4  # exp(2 * floor) is 0 in any dtype
    return 2 * xp.where(half > floor, half, constant_like(floor, half, xp=xp))


def output_activation(z, /, *, xp=None):
    """The output layer's activation, paired with cross-entropy: a sigmoid for one
    logit column (two classes), a softmax over the columns for more."""
    return sigmoid(z, xp=xp) if z.shape[-1] == 1 else softmax(z, axis=-1, xp=xp)


#: Hidden-layer activations by name.
ACTIVATIONS = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu}

#: Their derivatives, written from the activation's output.
ACTIVATION_GRADS = {
    "sigmoid": sigmoid_grad,
    "tanh": tanh_grad,
    "relu": relu_grad,
    "leaky_relu": leaky_relu_grad,
}

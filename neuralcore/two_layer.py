"""The two-layer network as pure functions: a network with one hidden layer (:mod:`neuralcore.network`).

Course notation, in our ``(n_samples, n_features)`` layout::

    Z1 = X @ W1 + b1            (m, n_h)
    A1 = g(Z1)                  g = tanh, relu, leaky_relu or sigmoid
    Z2 = A1 @ W2 + b2           (m, K)
    A2 = sigmoid(Z2)            K = 1: two classes
       = softmax(Z2)            K = n_classes > 2
    J  = mean(cross-entropy(Z2, Y)) + alpha / 2 * (sum(W1**2) + sum(W2**2))
    dZ2 = A2 - Y
    dW2 = A1.T @ dZ2 / m + alpha * W2        db2 = mean(dZ2, axis=0)
    dZ1 = (dZ2 @ W2.T) * g'(A1)              g' written from the output A1
    dW1 = X.T @ dZ1 / m + alpha * W1         db1 = mean(dZ1, axis=0)

Parameters are ``{"W1": (n_features, n_h), "b1": (n_h,), "W2": (n_h, K), "b2": (K,)}``.
"""

from __future__ import annotations

import numpy as np

from . import network

__all__ = ["backward", "forward", "gd_step", "init_params", "logits", "loss_and_grads", "param_shapes"]


def param_shapes(n_features: int, hidden_units: int, n_outputs: int = 1) -> dict:
    """Shape of each parameter."""
    return network.param_shapes(n_features, (hidden_units,), n_outputs)


def init_params(
    n_features: int,
    hidden_units: int,
    *,
    rng: np.random.Generator,
    init: str = "normal",
    scale: float = 0.01,
    n_outputs: int = 1,
) -> dict:
    """Initial parameters on the host (float64 NumPy); ``W1`` is drawn before ``W2``.

    Examples
    --------
    >>> p = init_params(2, 4, rng=np.random.default_rng(0))
    >>> p["W1"].shape, p["b2"].shape
    ((2, 4), (1,))
    """
    return network.init_params(n_features, (hidden_units,), rng=rng, init=init, scale=scale, n_outputs=n_outputs)


def logits(params: dict, X, /, *, activation: str = "tanh", xp=None):
    """Output logits ``Z2``, shape ``(n_samples, K)``."""
    return network.logits(params, X, activation=activation, xp=xp)


def forward(params: dict, X, /, *, activation: str = "tanh", xp=None):
    """Forward propagation (:func:`neuralcore.network.forward` with one hidden layer).

    Parameters
    ----------
    params : dict of W1, b1, W2, b2
    X : array of shape (n_samples, n_features)
    activation : {"tanh", "relu", "leaky_relu", "sigmoid"}
        Hidden-layer activation.

    Returns
    -------
    A2 : array of shape (n_samples, K)
        For K = 1 the probability of the positive class; else class probabilities.
    cache : dict
        ``X``, ``A1``, ``Z2`` and ``A2``.

    Examples
    --------
    >>> p = init_params(2, 3, rng=np.random.default_rng(0))
    >>> A2, cache = forward(p, np.ones((5, 2)))
    >>> A2.shape, cache["A1"].shape
    ((5, 1), (5, 3))
    """
    return network.forward(params, X, activation=activation, xp=xp)


def backward(
    params: dict, cache: dict, Y, /, *, activation: str = "tanh", alpha: float = 0.0, xp=None, sample_weight=None
) -> dict:
    """Backward propagation: gradients of the cost, keys as ``params``.

    ``Y`` has shape ``(n_samples, K)``: 0/1 for K = 1, one-hot rows otherwise.
    ``sample_weight``: a column ``(n_samples, 1)`` weighing each sample (``dZ2 = (A2 - Y) * w``).
    """
    return network.backward(params, cache, Y, activation=activation, alpha=alpha, xp=xp, sample_weight=sample_weight)


def loss_and_grads(
    params: dict, X, Y, /, *, activation: str = "tanh", alpha: float = 0.0, xp=None, sample_weight=None
):
    """Cost (0-d array, on the device) and gradients for one step on ``X``, ``Y``.

    ``sample_weight``: a column ``(n_samples, 1)``; the cost is then ``mean(w * loss) + penalty``.
    """
    return network.loss_and_grads(
        params, X, Y, activation=activation, alpha=alpha, xp=xp, sample_weight=sample_weight
    )


def gd_step(
    params: dict, X, Y, learning_rate: float, /, *, activation: str = "tanh", alpha: float = 0.0, xp=None,
    sample_weight=None,
):
    """One plain gradient-descent step: the cost at ``params`` and the new parameters.

    The same arithmetic as :func:`loss_and_grads` followed by
    :func:`neuralcore.optim.gradient_descent`'s update, with the update in one
    kernel launch per parameter where the backend has one (CuPy).
    """
    return network.gd_step(
        params, X, Y, learning_rate, activation=activation, alpha=alpha, xp=xp, sample_weight=sample_weight
    )

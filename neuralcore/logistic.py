"""Logistic regression as pure functions: a single layer of output units.

Course notation, in our ``(n_samples, n_features)`` layout (the course's
``Z = w.T X + b`` with ``X`` of shape ``(n_x, m)`` is the transpose of ours)::

    Z  = X @ W + b              (m, K)
    A  = sigmoid(Z)             K = 1: two classes
       = softmax(Z)             K = n_classes > 2: softmax regression
    J  = mean(cross-entropy(Z, Y)) + alpha / 2 * sum(W**2)
    dZ = A - Y                  the output activation paired with cross-entropy
    dW = X.T @ dZ / m + alpha * W
    db = mean(dZ, axis=0)

Parameters are ``{"W": (n_features, K), "b": (K,)}``.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from .activations import output_activation
from .init import init_weights
from .losses import l2_penalty, output_and_cross_entropy

__all__ = ["backward", "forward", "init_params", "logits", "loss_and_grads", "param_shapes", "WEIGHTS"]

#: The parameters that L2 regularization applies to.
WEIGHTS = ("W",)


def param_shapes(n_features: int, n_outputs: int = 1) -> dict:
    """Shape of each parameter for ``n_features`` inputs and ``n_outputs`` logit columns."""
    return {"W": (n_features, n_outputs), "b": (n_outputs,)}


def init_params(
    n_features: int, *, rng: np.random.Generator, init: str = "zeros", scale: float = 0.01, n_outputs: int = 1
) -> dict:
    """Initial parameters on the host (float64 NumPy), ``b`` at zero.

    Examples
    --------
    >>> sorted(init_params(3, rng=np.random.default_rng(0)))
    ['W', 'b']
    """
    return {"W": init_weights(init, n_features, n_outputs, rng, scale=scale), "b": np.zeros(n_outputs)}


def logits(params: dict, X, /, *, xp=None):
    """``Z = X @ W + b``, shape ``(n_samples, K)``."""
    return X @ params["W"] + params["b"]


def forward(params: dict, X, /, *, xp=None):
    """Forward propagation.

    Parameters
    ----------
    params : dict with ``"W"`` of shape (n_features, K) and ``"b"`` of shape (K,)
    X : array of shape (n_samples, n_features)

    Returns
    -------
    A : array of shape (n_samples, K)
        For K = 1 the probability of the positive class; else class probabilities.
    cache : dict
        ``X``, ``Z`` and ``A``, what :func:`backward` and the loss need.

    Examples
    --------
    >>> A, cache = forward({"W": np.zeros((2, 1)), "b": np.zeros(1)}, np.ones((3, 2)))
    >>> A.ravel()
    array([0.5, 0.5, 0.5])
    """
    xp = array_namespace(X) if xp is None else xp
    Z = logits(params, X, xp=xp)
    A = output_activation(Z, xp=xp)
    return A, {"X": X, "Z": Z, "A": A}


def backward(params: dict, cache: dict, Y, /, *, alpha: float = 0.0, xp=None) -> dict:
    """Backward propagation: gradients of the cost, keys as ``params``.

    ``Y`` has shape ``(n_samples, K)``: 0/1 for K = 1, one-hot rows otherwise,
    in the parameters' dtype.
    """
    xp = array_namespace(Y) if xp is None else xp
    m = Y.shape[0]
    dZ = cache["A"] - Y  # output activation paired with cross-entropy
    dW = cache["X"].T @ dZ / m
    if alpha:
        dW = dW + alpha * params["W"]
    return {"W": dW, "b": xp.sum(dZ, axis=0) / m}


def loss_and_grads(params: dict, X, Y, /, *, alpha: float = 0.0, xp=None):
    """Cost (0-d array, on the device) and gradients for one step on ``X``, ``Y``."""
    xp = array_namespace(X) if xp is None else xp
    Z = logits(params, X, xp=xp)
    A, cost = output_and_cross_entropy(Z, Y, xp=xp)
    cache = {"X": X, "Z": Z, "A": A}
    if alpha:
        cost = cost + l2_penalty([params["W"]], alpha, xp=xp)
    return cost, backward(params, cache, Y, alpha=alpha, xp=xp)

"""Logistic regression as pure functions: a single sigmoid unit.

Course notation, in our ``(n_samples, n_features)`` layout (the course's
``Z = w.T X + b`` with ``X`` of shape ``(n_x, m)`` is the transpose of ours)::

    Z  = X @ W + b              (m, 1)
    A  = sigmoid(Z)             (m, 1)
    J  = mean(BCE(Z, Y))        from logits
    dZ = A - Y                  (m, 1)
    dW = X.T @ dZ / m           (n_x, 1)
    db = mean(dZ)               (1,)

Parameters are ``{"W": (n_features, 1), "b": (1,)}``.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from .activations import sigmoid
from .init import init_weights
from .losses import binary_cross_entropy

__all__ = ["backward", "forward", "init_params", "logits", "loss_and_grads", "param_shapes"]


def param_shapes(n_features: int) -> dict:
    """Shape of each parameter for ``n_features`` inputs."""
    return {"W": (n_features, 1), "b": (1,)}


def init_params(n_features: int, *, rng: np.random.Generator, init: str = "zeros", scale: float = 0.01) -> dict:
    """Initial parameters on the host (float64 NumPy), ``b`` at zero.

    Examples
    --------
    >>> sorted(init_params(3, rng=np.random.default_rng(0)))
    ['W', 'b']
    """
    return {"W": init_weights(init, n_features, 1, rng, scale=scale), "b": np.zeros(1)}


def logits(params: dict, X, /, *, xp=None):
    """``Z = X @ W + b``, shape ``(n_samples, 1)``."""
    return X @ params["W"] + params["b"]


def forward(params: dict, X, /, *, xp=None):
    """Forward propagation.

    Parameters
    ----------
    params : dict with ``"W"`` of shape (n_features, 1) and ``"b"`` of shape (1,)
    X : array of shape (n_samples, n_features)

    Returns
    -------
    A : array of shape (n_samples, 1)
        Probability of the positive class.
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
    A = sigmoid(Z, xp=xp)
    return A, {"X": X, "Z": Z, "A": A}


def backward(params: dict, cache: dict, Y, /, *, xp=None) -> dict:
    """Backward propagation: gradients of the mean cross-entropy, keys as ``params``.

    ``Y`` has shape ``(n_samples, 1)`` and holds 0/1 in the parameters' dtype.
    """
    xp = array_namespace(Y) if xp is None else xp
    m = Y.shape[0]
    dZ = cache["A"] - Y  # sigmoid output paired with cross-entropy
    return {"W": cache["X"].T @ dZ / m, "b": xp.mean(dZ, axis=0)}


def loss_and_grads(params: dict, X, Y, /, *, xp=None):
    """Cost (0-d array, on the device) and gradients for one full-batch step."""
    xp = array_namespace(X) if xp is None else xp
    _, cache = forward(params, X, xp=xp)
    return binary_cross_entropy(cache["Z"], Y, xp=xp), backward(params, cache, Y, xp=xp)

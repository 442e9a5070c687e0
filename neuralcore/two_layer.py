"""The two-layer network (one hidden layer) as pure functions.

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
from array_api_compat import array_namespace

from .activations import ACTIVATION_GRADS, ACTIVATIONS, output_activation
from .init import init_weights
from .losses import l2_penalty, output_and_cross_entropy
from .optim import descend

__all__ = ["backward", "forward", "gd_step", "init_params", "logits", "loss_and_grads", "param_shapes"]



def param_shapes(n_features: int, hidden_units: int, n_outputs: int = 1) -> dict:
    """Shape of each parameter."""
    return {
        "W1": (n_features, hidden_units),
        "b1": (hidden_units,),
        "W2": (hidden_units, n_outputs),
        "b2": (n_outputs,),
    }


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
    return {
        "W1": init_weights(init, n_features, hidden_units, rng, scale=scale),
        "b1": np.zeros(hidden_units),
        "W2": init_weights(init, hidden_units, n_outputs, rng, scale=scale),
        "b2": np.zeros(n_outputs),
    }


def _hidden(params: dict, X, activation: str, xp):
    Z1 = X @ params["W1"]
    b1 = params["b1"]
    if b1.dtype == Z1.dtype:
        # In place, on the product (a new array of ours): one (n_samples, hidden) allocation less
        # per step, the same numbers. A library without in-place operators (JAX) rebinds instead.
        Z1 += b1
    else:  # mixed dtypes (the functional API allows them): promote as the operator would
        Z1 = Z1 + b1
    return ACTIVATIONS[activation](Z1, xp=xp)


def logits(params: dict, X, /, *, activation: str = "tanh", xp=None):
    """Output logits ``Z2``, shape ``(n_samples, K)``."""
    xp = array_namespace(X) if xp is None else xp
    return _hidden(params, X, activation, xp) @ params["W2"] + params["b2"]


def forward(params: dict, X, /, *, activation: str = "tanh", xp=None):
    """Forward propagation.

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
    xp = array_namespace(X) if xp is None else xp
    A1 = _hidden(params, X, activation, xp)
    Z2 = A1 @ params["W2"] + params["b2"]
    A2 = output_activation(Z2, xp=xp)
    return A2, {"X": X, "A1": A1, "Z2": Z2, "A2": A2}


def backward(params: dict, cache: dict, Y, /, *, activation: str = "tanh", alpha: float = 0.0, xp=None) -> dict:
    """Backward propagation: gradients of the cost, keys as ``params``.

    ``Y`` has shape ``(n_samples, K)``: 0/1 for K = 1, one-hot rows otherwise.
    """
    xp = array_namespace(Y) if xp is None else xp
    m = Y.shape[0]
    A1 = cache["A1"]
    dZ2 = cache["A2"] - Y  # output activation paired with cross-entropy
    W2 = params["W2"]
    # With one output, dZ2 @ W2.T is an outer product: broadcasting gives the same numbers (each
    # is one product) without a matrix product of inner dimension 1, which BLAS runs slower.
    dZ1 = dZ2 * W2.T if W2.shape[1] == 1 else dZ2 @ W2.T
    derivative = ACTIVATION_GRADS[activation](A1, xp=xp)
    if derivative.dtype == dZ1.dtype:
        dZ1 *= derivative  # in place on our own temporary
    else:
        dZ1 = dZ1 * derivative
    dW1 = cache["X"].T @ dZ1 / m
    dW2 = A1.T @ dZ2 / m
    if alpha:
        dW1, dW2 = dW1 + alpha * params["W1"], dW2 + alpha * params["W2"]
    return {"W1": dW1, "b1": xp.sum(dZ1, axis=0) / m, "W2": dW2, "b2": xp.sum(dZ2, axis=0) / m}


def loss_and_grads(params: dict, X, Y, /, *, activation: str = "tanh", alpha: float = 0.0, xp=None):
    """Cost (0-d array, on the device) and gradients for one step on ``X``, ``Y``."""
    xp = array_namespace(X) if xp is None else xp
    A1 = _hidden(params, X, activation, xp)
    Z2 = A1 @ params["W2"] + params["b2"]
    A2, cost = output_and_cross_entropy(Z2, Y, xp=xp)
    cache = {"X": X, "A1": A1, "Z2": Z2, "A2": A2}
    if alpha:
        cost = cost + l2_penalty([params["W1"], params["W2"]], alpha, xp=xp)
    return cost, backward(params, cache, Y, activation=activation, alpha=alpha, xp=xp)


def gd_step(params: dict, X, Y, learning_rate: float, /, *, activation: str = "tanh", alpha: float = 0.0, xp=None):
    """One plain gradient-descent step: the cost at ``params`` and the new parameters.

    The same arithmetic as :func:`loss_and_grads` followed by
    :func:`neuralcore.optim.gradient_descent`'s update, with the update in one
    kernel launch per parameter where the backend has one (CuPy).
    """
    cost, grads = loss_and_grads(params, X, Y, activation=activation, alpha=alpha, xp=xp)
    return cost, descend(params, grads, learning_rate)

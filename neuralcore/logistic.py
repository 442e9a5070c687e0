"""Logistic regression as pure functions: a network with no hidden layer (:mod:`neuralcore.network`).

Course notation, in our ``(n_samples, n_features)`` layout (the course's
``Z = w.T X + b`` with ``X`` of shape ``(n_x, m)`` is the transpose of ours)::

    Z  = X @ W + b              (m, K)
    A  = sigmoid(Z)             K = 1: two classes
       = softmax(Z)             K = n_classes > 2: softmax regression
    J  = mean(cross-entropy(Z, Y)) + alpha / 2 * sum(W**2)
    dZ = A - Y                  the output activation paired with cross-entropy
                                (sample weights w of mean 1: J = mean(w * loss) + ..., dZ = (A - Y) * w)
    dW = X.T @ dZ / m + alpha * W
    db = mean(dZ, axis=0)

Parameters are ``{"W": (n_features, K), "b": (K,)}``.
"""

from __future__ import annotations

import functools

import numpy as np
from array_api_compat import array_namespace, device

from . import kernels, network
from .activations import output_activation
from .init import init_weights
from .losses import weight_column

__all__ = [
    "backward",
    "forward",
    "gd_step",
    "hessian",
    "init_params",
    "logits",
    "loss_and_grads",
    "param_shapes",
    "step_functions",
]


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
    return network.logits(params, X, xp=xp)


def forward(params: dict, X, /, *, xp=None):
    """Forward propagation (:func:`neuralcore.network.forward` with no hidden layer).

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
    return network.forward(params, X, xp=xp)


def backward(params: dict, cache: dict, Y, /, *, alpha: float = 0.0, xp=None, sample_weight=None) -> dict:
    """Backward propagation: gradients of the cost, keys as ``params``.

    ``Y`` has shape ``(n_samples, K)``: 0/1 for K = 1, one-hot rows otherwise,
    in the parameters' dtype. ``sample_weight``: a column ``(n_samples, 1)``
    weighing each sample (``dZ = (A - Y) * w``), as :func:`neuralcore.network.backward`.
    """
    return network.backward(params, cache, Y, alpha=alpha, xp=xp, sample_weight=sample_weight)


def loss_and_grads(params: dict, X, Y, /, *, alpha: float = 0.0, xp=None, sample_weight=None):
    """Cost (0-d array, on the device) and gradients for one step on ``X``, ``Y``.

    ``sample_weight``: a column ``(n_samples, 1)``; the cost is then ``mean(w * loss) + penalty``.
    """
    return network.loss_and_grads(params, X, Y, alpha=alpha, xp=xp, sample_weight=sample_weight)


def gd_step(params: dict, X, Y, learning_rate: float, /, *, alpha: float = 0.0, xp=None, sample_weight=None):
    """One plain gradient-descent step: the cost at ``params`` and the new parameters.

    ``W = W - learning_rate * dW`` and ``b = b - learning_rate * db``, the
    same arithmetic as :func:`loss_and_grads` followed by
    :func:`neuralcore.optim.gradient_descent`. This is the reference for the
    fused kernels that :func:`step_functions` may pick instead.

    Examples
    --------
    >>> cost, new = gd_step({"W": np.zeros((2, 1)), "b": np.zeros(1)}, np.eye(2), np.asarray([[1.0], [0.0]]), 1.0)
    >>> round(float(cost), 6), new["W"].ravel(), new["b"]
    (0.693147, array([ 0.25, -0.25]), array([0.]))
    """
    return network.gd_step(params, X, Y, learning_rate, alpha=alpha, xp=xp, sample_weight=sample_weight)


def step_functions(X, /, *, n_outputs: int = 1, alpha: float = 0.0, xp=None):
    """``(loss_and_grads, gd_step)`` for training on ``X``, with ``alpha`` bound.

    Where the backend of ``X`` has compiled one-pass kernels for binary
    logistic regression (CuPy: see :func:`neuralcore.kernels.logistic_steps`),
    they are returned; otherwise, and for more than two classes, the reference
    functions of this module. Both pairs compute the same numbers up to
    floating-point summation order; ``NEURALCORE_KERNELS=off`` forces the
    reference functions.
    """
    fused = kernels.logistic_steps(X, loss_and_grads, gd_step) if n_outputs == 1 else None
    pair = (loss_and_grads, gd_step) if fused is None else (fused.loss_and_grads, fused.gd_step)
    return tuple(functools.partial(function, alpha=alpha, xp=xp) for function in pair)


def hessian(params: dict, X, /, *, alpha: float = 0.0, xp=None, sample_weight=None):
    """Hessian of the cost (mean cross-entropy plus L2), over the rows of ``X``.

    Ordered as the solvers pack the parameters: ``[W.ravel() (row-major), b]``,
    a square matrix of side ``(n_features + 1) * K`` (Newton's method).
    With ``sample_weight`` (a column ``(n_samples, 1)``), the Hessian of
    ``mean(w * loss) + penalty``.
    """
    xp = array_namespace(X) if xp is None else xp
    m, n_features = X.shape
    Z = logits(params, X, xp=xp)
    A = output_activation(Z, xp=xp)
    K = A.shape[1]
    dtype, dev = X.dtype, device(X)
    if K == 1:
        weights = [[A[:, 0] * (1 - A[:, 0])]]
    else:
        eye = xp.eye(K, dtype=dtype, device=dev)
        weights = [[A[:, k] * (eye[k, l] - A[:, l]) for l in range(K)] for k in range(K)]
    sample_weight = weight_column(sample_weight, X, xp=xp)
    if sample_weight is not None:
        w = xp.reshape(sample_weight, (-1,))
        weights = [[c * w for c in row] for row in weights]
    # blocks[k][l]: the (f + 1) x (f + 1) block of classes k and l, intercept last
    rows = []
    for k in range(K):
        row = []
        for l in range(K):
            c = weights[k][l]
            XtcX = X.T @ (xp.reshape(c, (-1, 1)) * X) / m
            Xtc = xp.reshape(X.T @ c / m, (n_features, 1))
            row.append((XtcX, Xtc, xp.reshape(xp.sum(c) / m, (1, 1))))
        rows.append(row)
    # Assemble in the packed order: index i * K + k for W[i, k], then f * K + k for b[k].
    WW = xp.stack([xp.stack([rows[k][l][0] for l in range(K)], axis=0) for k in range(K)], axis=0)  # (K, K, f, f)
    WW = xp.reshape(xp.permute_dims(WW, (2, 0, 3, 1)), (n_features * K, n_features * K))
    Wb = xp.stack([xp.stack([rows[k][l][1][:, 0] for l in range(K)], axis=0) for k in range(K)], axis=0)  # (K, K, f)
    Wb = xp.reshape(xp.permute_dims(Wb, (2, 0, 1)), (n_features * K, K))
    bb = xp.stack([xp.stack([rows[k][l][2][0, 0] for l in range(K)]) for k in range(K)])  # (K, K)
    if alpha:
        WW = WW + alpha * xp.eye(n_features * K, dtype=dtype, device=dev)
    top = xp.concat([WW, Wb], axis=1)
    bottom = xp.concat([Wb.T, bb], axis=1)
    return xp.concat([top, bottom], axis=0)

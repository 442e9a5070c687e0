"""Neural networks of any depth as pure functions over a list of ``(W, b)`` layers.

Course notation ("Deep Neural Network - Application"), in our
``(n_samples, n_features)`` layout: the course's ``W[l]`` of shape
``(n_l, n_{l-1})`` is our ``W_l.T``, of shape ``(n_{l-1}, n_l)``::

    A0 = X
    Zl = A(l-1) @ Wl + bl       (m, n_l)
    Al = g(Zl)                  l < L: the hidden activation (relu, tanh, ...)
    AL = sigmoid(ZL)            K = 1: two classes; softmax(ZL) for K > 2
    J  = mean(cross-entropy(ZL, Y)) + alpha / 2 * sum_l sum(Wl**2)
    dZL = AL - Y                the output activation paired with cross-entropy
                                (sample weights w, mean 1: J = mean(w * loss) + ..., dZL = (AL - Y) * w)
    dWl = A(l-1).T @ dZl / m + alpha * Wl        dbl = mean(dZl, axis=0)
    dZ(l-1) = (dZl @ Wl.T) * g'(A(l-1))          g' written from the output

Parameters are ``{"W1": (n_features, n_1), "b1": (n_1,), ..., "WL": (n_{L-1}, K),
"bL": (K,)}``. With no hidden layer this is logistic regression, whose
parameters keep their names ``{"W", "b"}``
(:mod:`neuralcore.logistic`); with one it is the two-layer network
(:mod:`neuralcore.two_layer`): both are this code.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from .activations import ACTIVATION_GRADS, ACTIVATIONS, output_activation
from .init import init_weights
from .losses import l2_penalty, output_and_cross_entropy, weight_column
from .optim import descend

__all__ = [
    "backward",
    "forward",
    "gd_step",
    "init_params",
    "layer_keys",
    "logits",
    "loss_and_grads",
    "param_shapes",
]


def layer_keys(params: dict) -> list:
    """``[(W key, b key), ...]`` from the input layer up: ``("W", "b")`` alone, or ``("W1", "b1")``...

    Examples
    --------
    >>> layer_keys({"W": 0, "b": 0})
    [('W', 'b')]
    >>> layer_keys({"W1": 0, "b1": 0, "W2": 0, "b2": 0})
    [('W1', 'b1'), ('W2', 'b2')]
    """
    if "W" in params:
        return [("W", "b")]
    return [(f"W{layer}", f"b{layer}") for layer in range(1, len(params) // 2 + 1)]


def param_shapes(n_features: int, hidden_units=(), n_outputs: int = 1) -> dict:
    """Shape of each parameter, keys ``W1, b1, ..., WL, bL``.

    Examples
    --------
    >>> param_shapes(4, (3,), 1)
    {'W1': (4, 3), 'b1': (3,), 'W2': (3, 1), 'b2': (1,)}
    """
    sizes = [n_features, *hidden_units, n_outputs]
    shapes = {}
    for layer in range(1, len(sizes)):
        shapes[f"W{layer}"] = (sizes[layer - 1], sizes[layer])
        shapes[f"b{layer}"] = (sizes[layer],)
    return shapes


def init_params(
    n_features: int,
    hidden_units=(),
    *,
    rng: np.random.Generator,
    init: str = "he",
    scale: float = 0.01,
    n_outputs: int = 1,
) -> dict:
    """Initial parameters on the host (float64 NumPy): ``W1`` drawn first, then ``W2``...; biases zero.

    Examples
    --------
    >>> p = init_params(5, (4, 3), rng=np.random.default_rng(0))
    >>> [p[k].shape for k in ("W1", "W2", "W3", "b3")]
    [(5, 4), (4, 3), (3, 1), (1,)]
    """
    params = {}
    for key, shape in param_shapes(n_features, hidden_units, n_outputs).items():
        params[key] = init_weights(init, *shape, rng, scale=scale) if key[0] == "W" else np.zeros(shape)
    return params


def _affine(A, W, b):
    Z = A @ W
    if b.dtype == Z.dtype:
        # In place, on the product (a new array of ours): one (n_samples, n_l) allocation less per
        # layer and step, the same numbers. A library without in-place operators (JAX) rebinds.
        Z += b
    else:  # mixed dtypes (the functional API allows them): promote as the operator would
        Z = Z + b
    return Z


def _propagate(params: dict, X, activation: str, xp):
    """``([A0 = X, A1, ..., A(L-1)], ZL)``: the input of each layer, and the output logits."""
    keys = layer_keys(params)
    inputs = [X]
    g = ACTIVATIONS[activation]
    for W_key, b_key in keys[:-1]:
        inputs.append(g(_affine(inputs[-1], params[W_key], params[b_key]), xp=xp))
    W_key, b_key = keys[-1]
    return inputs, _affine(inputs[-1], params[W_key], params[b_key])


def logits(params: dict, X, /, *, activation: str = "relu", xp=None):
    """Output logits ``ZL``, shape ``(n_samples, K)``."""
    xp = array_namespace(X) if xp is None else xp
    return _propagate(params, X, activation, xp)[1]


def forward(params: dict, X, /, *, activation: str = "relu", xp=None):
    """Forward propagation.

    Returns
    -------
    AL : array of shape (n_samples, K)
        For K = 1 the probability of the positive class; else class probabilities.
    cache : dict
        ``"X"`` = ``"A0"`` ... ``"A{L-1}"`` (each layer's input), then the
        output logits ``"Z{L}"`` and output ``"A{L}"`` (``"Z"`` and ``"A"``
        for logistic regression's unnumbered parameters): what :func:`backward` needs.

    Examples
    --------
    >>> p = init_params(2, (3, 2), rng=np.random.default_rng(0))
    >>> A, cache = forward(p, np.ones((5, 2)))
    >>> A.shape, cache["A2"].shape, cache["A3"].shape
    ((5, 1), (5, 2), (5, 1))
    """
    xp = array_namespace(X) if xp is None else xp
    inputs, Z = _propagate(params, X, activation, xp)
    A = output_activation(Z, xp=xp)
    return A, _cache(params, inputs, Z, A)


def _output_names(params: dict) -> tuple:
    if "W" in params:
        return "Z", "A"
    depth = len(params) // 2
    return f"Z{depth}", f"A{depth}"


def _cache(params, inputs, Z, A) -> dict:
    cache = {"X": inputs[0]}
    cache.update((f"A{layer}", value) for layer, value in enumerate(inputs))
    Z_name, A_name = _output_names(params)
    cache.update({Z_name: Z, A_name: A})
    return cache


def backward(
    params: dict, cache: dict, Y, /, *, activation: str = "relu", alpha: float = 0.0, xp=None, sample_weight=None
) -> dict:
    """Backward propagation: gradients of the cost, keys as ``params``.

    ``Y`` has shape ``(n_samples, K)``: 0/1 for K = 1, one-hot rows otherwise,
    in the parameters' dtype. ``sample_weight``, a column ``(n_samples, 1)``
    in that dtype, weighs each sample's loss (``dZL = (AL - Y) * w``): the
    gradient of ``mean(w * loss)``.
    """
    xp = array_namespace(Y) if xp is None else xp
    m = Y.shape[0]
    keys = layer_keys(params)
    derivative = ACTIVATION_GRADS[activation]
    grads = {}
    dZ = cache[_output_names(params)[1]] - Y  # output activation paired with cross-entropy
    sample_weight = weight_column(sample_weight, dZ, xp=xp)
    if sample_weight is not None:
        dZ = dZ * sample_weight
    for layer in range(len(keys), 0, -1):
        W_key, b_key = keys[layer - 1]
        W, A_in = params[W_key], cache[f"A{layer - 1}"]
        dW = A_in.T @ dZ / m
        grads[W_key] = dW + alpha * W if alpha else dW
        grads[b_key] = xp.sum(dZ, axis=0) / m
        if layer > 1:
            # With one output unit, dZ @ W.T is an outer product: broadcasting gives the same numbers
            # (each is one product) without a matrix product of inner dimension 1, which BLAS runs slower.
            dA = dZ * W.T if W.shape[1] == 1 else dZ @ W.T
            slope = derivative(A_in, xp=xp)
            if slope.dtype == dA.dtype:
                dA *= slope  # in place on our own temporary
                dZ = dA
            else:
                dZ = dA * slope
    return {key: grads[key] for key in params}


def loss_and_grads(
    params: dict, X, Y, /, *, activation: str = "relu", alpha: float = 0.0, xp=None, sample_weight=None
):
    """Cost (0-d array, on the device) and gradients for one step on ``X``, ``Y``.

    With ``sample_weight`` (a column ``(n_samples, 1)`` in the working dtype,
    on the data's device) the cost is ``mean(w * loss) + penalty``: with
    weights normalized to mean 1, the weighted mean ``sum(w * loss) / sum(w)``.
    """
    xp = array_namespace(X) if xp is None else xp
    inputs, Z = _propagate(params, X, activation, xp)
    sample_weight = weight_column(sample_weight, Z, xp=xp)  # once, for the loss and the backward pass
    A, cost = output_and_cross_entropy(Z, Y, xp=xp, sample_weight=sample_weight)
    if alpha:
        cost = cost + l2_penalty([params[W] for W, _ in layer_keys(params)], alpha, xp=xp)
    cache = _cache(params, inputs, Z, A)
    return cost, backward(params, cache, Y, activation=activation, alpha=alpha, xp=xp, sample_weight=sample_weight)


def gd_step(
    params: dict, X, Y, learning_rate: float, /, *, activation: str = "relu", alpha: float = 0.0, xp=None,
    sample_weight=None,
):
    """One plain gradient-descent step: the cost at ``params`` and the new parameters.

    The same arithmetic as :func:`loss_and_grads` followed by
    :func:`neuralcore.optim.gradient_descent`'s update, with the update in one
    kernel launch per parameter where the backend has one (CuPy).
    """
    cost, grads = loss_and_grads(params, X, Y, activation=activation, alpha=alpha, xp=xp, sample_weight=sample_weight)
    return cost, descend(params, grads, learning_rate)

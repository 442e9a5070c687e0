"""Plain NumPy transcriptions of the course's algorithms, in the course's layout.

``X`` has shape ``(n_x, m)`` here, as in the course; the library uses
``(m, n_x)``. These are the oracles the library is compared against.
"""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def logistic_regression(X, y, w, b, learning_rate, num_iterations):
    """The course's ``optimize``: returns w (n_x, 1), b (float), costs (one per iteration)."""
    m = X.shape[1]
    costs = []
    for _ in range(num_iterations):
        A = sigmoid(w.T @ X + b)
        cost = -np.sum(y * np.log(A) + (1 - y) * np.log(1 - A)) / m
        dw = X @ (A - y).T / m
        db = np.sum(A - y) / m
        w = w - learning_rate * dw
        b = b - learning_rate * db
        costs.append(cost)
    return w, b, costs


def two_layer_network(X, Y, W1, b1, W2, b2, learning_rate, num_iterations):
    """The course's ``nn_model`` with tanh hidden units; W1 (n_h, n_x), b1 (n_h, 1), W2 (1, n_h), b2 (1, 1)."""
    m = X.shape[1]
    costs = []
    for _ in range(num_iterations):
        Z1 = W1 @ X + b1
        A1 = np.tanh(Z1)
        Z2 = W2 @ A1 + b2
        A2 = sigmoid(Z2)
        cost = -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m
        dZ2 = A2 - Y
        dW2 = dZ2 @ A1.T / m
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        dZ1 = (W2.T @ dZ2) * (1 - A1**2)
        dW1 = dZ1 @ X.T / m
        db1 = np.sum(dZ1, axis=1, keepdims=True) / m
        W1, b1, W2, b2 = W1 - learning_rate * dW1, b1 - learning_rate * db1, W2 - learning_rate * dW2, b2 - learning_rate * db2
        costs.append(cost)
    return (W1, b1, W2, b2), costs


def initialize_parameters_deep(layer_dims, seed=1):
    """The course's deep initializer: ``np.random.seed(1)``, ``W[l] = randn(n_l, n_(l-1)) / sqrt(n_(l-1))``."""
    np.random.seed(seed)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def l_layer_model(X, Y, parameters, learning_rate, num_iterations):
    """The course's ``L_layer_model``: relu hidden layers, a sigmoid output, one cost per iteration.

    ``X`` of shape (n_x, m), ``Y`` of shape (1, m); ``parameters`` as from
    :func:`initialize_parameters_deep` (copied, not modified).
    """
    parameters = {k: v.copy() for k, v in parameters.items()}
    L = len(parameters) // 2
    m = X.shape[1]
    costs = []
    for _ in range(num_iterations):
        caches, A = [], X
        for l in range(1, L):
            Z = parameters["W" + str(l)] @ A + parameters["b" + str(l)]
            caches.append((A, Z))
            A = np.maximum(0, Z)
        ZL = parameters["W" + str(L)] @ A + parameters["b" + str(L)]
        caches.append((A, ZL))
        AL = sigmoid(ZL)
        costs.append(float(np.squeeze(-(Y @ np.log(AL).T + (1 - Y) @ np.log(1 - AL).T) / m)))
        dZ = AL - Y
        grads = {}
        for l in range(L, 0, -1):
            A_prev, _ = caches[l - 1]
            grads["dW" + str(l)] = dZ @ A_prev.T / m
            grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / m
            if l > 1:
                dA_prev = parameters["W" + str(l)].T @ dZ
                dZ = dA_prev * (caches[l - 2][1] > 0)
        for l in range(1, L + 1):
            parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * grads["dW" + str(l)]
            parameters["b" + str(l)] = parameters["b" + str(l)] - learning_rate * grads["db" + str(l)]
    return parameters, costs

"""The pure model functions against float64 NumPy references, on every backend."""

import numpy as np
import pytest

from neuralcore import gradcheck, logistic, two_layer
from neuralcore.activations import ACTIVATIONS

from .reference import sigmoid

RNG = np.random.default_rng(0)
X = RNG.normal(size=(30, 4))
Y = (RNG.random((30, 1)) > 0.5).astype(np.float64)
LOGISTIC = {"W": RNG.normal(size=(4, 1)) * 0.5, "b": np.asarray([0.2])}
TWO_LAYER = {
    "W1": RNG.normal(size=(4, 5)) * 0.7,
    "b1": RNG.normal(size=5) * 0.1,
    "W2": RNG.normal(size=(5, 1)) * 0.7,
    "b2": np.asarray([-0.1]),
}


def on(case, params):
    return {k: case.asarray(v) for k, v in params.items()}


def reference_logistic_grads(params):
    A = sigmoid(X @ params["W"] + params["b"])
    dZ = A - Y
    return {"W": X.T @ dZ / len(X), "b": dZ.mean(axis=0)}


class TestLogistic:
    def test_forward(self, backend_case):
        A, cache = logistic.forward(on(backend_case, LOGISTIC), backend_case.asarray(X))
        expected = sigmoid(X @ LOGISTIC["W"] + LOGISTIC["b"])
        np.testing.assert_allclose(backend_case.to_numpy(A), expected, rtol=backend_case.rtol)
        backend_case.assert_on_case(A)
        backend_case.assert_on_case(cache["Z"])

    def test_backward(self, backend_case):
        params = on(backend_case, LOGISTIC)
        _, cache = logistic.forward(params, backend_case.asarray(X))
        grads = logistic.backward(params, cache, backend_case.asarray(Y))
        expected = reference_logistic_grads(LOGISTIC)
        for key in expected:
            backend_case.assert_on_case(grads[key])
            assert grads[key].shape == params[key].shape
            np.testing.assert_allclose(backend_case.to_numpy(grads[key]), expected[key], rtol=backend_case.rtol * 10, atol=1e-6 if backend_case.dtype == "float32" else 1e-14)

    def test_xp(self, backend_case):
        params, Xb, Yb = on(backend_case, LOGISTIC), backend_case.asarray(X), backend_case.asarray(Y)
        cost_a, _ = logistic.loss_and_grads(params, Xb, Yb)
        cost_b, _ = logistic.loss_and_grads(params, Xb, Yb, xp=backend_case.xp)
        assert float(backend_case.to_numpy(cost_a)) == float(backend_case.to_numpy(cost_b))

    def test_gradcheck(self, backend_case):
        params, Xb, Yb = on(backend_case, LOGISTIC), backend_case.asarray(X), backend_case.asarray(Y)
        result = gradcheck(lambda p: logistic.loss_and_grads(p, Xb, Yb), params)
        assert result.passed, result.relative_error

    def test_inputs_not_mutated(self, backend_case):
        params, Xb, Yb = on(backend_case, LOGISTIC), backend_case.asarray(X), backend_case.asarray(Y)
        before = {k: backend_case.to_numpy(v).copy() for k, v in {**params, "X": Xb, "Y": Yb}.items()}
        logistic.loss_and_grads(params, Xb, Yb)
        for k, v in {**params, "X": Xb, "Y": Yb}.items():
            np.testing.assert_array_equal(backend_case.to_numpy(v), before[k])


def reference_two_layer(params, activation):
    g = {"tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda z: np.maximum(z, 0), "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z)}[activation]
    dg = {"tanh": lambda a: 1 - a**2, "sigmoid": lambda a: a * (1 - a), "relu": lambda a: (a > 0) * 1.0, "leaky_relu": lambda a: np.where(a > 0, 1.0, 0.01)}[activation]
    A1 = g(X @ params["W1"] + params["b1"])
    Z2 = A1 @ params["W2"] + params["b2"]
    A2 = sigmoid(Z2)
    cost = np.mean(Y * np.logaddexp(0, -Z2) + (1 - Y) * np.logaddexp(0, Z2))
    dZ2 = A2 - Y
    dZ1 = dZ2 @ params["W2"].T * dg(A1)
    grads = {"W1": X.T @ dZ1 / len(X), "b1": dZ1.mean(axis=0), "W2": A1.T @ dZ2 / len(X), "b2": dZ2.mean(axis=0)}
    return A2, cost, grads


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
class TestTwoLayer:
    def test_forward_and_cost(self, activation, backend_case):
        A2_ref, cost_ref, _ = reference_two_layer(TWO_LAYER, activation)
        params = on(backend_case, TWO_LAYER)
        A2, cache = two_layer.forward(params, backend_case.asarray(X), activation=activation)
        backend_case.assert_on_case(A2)
        backend_case.assert_on_case(cache["A1"])
        np.testing.assert_allclose(backend_case.to_numpy(A2), A2_ref, rtol=backend_case.rtol * 10)
        cost, _ = two_layer.loss_and_grads(params, backend_case.asarray(X), backend_case.asarray(Y), activation=activation)
        backend_case.assert_on_case(cost)
        np.testing.assert_allclose(float(backend_case.to_numpy(cost)), cost_ref, rtol=backend_case.rtol * 10)

    def test_backward(self, activation, backend_case):
        _, _, expected = reference_two_layer(TWO_LAYER, activation)
        params = on(backend_case, TWO_LAYER)
        _, grads = two_layer.loss_and_grads(params, backend_case.asarray(X), backend_case.asarray(Y), activation=activation)
        for key in expected:
            backend_case.assert_on_case(grads[key])
            assert grads[key].shape == params[key].shape
            atol = 1e-6 if backend_case.dtype == "float32" else 1e-14
            np.testing.assert_allclose(backend_case.to_numpy(grads[key]), expected[key], rtol=backend_case.rtol * 10, atol=atol)

    def test_gradcheck(self, activation, backend_case):
        params, Xb, Yb = on(backend_case, TWO_LAYER), backend_case.asarray(X), backend_case.asarray(Y)
        result = gradcheck(lambda p: two_layer.loss_and_grads(p, Xb, Yb, activation=activation), params)
        assert result.passed, result.relative_error
        if backend_case.dtype == "float64":
            assert result.relative_error < 1e-7

    def test_logits_match_forward(self, activation, backend_case):
        params, Xb = on(backend_case, TWO_LAYER), backend_case.asarray(X)
        _, cache = two_layer.forward(params, Xb, activation=activation)
        np.testing.assert_array_equal(
            backend_case.to_numpy(two_layer.logits(params, Xb, activation=activation)), backend_case.to_numpy(cache["Z2"])
        )

import numpy as np
import pytest

from neuralcore import LogisticRegression, TwoLayerNet, gradcheck, gradcheck_estimator, logistic
from neuralcore.activations import ACTIVATIONS
from neuralcore.datasets import make_planar

X, y = make_planar(n_samples=50, random_state=0)


class TestGradcheck:
    def test_detects_a_wrong_gradient(self, backend_case):
        Xb = backend_case.asarray(X)
        Yb = backend_case.asarray(y.reshape(-1, 1).astype(float))

        def wrong(params):
            cost, grads = logistic.loss_and_grads(params, Xb, Yb)
            return cost, {**grads, "W": grads["W"] * 1.1}  # a 10% error in dW

        params = {"W": backend_case.asarray(np.full((2, 1), 0.3)), "b": backend_case.asarray([0.1])}
        result = gradcheck(wrong, params)
        assert not result.passed and result.relative_error > 1e-2

    def test_result_fields(self):
        Yh = y.reshape(-1, 1).astype(float)
        params = {"W": np.full((2, 1), 0.3), "b": np.asarray([0.1])}
        result = gradcheck(lambda p: logistic.loss_and_grads(p, X, Yh), params)
        assert result.passed and result.relative_error < 1e-7
        assert set(result.analytic) == set(result.numerical) == {"W", "b"}
        np.testing.assert_allclose(result.numerical["W"], result.analytic["W"], rtol=1e-6)

    def test_params_not_modified(self):
        params = {"W": np.full((2, 1), 0.3), "b": np.asarray([0.1])}
        gradcheck(lambda p: logistic.loss_and_grads(p, X, y.reshape(-1, 1).astype(float)), params)
        np.testing.assert_array_equal(params["W"], np.full((2, 1), 0.3))

    def test_python_float_costs(self):
        def quadratic(p):
            return float(np.sum(p["x"] ** 2)), {"x": 2 * p["x"]}

        assert gradcheck(quadratic, {"x": np.asarray([1.0, -2.0])}).passed


class TestGradcheckEstimator:
    @pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
    def test_two_layer_every_activation(self, backend_case, activation):
        net = TwoLayerNet(5, activation=activation, random_state=0, backend=backend_case.spec, dtype=backend_case.dtype)
        result = gradcheck_estimator(net, X, y)
        assert result.passed, result.relative_error

    @pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
    def test_two_layer_in_the_backend_dtype(self, backend_case, activation):
        net = TwoLayerNet(5, activation=activation, random_state=0, backend=backend_case.spec, dtype=backend_case.dtype)
        result = gradcheck_estimator(net, X, y, dtype=None)
        assert result.passed, result.relative_error

    def test_logistic(self, backend_case):
        result = gradcheck_estimator(LogisticRegression(backend=backend_case.spec, dtype=backend_case.dtype), X, y)
        assert result.passed, result.relative_error

    def test_at_fitted_parameters(self):
        net = TwoLayerNet(3, max_iter=200, random_state=0, backend="numpy").fit(X, y)
        assert gradcheck_estimator(net, X, y).passed

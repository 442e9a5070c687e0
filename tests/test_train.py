import io

import numpy as np
import pytest

from neuralcore import DivergenceError, LogisticRegression, logistic, train
from neuralcore.optim import GradientDescentState, apply_updates, get_optimizer, gradient_descent

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 2))
Y = (X[:, :1] > 0).astype(np.float64)


def loss_and_grads(params, X, Y):
    return logistic.loss_and_grads(params, X, Y)


def start(case):
    return {"W": case.asarray(np.zeros((2, 1))), "b": case.asarray(np.zeros(1))}


class TestTrainFullBatch:
    @pytest.mark.parametrize("max_iter", [1, 255, 256, 257, 600])
    def test_one_cost_per_iteration_across_readback_blocks(self, backend_case, max_iter):
        result = train.train_full_batch(
            loss_and_grads, start(backend_case), backend_case.asarray(X), backend_case.asarray(Y),
            optimizer=gradient_descent(0.5), max_iter=max_iter,
        )
        assert len(result.loss_curve) == max_iter and result.n_iter == max_iter
        assert all(isinstance(c, float) for c in result.loss_curve)
        np.testing.assert_allclose(result.loss_curve[0], np.log(2), rtol=backend_case.rtol)
        for value in result.params.values():
            backend_case.assert_on_case(value)

    def test_starting_parameters_not_modified(self, backend_case):
        params = start(backend_case)
        train.train_full_batch(loss_and_grads, params, backend_case.asarray(X), backend_case.asarray(Y), optimizer=gradient_descent(0.5), max_iter=5)
        assert not backend_case.to_numpy(params["W"]).any()

    def test_verbose_prints_like_the_course(self):
        stream = io.StringIO()
        result = train.train_full_batch(
            loss_and_grads, {"W": np.zeros((2, 1)), "b": np.zeros(1)}, X, Y,
            optimizer=gradient_descent(0.5), max_iter=250, verbose=1, stream=stream,
        )
        lines = stream.getvalue().splitlines()
        assert lines == [f"Cost after iteration {i}: {result.loss_curve[i]:f}" for i in (0, 100, 200)]
        assert lines[0] == "Cost after iteration 0: 0.693147"

    def test_estimator_verbose(self, capsys):
        LogisticRegression(max_iter=101, verbose=1, backend="numpy").fit(X, Y[:, 0])
        assert capsys.readouterr().out.splitlines()[-1].startswith("Cost after iteration 100: ")

    def test_silent_by_default(self, capsys):
        LogisticRegression(max_iter=101, backend="numpy").fit(X, Y[:, 0])
        assert capsys.readouterr().out == ""

    def test_non_finite_start(self):
        def broken(params, X, Y):
            cost, grads = loss_and_grads(params, X, Y)
            return cost * np.inf, grads

        with pytest.raises(DivergenceError, match="cost at the starting parameters is not finite") as info:
            train.train_full_batch(broken, {"W": np.zeros((2, 1)), "b": np.zeros(1)}, X, Y, optimizer=gradient_descent(0.1), max_iter=3)
        assert info.value.iteration == 0 and not info.value.params["W"].any()

    @pytest.mark.parametrize("bad_at", [1, 255, 256, 257, 300])
    def test_divergence_is_located_exactly_across_blocks(self, bad_at):
        calls = {"n": 0}

        def flaky(params, X, Y):
            cost, grads = loss_and_grads(params, X, Y)
            calls["n"] += 1
            return (cost * np.nan if calls["n"] == bad_at + 1 else cost), grads

        with pytest.raises(DivergenceError, match=f"at iteration {bad_at} ") as info:
            train.train_full_batch(flaky, {"W": np.zeros((2, 1)), "b": np.zeros(1)}, X, Y, optimizer=gradient_descent(0.1), max_iter=400)
        expected = train.train_full_batch(loss_and_grads, {"W": np.zeros((2, 1)), "b": np.zeros(1)}, X, Y, optimizer=gradient_descent(0.1), max_iter=bad_at - 1 or 1)
        if bad_at > 1:
            np.testing.assert_array_equal(info.value.params["W"], expected.params["W"])
        assert len(info.value.loss_curve) == bad_at


class TestGradientDescent:
    def test_update(self, backend_case):
        params = {"W": backend_case.asarray(np.ones((2, 1)))}
        opt = gradient_descent(0.25)
        state = opt.init(params)
        assert state == GradientDescentState(step=0)
        updates, state = opt.update({"W": backend_case.asarray(np.full((2, 1), 2.0))}, state, params)
        new = apply_updates(params, updates)
        backend_case.assert_on_case(new["W"])
        np.testing.assert_array_equal(backend_case.to_numpy(new["W"]), np.full((2, 1), 0.5))
        assert state.step == 1
        np.testing.assert_array_equal(backend_case.to_numpy(params["W"]), np.ones((2, 1)))

    @pytest.mark.parametrize("bad", [0, -0.1, float("inf"), float("nan")])
    def test_bad_learning_rate(self, bad):
        with pytest.raises(ValueError, match="learning_rate must be a positive finite number"):
            gradient_descent(bad)

    def test_get_optimizer(self):
        assert get_optimizer("gd", 0.1).init({}) == GradientDescentState(0)
        opt = gradient_descent(0.1)
        assert get_optimizer(opt, 0.5) is opt
        with pytest.raises(ValueError, match="unknown optimizer 'sgdx'; valid names: gd"):
            get_optimizer("sgdx", 0.1)

import numpy as np
import pytest

from neuralcore import optim
from neuralcore.optim import OPTIMIZERS, SCHEDULES, apply_updates, get_optimizer

GRADS = [np.asarray([[0.5], [-2.0]]), np.asarray([[0.1], [0.3]]), np.asarray([[-1.0], [0.0]])]


def reference(name, lr, steps, **hp):
    """The course's formulas in plain NumPy."""
    W = np.ones((2, 1))
    v = s = np.zeros_like(W)
    for t, g in enumerate(steps, start=1):
        if name == "gd":
            W = W - lr * g
        elif name in ("momentum", "nesterov"):
            beta = hp.get("beta", 0.9)
            v = beta * v + (1 - beta) * g
            W = W - lr * ((beta * v + (1 - beta) * g) if name == "nesterov" else v)
        elif name == "rmsprop":
            rho, eps = hp.get("rho", 0.9), hp.get("eps", 1e-8)
            s = rho * s + (1 - rho) * g**2
            W = W - lr * g / (np.sqrt(s) + eps)
        elif name == "adam":
            b1, b2, eps = hp.get("beta1", 0.9), hp.get("beta2", 0.999), hp.get("eps", 1e-8)
            v = b1 * v + (1 - b1) * g
            s = b2 * s + (1 - b2) * g**2
            W = W - lr * (v / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps)
    return W


def run(case, optimizer, steps):
    params = {"W": case.asarray(np.ones((2, 1)))}
    state = optimizer.init(params)
    for g in steps:
        updates, state = optimizer.update({"W": case.asarray(g)}, state, params)
        params = apply_updates(params, updates)
    return params, state


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
class TestOptimizers:
    def test_matches_the_course_formulas(self, name, backend_case):
        params, state = run(backend_case, get_optimizer(name, 0.1), GRADS)
        np.testing.assert_allclose(backend_case.to_numpy(params["W"]), reference(name, 0.1, GRADS), rtol=backend_case.rtol * 10)
        assert state.step == 3

    def test_device(self, name, backend_case):
        params, state = run(backend_case, get_optimizer(name, 0.1), GRADS[:1])
        backend_case.assert_on_case(params["W"])
        for field in state[1:]:  # moment estimates live on the training device, in its dtype
            backend_case.assert_on_case(field["W"])

    def test_xp_state_is_a_namedtuple(self, name):
        state = get_optimizer(name, 0.1).init({"W": np.zeros(2)})
        assert hasattr(state, "_fields") and state.step == 0

    def test_params_not_modified(self, name, backend_case):
        params = {"W": backend_case.asarray(np.ones((2, 1)))}
        opt = get_optimizer(name, 0.1)
        opt.update({"W": backend_case.asarray(GRADS[0])}, opt.init(params), params)
        np.testing.assert_array_equal(backend_case.to_numpy(params["W"]), np.ones((2, 1)))


class TestHyperparameters:
    def test_named_hyperparameters(self):
        params, _ = run(_numpy_case(), get_optimizer("adam", 0.05, {"beta1": 0.5, "beta2": 0.9, "eps": 1e-6}), GRADS)
        np.testing.assert_allclose(params["W"], reference("adam", 0.05, GRADS, beta1=0.5, beta2=0.9, eps=1e-6))

    def test_unknown_hyperparameter_lists_the_valid_ones(self):
        with pytest.raises(ValueError, match="optimizer 'adam' has no hyperparameter 'momentum'; valid: beta1, beta2, eps"):
            get_optimizer("adam", 0.1, {"momentum": 0.9})

    def test_unknown_optimizer(self):
        with pytest.raises(ValueError, match="unknown optimizer 'sgdx'; valid names: gd, momentum, nesterov, rmsprop, adam"):
            get_optimizer("sgdx", 0.1)

    def test_object_passes_through(self):
        opt = optim.adam(0.1)
        assert get_optimizer(opt, 0.5) is opt
        with pytest.raises(ValueError, match="optimizer_params applies to an optimizer given by name"):
            get_optimizer(opt, 0.5, {"beta1": 0.8})

    @pytest.mark.parametrize(
        ("factory", "kwargs", "message"),
        [
            (optim.momentum, {"beta": 1.0}, "beta must be a positive finite number below 1.0"),
            (optim.adam, {"beta2": 0.0}, "beta2 must be a positive"),
            (optim.rmsprop, {"eps": -1.0}, "eps must be a positive"),
            (optim.gradient_descent, {"learning_rate": 0}, "learning_rate must be a positive finite number"),
        ],
    )
    def test_bad_values(self, factory, kwargs, message):
        with pytest.raises(ValueError, match=message):
            factory(**kwargs)

    @pytest.mark.parametrize("bad", [0, -0.1, float("inf"), float("nan")])
    def test_bad_learning_rate(self, bad):
        with pytest.raises(ValueError, match="learning_rate must be a positive finite number"):
            optim.gradient_descent(bad)


class TestSchedules:
    def test_values(self):
        assert [optim.constant(0.1)(s) for s in (0, 10**6)] == [0.1, 0.1]
        assert optim.inverse_time_decay(1.0, 0.5, 2)(4) == pytest.approx(0.5)
        assert optim.exponential_decay(2.0, 0.1, 10)(10) == pytest.approx(0.2)
        assert [optim.step_decay(1.0, 0.1, 5)(s) for s in (0, 4, 5, 10)] == pytest.approx([1.0, 1.0, 0.1, 0.01])

    def test_table(self):
        assert set(SCHEDULES) == {"constant", "inverse_time", "exponential", "step"}

    def test_schedule_drives_gradient_descent(self, backend_case):
        schedule = optim.step_decay(1.0, drop=0.5, every=1)
        params, _ = run(backend_case, optim.gradient_descent(schedule), [np.ones((2, 1))] * 3)
        np.testing.assert_allclose(backend_case.to_numpy(params["W"]), np.full((2, 1), 1 - (1 + 0.5 + 0.25)))

    def test_schedule_in_an_estimator(self):
        from neuralcore import LogisticRegression

        X = np.random.default_rng(0).normal(size=(30, 2))
        y = (X[:, 0] > 0).astype(int)
        model = LogisticRegression(learning_rate=optim.exponential_decay(0.5, 0.99), max_iter=50, backend="numpy").fit(X, y)
        assert model.score(X, y) > 0.9

    def test_bad_schedule_arguments(self):
        with pytest.raises(ValueError, match="decay_rate"):
            optim.exponential_decay(0.1, 1.5)
        with pytest.raises(ValueError, match="every"):
            optim.step_decay(0.1, 0.5, 0)


def _numpy_case():
    from .conftest import ALL_CASES

    return ALL_CASES[0]

"""Fused steps: ``logistic.gd_step``, the ``step=`` path of the training loop, and the compiled
CUDA kernels that replace both on CuPy, each checked against the pure Array API reference.

On a backend without compiled kernels, ``logistic.step_functions`` returns the
reference functions, and the tests here check the training loop's fused path
against its generic path. On CuPy the same tests check the CUDA kernels
(``neuralcore/_cuda.py``) against the reference, on every layout they use.
"""

import numpy as np
import pytest

from neuralcore import LogisticRegression, device, logistic, train
from neuralcore.optim import adam, gradient_descent, inverse_time_decay

# Feature counts for each kernel layout (see neuralcore/_cuda.py's layout()): teams of 8 lanes
# (1 to 128 features; 4, 3, 2 and 1 rows per team at a time), of 16 (to 256), warps (to 1024),
# blocks of 256 threads (to 12288), with rows that fill their team's registers exactly and rows
# that leave some lanes idle.
FEATURES = [1, 3, 33, 64, 100, 128, 129, 200, 500, 1024, 1025, 3000, 12288]


def problem(n, f, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f)) * scale
    w = rng.normal(size=(f, 1)) / np.sqrt(f)
    Y = (X @ w + 0.5 * rng.normal(size=(n, 1)) > 0).astype(np.float64)
    params = {"W": rng.normal(size=(f, 1)) * 0.1, "b": np.asarray([0.3])}
    return X, Y, params


def on(case, X, Y, params):
    return case.asarray(X), case.asarray(Y), {k: case.asarray(v) for k, v in params.items()}


def tolerance(case):
    # float32: the kernels sum in another order than the BLAS calls of the reference
    return {"rtol": 1e-10, "atol": 1e-12} if case.dtype == "float64" else {"rtol": 2e-4, "atol": 2e-5}


def check_kernels_used(case, X):
    """On CuPy the kernels must really be there, so these tests compare two implementations."""
    kernels = device.fused_logistic(X, logistic.loss_and_grads, logistic.gd_step)
    if case.name == "cupy":
        assert kernels is not None
    else:
        assert kernels is None
    return kernels


class TestStepFunctions:
    @pytest.mark.parametrize("f", FEATURES)
    @pytest.mark.parametrize("n", [1, 37, 2000])
    def test_loss_and_grads_match_reference(self, backend_case, n, f):
        X, Y, params = on(backend_case, *problem(n, f, seed=n + f))
        check_kernels_used(backend_case, X)
        for alpha in (0.0, 0.3):
            loss, _ = logistic.step_functions(X, alpha=alpha)
            cost, grads = loss(params, X, Y)
            cost_ref, grads_ref = logistic.loss_and_grads(params, X, Y, alpha=alpha)
            for got in (cost, grads["W"], grads["b"]):
                backend_case.assert_on_case(got)
            assert grads["W"].shape == (f, 1) and grads["b"].shape == (1,) and cost.shape == ()
            np.testing.assert_allclose(float(cost), float(cost_ref), **tolerance(backend_case))
            for key in ("W", "b"):
                np.testing.assert_allclose(
                    backend_case.to_numpy(grads[key]), backend_case.to_numpy(grads_ref[key]), **tolerance(backend_case)
                )

    @pytest.mark.parametrize("f", [3, 100, 3000])
    def test_gd_step_matches_reference(self, backend_case, f):
        X, Y, params = on(backend_case, *problem(300, f))
        _, step = logistic.step_functions(X, alpha=0.1)
        cost, new = step(params, X, Y, 0.5)
        cost_ref, new_ref = logistic.gd_step(params, X, Y, 0.5, alpha=0.1)
        np.testing.assert_allclose(float(cost), float(cost_ref), **tolerance(backend_case))
        for key in ("W", "b"):
            backend_case.assert_on_case(new[key])
            assert new[key].shape == params[key].shape
            np.testing.assert_allclose(
                backend_case.to_numpy(new[key]), backend_case.to_numpy(new_ref[key]), **tolerance(backend_case)
            )

    def test_gd_step_is_loss_and_grads_then_update(self, backend_case):
        X, Y, params = on(backend_case, *problem(50, 4))
        cost, new = logistic.gd_step(params, X, Y, 0.25, alpha=0.5)
        cost_ref, grads = logistic.loss_and_grads(params, X, Y, alpha=0.5)
        assert float(cost) == float(cost_ref)
        for key in params:
            np.testing.assert_array_equal(
                backend_case.to_numpy(new[key]), backend_case.to_numpy(params[key] - 0.25 * grads[key])
            )

    def test_inputs_not_modified_and_deterministic(self, backend_case):
        X, Y, params = on(backend_case, *problem(500, 100))
        before = [backend_case.to_numpy(a).copy() for a in (X, Y, params["W"], params["b"])]
        _, step = logistic.step_functions(X)
        first = step(params, X, Y, 1.0)
        second = step(params, X, Y, 1.0)
        for array, copy in zip((X, Y, params["W"], params["b"]), before):
            np.testing.assert_array_equal(backend_case.to_numpy(array), copy)
        assert float(first[0]) == float(second[0])
        for key in ("W", "b"):
            np.testing.assert_array_equal(backend_case.to_numpy(first[1][key]), backend_case.to_numpy(second[1][key]))
            assert first[1][key] is not params[key]

    def test_saturated_logits_stay_finite(self, backend_case):
        X, Y, params = on(backend_case, *problem(64, 8, scale=1e3))
        params = {"W": params["W"] * 100, "b": params["b"]}
        loss, _ = logistic.step_functions(X)
        cost, grads = loss(params, X, Y)
        cost_ref, grads_ref = logistic.loss_and_grads(params, X, Y)
        assert np.isfinite(float(cost)) and float(cost) > 1.0
        np.testing.assert_allclose(float(cost), float(cost_ref), rtol=1e-5)
        np.testing.assert_allclose(
            backend_case.to_numpy(grads["W"]), backend_case.to_numpy(grads_ref["W"]), rtol=1e-4, atol=1e-2
        )

    def test_strided_rows_and_columns(self, backend_case):
        """Row views use the kernels with a row stride; column views fall back to the reference."""
        X_host, Y_host, params_host = problem(400, 60)
        X, Y, params = on(backend_case, X_host, Y_host, params_host)
        every_other_row = X[::2, :]
        loss, _ = logistic.step_functions(every_other_row)
        cost, grads = loss(params, every_other_row, Y[::2, :])
        cost_ref, grads_ref = logistic.loss_and_grads(params, every_other_row, Y[::2, :])
        np.testing.assert_allclose(float(cost), float(cost_ref), **tolerance(backend_case))
        np.testing.assert_allclose(
            backend_case.to_numpy(grads["W"]), backend_case.to_numpy(grads_ref["W"]), **tolerance(backend_case)
        )
        half = {"W": backend_case.asarray(params_host["W"][::2, :]), "b": params["b"]}  # contiguous
        columns = X[:, ::2]  # the rows of this view are not contiguous: the kernels must decline X
        loss, _ = logistic.step_functions(columns)
        cost, grads = loss(half, columns, Y)
        cost_ref, grads_ref = logistic.loss_and_grads(half, columns, Y)
        np.testing.assert_allclose(float(cost), float(cost_ref), **tolerance(backend_case))
        np.testing.assert_allclose(
            backend_case.to_numpy(grads["W"]), backend_case.to_numpy(grads_ref["W"]), **tolerance(backend_case)
        )

    def test_several_classes_use_the_reference(self, backend_case):
        rng = np.random.default_rng(3)
        X = backend_case.asarray(rng.normal(size=(30, 4)))
        Y = backend_case.asarray(np.eye(3)[rng.integers(0, 3, 30)])
        params = {"W": backend_case.asarray(rng.normal(size=(4, 3))), "b": backend_case.asarray(np.zeros(3))}
        loss, _ = logistic.step_functions(X, n_outputs=3)
        cost, grads = loss(params, X, Y)
        cost_ref, _ = logistic.loss_and_grads(params, X, Y)
        assert float(cost) == float(cost_ref)


class TestTrainingLoop:
    @pytest.mark.parametrize("batch_size", [None, 64])
    def test_fused_path_equals_generic_path(self, backend_case, batch_size):
        X, Y, params = on(backend_case, *problem(300, 5))
        common = dict(max_iter=40, batch_size=batch_size, rng=None)
        generic = train.train(
            lambda p, x, y: logistic.loss_and_grads(p, x, y, alpha=0.01), params, X, Y,
            optimizer=gradient_descent(inverse_time_decay(0.5, 0.1)), **{**common, "rng": np.random.default_rng(1)},
        )
        fused = train.train(
            lambda p, x, y: logistic.loss_and_grads(p, x, y, alpha=0.01), params, X, Y,
            optimizer=gradient_descent(inverse_time_decay(0.5, 0.1)), **{**common, "rng": np.random.default_rng(1)},
            step=lambda p, x, y, rate: logistic.gd_step(p, x, y, rate, alpha=0.01),
        )
        assert fused.loss_curve == generic.loss_curve
        for key in params:
            np.testing.assert_array_equal(
                backend_case.to_numpy(fused.params[key]), backend_case.to_numpy(generic.params[key])
            )

    def test_step_ignored_for_other_optimizers(self, backend_case):
        X, Y, params = on(backend_case, *problem(100, 3))

        def refuse(*args):
            raise AssertionError("a fused gradient-descent step was used with Adam")

        result = train.train(
            lambda p, x, y: logistic.loss_and_grads(p, x, y), params, X, Y, optimizer=adam(0.01), max_iter=5, step=refuse
        )
        assert len(result.loss_curve) == 5

    def test_bad_schedule_still_reported(self, backend_case):
        X, Y, params = on(backend_case, *problem(20, 2))
        with pytest.raises(ValueError, match="learning-rate schedule returned"):
            train.train(
                lambda p, x, y: logistic.loss_and_grads(p, x, y), params, X, Y,
                optimizer=gradient_descent(lambda step: -1.0), max_iter=3,
                step=lambda p, x, y, rate: logistic.gd_step(p, x, y, rate),
            )


class TestEstimator:
    @pytest.mark.parametrize("batch_size", [None, 128])
    def test_kernels_on_and_off_agree(self, backend_case, monkeypatch, batch_size):
        X_host, Y_host, _ = problem(600, 20)
        X = backend_case.asarray(X_host)
        y = Y_host[:, 0]
        settings = dict(learning_rate=0.3, max_iter=300, alpha=1e-3, batch_size=batch_size, random_state=0)
        with_kernels = LogisticRegression(**settings).fit(X, y)
        monkeypatch.setenv(device.KERNELS_ENV_VAR, "off")
        assert device.fused_logistic(X, None, None) is None
        reference = LogisticRegression(**settings).fit(X, y)
        rtol = 1e-9 if backend_case.dtype == "float64" else 1e-3
        np.testing.assert_allclose(with_kernels.loss_curve_, reference.loss_curve_, rtol=rtol)
        np.testing.assert_allclose(
            backend_case.to_numpy(with_kernels.params_["W"]), backend_case.to_numpy(reference.params_["W"]),
            rtol=rtol, atol=1e-5 if backend_case.dtype == "float32" else 1e-12,
        )
        assert (backend_case.to_numpy(with_kernels.predict(X)) == backend_case.to_numpy(reference.predict(X))).mean() > 0.99

    def test_early_stopping_and_divergence_with_fused_steps(self, backend_case):
        X_host, Y_host, _ = problem(400, 6)
        X = backend_case.asarray(X_host)
        model = LogisticRegression(learning_rate=0.5, max_iter=5000, tol=1e-6, n_iter_no_change=5).fit(X, Y_host[:, 0])
        assert model.n_iter_ < 5000 and len(model.loss_curve_) == model.n_iter_
        from neuralcore import DivergenceError

        scale = 1e200 if backend_case.dtype == "float64" else 1e30  # the second step overflows the logits
        with np.errstate(all="ignore"), pytest.raises(DivergenceError) as info:
            LogisticRegression(learning_rate=1.0, max_iter=10).fit(backend_case.asarray(X_host * scale), Y_host[:, 0])
        assert info.value.iteration >= 1 and all(np.isfinite(info.value.loss_curve))


class TestSwitch:
    @pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "no"])
    def test_off(self, monkeypatch, value):
        monkeypatch.setenv(device.KERNELS_ENV_VAR, value)
        assert not device.kernels_enabled()

    @pytest.mark.parametrize("value", ["auto", "on", "1", ""])
    def test_on(self, monkeypatch, value):
        monkeypatch.setenv(device.KERNELS_ENV_VAR, value)
        assert device.kernels_enabled()

    def test_invalid_value_names_the_variable(self, monkeypatch):
        monkeypatch.setenv(device.KERNELS_ENV_VAR, "fast")
        with pytest.raises(ValueError, match="NEURALCORE_KERNELS='fast'"):
            device.kernels_enabled()

    @pytest.mark.parametrize("model", [LogisticRegression(max_iter=2), "two-layer"])
    def test_invalid_value_fails_every_fit(self, backend_case, monkeypatch, model):
        from neuralcore import TwoLayerNet

        model = TwoLayerNet(3, max_iter=2) if model == "two-layer" else model
        monkeypatch.setenv(device.KERNELS_ENV_VAR, "fast")
        X, Y, _ = problem(20, 3)
        with pytest.raises(ValueError, match="NEURALCORE_KERNELS='fast' is not valid"):
            model.fit(backend_case.asarray(X), Y[:, 0])

    def test_layouts(self):
        from neuralcore import _cuda

        assert _cuda.layout(0) is None
        assert _cuda.layout(1) == (1, 4, 8)
        assert {_cuda.layout(f)[1] for f in FEATURES if f <= 128} == {1, 2, 3, 4}  # every rows-per-team value
        for f in range(1, _cuda.MAX_FEATURES + 1, 97):
            k, r, team = _cuda.layout(f)
            assert k * team >= f, f  # every column has a thread
            assert (team in (8, 16, 32)) == (f <= 1024) and (team == 256) == (f > 1024)
            assert k * team - f < team * (8 if team == 256 else 1), f  # at most one idle round (or a coarse step)
        assert _cuda.layout(_cuda.MAX_FEATURES) is not None and _cuda.layout(_cuda.MAX_FEATURES + 1) is None


class TestElementwiseKernels:
    """The binary output-and-cost kernel and the gradient-descent update, which every model uses."""

    def test_binary_output_and_cost_match_reference(self, backend_case):
        from neuralcore import activations, losses

        rng = np.random.default_rng(5)
        z_host = np.concatenate([rng.normal(size=(300, 1)) * 5, [[1e4], [-1e4], [0.0], [40.0], [-40.0]]])
        y_host = (rng.random(z_host.shape) > 0.5).astype(np.float64)
        z, y = backend_case.asarray(z_host), backend_case.asarray(y_host)
        compiled = device.run_kernel("binary_output_and_cross_entropy", z, y)
        assert (compiled is not None) == (backend_case.name == "cupy")
        A, cost = losses.output_and_cross_entropy(z, y)
        backend_case.assert_on_case(A)
        backend_case.assert_on_case(cost)
        assert A.shape == z.shape and cost.shape == ()
        expected_cost = float(losses.binary_cross_entropy(z, y))
        np.testing.assert_allclose(float(cost), expected_cost, rtol=backend_case.rtol)
        np.testing.assert_allclose(
            backend_case.to_numpy(A), backend_case.to_numpy(activations.sigmoid(z)), rtol=backend_case.rtol, atol=1e-7
        )
        assert np.all(np.isfinite(backend_case.to_numpy(A)))

    def test_several_outputs_use_the_array_api_code(self, backend_case):
        z = backend_case.asarray(np.zeros((4, 3)))
        y = backend_case.asarray(np.eye(3)[[0, 1, 2, 0]])
        assert device.run_kernel("binary_output_and_cross_entropy", z, y) is None  # declined on every backend
        from neuralcore import losses

        _, cost = losses.output_and_cross_entropy(z, y)
        np.testing.assert_allclose(float(cost), np.log(3), rtol=backend_case.rtol)

    def test_descend_is_bit_for_bit_the_two_step_update(self, backend_case):
        from neuralcore.optim import apply_updates, descend, gradient_descent

        rng = np.random.default_rng(6)
        params = {"W": backend_case.asarray(rng.normal(size=(30, 4))), "b": backend_case.asarray(rng.normal(size=4))}
        grads = {k: backend_case.asarray(rng.normal(size=v.shape) * 3) for k, v in params.items()}
        kernel = device.run_kernel("descend", params["W"], grads["W"], -0.3)
        assert (kernel is not None) == (backend_case.name == "cupy")
        optimizer = gradient_descent(0.3)
        updates, _ = optimizer.update(grads, optimizer.init(params), params)
        expected = apply_updates(params, updates)
        new = descend(params, grads, 0.3)
        for key in params:
            backend_case.assert_on_case(new[key])
            np.testing.assert_array_equal(backend_case.to_numpy(new[key]), backend_case.to_numpy(expected[key]))
            assert new[key] is not params[key]

    def test_two_layer_fused_path_equals_generic_path(self, backend_case):
        from neuralcore import two_layer

        rng = np.random.default_rng(7)
        X = backend_case.asarray(rng.normal(size=(120, 6)))
        Y = backend_case.asarray((rng.random((120, 1)) > 0.5).astype(np.float64))
        host = two_layer.init_params(6, 5, rng=np.random.default_rng(0), init="he")
        params = {k: backend_case.asarray(v) for k, v in host.items()}
        kwargs = dict(activation="relu", alpha=0.01)
        generic = train.train(
            lambda p, x, y: two_layer.loss_and_grads(p, x, y, **kwargs), params, X, Y,
            optimizer=gradient_descent(0.1), max_iter=30,
        )
        fused = train.train(
            lambda p, x, y: two_layer.loss_and_grads(p, x, y, **kwargs), params, X, Y,
            optimizer=gradient_descent(0.1), max_iter=30,
            step=lambda p, x, y, rate: two_layer.gd_step(p, x, y, rate, **kwargs),
        )
        assert fused.loss_curve == generic.loss_curve
        for key in params:
            np.testing.assert_array_equal(
                backend_case.to_numpy(fused.params[key]), backend_case.to_numpy(generic.params[key])
            )

    def test_two_layer_estimator_kernels_on_and_off_agree(self, backend_case, monkeypatch):
        from neuralcore import TwoLayerNet

        X_host, Y_host, _ = problem(300, 8)
        X = backend_case.asarray(X_host)
        settings = dict(hidden_units=6, activation="tanh", learning_rate=0.5, max_iter=200, random_state=0)
        with_kernels = TwoLayerNet(**settings).fit(X, Y_host[:, 0])
        monkeypatch.setenv(device.KERNELS_ENV_VAR, "off")
        reference = TwoLayerNet(**settings).fit(X, Y_host[:, 0])
        rtol = 1e-9 if backend_case.dtype == "float64" else 1e-3
        np.testing.assert_allclose(with_kernels.loss_curve_, reference.loss_curve_, rtol=rtol)


class TestOptimizerContract:
    def test_gradient_descent_is_still_an_init_update_pair(self):
        init, update = gradient_descent(0.1)
        assert callable(init) and callable(update)

    def test_a_replaced_update_is_not_fused(self, backend_case):
        """An optimizer whose update was replaced (clipping, say) must go through that update."""
        X, Y, params = on(backend_case, *problem(50, 3))
        calls = []
        base = gradient_descent(0.1)

        def clipped(grads, state, params=None):
            calls.append(1)
            return base.update(grads, state, params)

        from neuralcore.optim import plain_rate

        optimizer = base._replace(update=clipped)
        assert plain_rate(optimizer) is None
        train.train(
            lambda p, x, y: logistic.loss_and_grads(p, x, y), params, X, Y, optimizer=optimizer, max_iter=4,
            step=lambda p, x, y, rate: logistic.gd_step(p, x, y, rate),
        )
        assert len(calls) == 4


"""Fused steps: ``logistic.gd_step``, the ``step=`` path of the training loop, and the compiled
CUDA kernels that replace both on CuPy, each checked against an independent float64 NumPy oracle
(the course's formulas, written out below) and against the pure Array API reference.

On a backend without compiled kernels, ``logistic.step_functions`` returns the
reference functions: the oracle comparison then tests the Array API code itself, and the tests
here check the training loop's fused path against its generic path. On CuPy the same tests
check the CUDA kernels (``neuralcore/_cuda.py``) against the oracle and the reference, and
``TestOnGPU`` covers every layout the kernels have, in both dtypes, with strided, broadcast and
Fortran-order data, other streams, failing launches and two threads. ``TestOnGPU`` runs only
where a CUDA device is usable (``ci/gpu_checks.sh``, where the CuPy cases are required, so it
cannot skip there); that its feature sizes reach every layout is checked everywhere.
"""

import numpy as np
import pytest

from neuralcore.data import ArrayData
from neuralcore import LogisticRegression, device, kernels, logistic, train
from neuralcore.optim import adam, gradient_descent, inverse_time_decay

from .conftest import CASES as BACKEND_CASES

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


def oracle(X, Y, W, b, alpha=0.0, learning_rate=None):
    """The course's formulas in float64 NumPy, in the course's layout (features x samples):
    ``(cost, dW, db)``, or ``(cost, W - lr dW, b - lr db)`` with a learning rate."""
    X, Y = np.asarray(X, np.float64).T, np.asarray(Y, np.float64).T  # (n_x, m), (1, m)
    W, b = np.asarray(W, np.float64), float(np.asarray(b, np.float64)[0])
    m = X.shape[1]
    Z = W.T @ X + b
    with np.errstate(over="ignore"):  # exp(-Z) = inf for very negative logits: A = 0, as it should
        A = 1 / (1 + np.exp(-Z))
    log_A, log_1_minus_A = -np.logaddexp(0, -Z), -np.logaddexp(0, Z)  # log(A), log(1 - A) without log(0)
    cost = -np.sum(Y * log_A + (1 - Y) * log_1_minus_A) / m + alpha / 2 * np.sum(W**2)
    dW = X @ (A - Y).T / m + alpha * W
    db = np.sum(A - Y) / m
    if learning_rate is None:
        return cost, dW, np.asarray([db])
    return cost, W - learning_rate * dW, np.asarray([b - learning_rate * db])


def oracle_tolerance(dtype):
    return 1e-9 if dtype == "float64" else 3e-4


def assert_matches_oracle(case, cost, first, second, expected, dtype=None):
    """``cost`` and the two arrays (gradients, or updated parameters) against :func:`oracle`'s, each
    relative to the size of what is compared."""
    tol = oracle_tolerance(dtype or case.dtype)
    want_cost, want_first, want_second = expected
    assert abs(float(cost) - want_cost) <= tol * max(1.0, abs(want_cost)), (float(cost), want_cost)
    for got, want in ((first, want_first), (second, want_second)):
        got = case.to_numpy(got) if case is not None else got
        assert got.shape == want.shape
        scale = max(np.abs(want).max(), 1e-3)
        assert np.abs(np.asarray(got, np.float64) - want).max() <= tol * scale, np.abs(got - want).max() / scale


def on(case, X, Y, params):
    return case.asarray(X), case.asarray(Y), {k: case.asarray(v) for k, v in params.items()}


def tolerance(case):
    # float32: the kernels sum in another order than the BLAS calls of the reference
    return {"rtol": 1e-10, "atol": 1e-12} if case.dtype == "float64" else {"rtol": 2e-4, "atol": 2e-5}


def check_kernels_used(case, X):
    """On CuPy the kernels must really be there, so these tests compare two implementations."""
    fused = kernels.logistic_steps(X, logistic.loss_and_grads, logistic.gd_step)
    if case.has_kernels:
        assert fused is not None
    else:
        assert fused is None
    return fused


class TestStepFunctions:
    @pytest.mark.parametrize("f", FEATURES)
    @pytest.mark.parametrize("n", [1, 37, 2000])
    def test_loss_and_grads_match_reference(self, backend_case, n, f):
        host = problem(n, f, seed=n + f)
        X, Y, params = on(backend_case, *host)
        check_kernels_used(backend_case, X)
        for alpha in (0.0, 0.3):
            loss, _ = logistic.step_functions(X, alpha=alpha)
            cost, grads = loss(params, X, Y)
            expected = oracle(*map(backend_case.to_numpy, (X, Y, params["W"], params["b"])), alpha=alpha)
            assert_matches_oracle(backend_case, cost, grads["W"], grads["b"], expected)
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
        expected = oracle(*map(backend_case.to_numpy, (X, Y, params["W"], params["b"])), alpha=0.1, learning_rate=0.5)
        assert_matches_oracle(backend_case, cost, new["W"], new["b"], expected)
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
        for key in ("W", "b"):
            assert np.all(np.isfinite(backend_case.to_numpy(grads[key])))
        # gradients of the size of X (1e3): compared relative to their largest entry, 1e-9 in float64
        expected = oracle(*map(backend_case.to_numpy, (X, Y, params["W"], params["b"])))
        assert_matches_oracle(backend_case, cost, grads["W"], grads["b"], expected)
        assert_matches_oracle(backend_case, cost_ref, grads_ref["W"], grads_ref["b"], expected)

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
        loss = lambda p, x, y: logistic.loss_and_grads(p, x, y, alpha=0.01)  # noqa: E731
        step = lambda p, x, y, rate: logistic.gd_step(p, x, y, rate, alpha=0.01)  # noqa: E731
        generic, fused = (
            train.train(
                steps, params, ArrayData(X, Y, batch_size=batch_size),
                optimizer=gradient_descent(inverse_time_decay(0.5, 0.1)), max_iter=40, rng=np.random.default_rng(1),
            )
            for steps in (loss, train.Steps(loss, step))
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

        result = train.train(train.Steps(lambda p, x, y: logistic.loss_and_grads(p, x, y), refuse), params, (X, Y), optimizer=adam(0.01), max_iter=5)
        assert len(result.loss_curve) == 5

    def test_bad_schedule_still_reported(self, backend_case):
        X, Y, params = on(backend_case, *problem(20, 2))
        with pytest.raises(ValueError, match="learning-rate schedule returned"):
            train.train(train.Steps(lambda p, x, y: logistic.loss_and_grads(p, x, y), lambda p, x, y, rate: logistic.gd_step(p, x, y, rate)), params, (X, Y), optimizer=gradient_descent(lambda step: -1.0), max_iter=3)


class TestEstimator:
    @pytest.mark.parametrize("batch_size", [None, 128])
    def test_kernels_on_and_off_agree(self, backend_case, monkeypatch, batch_size):
        if not backend_case.has_kernels:  # elsewhere both fits run the same Array API code: nothing to compare
            pytest.skip("compares the compiled kernels with the Array API code: needs a usable CuPy")
        X_host, Y_host, _ = problem(600, 20)
        X = backend_case.asarray(X_host)
        check_kernels_used(backend_case, X)
        y = Y_host[:, 0]
        settings = dict(learning_rate=0.3, max_iter=300, alpha=1e-3, batch_size=batch_size, random_state=0)
        with_kernels = LogisticRegression(**settings).fit(X, y)
        monkeypatch.setenv(kernels.ENV_VAR, "off")
        assert kernels.logistic_steps(X, None, None) is None
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
        monkeypatch.setenv(kernels.ENV_VAR, value)
        assert not kernels.enabled()

    @pytest.mark.parametrize("value", ["auto", "on", "1", ""])
    def test_on(self, monkeypatch, value):
        monkeypatch.setenv(kernels.ENV_VAR, value)
        assert kernels.enabled()

    def test_invalid_value_names_the_variable(self, monkeypatch):
        monkeypatch.setenv(kernels.ENV_VAR, "fast")
        with pytest.raises(ValueError, match="NEURALCORE_KERNELS='fast'"):
            kernels.enabled()

    @pytest.mark.parametrize("model", [LogisticRegression(max_iter=2), "two-layer"])
    def test_invalid_value_fails_every_fit(self, backend_case, monkeypatch, model):
        from neuralcore import TwoLayerNet

        model = TwoLayerNet(3, max_iter=2) if model == "two-layer" else model
        monkeypatch.setenv(kernels.ENV_VAR, "fast")
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
        compiled = kernels.binary_output_and_cross_entropy(z, y)
        assert (compiled is not None) == backend_case.has_kernels
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
        assert kernels.binary_output_and_cross_entropy(z, y) is None  # declined on every backend
        from neuralcore import losses

        _, cost = losses.output_and_cross_entropy(z, y)
        np.testing.assert_allclose(float(cost), np.log(3), rtol=backend_case.rtol)

    def test_descend_is_bit_for_bit_the_two_step_update(self, backend_case):
        from neuralcore.optim import apply_updates, descend, gradient_descent

        rng = np.random.default_rng(6)
        params = {"W": backend_case.asarray(rng.normal(size=(30, 4))), "b": backend_case.asarray(rng.normal(size=4))}
        grads = {k: backend_case.asarray(rng.normal(size=v.shape) * 3) for k, v in params.items()}
        kernel = kernels.descend(params["W"], grads["W"], -0.3)
        assert (kernel is not None) == backend_case.has_kernels
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
        generic = train.train(lambda p, x, y: two_layer.loss_and_grads(p, x, y, **kwargs), params, (X, Y), optimizer=gradient_descent(0.1), max_iter=30)
        fused = train.train(train.Steps(lambda p, x, y: two_layer.loss_and_grads(p, x, y, **kwargs), lambda p, x, y, rate: two_layer.gd_step(p, x, y, rate, **kwargs)), params, (X, Y), optimizer=gradient_descent(0.1), max_iter=30)
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
        monkeypatch.setenv(kernels.ENV_VAR, "off")
        reference = TwoLayerNet(**settings).fit(X, Y_host[:, 0])
        rtol = 1e-9 if backend_case.dtype == "float64" else 1e-3
        np.testing.assert_allclose(with_kernels.loss_curve_, reference.loss_curve_, rtol=rtol)


class TestOptimizerContract:
    def test_gradient_descent_is_still_an_init_update_pair(self):
        optimizer = gradient_descent(0.1)
        init, update = optimizer.init, optimizer.update
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
        train.train(train.Steps(lambda p, x, y: logistic.loss_and_grads(p, x, y), lambda p, x, y, rate: logistic.gd_step(p, x, y, rate)), params, (X, Y), optimizer=optimizer, max_iter=4)
        assert len(calls) == 4



# ------------------------------------------------------------------ every layout, and the GPU's corner cases


def _layout_features():
    """One feature count per layout of ``_cuda.layout`` (chosen from the layouts themselves): the narrowest
    row of the layout (idle lanes) and the widest (registers full) in turn, ending on 12288."""
    from neuralcore import _cuda

    spans = {}
    for f in range(1, _cuda.MAX_FEATURES + 1):
        low, _ = spans.get(_cuda.layout(f), (f, f))
        spans[_cuda.layout(f)] = (low, f)
    return [low if i % 2 == 0 else high for i, (low, high) in enumerate(spans.values())]


LAYOUT_FEATURES = _layout_features()
GPU_CASES = [c for c in BACKEND_CASES if c.name == "cupy"]
NO_GPU = "no usable CUDA device: ci/gpu_checks.sh runs these (with the CuPy cases required)"


def test_layout_features_reach_every_layout():
    """The GPU tests below must reach every layout the kernels have (56: four team widths, the block
    layouts for 1025-12288 features, the float64 one that spills registers included)."""
    from neuralcore import _cuda

    every = {_cuda.layout(f) for f in range(1, _cuda.MAX_FEATURES + 1)}
    assert len(every) == 56
    assert {_cuda.layout(f) for f in LAYOUT_FEATURES} == every
    assert len(LAYOUT_FEATURES) == len(every)
    assert max(LAYOUT_FEATURES) == _cuda.MAX_FEATURES and 1 in LAYOUT_FEATURES


@pytest.mark.skipif(not GPU_CASES, reason=NO_GPU)
@pytest.mark.parametrize("case", GPU_CASES, ids=[c.id for c in GPU_CASES])
class TestOnGPU:
    """The CUDA kernels against the float64 oracle (and the reference), on a GPU."""

    def kernels(self, X):
        fused = kernels.logistic_steps(X, logistic.loss_and_grads, logistic.gd_step)
        assert fused is not None
        return fused

    def check(self, case, kernels, X, Y, params, alpha=0.2, rate=0.7):
        host = [case.to_numpy(a) for a in (X, Y, params["W"], params["b"])]
        cost, grads = kernels.loss_and_grads(params, X, Y, alpha=alpha)
        assert_matches_oracle(case, cost, grads["W"], grads["b"], oracle(*host, alpha=alpha))
        cost, new = kernels.gd_step(params, X, Y, rate, alpha=alpha)
        assert_matches_oracle(case, cost, new["W"], new["b"], oracle(*host, alpha=alpha, learning_rate=rate))

    @pytest.mark.parametrize("f", LAYOUT_FEATURES)
    def test_every_layout(self, case, f):
        import cupy

        X, Y, params = on(case, *problem(257, f, seed=f))
        kernels = self.kernels(X)
        self.check(case, kernels, X, Y, params)
        assert kernels._data.get(X, Y, cupy.cuda.get_current_stream().ptr, 0.2) is not None  # the kernels ran

    def test_offset_view_and_broadcast_targets(self, case):
        import cupy

        X, Y, params = on(case, *problem(300, 40))
        view = X[:, 3:]  # rows start 3 values in: an offset pointer, rows still contiguous
        small = {"W": params["W"][3:], "b": params["b"]}
        small = {"W": cupy.ascontiguousarray(small["W"]), "b": small["b"]}
        kernels = self.kernels(view)
        self.check(case, kernels, view, Y, small)
        assert kernels._data.get(view, Y, cupy.cuda.get_current_stream().ptr, 0.2) is not None
        ones = cupy.broadcast_to(Y[:1] * 0 + 1, Y.shape)  # stride 0: every target the same
        assert ones.strides[0] == 0
        self.check(case, kernels, X[:, 3:], ones, small)

    def test_fortran_order_falls_back(self, case):
        import cupy

        X, Y, params = on(case, *problem(300, 40))
        fortran = cupy.asfortranarray(X)
        kernels = self.kernels(fortran)
        self.check(case, kernels, fortran, Y, params)
        assert kernels._launch_data(fortran, Y, 0.2) is None  # the reference ran

    def test_other_streams(self, case):
        import cupy

        X, Y, params = on(case, *problem(3000, 100))
        kernels = self.kernels(X)
        for _ in range(2):
            with cupy.cuda.Stream(non_blocking=True):
                self.check(case, kernels, X, Y, params)
            self.check(case, kernels, X, Y, params)

    def test_a_launch_that_raises_gives_reference_results_and_one_warning(self, case, monkeypatch):
        from neuralcore import _cuda

        def broken(*args):
            raise RuntimeError("planted launch failure")

        monkeypatch.setattr(_cuda, "_FAILED", {})
        monkeypatch.setattr(_cuda, "_functions", lambda *key: (broken, broken, 4))
        X, Y, params = on(case, *problem(200, 30))
        with pytest.warns(_cuda.KernelFallbackWarning) as caught:
            for _ in range(3):
                self.check(case, self.kernels(X), X, Y, params)
        assert len([w for w in caught if issubclass(w.category, _cuda.KernelFallbackWarning)]) == 1

    def test_two_threads_on_one_step(self, case):
        import threading

        problems = [on(case, *problem(5000, 64, seed=s)) for s in (1, 2)]
        kernels = self.kernels(problems[0][0])
        errors = []
        barrier = threading.Barrier(2)

        def work(X, Y, params):
            try:
                for _ in range(30):
                    barrier.wait()
                    self.check(case, kernels, X, Y, params)
            except BaseException as error:  # reported below, from the main thread
                errors.append(error)
                barrier.abort()

        threads = [threading.Thread(target=work, args=p) for p in problems]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[0]

    def test_more_rows_than_resident_blocks_hold(self, case):
        """The grid is capped at the blocks that fit on the GPU at once: each block loops over many groups."""
        import cupy

        from neuralcore import _cuda

        f = 1
        k, r, team = _cuda.layout(f)
        resident = _cuda._functions(_cuda._CTYPES[case.dtype], k, r, team, cupy.cuda.Device().id)[2]
        rows_per_block = (_cuda._BLOCK // team) * r
        n = resident * rows_per_block * _cuda.MIN_ROW_GROUPS * 3 + 17
        X, Y, params = on(case, *problem(n, f, seed=3))
        kernels = self.kernels(X)
        self.check(case, kernels, X, Y, params)
        launch = kernels._data.get(X, Y, cupy.cuda.get_current_stream().ptr, 0.2)
        assert launch[1] == (resident,)

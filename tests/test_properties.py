"""Property-based tests (hypothesis) of the activations, the losses, the
gradients and the fitted estimators, on every backend, with extreme values.

Every ``@settings`` uses ``database=None`` (no ``.hypothesis`` folder in the
repository) and ``derandomize=True`` (the same examples on every run, so CI
never flakes; ``NEURALCORE_HYPOTHESIS_SCALE=20`` searches 20 times deeper, with
fresh random examples); the examples still cover huge logits (up to 1e300 in float64,
1e38 in float32), tiny ones, exact zeros and signed zeros.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import neuralcore
from neuralcore import LogisticRegression, TwoLayerNet, activations, logistic, losses

# NEURALCORE_HYPOTHESIS_SCALE=N runs N times more examples, randomized (a deeper, slower search).
_SCALE = max(1, int(os.environ.get("NEURALCORE_HYPOTHESIS_SCALE", "1")))

# Backend-parametrized tests: few examples per backend (there are up to 6 backends).
BACKEND_SETTINGS = settings(
    max_examples=20 * _SCALE,
    deadline=None,
    database=None,
    derandomize=_SCALE == 1,
    # the test classes hold no state, so running a method from several parametrized instances is safe
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.differing_executors],
)
# NumPy-only tests: cheap, more examples.
HOST_SETTINGS = settings(
    max_examples=60 * _SCALE, deadline=None, database=None, derandomize=_SCALE == 1,
    suppress_health_check=[HealthCheck.differing_executors],
)

EXTREMES = [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 1e-8, -1e-8, 1.0, -1.0, 36.0, -36.0, 710.0, -710.0,
            745.2, -745.2, 1e3, -1e3, 1e4, -1e4, 1e6, -1e6, 1e30, -1e30]


def _limit(dtype: str) -> float:
    """The largest magnitude drawn for a dtype (float32 data beyond ~3.4e38 cannot be placed at all)."""
    return 1e300 if dtype == "float64" else 1e38


def _eps(dtype: str) -> float:
    return float(np.finfo(dtype).eps)


def values(dtype: str, bound: float | None = None):
    """Finite floats, biased toward the extremes and representable in ``dtype`` (no overflow on casting)."""
    bound = _limit(dtype) if bound is None else bound
    extremes = [v for v in EXTREMES if abs(v) <= bound]
    if dtype == "float32":  # float32 subnormals flush differently; keep its tiny values normal
        extremes = [v for v in extremes if v == 0 or abs(v) >= 1e-30]
    width = 32 if dtype == "float32" else 64
    if width == 32:
        bound = float(np.float32(bound))  # hypothesis wants bounds exactly representable at the width
    return st.one_of(
        st.sampled_from(extremes),
        st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=width),
    )


def vectors(dtype: str, bound: float | None = None, min_size: int = 1, max_size: int = 24):
    return st.lists(values(dtype, bound), min_size=min_size, max_size=max_size).map(
        lambda v: np.asarray(v, dtype=dtype)
    )


def place(case, host):
    """Host data on the case's backend and device, in its dtype."""
    return case.asarray(np.asarray(host, dtype=case.dtype))


def host(case, x):
    return np.asarray(case.to_numpy(x), dtype=np.float64)


# ----------------------------------------------------------------------------- activations


class TestActivationProperties:
    @BACKEND_SETTINGS
    @given(data=st.data())
    def test_sigmoid_range_symmetry_monotonicity(self, backend_case, data):
        z = data.draw(vectors(backend_case.dtype), label="z")
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            s_dev = activations.sigmoid(place(backend_case, z))
            s_neg_dev = activations.sigmoid(place(backend_case, -z))
        backend_case.assert_on_case(s_dev)
        s, s_neg = host(backend_case, s_dev), host(backend_case, s_neg_dev)
        assert np.all(np.isfinite(s))
        assert np.all((s >= 0) & (s <= 1))
        eps = _eps(backend_case.dtype)
        np.testing.assert_allclose(s_neg, 1 - s, rtol=0, atol=4 * eps)
        order = np.argsort(z, kind="stable")
        assert np.all(np.diff(s[order]) >= 0), "sigmoid is not monotone"
        # the sign of the logit decides which side of 1/2 the probability is on
        assert np.all(s[z > 0] >= 0.5) and np.all(s[z < 0] <= 0.5)
        assert np.all(s[z == 0] == 0.5)

    @BACKEND_SETTINGS
    @given(data=st.data())
    def test_tanh_relu_leaky_relu(self, backend_case, data):
        z = data.draw(vectors(backend_case.dtype), label="z")
        zd, zn = place(backend_case, z), place(backend_case, -z)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            t, t_neg = activations.tanh(zd), activations.tanh(zn)
            r, r_neg = activations.relu(zd), activations.relu(zn)
            lk = activations.leaky_relu(zd)
        for out in (t, r, lk):
            backend_case.assert_on_case(out)
        t, t_neg, r, r_neg, lk = (host(backend_case, a) for a in (t, t_neg, r, r_neg, lk))
        order = np.argsort(z, kind="stable")
        eps = _eps(backend_case.dtype)
        # tanh: odd, bounded, monotone
        assert np.all(np.abs(t) <= 1)
        np.testing.assert_allclose(t_neg, -t, rtol=0, atol=2 * eps)
        assert np.all(np.diff(t[order]) >= 0)
        # relu: non-negative, relu(z) - relu(-z) == z exactly, monotone
        z64 = z.astype(np.float64)
        assert np.all(r >= 0)
        np.testing.assert_array_equal(r - r_neg, z64)
        assert np.all(np.diff(r[order]) >= 0)
        # leaky relu: keeps the sign, identity for positive inputs, slope LEAKY_RELU_SLOPE below, monotone
        assert np.all(np.sign(lk) == np.sign(z64) * (np.abs(lk) > 0))
        np.testing.assert_array_equal(lk[z > 0], z64[z > 0])
        tiny = float(np.finfo(backend_case.dtype).smallest_normal)  # subnormal products lose relative precision
        np.testing.assert_allclose(lk[z <= 0], activations.LEAKY_RELU_SLOPE * z64[z <= 0], rtol=2 * eps, atol=tiny)
        assert np.all(np.diff(lk[order]) >= 0)

    @BACKEND_SETTINGS
    @given(data=st.data())
    def test_softmax_rows_are_distributions(self, backend_case, data):
        n = data.draw(st.integers(1, 6), label="n")
        k = data.draw(st.integers(1, 5), label="k")
        rows = data.draw(st.lists(vectors(backend_case.dtype, min_size=k, max_size=k), min_size=n, max_size=n), label="z")
        z = np.stack(rows)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            p_dev = activations.softmax(place(backend_case, z))
        backend_case.assert_on_case(p_dev)
        p = host(backend_case, p_dev)
        assert p.shape == z.shape
        assert np.all(np.isfinite(p)) and np.all(p >= 0) and np.all(p <= 1)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=8 * k * _eps(backend_case.dtype))
        # the largest logit gets the largest probability
        top = p[np.arange(n), np.argmax(z, axis=1)]
        np.testing.assert_array_equal(top, p.max(axis=1))

    @BACKEND_SETTINGS
    @given(data=st.data())
    def test_softmax_is_invariant_to_a_constant_per_row(self, backend_case, data):
        n = data.draw(st.integers(1, 6), label="n")
        k = data.draw(st.integers(2, 5), label="k")
        # moderate logits: beyond them z + c itself rounds, and the rounded logits legitimately differ
        z = np.stack(data.draw(st.lists(vectors("float64", 50.0, k, k), min_size=n, max_size=n), label="z"))
        c = np.asarray(data.draw(st.lists(st.floats(-50, 50), min_size=n, max_size=n), label="c")).reshape(n, 1)
        shifted = (z + c).astype(backend_case.dtype)
        z = z.astype(backend_case.dtype)
        p = host(backend_case, activations.softmax(place(backend_case, z)))
        q = host(backend_case, activations.softmax(place(backend_case, shifted)))
        # a logit error of eps * 100 changes a probability p by at most about p * eps * 100 (twice)
        np.testing.assert_allclose(q, p, rtol=0, atol=400 * _eps(backend_case.dtype))

    def test_tiny_and_huge_inputs_keep_their_limits(self, backend_case):
        big = _limit(backend_case.dtype)
        z = place(backend_case, [-big, -1e4, -700.0 if backend_case.dtype == "float64" else -80.0, -0.0, 0.0, 1e4, big])
        s = host(backend_case, activations.sigmoid(z))
        assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == s[4] == 0.5
        assert 0 < s[2] < 1e-30  # the far tail keeps relative precision: a tiny positive number, not 0
        p = host(backend_case, activations.softmax(place(backend_case, [[big, -big], [0.0, -0.0], [-big, -big]])))
        np.testing.assert_array_equal(p, [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]])

    def test_softmax_and_categorical_loss_at_the_float64_limits(self):
        z = np.asarray([[1e308, -1e308]])
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            p = activations.softmax(z)
            loss = float(losses.categorical_cross_entropy(z, np.asarray([[1.0, 0.0]])))
        np.testing.assert_array_equal(p, [[1.0, 0.0]])
        assert loss == 0.0


# ----------------------------------------------------------------------------------- losses


def reference_bce(z, y):
    """float64 reference: y * softplus(-z) + (1 - y) * softplus(z), with softplus(t) = logaddexp(0, t)."""
    z, y = np.asarray(z, np.float64), np.asarray(y, np.float64)
    return y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)


def reference_cce(z, y):
    """float64 reference: mean over rows of -sum(y * (z - logsumexp(z)))."""
    z, y = np.asarray(z, np.float64), np.asarray(y, np.float64)
    lse = np.logaddexp.reduce(z, axis=1, keepdims=True)
    return float(np.sum(y * (lse - z)) / z.shape[0])


def targets(n: int, soft: bool):
    if soft:
        return st.lists(st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0, 1)), min_size=n, max_size=n)
    return st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)


class TestLossProperties:
    @BACKEND_SETTINGS
    @given(data=st.data())
    def test_binary_cross_entropy_matches_logaddexp_reference(self, backend_case, data):
        dtype = backend_case.dtype
        z = data.draw(vectors(dtype, 1e6), label="z").reshape(-1, 1)
        soft = data.draw(st.booleans(), label="soft")
        y = np.asarray(data.draw(targets(z.shape[0], soft), label="y"), dtype=dtype).reshape(-1, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            per_dev = losses.binary_cross_entropy_per_sample(place(backend_case, z), place(backend_case, y))
            mean_dev = losses.binary_cross_entropy(place(backend_case, z), place(backend_case, y))
        backend_case.assert_on_case(per_dev)
        per, mean = host(backend_case, per_dev), float(host(backend_case, mean_dev))
        assert per.shape == z.shape
        assert np.all(np.isfinite(per)) and np.all(per >= 0)
        ref = reference_bce(z, y)  # from the same (rounded) inputs
        eps = _eps(dtype)
        # max(z, 0) - z * y cancels for soft targets: an absolute error of a few eps * |z| is inherent
        np.testing.assert_array_less(np.abs(per - ref), 4 * eps * (ref + np.abs(z.astype(np.float64)) + 1))
        assert np.isfinite(mean) and mean >= 0
        np.testing.assert_allclose(mean, per.mean(), rtol=8 * eps, atol=8 * eps)

    @HOST_SETTINGS
    @given(z=vectors("float64", 1e300), y=st.lists(st.sampled_from([0.0, 1.0]), min_size=24, max_size=24))
    def test_binary_cross_entropy_full_float64_range_hard_labels(self, z, y):
        y = np.asarray(y[: z.shape[0]])
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            per = losses.binary_cross_entropy_per_sample(z, y)
        ref = reference_bce(z, y)
        assert np.all(np.isfinite(per)) and np.all(per >= 0)
        # hard labels: no cancellation at all, so full relative precision even at 1e300
        np.testing.assert_allclose(per, ref, rtol=1e-14, atol=1e-300)

    @BACKEND_SETTINGS
    @given(data=st.data())
    def test_categorical_cross_entropy_matches_logsumexp_reference(self, backend_case, data):
        dtype = backend_case.dtype
        n = data.draw(st.integers(1, 6), label="n")
        k = data.draw(st.integers(2, 5), label="k")
        z = np.stack(data.draw(st.lists(vectors(dtype, 1e6, k, k), min_size=n, max_size=n), label="z"))
        labels = np.asarray(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n), label="labels"))
        y = np.eye(k, dtype=dtype)[labels]
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            out = losses.categorical_cross_entropy(place(backend_case, z), place(backend_case, y))
            both = losses.cross_entropy(place(backend_case, z), place(backend_case, y))
        backend_case.assert_on_case(out)
        value = float(host(backend_case, out))
        assert np.isfinite(value) and value >= 0
        ref = reference_cce(z, y)
        tol = 8 * k * _eps(dtype) * (ref + np.abs(z.astype(np.float64)).max() + 1)
        assert abs(value - ref) <= tol, (value, ref)
        assert float(host(backend_case, both)) == value

    @HOST_SETTINGS
    @given(
        z=vectors("float64", 20.0, 1, 12),
        y=st.lists(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)), min_size=12, max_size=12),
    )
    def test_binary_cross_entropy_derivative_is_sigmoid_minus_y(self, z, y):
        y = np.asarray(y[: z.shape[0]])
        h = 1e-5
        numerical = (
            losses.binary_cross_entropy_per_sample(z + h, y) - losses.binary_cross_entropy_per_sample(z - h, y)
        ) / (2 * h)
        np.testing.assert_allclose(numerical, activations.sigmoid(z) - y, rtol=0, atol=1e-8)

    @HOST_SETTINGS
    @given(data=st.data())
    def test_categorical_cross_entropy_derivative_is_softmax_minus_y(self, data):
        n = data.draw(st.integers(1, 4), label="n")
        k = data.draw(st.integers(2, 4), label="k")
        z = np.stack(data.draw(st.lists(vectors("float64", 20.0, k, k), min_size=n, max_size=n), label="z"))
        y = np.eye(k)[np.asarray(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))]
        h = 1e-5
        numerical = np.empty_like(z)
        for index in np.ndindex(*z.shape):
            bump = np.zeros_like(z)
            bump[index] = h
            plus = float(losses.categorical_cross_entropy(z + bump, y))
            minus = float(losses.categorical_cross_entropy(z - bump, y))
            numerical[index] = (plus - minus) / (2 * h)
        np.testing.assert_allclose(numerical, (activations.softmax(z) - y) / n, rtol=0, atol=1e-8)


# ------------------------------------------------------------------------------ gradcheck


def make_problem(seed: int, n: int, n_features: int, n_classes: int, scale: float = 1.0):
    """Random features and labels in which every class occurs."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features)) * scale
    y = rng.integers(0, n_classes, size=n)
    y[:n_classes] = np.arange(n_classes)
    return X, rng.permutation(y)


def assert_gradients_agree(result):
    """The relative error passes, or, at a point where the gradient itself is tiny (the relative
    criterion then measures round-off: about 1e-16 * J / eps = 1e-10 per entry), the absolute
    difference is round-off sized. A wrong gradient differs by about the gradient's own size."""
    g = np.concatenate([v.ravel() for v in result.analytic.values()])
    g_num = np.concatenate([v.ravel() for v in result.numerical.values()])
    absolute = float(np.linalg.norm(g - g_num))
    assert result.passed or absolute <= 1e-8 * np.sqrt(g.size), (result.relative_error, absolute, np.linalg.norm(g))


problems = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**31 - 1),
        "n": st.integers(5, 30),
        "n_features": st.integers(1, 4),
        "n_classes": st.sampled_from([2, 3]),
    }
)


class TestGradientProperties:
    @HOST_SETTINGS
    @given(
        problem=problems,
        hidden=st.integers(1, 5),
        activation=st.sampled_from(["tanh", "sigmoid"]),
        alpha=st.sampled_from([0.0, 0.1]),
        scale=st.sampled_from([0.1, 1.0, 3.0]),
    )
    def test_two_layer_smooth_activations(self, problem, hidden, activation, alpha, scale):
        X, y = make_problem(**problem, scale=scale)
        net = TwoLayerNet(hidden, activation=activation, alpha=alpha, random_state=problem["seed"], backend="numpy")
        result = neuralcore.gradcheck_estimator(net, X, y)
        assert_gradients_agree(result)
        assert set(result.analytic) == {"W1", "b1", "W2", "b2"}
        k = 1 if problem["n_classes"] == 2 else problem["n_classes"]
        assert result.analytic["W2"].shape == (hidden, k)

    @HOST_SETTINGS
    @given(problem=problems, alpha=st.sampled_from([0.0, 0.1]), scale=st.sampled_from([0.1, 1.0, 3.0]))
    def test_logistic_regression(self, problem, alpha, scale):
        X, y = make_problem(**problem, scale=scale)
        model = LogisticRegression(init="normal", alpha=alpha, random_state=problem["seed"], backend="numpy")
        result = neuralcore.gradcheck_estimator(model, X, y)
        assert_gradients_agree(result)

    @HOST_SETTINGS
    @given(
        problem=problems,
        hidden=st.integers(1, 5),
        activation=st.sampled_from(["relu", "leaky_relu"]),
        alpha=st.sampled_from([0.0, 0.1]),
    )
    def test_two_layer_kinked_activations_away_from_the_kinks(self, problem, hidden, activation, alpha):
        X, y = make_problem(**problem)
        rng = np.random.default_rng(problem["seed"])
        k = 1 if problem["n_classes"] == 2 else problem["n_classes"]
        params = {
            "W1": rng.normal(size=(X.shape[1], hidden)),
            "b1": rng.normal(size=hidden),
            "W2": rng.normal(size=(hidden, k)),
            "b2": rng.normal(size=k),
        }
        # a central difference straddling a kink is not a gradient: keep every pre-activation away from 0
        assume(np.abs(X @ params["W1"] + params["b1"]).min() > 1e-3)
        net = TwoLayerNet(hidden, activation=activation, alpha=alpha, backend="numpy")
        result = neuralcore.gradcheck_estimator(net, X, y, params=params)
        assert_gradients_agree(result)

    @HOST_SETTINGS
    @given(problem=problems, error=st.sampled_from([1e-3, -1e-2, 0.5]))
    def test_the_check_catches_a_slightly_wrong_gradient(self, problem, error):
        """The tolerance in assert_gradients_agree is not so loose that it passes a wrong backward pass."""
        X, y = make_problem(**problem)
        Y = (np.asarray(y) == 1).astype(np.float64).reshape(-1, 1)
        rng = np.random.default_rng(problem["seed"])
        params = {"W": rng.normal(size=(X.shape[1], 1)), "b": rng.normal(size=1)}

        def wrong(p):
            cost, grads = logistic.loss_and_grads(p, X, Y)
            return cost, {**grads, "W": grads["W"] * (1 + error)}

        assert neuralcore.gradcheck(lambda p: logistic.loss_and_grads(p, X, Y), params).passed
        with pytest.raises(AssertionError):
            assert_gradients_agree(neuralcore.gradcheck(wrong, params))

    @pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
    @pytest.mark.parametrize("n_classes", [2, 3])
    @pytest.mark.parametrize("alpha", [0.0, 0.1])
    def test_fixed_problem_every_activation(self, activation, n_classes, alpha):
        X, y = make_problem(7, 25, 3, n_classes)
        rng = np.random.default_rng(11)
        k = 1 if n_classes == 2 else n_classes
        params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4), "W2": rng.normal(size=(4, k)), "b2": rng.normal(size=k)}
        # fixed data chosen so that no pre-activation lies within eps * |x| of a relu kink
        assert np.abs(X @ params["W1"] + params["b1"]).min() > 1e-3
        net = TwoLayerNet(4, activation=activation, alpha=alpha, backend="numpy")
        result = neuralcore.gradcheck_estimator(net, X, y, params=params)
        assert result.passed, result.relative_error
        # and at the estimator's own default check point (its initial parameters, nudged)
        if activation in ("tanh", "sigmoid"):
            assert neuralcore.gradcheck_estimator(TwoLayerNet(4, activation=activation, alpha=alpha, random_state=3,
                                                              backend="numpy"), X, y).passed


# ----------------------------------------------------------------------------- estimators

LABEL_SETS = [np.asarray([0, 1, 2]), np.asarray([-1, 1, 7]), np.asarray(["cat", "dog", "emu"]), np.asarray([2.0, 5.0, 9.0])]


@st.composite
def estimator_problems(draw):
    problem = draw(problems)
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    labels = draw(st.sampled_from(LABEL_SETS))
    kind = draw(st.sampled_from(["logistic", "logistic-lbfgs", "two-layer", "two-layer-adam"]))
    activation = draw(st.sampled_from(["tanh", "sigmoid", "relu", "leaky_relu"]))
    return problem, scale, labels, kind, activation


def build(kind, activation, scale, case, seed):
    common = dict(backend=case.spec, dtype=case.dtype, random_state=seed)
    if kind == "logistic":
        # logits move by about learning_rate * scale**2 per step: larger steps explode (a divergence)
        return LogisticRegression(learning_rate=0.1 / max(scale, 1.0) ** 2, max_iter=30, init="normal", **common)
    if kind == "logistic-lbfgs":
        return LogisticRegression(solver="lbfgs", alpha=0.1, max_iter=30, **common)
    # unbounded units with large inputs and a large step grow geometrically (divergence is tested elsewhere)
    lr = 0.5 if activation in ("tanh", "sigmoid") else 0.5 / max(scale, 1.0)
    if kind == "two-layer":
        return TwoLayerNet(3, activation=activation, learning_rate=lr, max_iter=30, **common)
    return TwoLayerNet(3, activation=activation, optimizer="adam", learning_rate=0.01, batch_size=4, max_iter=5,
                       alpha=0.01, **common)


class TestEstimatorProperties:
    @BACKEND_SETTINGS
    @given(spec=estimator_problems())
    def test_fitted_outputs_are_consistent(self, backend_case, spec):
        problem, scale, labels, kind, activation = spec
        X, y_index = make_problem(**problem, scale=scale)
        y = labels[y_index]
        model = build(kind, activation, scale, backend_case, problem["seed"])
        Xd = place(backend_case, X)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            warnings.simplefilter("ignore", neuralcore.ConvergenceWarning)
            model.fit(Xd, y)
            proba_dev = model.predict_proba(Xd)
            predicted = np.asarray(backend_case.to_numpy(model.predict(Xd)))
            decision = host(backend_case, model.decision_function(Xd))
            score = model.score(Xd, y)
        n, n_classes = X.shape[0], problem["n_classes"]
        backend_case.assert_on_case(proba_dev)
        proba = host(backend_case, proba_dev)
        np.testing.assert_array_equal(model.classes_, np.unique(y))

        # costs: one per epoch, finite, non-negative
        assert len(model.loss_curve_) == model.n_iter_ >= 1
        assert all(np.isfinite(c) and c >= 0 for c in model.loss_curve_), model.loss_curve_

        # probabilities: rows of a distribution over classes_
        tol = 1e-5 if backend_case.dtype == "float32" else 1e-12
        assert proba.shape == (n, n_classes)
        assert np.all(np.isfinite(proba)) and np.all(proba >= 0) and np.all(proba <= 1)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=tol)

        # predict: the most probable class, except where the top two probabilities tie
        assert predicted.shape == (n,)
        top_two = np.sort(proba, axis=1)[:, -2:]
        clear = (top_two[:, 1] - top_two[:, 0]) >= 1e-6
        expected = model.classes_[np.argmax(proba, axis=1)]
        np.testing.assert_array_equal(predicted[clear], expected[clear])
        assert set(predicted.tolist()) <= set(model.classes_.tolist())

        # decision function: the sign (two classes) or the argmax (more) gives the prediction
        if n_classes == 2:
            assert decision.shape == (n,)
            np.testing.assert_array_equal(predicted == model.classes_[1], decision > 0)
        else:
            assert decision.shape == (n, n_classes)
            np.testing.assert_array_equal(predicted, model.classes_[np.argmax(decision, axis=1)])

        # score: accuracy in [0, 1], the fraction of correct predictions
        assert 0.0 <= score <= 1.0
        assert score == pytest.approx(np.mean(predicted == y))

    @BACKEND_SETTINGS
    @given(spec=estimator_problems(), factor=st.sampled_from([1e-6, 1e3, 1e6]))
    def test_predictions_on_rescaled_inputs_stay_valid(self, backend_case, spec, factor):
        """A model fitted at one scale, asked about inputs far outside it: saturated but valid outputs."""
        problem, scale, labels, kind, activation = spec
        X, y_index = make_problem(**problem, scale=1.0)
        model = build(kind, activation, 1.0, backend_case, problem["seed"])
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            warnings.simplefilter("ignore", neuralcore.ConvergenceWarning)
            model.fit(place(backend_case, X), labels[y_index])
            far = place(backend_case, X * factor)
            proba = host(backend_case, model.predict_proba(far))
            predicted = np.asarray(backend_case.to_numpy(model.predict(far)))
        assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-5)
        top_two = np.sort(proba, axis=1)[:, -2:]
        clear = (top_two[:, 1] - top_two[:, 0]) >= 1e-6
        np.testing.assert_array_equal(predicted[clear], model.classes_[np.argmax(proba, axis=1)][clear])

"""Attacks on sample and class weights (issue 14): extreme values, odd label types, the documented formula.

Weights ``w`` and ``c * w`` are documented to give the same fit for every ``c > 0``; these tests push
``c`` to the ends of float64 (sums that overflow, denormals), where a naive ``w * n / sum(w)`` turns
into zeros, infinities or NaN and trains silently on nothing.
"""

import warnings

import numpy as np
import pytest

import neuralcore as nc
from neuralcore.device import to_numpy
from neuralcore.weights import check_sample_weight

RNG = np.random.default_rng(11)
X = RNG.normal(size=(30, 3))
Y2 = (X[:, 0] - 0.6 * X[:, 2] + 0.8 * RNG.normal(size=30) > 0).astype(int)
Y3 = np.argmax(X + 0.8 * RNG.normal(size=X.shape), axis=1)
WEIGHTS = RNG.uniform(0.2, 3.0, size=30)


def fitted(case, y, sample_weight=None, **kw):
    model = nc.LogisticRegression(solver="lbfgs", alpha=0.05, max_iter=200, backend=case.spec, dtype=case.dtype, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # an overflow on the way is a bug, not a warning
        warnings.simplefilter("ignore", nc.ConvergenceWarning)
        return model.fit(case.asarray(X), y, sample_weight)


def assert_same_fit(a, b, case):
    rtol, atol = (1e-9, 1e-10) if case.dtype == "float64" else (2e-4, 2e-5)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol, atol=atol)
    for key in a.params_:
        np.testing.assert_allclose(to_numpy(a.params_[key]), to_numpy(b.params_[key]), rtol=rtol, atol=atol)


class TestExtremeScales:
    """``w`` and ``c * w`` give the same fit, however large or small ``c``."""

    @pytest.mark.parametrize("scale", [1e300, 1e308, 1e-300, 1e-310], ids=["huge", "sum-overflows", "tiny", "denormal"])
    @pytest.mark.parametrize("y", [Y2, Y3], ids=["binary", "3-class"])
    def test_attack_extreme_scale_is_the_same_fit(self, scale, y, backend_case):
        plain = fitted(backend_case, y, WEIGHTS / WEIGHTS.max())
        scaled = fitted(backend_case, y, WEIGHTS / WEIGHTS.max() * scale)
        assert_same_fit(scaled, plain, backend_case)

    @pytest.mark.parametrize("value", [1e308, 5e-324], ids=["sum-overflows", "denormal"])
    def test_attack_extreme_scalar_weight_is_no_weight(self, value, backend_case):
        assert_same_fit(fitted(backend_case, Y2, value), fitted(backend_case, Y2, 1.0), backend_case)

    def test_attack_class_weight_times_sample_weight_overflows(self, backend_case):
        # 1e308 * 10 is inf in float64, yet the effective weights are all equal: the unit-weight fit
        huge = fitted(backend_case, Y2, np.full(30, 10.0), class_weight={0: 1e308, 1: 1e308})
        assert_same_fit(huge, fitted(backend_case, Y2, None), backend_case)

    def test_attack_balanced_with_huge_sample_weights(self, backend_case):
        # "balanced" is sum(w) / (n_classes * sum of the class's w): the same for w and 1e308 * w
        huge = fitted(backend_case, Y3, WEIGHTS / WEIGHTS.max() * 1e308, class_weight="balanced")
        assert_same_fit(huge, fitted(backend_case, Y3, WEIGHTS, class_weight="balanced"), backend_case)

    @pytest.mark.parametrize("scale", [1e308, 1e-310], ids=["sum-overflows", "denormal"])
    def test_attack_score_with_extreme_weights(self, scale, backend_case):
        model = fitted(backend_case, Y3)
        Xb = backend_case.asarray(X)
        expected = model.score(Xb, Y3, WEIGHTS)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            assert model.score(Xb, Y3, WEIGHTS / WEIGHTS.max() * scale) == pytest.approx(expected, rel=1e-12)

    @pytest.mark.parametrize("weights", [10**400, [10**400] + [1] * 29], ids=["scalar", "list"])
    def test_attack_python_int_beyond_float_is_a_clear_error(self, weights):
        with pytest.raises(ValueError, match="sample_weight"):
            check_sample_weight(weights, 30)
        model = nc.LogisticRegression(max_iter=2)
        with pytest.raises(ValueError, match="sample_weight"):
            model.fit(X, Y2, weights)
        assert not hasattr(model, "coef_")


class TestClassWeightLabels:
    def test_attack_numpy_bool_key_names_a_bool_label(self):
        yb = Y2.astype(bool)
        ours = nc.LogisticRegression(solver="lbfgs", class_weight={np.True_: 2.0, np.False_: 0.5}).fit(X, yb)
        plain = nc.LogisticRegression(solver="lbfgs", class_weight={True: 2.0, False: 0.5}).fit(X, yb)
        np.testing.assert_array_equal(ours.coef_, plain.coef_)

    def test_attack_numpy_bool_key_is_not_an_int_label(self):
        with pytest.raises(ValueError, match="class_weight names the label"):
            nc.LogisticRegression(solver="lbfgs", class_weight={np.True_: 2.0}).fit(X, Y2)

    def test_attack_class_weight_int_beyond_float_is_a_clear_error(self):
        model = nc.LogisticRegression(max_iter=2, class_weight={1: 10**400})
        with pytest.raises(ValueError, match=r"class_weight\[1\] must be finite"):
            model.fit(X, Y2)
        assert not hasattr(model, "coef_")


class TestDocumentedFormula:
    def test_attack_loss_curve_is_the_weighted_cost_by_hand(self, backend_case):
        """``J = sum(w_i * loss_i) / sum(w_i) + alpha / 2 * sum(W**2)``, ``w_i = sample_weight[i] * class_weight[y_i]``."""
        rng = np.random.default_rng(3)
        init = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4), "W2": rng.normal(size=(4, 3)),
                "b2": rng.normal(size=3)}
        class_weight, alpha = {0: 0.25, 2: 4.0}, 0.3
        model = nc.TwoLayerNet(4, activation="tanh", alpha=alpha, max_iter=1, learning_rate=0.1, class_weight=class_weight,
                               backend=backend_case.spec, dtype=backend_case.dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.ConvergenceWarning)
            model.fit(backend_case.asarray(X), Y3, WEIGHTS, init_params=init)
        Z = np.tanh(X @ init["W1"] + init["b1"]) @ init["W2"] + init["b2"]
        loss = np.logaddexp.reduce(Z, axis=1) - Z[np.arange(30), Y3]
        w = WEIGHTS * np.array([0.25, 1.0, 4.0])[Y3]
        expected = np.sum(w * loss) / np.sum(w) + alpha / 2 * (np.sum(init["W1"] ** 2) + np.sum(init["W2"] ** 2))
        assert model.loss_curve_[0] == pytest.approx(expected, rel=backend_case.rtol * 10)


class TestTorchDtypes:
    def test_attack_bfloat16_weights_are_their_values(self):
        torch = pytest.importorskip("torch")
        values = np.round(WEIGHTS * 8) / 8  # exact in bfloat16
        weights = torch.asarray(values, dtype=torch.bfloat16)
        Xt = torch.asarray(X)
        ours = nc.LogisticRegression(solver="lbfgs", alpha=0.05, backend="torch").fit(Xt, Y2, weights)
        plain = nc.LogisticRegression(solver="lbfgs", alpha=0.05, backend="torch").fit(Xt, Y2, values)
        np.testing.assert_array_equal(to_numpy(ours.coef_), to_numpy(plain.coef_))
        assert ours.score(Xt, Y2, weights) == plain.score(Xt, Y2, values)
        np.testing.assert_array_equal(to_numpy(weights.float()), values)  # the caller's tensor is untouched


def test_attack_partial_fit_weighs_rows_within_a_piece_not_pieces_against_each_other():
    # README: each partial_fit call's cost is the weighted mean over its own rows
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    w = rng.uniform(0.5, 2.0, size=40)
    one = nc.LogisticRegression(learning_rate=0.3, backend="numpy")
    ten = nc.LogisticRegression(learning_rate=0.3, backend="numpy")
    for piece in (slice(0, 20), slice(20, 40)):
        one.partial_fit(X[piece], y[piece], classes=[0, 1], sample_weight=w[piece])
        ten.partial_fit(X[piece], y[piece], classes=[0, 1], sample_weight=10 * w[piece] if piece.start else w[piece])
    np.testing.assert_allclose(ten.params_["W"], one.params_["W"], rtol=1e-12)
    with pytest.raises(ValueError, match="sample_weight is zero for every sample"):
        one.partial_fit(X[:5], y[:5], sample_weight=np.zeros(5))

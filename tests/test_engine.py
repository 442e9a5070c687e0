"""Estimator-level tests of the training engine: multi-class, L2, optimizers,
mini-batches, validation, reproducibility. Every backend of the fixture."""

import warnings

import numpy as np
import pytest

from neuralcore import ConvergenceWarning, LogisticRegression, TwoLayerNet, gradcheck_estimator
from neuralcore import device as nc_device
from neuralcore.activations import ACTIVATIONS
from neuralcore.optim import OPTIMIZERS


def three_blobs(n=150, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.asarray([[0.0, 3.0], [-3.0, -2.0], [3.0, -2.0]])
    y = np.arange(n) % 3
    return centers[y] + rng.normal(size=(n, 2)), np.asarray(["ant", "bee", "cat"])[y]


X3, y3 = three_blobs()
RNG = np.random.default_rng(5)
X2 = RNG.normal(size=(120, 3))
y2 = (X2 @ np.asarray([1.0, -1.0, 0.5]) + 0.3 * RNG.normal(size=120) > 0).astype(int)


class TestMultiClass:
    @pytest.mark.parametrize("make", [
        lambda case: LogisticRegression(learning_rate=0.5, max_iter=300, backend=case.spec, dtype=case.dtype),
        lambda case: TwoLayerNet(6, learning_rate=0.5, max_iter=300, random_state=0, backend=case.spec, dtype=case.dtype),
    ], ids=["LogisticRegression", "TwoLayerNet"])
    def test_softmax_output(self, make, backend_case):
        model = make(backend_case).fit(X3, y3)
        assert model.classes_.tolist() == ["ant", "bee", "cat"]
        for value in model.params_.values():
            backend_case.assert_on_case(value)
        last = "W" if "W" in model.params_ else "W2"
        assert model.params_[last].shape[1] == 3
        proba = model.predict_proba(X3)
        assert proba.shape == (150, 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(model.predict(X3), model.classes_[np.argmax(proba, axis=1)])
        assert model.decision_function(X3).shape == (150, 3)
        assert model.score(X3, y3) > 0.95
        device_proba = model.predict_proba(backend_case.asarray(X3))
        backend_case.assert_on_case(device_proba)

    def test_numeric_labels_on_the_device(self, backend_case):
        y = np.searchsorted(["ant", "bee", "cat"], y3)
        model = LogisticRegression(learning_rate=0.5, max_iter=200).fit(backend_case.asarray(X3), backend_case.asarray(y))
        predicted = model.predict(backend_case.asarray(X3))
        assert nc_device.backend_of(predicted).name == backend_case.name
        np.testing.assert_array_equal(backend_case.to_numpy(predicted), model.predict(X3))

    @pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
    def test_gradcheck_softmax_with_l2(self, activation, backend_case):
        net = TwoLayerNet(4, activation=activation, alpha=0.3, random_state=1, backend=backend_case.spec, dtype=backend_case.dtype)
        result = gradcheck_estimator(net, X3[:30], y3[:30])
        assert result.passed and result.relative_error < 1e-7, result.relative_error

    def test_gradcheck_softmax_regression(self, backend_case):
        model = LogisticRegression(alpha=0.3, init="normal", random_state=0, backend=backend_case.spec, dtype=backend_case.dtype)
        assert gradcheck_estimator(model, X3[:30], y3[:30]).passed

    def test_eval_set_with_unknown_label(self):
        with pytest.raises(ValueError, match=r"eval_set y holds labels \['dog'\] that are not among the training classes"):
            LogisticRegression(backend="numpy").fit(X3, y3, eval_set=(X3[:3], ["ant", "dog", "cat"]))


class TestRegularization:
    @pytest.mark.parametrize("make", [
        lambda case: LogisticRegression(alpha=0.5, init="normal", random_state=0, backend=case.spec, dtype=case.dtype),
        lambda case: TwoLayerNet(3, alpha=0.5, random_state=0, backend=case.spec, dtype=case.dtype),
    ], ids=["LogisticRegression", "TwoLayerNet"])
    def test_gradcheck_with_l2(self, make, backend_case):
        result = gradcheck_estimator(make(backend_case), X2[:40], y2[:40])
        assert result.passed and result.relative_error < 1e-7, result.relative_error

    def test_penalty_is_in_the_cost_and_shrinks_the_weights(self):
        plain = LogisticRegression(learning_rate=0.5, max_iter=500, backend="numpy").fit(X2, y2)
        ridge = LogisticRegression(learning_rate=0.5, max_iter=500, alpha=0.1, backend="numpy").fit(X2, y2)
        assert np.linalg.norm(ridge.params_["W"]) < 0.5 * np.linalg.norm(plain.params_["W"])
        W = ridge.params_["W"]
        # the last recorded cost includes alpha / 2 * ||W||^2 (W barely moves at the end)
        from neuralcore import logistic

        data_cost = float(logistic.loss_and_grads(ridge.params_, X2, y2.reshape(-1, 1).astype(float))[0])
        assert ridge.loss_curve_[-1] == pytest.approx(data_cost + 0.05 * float(np.sum(W**2)), rel=1e-6)

    def test_biases_are_not_penalized(self):
        from neuralcore import two_layer

        grads = two_layer.loss_and_grads
        params = {"W1": np.zeros((3, 2)), "b1": np.ones(2), "W2": np.zeros((2, 1)), "b2": np.ones(1)}
        _, with_l2 = grads(params, X2, y2.reshape(-1, 1).astype(float), alpha=10.0)
        _, without = grads(params, X2, y2.reshape(-1, 1).astype(float), alpha=0.0)
        np.testing.assert_array_equal(with_l2["b1"], without["b1"])
        np.testing.assert_array_equal(with_l2["b2"], without["b2"])


class TestOptimizersInEstimators:
    @pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
    def test_every_optimizer_trains_on_every_backend(self, optimizer, backend_case):
        lr = {"gd": 0.5, "momentum": 0.5, "nesterov": 0.5, "rmsprop": 0.01, "adam": 0.01}[optimizer]
        net = TwoLayerNet(5, optimizer=optimizer, learning_rate=lr, max_iter=30, batch_size=32, random_state=0,
                          backend=backend_case.spec, dtype=backend_case.dtype)
        net.fit(X2, y2)
        assert net.loss_curve_[-1] < net.loss_curve_[0]
        assert net.score(X2, y2) > 0.85
        for value in net.params_.values():
            backend_case.assert_on_case(value)

    def test_optimizer_params(self):
        net = TwoLayerNet(3, optimizer="momentum", optimizer_params={"beta": 0.5}, max_iter=5, backend="numpy")
        net.fit(X2, y2)
        with pytest.raises(ValueError, match="optimizer 'momentum' has no hyperparameter 'beta1'"):
            net.set_params(optimizer_params={"beta1": 0.5}).fit(X2, y2)

    def test_adam_mini_batch_beats_textbook_gd_on_the_flower(self, planar):
        X, y = planar
        adam = TwoLayerNet(8, optimizer="adam", learning_rate=0.01, batch_size=64, max_iter=300, random_state=0, backend="numpy")
        assert adam.fit(X, y).score(X, y) >= 0.88


class TestMiniBatchEstimators:
    def test_epochs_and_loss_curve(self):
        net = TwoLayerNet(3, batch_size=25, max_iter=7, learning_rate=0.3, random_state=0, backend="numpy").fit(X2, y2)
        assert net.n_iter_ == 7 and len(net.loss_curve_) == 7

    def test_reproducible_across_backends(self, backend_case):
        """One seed: the same initial weights, the same shuffled batches, the same fit on every backend."""
        kwargs = dict(optimizer="adam", learning_rate=0.01, batch_size=16, max_iter=15, random_state=3)
        ref = TwoLayerNet(5, backend="numpy", dtype="float64", **kwargs).fit(X2, y2)
        net = TwoLayerNet(5, backend=backend_case.spec, dtype=backend_case.dtype, **kwargs).fit(X2, y2)
        # float32: ~6e-8 rounding per operation, amplified through 120 Adam steps whose
        # normalized updates react to tiny gradients; 1e-3 relative (1e-4 absolute) holds.
        rtol, atol = (1e-10, 0) if backend_case.dtype == "float64" else (1e-3, 1e-4)
        for key, value in ref.params_.items():
            np.testing.assert_allclose(backend_case.to_numpy(net.params_[key]), value, rtol=rtol, atol=atol)
        np.testing.assert_allclose(net.loss_curve_, ref.loss_curve_, rtol=rtol if rtol else 1e-10, atol=atol)


class TestValidationAndStopping:
    def test_validation_fraction(self, backend_case):
        net = TwoLayerNet(4, learning_rate=0.5, max_iter=2000, validation_fraction=0.25, n_iter_no_change=20, random_state=0,
                          backend=backend_case.spec, dtype=backend_case.dtype).fit(X2, y2)
        scores = net.validation_scores_
        assert len(scores) == net.n_iter_ < 2000
        assert net.best_iteration_ == int(np.argmax(scores))
        assert all(0.0 <= s <= 1.0 for s in scores)
        for value in net.params_.values():
            backend_case.assert_on_case(value)

    def test_eval_set_on_the_device(self, backend_case):
        Xv, yv = backend_case.asarray(X2[:30]), backend_case.asarray(y2[:30])
        model = LogisticRegression(learning_rate=0.5, max_iter=50).fit(backend_case.asarray(X2), backend_case.asarray(y2), eval_set=(Xv, yv))
        assert len(model.validation_scores_) == model.n_iter_

    def test_eval_set_on_another_device(self):
        Xv = nc_device.to_backend(X2[:30], "array_api_strict:device1")
        with pytest.raises(ValueError, match="eval_set X is a array_api_strict array on array_api_strict:device1"):
            LogisticRegression(backend="numpy").fit(X2, y2, eval_set=(Xv, y2[:30]))

    def test_validation_split_is_stratified_and_seeded(self):
        a = LogisticRegression(validation_fraction=0.2, max_iter=3, random_state=1, backend="numpy").fit(X2, y2)
        b = LogisticRegression(validation_fraction=0.2, max_iter=3, random_state=1, backend="numpy").fit(X2, y2)
        assert a.validation_scores_ == b.validation_scores_
        # stratified: with all-zero parameters every sample is predicted as class 0, so the first score is
        # the share of class 0 in the held-out part: 20 of 25 for 80/20 labels, whatever the seed
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(100, 2)), np.asarray([0] * 80 + [1] * 20)
        zeros = {"W": np.zeros((2, 1)), "b": np.zeros(1)}
        for seed in range(4):
            model = LogisticRegression(validation_fraction=0.25, max_iter=1, random_state=seed, backend="numpy")
            assert model.fit(X, y, init_params=zeros).validation_scores_[0] == pytest.approx(0.8, abs=1e-12), seed

    def test_tol_stops_with_fewer_iterations(self):
        model = LogisticRegression(learning_rate=0.5, max_iter=10000, tol=1e-6, backend="numpy").fit(X2, y2)
        assert model.n_iter_ < 10000

    def test_convergence_warning(self):
        with pytest.warns(ConvergenceWarning):
            LogisticRegression(learning_rate=0.5, max_iter=30, tol=1e-12, backend="numpy").fit(X2, y2)

    def test_no_warning_by_default(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            LogisticRegression(max_iter=30, backend="numpy").fit(X2, y2)

    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            ({"batch_size": 0}, ValueError, "batch_size must be at least 1"),
            ({"alpha": -1.0}, ValueError, "alpha must be at least 0"),
            ({"tol": -1e-3}, ValueError, "tol must be at least 0"),
            ({"n_iter_no_change": 0}, ValueError, "n_iter_no_change must be at least 1"),
            ({"validation_fraction": 1.0}, ValueError, "validation_fraction must be below 1"),
            ({"validation_fraction": 0.0}, ValueError, "validation_fraction must be a positive"),
            ({"validation_fraction": 0.001}, ValueError, "validation_fraction=0.001 leaves class 0 with 52 training and 0 validation samples; each needs at least one"),
            ({"optimizer": "lion"}, ValueError, "optimizer must be one of 'gd', 'momentum', 'nesterov', 'rmsprop', 'adam'"),
            ({"optimizer_params": [0.9]}, TypeError, "optimizer_params must be a dict"),
            ({"shuffle": "yes"}, TypeError, "shuffle must be True or False"),
        ],
    )
    def test_bad_hyperparameters(self, kwargs, error, message):
        with pytest.raises(error, match=message):
            TwoLayerNet(max_iter=2, backend="numpy", **kwargs).fit(X2, y2)

    def test_bad_eval_set(self):
        with pytest.raises(TypeError, match=r"eval_set must be a pair \(X_val, y_val\)"):
            LogisticRegression(backend="numpy").fit(X2, y2, eval_set=X2)

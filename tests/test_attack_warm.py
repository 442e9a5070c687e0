"""Attacks on continuing training (``warm_start=True``, ``partial_fit``), as careless and hostile users.

Each test names its attack; each failed before the fix it comes with (or guards a property a plausible
change would break: the bug it targets is named).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import device as nc_device

from .test_warm_start import _arrays  # the arrays of a nested state

RNG = np.random.default_rng(5)
X = RNG.normal(size=(48, 3))
Y = (X[:, 0] - 0.5 * X[:, 2] > 0).astype(int)
Y3 = np.asarray(["a", "b", "c"])[np.argmax(X, axis=1)]


def _dtype(model) -> str:
    return nc_device.to_numpy_dtype(next(iter(model.params_.values())).dtype).name


class TestWarmFitKeepsTheModelsDtype:
    """A warm fit continues the fitted model: X of another dtype is cast to the parameters' dtype (as
    ``predict`` does), it does not silently turn a float64 model into a float32 one (or back)."""

    @pytest.mark.chunked
    def test_attack_warm_fit_with_X_in_the_other_float_dtype(self, backend_case):
        other = "float32" if backend_case.dtype == "float64" else "float64"
        kw = {"optimizer": "adam", "learning_rate": 0.05, "batch_size": 12, "random_state": 0}
        model = nc.TwoLayerNet(3, max_iter=2, warm_start=True, **kw).fit(backend_case.asarray(X), Y)
        assert _dtype(model) == backend_case.dtype
        model.fit(backend_case.asarray(X, dtype=other), Y)
        assert _dtype(model) == backend_case.dtype and model.n_iter_ == 4
        assert all(nc_device.to_numpy_dtype(a.dtype).name == backend_case.dtype for a in _arrays(model._optimizer_state))
        model.partial_fit(backend_case.asarray(X, dtype=other), Y)
        assert _dtype(model) == backend_case.dtype and model.n_iter_ == 5

    def test_attack_partial_fit_stream_with_integer_pieces(self, backend_case):
        # integer features take the backend's default float (float32 for torch) in a fresh fit; a stream's
        # later pieces continue in the model's dtype
        model = nc.LogisticRegression(random_state=0, dtype=None)
        model.partial_fit(backend_case.asarray(X), Y, classes=[0, 1])
        model.partial_fit(backend_case.asarray((X > 0).astype(np.int64)), Y)
        assert _dtype(model) == backend_case.dtype

    def test_attack_an_explicit_dtype_still_changes_it(self):
        model = nc.LogisticRegression(max_iter=2, warm_start=True).fit(X, Y)
        model.set_params(dtype="float32").fit(X, Y)
        assert _dtype(model) == "float32"
        assert model.set_params(dtype=None).fit(X, Y).params_["W"].dtype == np.float32  # continues as it is


class TestWarmFitErrorsSayWhatToDo:
    def test_attack_set_params_hidden_units_then_warm_fit(self):
        model = nc.TwoLayerNet(3, max_iter=2, warm_start=True, random_state=0).fit(X, Y)
        # "fit again" alone is no advice: with warm_start=True, fitting again fails the same way
        with pytest.raises(ValueError, match=r"fitted with hidden_units=3 \(now 5\).*fit with warm_start=False"):
            model.set_params(hidden_units=5).fit(X, Y)
        model.set_params(warm_start=False).fit(X, Y)
        assert model.params_["W1"].shape == (3, 5)

    def test_attack_set_params_activation_then_partial_fit(self):
        model = nc.TwoLayerNet(3, random_state=0).partial_fit(X, Y, classes=[0, 1])
        with pytest.raises(ValueError, match=r"fitted with activation='tanh' \(now 'relu'\).*partial_fit continues"):
            model.set_params(activation="relu").partial_fit(X, Y)
        assert model.n_iter_ == 1


class TestBalancedClassWeightInAWarmFit:
    def test_attack_warm_fit_on_a_subset_of_the_classes_warns_nothing(self):
        model = nc.LogisticRegression(max_iter=2, warm_start=True, class_weight="balanced").fit(X, Y3)
        keep = Y3 != "c"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # was: RuntimeWarning: overflow encountered in divide
            model.fit(X[keep], Y3[keep])
        assert model.n_iter_ == 4 and np.isfinite(model.loss_curve_).all()

    def test_attack_a_class_whose_rows_all_weigh_zero(self):
        weights = np.where(Y == 1, 0.0, 1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = nc.LogisticRegression(max_iter=3, class_weight="balanced").fit(X, Y, sample_weight=weights)
        reference = nc.LogisticRegression(max_iter=3).fit(X, Y, sample_weight=weights)
        np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-12)


class TestWarmFitNeverWritesIntoTheFittedState:
    """Guards the functional updates a warm fit relies on: a prediction on another thread reads ``params_``
    while the fit runs, and a failed fit must leave the old state: an in-place update (``W -= lr * dW`` in
    an optimizer, a fused step, or the Dask source's host copy) would change both under them."""

    @pytest.mark.chunked
    @pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
    @pytest.mark.parametrize("batch_size", [None, 12], ids=["full-batch", "mini-batch"])
    def test_attack_arrays_of_the_previous_fit_are_unchanged(self, backend_case, optimizer, batch_size):
        kw = {"optimizer": optimizer, "batch_size": batch_size, "learning_rate": 0.1, "random_state": 0}
        Xb = backend_case.asarray(X)
        model = nc.NeuralNet((4,), max_iter=2, warm_start=True, **kw).fit(Xb, Y)
        params, state = dict(model.params_), _arrays(model._optimizer_state)
        copies = [nc_device.to_numpy(a).copy() for a in [*params.values(), *state]]
        model.fit(Xb, Y)
        model.partial_fit(Xb, Y)
        for array, copy in zip([*params.values(), *state], copies):
            np.testing.assert_array_equal(nc_device.to_numpy(array), copy)
        assert not np.array_equal(nc_device.to_numpy(model.params_["W1"]), copies[0])  # it did train


class TestWarmFitKeepsTheFeatureNames:
    @pytest.mark.parametrize("partial", [True, False], ids=["partial_fit", "warm-fit"])
    def test_attack_bare_array_piece_then_reordered_columns(self, partial):
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame(X, columns=["a", "b", "c"])
        model = nc.TwoLayerNet(3, max_iter=2, warm_start=True, random_state=0)
        step = (lambda data: model.partial_fit(data, Y, classes=[0, 1])) if partial else (lambda data: model.fit(data, Y))
        step(frame)
        with pytest.warns(UserWarning, match="X does not have valid feature names"):
            step(X)  # a bare array: warned, and the model keeps its columns
        assert model.feature_names_in_.tolist() == ["a", "b", "c"]
        before = model.n_iter_
        with pytest.raises(ValueError, match="same order"):  # was: accepted, columns silently swapped
            step(frame[["b", "a", "c"]])
        assert model.n_iter_ == before and model.feature_names_in_.tolist() == ["a", "b", "c"]

    def test_attack_named_piece_after_a_bare_fit(self):
        pd = pytest.importorskip("pandas")
        model = nc.LogisticRegression(max_iter=2, warm_start=True).fit(X, Y)
        with pytest.warns(UserWarning, match="X has feature names, but LogisticRegression was fitted without"):
            model.fit(pd.DataFrame(X, columns=["a", "b", "c"]), Y)
        assert not hasattr(model, "feature_names_in_")  # as scikit-learn: a continuing fit does not reset them


class TestTheLastUpdateIsCheckedToo:
    """Each cost is measured before its update, so the parameters of a run's last update (a whole
    ``partial_fit`` call in full batch) had no cost of their own: NaN or infinite parameters came back as
    ``params_``, predictions were NaN, and only the next call complained, blaming the starting parameters."""

    @staticmethod
    def _blow_up(backend_case):
        # a finite cost at the start, infinite parameters after one update
        return backend_case.asarray(X * (1e10 if backend_case.dtype == "float64" else 1e5)), (
            1e300 if backend_case.dtype == "float64" else 1e35)

    @pytest.mark.chunked
    def test_attack_partial_fit_whose_update_overflows(self, backend_case):
        Xb, rate = self._blow_up(backend_case)
        model = nc.LogisticRegression(learning_rate=rate)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the library's own overflow warnings
            with pytest.raises(nc.DivergenceError, match="last update of iteration 0 made the parameters NaN or inf"):
                model.partial_fit(Xb, Y, classes=[0, 1])
        # the parameters before the update (zeros), with the cost measured at them
        assert np.all(nc_device.to_numpy(model.params_["W"]) == 0) and model.n_iter_ == 0
        assert len(model.loss_curve_) == 1 and model._optimizer_state is None

    @pytest.mark.parametrize("batch_size", [None, 48], ids=["full-batch", "mini-batch"])  # one batch: its update is the last
    def test_attack_warm_fit_whose_last_update_overflows(self, backend_case, batch_size):
        Xb, rate = self._blow_up(backend_case)
        model = nc.LogisticRegression(learning_rate=1e-30, max_iter=2, warm_start=True, batch_size=batch_size,
                                      random_state=0).fit(Xb, Y)
        curve = list(model.loss_curve_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(nc.DivergenceError) as caught:
                model.set_params(learning_rate=rate, max_iter=1).fit(Xb, Y)
        for value in model.params_.values():
            assert np.isfinite(nc_device.to_numpy(value)).all()
        error = caught.value
        assert model.loss_curve_ == curve + error.loss_curve and model.n_iter_ == 2 + error.n_iter == 2
        assert np.isfinite(nc_device.to_numpy(model.predict_proba(Xb[:4, :]))).all()


class TestModelSelectionWithWarmStart:
    def test_attack_clone_of_a_warm_fitted_model_starts_from_scratch(self):
        clone = pytest.importorskip("sklearn.base").clone
        model = nc.TwoLayerNet(3, max_iter=5, warm_start=True, optimizer="adam", random_state=0).fit(X, Y)
        twin = clone(model)
        assert not any(name.endswith("_") for name in vars(twin))  # no params_, no optimizer or generator state
        fresh = nc.TwoLayerNet(3, max_iter=5, warm_start=True, optimizer="adam", random_state=0).fit(X, Y)
        np.testing.assert_array_equal(twin.fit(X, Y).params_["W1"], fresh.params_["W1"])
        assert twin.n_iter_ == 5


def test_attack_validation_scores_stay_aligned_with_the_loss_curve():
    # partial_fit (no validation) then a warm fit that validates: best_iteration_ indexes both histories
    from neuralcore.datasets import make_moons

    X, y = make_moons(n_samples=80, random_state=0)
    model = nc.TwoLayerNet(4, learning_rate=0.5, max_iter=6, random_state=0, backend="numpy")
    model.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    model.set_params(warm_start=True, validation_fraction=0.25, n_iter_no_change=50).fit(X, y)
    assert len(model.validation_scores_) == len(model.loss_curve_) == model.n_iter_ == 8
    assert np.isnan(model.validation_scores_[:2]).all() and np.isfinite(model.validation_scores_[2:]).all()
    assert model.validation_scores_[model.best_iteration_] == np.nanmax(model.validation_scores_)
    model.set_params(validation_fraction=None).fit(X, y)  # a fit without validation has none
    assert model.validation_scores_ is None and model.best_iteration_ is None

"""Continuing training (issue 14, part 2): ``warm_start=True`` and ``partial_fit``.

A warm fit continues from ``params_``, the optimizer's state and the shuffling generator, so that
``max_iter=N`` twice is ``max_iter=2N`` once, bit for bit in float64; ``partial_fit`` trains one epoch a
call and keeps the same state between calls.
"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import device as nc_device
from neuralcore import optim
from neuralcore.base import FITTED_ATTRIBUTES

RNG = np.random.default_rng(3)
X = RNG.normal(size=(60, 3))
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
Y3 = np.asarray(["a", "b", "c"])[np.argmax(X, axis=1)]
OPTIMIZERS = ("gd", "momentum", "nesterov", "rmsprop", "adam")
N = 6  # iterations of each half


def _net(**kw):
    settings = {"learning_rate": optim.exponential_decay(0.2, 0.5, 4), "random_state": 0}
    return nc.TwoLayerNet(3, **{**settings, **kw})


def _assert_same_fit(ours, reference, case=None):
    """The same parameters and history: exactly in float64, within float32 rounding otherwise."""
    exact = case is None or case.dtype == "float64"
    assert ours.n_iter_ == reference.n_iter_ and len(ours.loss_curve_) == len(reference.loss_curve_)
    assert sorted(ours.params_) == sorted(reference.params_)
    for key in reference.params_:
        got, want = nc_device.to_numpy(ours.params_[key]), nc_device.to_numpy(reference.params_[key])
        if exact:
            np.testing.assert_array_equal(got, want, err_msg=key)
        else:  # float32: the same operations, but not asserted bit for bit
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=key)
    if exact:
        np.testing.assert_array_equal(ours.loss_curve_, reference.loss_curve_)
    else:
        np.testing.assert_allclose(ours.loss_curve_, reference.loss_curve_, rtol=1e-4)


def _arrays(tree):
    if isinstance(tree, dict):
        return [a for v in tree.values() for a in _arrays(v)]
    if isinstance(tree, (tuple, list)):
        return [a for v in tree for a in _arrays(v)]
    return [tree] if hasattr(tree, "shape") else []


def _snapshot(model):
    state = {name: getattr(model, name) for name in FITTED_ATTRIBUTES if hasattr(model, name)}
    state["params_"] = {k: nc_device.to_numpy(v).copy() for k, v in state["params_"].items()}
    state["loss_curve_"] = list(state["loss_curve_"])
    state["_rng_state"] = copy.deepcopy(state["_rng_state"])
    return state


def _assert_unchanged(model, before):
    after = _snapshot(model)
    assert sorted(after) == sorted(before)
    for key in before["params_"]:
        np.testing.assert_array_equal(after["params_"][key], before["params_"][key])
    assert after["loss_curve_"] == before["loss_curve_"] and after["n_iter_"] == before["n_iter_"]
    np.testing.assert_array_equal(after["classes_"], before["classes_"])
    assert after["_optimizer_state"] is model._optimizer_state
    assert after["_rng_state"].bit_generator.state == before["_rng_state"].bit_generator.state


class TestWarmStartContinuesExactly:
    @pytest.mark.parametrize("batch_size", [None, 16], ids=["full-batch", "mini-batch"])
    @pytest.mark.parametrize("optimizer", OPTIMIZERS)
    def test_twice_n_equals_2n(self, backend_case, optimizer, batch_size):
        Xb, kw = backend_case.asarray(X), {"optimizer": optimizer, "batch_size": batch_size, "dtype": backend_case.dtype}
        reference = _net(max_iter=2 * N, **kw).fit(Xb, Y)
        model = _net(max_iter=N, warm_start=True, **kw).fit(Xb, Y)
        assert model.n_iter_ == N
        model.fit(Xb, Y)
        assert model.n_iter_ == 2 * N and len(model.loss_curve_) == 2 * N
        _assert_same_fit(model, reference, backend_case)
        backend_case.assert_on_case(model.params_["W1"])
        for array in _arrays(model._optimizer_state):  # the state lives where the parameters do
            backend_case.assert_on_case(array)

    @pytest.mark.parametrize("make", [
        lambda **kw: nc.LogisticRegression(learning_rate=optim.inverse_time_decay(0.3, 0.1), random_state=2, **kw),
        lambda **kw: nc.NeuralNet((4, 3), learning_rate=0.05, random_state=1, **kw),
    ], ids=["logistic", "deep"])
    def test_every_estimator_multiclass(self, backend_case, make):
        Xb = backend_case.asarray(X)
        kw = {"optimizer": "adam", "batch_size": 25, "dtype": backend_case.dtype}
        reference = make(max_iter=2 * N, **kw).fit(Xb, Y3)
        model = make(max_iter=N, warm_start=True, **kw).fit(Xb, Y3).fit(Xb, Y3)
        _assert_same_fit(model, reference, backend_case)

    @pytest.mark.chunked
    def test_three_fits_equal_one(self, backend_case):
        Xb = backend_case.asarray(X)  # the Dask case: four chunks of 15 rows, one per mini-batch
        batch = 15 if nc_device.is_chunked(Xb) else 20
        kw = {"optimizer": "momentum", "batch_size": batch, "dtype": backend_case.dtype}
        reference = _net(max_iter=3 * N, **kw).fit(Xb, Y)
        model = _net(max_iter=N, warm_start=True, **kw)
        for _ in range(3):
            model.fit(Xb, Y)
        _assert_same_fit(model, reference, backend_case)

    def test_a_generator_random_state_continues_the_fit_s_copy(self):
        kw = {"optimizer": "adam", "batch_size": 16}
        reference = _net(max_iter=2 * N, **kw, random_state=np.random.default_rng(7)).fit(X, Y)
        model = _net(max_iter=N, warm_start=True, **kw, random_state=np.random.default_rng(7)).fit(X, Y)
        model.random_state.random(5)  # the user's generator is theirs: using it does not change the warm fit
        _assert_same_fit(model.fit(X, Y), reference)

    def test_without_warm_start_a_refit_starts_again(self):
        model = _net(max_iter=N, optimizer="adam").fit(X, Y)
        first = copy.deepcopy(model)
        _assert_same_fit(model.fit(X, Y), first)

    def test_learning_rate_change_keeps_the_optimizer_state(self):
        # full batch, one update per epoch: a schedule switching at step N is the same run
        switch = lambda step: 0.2 if step < N else 0.05  # noqa: E731
        reference = _net(max_iter=2 * N, optimizer="adam", learning_rate=switch).fit(X, Y)
        model = _net(max_iter=N, optimizer="adam", learning_rate=0.2, warm_start=True).fit(X, Y)
        _assert_same_fit(model.set_params(learning_rate=0.05).fit(X, Y), reference)

    @pytest.mark.parametrize("change", [{"optimizer": "momentum"}, {"optimizer_params": {"beta1": 0.8}}])
    def test_optimizer_change_restarts_its_state(self, change):
        model = _net(max_iter=N, optimizer="adam", learning_rate=0.1, warm_start=True).fit(X, Y)
        start = {k: v.copy() for k, v in model.params_.items()}
        model.set_params(**change).fit(X, Y)
        fresh = _net(max_iter=N, **{"optimizer": "adam", "learning_rate": 0.1, **change}).fit(X, Y, init_params=start)
        for key in start:
            np.testing.assert_array_equal(model.params_[key], fresh.params_[key])
        assert model.loss_curve_[N:] == fresh.loss_curve_

    def test_second_order_solver_starts_from_params(self):
        model = nc.LogisticRegression(solver="lbfgs", alpha=0.1, warm_start=True, backend="numpy").fit(X, Y)
        first = model.n_iter_
        model.fit(X, Y)
        assert model.n_iter_ - first <= 2  # already at the optimum: (almost) nothing left to do
        np.testing.assert_allclose(model.loss_curve_[first], model.loss_curve_[first - 1], rtol=1e-10)


class TestWarmStartRefusals:
    def test_other_number_of_features(self):
        model = _net(max_iter=2, warm_start=True).fit(X, Y)
        with pytest.raises(ValueError, match="X has 2 features, but TwoLayerNet is expecting 3 features as input"):
            model.fit(X[:, :2], Y)

    def test_label_outside_classes(self):
        model = _net(max_iter=2, warm_start=True).fit(X, Y)
        before = _snapshot(model)
        with pytest.raises(ValueError, match=r"labels \[2\] that are not among the training classes \[0, 1\] "
                                             r"\(warm_start=True continues .* set warm_start=False"):
            model.fit(X, np.where(Y == 1, 2, 0))
        _assert_unchanged(model, before)

    def test_a_subset_of_the_classes_is_fine(self):
        model = nc.LogisticRegression(max_iter=2, warm_start=True).fit(X, Y3)
        model.fit(X[Y3 != "c"], Y3[Y3 != "c"])
        assert model.classes_.tolist() == ["a", "b", "c"] and model.n_iter_ == 4

    def test_changed_prediction_hyperparameters(self):
        model = _net(max_iter=2, warm_start=True).fit(X, Y)
        with pytest.raises(ValueError, match=r"fitted with hidden_units=3 \(now 5\)"):
            model.set_params(hidden_units=5).fit(X, Y)

    def test_init_params_with_a_warm_fitted_model(self):
        model = _net(max_iter=2, warm_start=True).fit(X, Y)
        with pytest.raises(ValueError, match="init_params cannot be given"):
            model.fit(X, Y, init_params=model.params_)

    def test_warm_start_must_be_a_bool(self):
        with pytest.raises(TypeError, match="warm_start must be True or False, got 'yes'"):
            _net(warm_start="yes").fit(X, Y)

    def test_a_failed_warm_fit_leaves_the_model_and_its_generator_as_they_were(self):
        kw = {"optimizer": "adam", "batch_size": 16}
        reference = _net(max_iter=2 * N, **kw).fit(X, Y)
        model = _net(max_iter=N, warm_start=True, **kw).fit(X, Y)
        before = _snapshot(model)

        def failing(step):
            if step >= N * 4 + 3:  # in the middle of the next fit's epochs
                raise KeyboardInterrupt
            return 0.2 * 0.5 ** (step / 4)

        rate = model.learning_rate
        with pytest.raises(KeyboardInterrupt):
            model.set_params(learning_rate=failing).fit(X, Y)
        _assert_unchanged(model, before)
        _assert_same_fit(model.set_params(learning_rate=rate).fit(X, Y), reference)


class TestWarmStartHistory:
    def test_divergence_in_a_warm_fit_keeps_the_whole_history(self):
        model = nc.LogisticRegression(learning_rate=0.5, max_iter=N, warm_start=True).fit(X * 50, Y)
        curve = list(model.loss_curve_)
        with pytest.raises(nc.DivergenceError) as caught:
            model.set_params(learning_rate=1e6, optimizer="momentum").fit(X * 50, Y)
        error = caught.value
        assert model.loss_curve_ == curve + error.loss_curve and model.n_iter_ == N + error.n_iter
        for key, value in error.params.items():
            np.testing.assert_array_equal(model.params_[key], value)
        assert model._optimizer_state is None  # the state that diverged is not continued

    def test_early_stopping_each_fit_stops_on_its_own(self):
        model = _net(max_iter=200, learning_rate=0.5, validation_fraction=0.25, n_iter_no_change=3,
                     warm_start=True).fit(X, Y)
        first, best = model.n_iter_, model.best_iteration_
        assert first < 200
        model.fit(X, Y)
        assert first < model.n_iter_ < first + 200 and len(model.loss_curve_) == model.n_iter_
        assert len(model.validation_scores_) == model.n_iter_
        assert first <= model.best_iteration_ < model.n_iter_ and best < first

    def test_tol_stop_continues_from_the_state_of_the_kept_parameters(self):
        # tol stops inside a read-back block: the optimizer state kept is the one of the stopping epoch
        kw = {"optimizer": "adam", "learning_rate": 0.05, "max_iter": 500}
        model = _net(tol=1e-3, n_iter_no_change=2, warm_start=True, **kw)
        model.fit(X, Y)
        stopped = model.n_iter_
        assert stopped < 500 and model._optimizer_state[1].step == stopped
        reference = _net(**{**kw, "max_iter": stopped + N}).fit(X, Y)
        model.set_params(tol=None, max_iter=N).fit(X, Y)
        _assert_same_fit(model, reference)


class TestPartialFit:
    @pytest.mark.chunked
    @pytest.mark.parametrize("batch_size", [None, 15], ids=["full-batch", "mini-batch"])
    def test_calls_on_the_same_data_equal_a_fit(self, backend_case, batch_size):
        Xb = backend_case.asarray(X)  # Dask: four chunks of 15 rows, one per mini-batch
        kw = {"optimizer": "adam", "batch_size": batch_size, "dtype": backend_case.dtype}
        reference = _net(max_iter=N, **kw).fit(Xb, Y3)
        model = _net(**kw)
        for call in range(N):
            assert model.partial_fit(Xb, Y3, classes=["a", "b", "c"] if call == 0 else None) is model
            assert model.n_iter_ == call + 1 and len(model.loss_curve_) == call + 1
        _assert_same_fit(model, reference, backend_case)

    def test_a_stream_of_batches_with_some_classes_each(self):
        model = nc.NeuralNet((4,), optimizer="adam", learning_rate=0.05, random_state=0)
        for batch in range(0, 60, 10):
            rows = slice(batch, batch + 10)
            model.partial_fit(X[rows], np.full(10, "b") if batch == 0 else Y3[rows], classes=np.asarray(["a", "b", "c"]))
        assert model.n_iter_ == 6 and model.classes_.tolist() == ["a", "b", "c"]
        assert model.predict_proba(X).shape == (60, 3)
        assert model._optimizer_state[1].step == 6

    def test_after_fit_it_continues(self):
        reference = _net(max_iter=N + 1, optimizer="momentum", batch_size=16).fit(X, Y)
        model = _net(max_iter=N, optimizer="momentum", batch_size=16).fit(X, Y).partial_fit(X, Y)
        _assert_same_fit(model, reference)

    def test_fit_without_warm_start_starts_from_scratch(self):
        model = _net(max_iter=N).partial_fit(X, Y, classes=[0, 1]).fit(X, Y)
        _assert_same_fit(model, _net(max_iter=N).fit(X, Y))

    def test_classes_required_on_the_first_call(self):
        model = _net()
        with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
            model.partial_fit(X, Y)
        assert "params_" not in model.__dict__

    def test_classes_must_hold_two_labels(self):
        with pytest.raises(ValueError, match=r"at least two distinct labels, got \[1\]"):
            _net().partial_fit(X, np.ones(60, int), classes=[1, 1])

    def test_other_classes_later_are_refused(self):
        model = _net().partial_fit(X, Y, classes=[0, 1])
        before = _snapshot(model)
        with pytest.raises(ValueError, match=r"classes=\[0, 1, 2\] differs from classes_=\[0, 1\]"):
            model.partial_fit(X, Y, classes=[0, 1, 2])
        model.partial_fit(X, Y, classes=[1, 0])  # the same classes, in any order
        model = _net().partial_fit(X, Y, classes=[0, 1])
        with pytest.raises(ValueError, match=r"y holds labels \[7\] that are not among the training classes"):
            model.partial_fit(X, np.where(Y == 1, 7, 0))
        _assert_unchanged(model, before)
        with pytest.raises(ValueError, match=r"labels \[2\]"):
            _net().partial_fit(X, np.where(Y == 1, 2, 0), classes=[0, 1])

    def test_other_number_of_features(self):
        model = _net().partial_fit(X, Y, classes=[0, 1])
        with pytest.raises(ValueError, match="X has 4 features, but TwoLayerNet is expecting 3 features as input"):
            model.partial_fit(np.ones((5, 4)), Y[:5])

    def test_second_order_solver_has_no_partial_fit(self):
        # absent, as scikit-learn's available_if methods are: tools ask hasattr(model, "partial_fit")
        model = nc.LogisticRegression(solver="lbfgs")
        assert not hasattr(model, "partial_fit")
        with pytest.raises(AttributeError, match="partial_fit .* solver='gd'; this LogisticRegression has solver='lbfgs'"):
            model.partial_fit(X, Y, classes=[0, 1])
        assert hasattr(model.set_params(solver="gd"), "partial_fit")
        assert callable(nc.LogisticRegression.partial_fit)  # on the class: the documented function

    def test_validation_and_tol_do_not_apply(self):
        model = _net(validation_fraction=0.2, tol=1.0, n_iter_no_change=1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no ConvergenceWarning: tol does not apply
            for _ in range(3):
                model.partial_fit(X, Y, classes=[0, 1])
        assert model.n_iter_ == 3 and model.validation_scores_ is None


class TestFittedStateContract:
    def test_to_another_backend_moves_the_optimizer_state(self, backend_case):
        Xb, kw = backend_case.asarray(X), {"optimizer": "adam", "batch_size": 16, "dtype": backend_case.dtype}
        reference = _net(max_iter=2 * N, **kw).fit(Xb, Y)
        model = _net(max_iter=N, warm_start=True, **kw).fit(Xb, Y)
        model.to(backend_case.other_spec)
        there = nc_device.resolve_backend(backend_case.other_spec)
        for array in _arrays(model._optimizer_state):
            assert str(nc_device.backend_of(array)) == str(there)
        model.to(backend_case.spec)
        _assert_same_fit(model.fit(Xb, Y), reference, backend_case)

    @pytest.mark.parametrize("copier", [lambda m: pickle.loads(pickle.dumps(m)), copy.deepcopy],
                             ids=["pickle", "deepcopy"])
    def test_copies_continue_as_the_original(self, copier):
        kw = {"optimizer": "rmsprop", "batch_size": 16, "learning_rate": 0.05}  # a schedule may not pickle
        reference = _net(max_iter=2 * N, **kw).fit(X, Y)
        model = _net(max_iter=N, warm_start=True, **kw).fit(X, Y)
        twin = copier(model)
        _assert_same_fit(twin.fit(X, Y), reference)
        _assert_same_fit(model.fit(X, Y), reference)  # the twin did not advance the original's generator

    def test_restore_keeps_or_drops_the_continuation_state(self):
        model = _net(max_iter=N, warm_start=True, optimizer="adam").fit(X, Y)
        state = model.fitted_state()
        assert _net(warm_start=True, optimizer="adam").restore(**state)._optimizer_state is state["_optimizer_state"]
        bare = {k: v for k, v in state.items() if k not in ("_optimizer_state", "_rng_state")}
        restored = _net(warm_start=True, optimizer="adam").restore(**bare)
        assert restored._optimizer_state is None and restored._rng_state is None

    def test_a_loaded_model_continues_with_a_fresh_optimizer_state(self, tmp_path):
        kw = {"optimizer": "adam", "learning_rate": 0.1}
        model = _net(max_iter=N, **kw).fit(X, Y)
        loaded = nc.load(model.save(tmp_path / "m.npz")).set_params(warm_start=True)
        assert loaded._optimizer_state is None
        start = {k: v.copy() for k, v in loaded.params_.items()}
        loaded.fit(X, Y)
        fresh = _net(max_iter=N, **kw).fit(X, Y, init_params=start)
        for key in start:
            np.testing.assert_array_equal(loaded.params_[key], fresh.params_[key])
        assert loaded.n_iter_ == 2 * N and loaded.loss_curve_ == model.loss_curve_ + fresh.loss_curve_


def test_printed_lines_continue_the_history_s_numbering(capsys):
    # verbose=2 prints the course's lines; a warm fit and partial_fit number them as loss_curve_ does
    model = nc.LogisticRegression(learning_rate=0.1, max_iter=20, warm_start=True, verbose=2, backend="numpy")
    model.fit(X, Y)
    first = capsys.readouterr().out
    model.fit(X, Y)
    second = capsys.readouterr().out
    assert "Cost after iteration 0:" in first and "Cost after iteration 10:" in first
    assert "Cost after iteration 20:" in second and "Cost after iteration 30:" in second
    assert "iteration 0:" not in second
    # the printed cost is the history's entry of that number
    line = next(line for line in second.splitlines() if line.startswith("Cost after iteration 30:"))
    assert float(line.split(": ")[1]) == pytest.approx(model.loss_curve_[30], abs=5e-7)
    model.partial_fit(X, Y)
    assert capsys.readouterr().out.startswith("Cost after iteration 40:")

"""The fit transaction: after a failed or interrupted fit, the estimator is in its previous fitted
state, entirely, or unfitted; never new labels beside old parameters (issue: a Ctrl-C in a refit
left new ``classes_`` with old ``params_``, and predictions came back relabelled)."""

import warnings

import numpy as np
import pytest

import neuralcore as nc
from neuralcore.base import FITTED_ATTRIBUTES

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3))
Y01 = (X[:, 0] > 0).astype(int)
YABC = np.asarray(["a", "b", "c"])[np.argmax(X, axis=1)]

ESTIMATORS = {
    "logistic": lambda **kw: nc.LogisticRegression(learning_rate=0.1, max_iter=20, **kw),
    "two_layer": lambda **kw: nc.TwoLayerNet(3, learning_rate=0.1, max_iter=20, random_state=0, **kw),
}


class Boom(Exception):
    pass


def schedule_failing_at(step, error):
    def schedule(t):
        if t >= step:
            raise error
        return 0.1

    return schedule


def snapshot(model):
    state = {name: getattr(model, name) for name in FITTED_ATTRIBUTES if hasattr(model, name)}
    state["params_"] = {k: nc.device.to_numpy(v).copy() for k, v in state.get("params_", {}).items()}
    return state


def assert_same_state(model, before):
    after = snapshot(model)
    assert sorted(after) == sorted(before)
    for name, value in before.items():
        if name == "params_":
            assert sorted(after[name]) == sorted(value)
            for key in value:
                np.testing.assert_array_equal(after[name][key], value[key])
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[name], value)
        else:
            assert after[name] == value, name


@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
@pytest.mark.parametrize("error", [Boom("user schedule failed"), KeyboardInterrupt()], ids=["exception", "ctrl-c"])
class TestInterruptedRefit:
    def test_refit_with_new_labels_keeps_the_previous_model_entirely(self, make, error, backend_case):
        model = make(backend=backend_case.spec, dtype=backend_case.dtype).fit(backend_case.asarray(X), Y01)
        before = snapshot(model)
        expected = model.predict(X)
        model.set_params(learning_rate=schedule_failing_at(5, error))
        with pytest.raises(type(error)):
            model.fit(backend_case.asarray(X), YABC)
        assert_same_state(model, before)
        np.testing.assert_array_equal(model.predict(X), expected)  # not relabelled with "a", "b", "c"

    def test_a_failed_first_fit_leaves_the_estimator_unfitted(self, make, error, backend_case):
        model = make(backend=backend_case.spec, dtype=backend_case.dtype, ).set_params(
            learning_rate=schedule_failing_at(3, error)
        )
        with pytest.raises(type(error)):
            model.fit(backend_case.asarray(X), YABC)
        assert [name for name in FITTED_ATTRIBUTES if hasattr(model, name)] == []
        with pytest.raises(nc.NotFittedError):
            model.predict(X)


@pytest.mark.chunked
@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_interrupted_refit_on_every_kind_of_data(make, backend_case):
    """The same transaction for in-memory and Dask data (one code path sets the state)."""
    model = make(backend=backend_case.spec, dtype=backend_case.dtype).fit(backend_case.asarray(X), Y01)
    before = snapshot(model)
    model.set_params(learning_rate=schedule_failing_at(2, KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        model.fit(backend_case.asarray(X), YABC)
    assert_same_state(model, before)


@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_divergence_sets_a_complete_state_of_the_new_fit(make):
    """DivergenceError is documented to keep the last finite parameters: of the new fit, with its labels."""
    model = make(backend="numpy").fit(X, Y01)
    with pytest.raises(nc.DivergenceError), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow warnings on the way to inf
        huge = {key: np.full(shape, 1e308) for key, shape in model.param_shapes(3, 3).items()}
        model.fit(X, YABC, init_params=huge)  # logits overflow: the cost is not finite at the start
    assert list(model.classes_) == ["a", "b", "c"]
    last_bias = [key for key in model.params_ if key.startswith("b")][-1]
    assert model.params_[last_bias].shape == (3,)  # parameters of the three-class model, not the old one
    assert model.validation_scores_ is None and model.best_iteration_ is None


@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_a_failed_move_leaves_the_model_where_it_was(make):
    model = make(backend="numpy").fit(X, Y01)
    before = snapshot(model)
    with pytest.raises((ValueError, RuntimeError)):
        model.to("no-such-backend")
    assert_same_state(model, before)
    assert model.backend_ == "numpy"


@pytest.mark.parametrize("Estimator", [nc.TwoLayerNet, nc.NeuralNet])
@pytest.mark.parametrize("change", [{"activation": "relu"}, {"activation": "sigmoid"}])
def test_prediction_settings_changed_after_fit_are_refused_not_used(Estimator, change, tmp_path):
    """set_params(activation=...) after fit: the parameters were trained for tanh; predicting (or saving a file
    that says relu) would silently give another model's answers."""
    model = Estimator(activation="tanh", max_iter=20, random_state=0, backend="numpy").fit(X, Y01)
    good = model.save(tmp_path / "good.npz")
    expected = model.predict_proba(X)
    model.set_params(**change)
    for call in (lambda: model.predict(X), lambda: model.predict_proba(X), lambda: model.save(good)):
        with pytest.raises(ValueError, match=r"was fitted with activation='tanh' \(now '(relu|sigmoid)'\)"):
            call()
    np.testing.assert_array_equal(nc.load(good).predict_proba(X), expected)  # the good file was not replaced
    model.set_params(activation="tanh")
    np.testing.assert_array_equal(model.predict_proba(X), expected)


def test_training_settings_changed_after_fit_are_fine(tmp_path):
    model = nc.TwoLayerNet(3, max_iter=20, random_state=0, backend="numpy").fit(X, Y01)
    model.set_params(max_iter=5, learning_rate=0.1, verbose=1)
    model.predict(X)
    assert nc.load(model.save(tmp_path / "m.npz")).max_iter == 5


@pytest.mark.parametrize("spelling", [[4], (4,), 4, np.int64(4), [np.int32(4)]])
def test_equal_spellings_of_hidden_units_are_the_same_model(spelling, tmp_path):
    """A loaded model says hidden_units=(4,) (JSON has lists, we give tuples back); a grid search's
    best_params_ may say [4] or 4: the same network, so predictions and save go on."""
    model = nc.NeuralNet([4], max_iter=5, random_state=0, backend="numpy").fit(X, Y01)
    loaded = nc.load(model.save(tmp_path / "m.npz"))
    loaded.set_params(hidden_units=spelling)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    loaded.save(tmp_path / "again.npz")
    with pytest.raises(ValueError, match=r"was fitted with hidden_units=\(4,\)"):
        loaded.set_params(hidden_units=(4, 2)).predict(X)

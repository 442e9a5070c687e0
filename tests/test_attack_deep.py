"""Attacks on deep networks and the training loop (NeuralNet), each named after what it tries.

Every test here failed before its fix (see the commit that added it), or guards a
corner that an attack found to hold and that a plausible change could break.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import network
from neuralcore.exceptions import DivergenceError
from neuralcore.gradcheck import gradcheck_estimator


def _data(n=48, n_features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    y3 = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)  # three classes
    return X, y3


def _saved_hyperparameters(path):
    with np.load(path) as archive:
        return json.loads(archive["metadata"].tobytes())


# ------------------------------------------------------------------ model files

class TestAttackNumpyScalarHyperparameters:
    """What a grid search over ``np.arange``/``np.logspace`` hands the estimator: NumPy scalars."""

    def test_attack_numpy_int_hidden_units_saves_and_loads(self, backend_case, tmp_path):
        X, y = _data()
        net = nc.NeuralNet((np.int64(4), np.int32(3)), max_iter=np.int64(3), learning_rate=0.1,
                           backend=backend_case.spec, dtype=backend_case.dtype, random_state=0)
        net.fit(backend_case.asarray(X), y)
        path = net.save(tmp_path / "deep.npz")
        loaded = nc.load(path, backend="numpy")
        assert loaded.hidden_units == (4, 3) and loaded.max_iter == 3
        np.testing.assert_allclose(loaded.predict_proba(X), backend_case.to_numpy(net.predict_proba(X)),
                                   rtol=backend_case.rtol, atol=1e-12)

    def test_attack_numpy_scalars_are_not_silently_dropped_from_the_file(self, tmp_path):
        X, y = _data()
        given = dict(max_iter=np.int64(4), batch_size=np.int64(8), alpha=np.float32(0.25),
                     shuffle=np.False_, random_state=np.int64(3), n_iter_no_change=np.int16(5),
                     hidden_units=np.int64(5), optimizer="adam", optimizer_params={"beta1": np.float32(0.5)})
        net = nc.NeuralNet(backend="numpy", **given).fit(X, y)
        path = net.save(tmp_path / "m.npz")
        assert _saved_hyperparameters(path)["unsaved_hyperparameters"] == {}
        loaded = nc.load(path).get_params()
        for name, value in given.items():
            if name == "optimizer_params":
                assert loaded[name] == {"beta1": float(np.float32(0.5))}
            else:
                assert loaded[name] == value and type(loaded[name]) is not np.ndarray, name
        assert type(loaded["shuffle"]) is bool and type(loaded["max_iter"]) is int


# ------------------------------------------------------------------ divergence

class TestAttackDivergence:
    def test_attack_mini_batch_divergence_in_the_first_epoch_does_not_blame_the_start(self, backend_case):
        # the starting parameters have a finite cost: the first batches' updates blew up
        X, y = _data()
        net = nc.NeuralNet((8, 8), learning_rate=1e150 if backend_case.dtype == "float64" else 1e20,
                           batch_size=8, max_iter=5, backend=backend_case.spec, dtype=backend_case.dtype,
                           random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the overflow is the point of the attack
            with pytest.raises(DivergenceError) as info:
                net.fit(backend_case.asarray(X), y)
        error = info.value
        assert "starting parameters is not finite" not in str(error)
        assert "epoch 0" in str(error) and "learning_rate" in str(error)
        assert error.iteration == 0 and error.loss_curve == [] and error.n_iter == 0
        # the kept parameters are the starting ones and give a finite cost, as the error says
        host = {k: backend_case.to_numpy(v).astype(np.float64) for k, v in error.params.items()}
        Y = np.eye(3)[y]
        cost, _ = network.loss_and_grads(host, X, Y)
        assert np.isfinite(float(cost)) and net.params_ is error.params

    def test_attack_full_batch_divergence_keeps_params_of_the_last_finite_cost(self, backend_case):
        X, y = _data()
        net = nc.NeuralNet((8, 8), learning_rate=1e150 if backend_case.dtype == "float64" else 1e20,
                           max_iter=5, backend=backend_case.spec, dtype=backend_case.dtype, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(DivergenceError, match="at iteration 1 ") as info:
                net.fit(backend_case.asarray(X), y)
        error = info.value
        host = {k: backend_case.to_numpy(v).astype(np.float64) for k, v in error.params.items()}
        cost, _ = network.loss_and_grads(host, X, np.eye(3)[y])
        assert float(cost) == pytest.approx(error.loss_curve[-1], rel=1e-5)
        assert net.loss_curve_ == error.loss_curve and net.n_iter_ == error.n_iter == 0


# ------------------------------------------------------------------ gradient checking

class TestAttackGradcheckFittedModel:
    def test_attack_fitted_model_checked_on_a_subset_of_its_classes(self, backend_case):
        # checking a correct three-class model on data holding two of its labels must still pass
        X, y = _data()
        net = nc.NeuralNet((4, 3), max_iter=3, learning_rate=0.1, backend=backend_case.spec, random_state=0)
        net.fit(backend_case.asarray(X, dtype="float64"), y)
        keep = y > 0
        assert gradcheck_estimator(net, backend_case.asarray(X[keep], dtype="float64"), y[keep]).passed

    def test_attack_fitted_model_checked_with_labels_it_never_saw(self, backend_case):
        X, y = _data()
        net = nc.NeuralNet((4, 3), max_iter=3, learning_rate=0.1, backend=backend_case.spec, random_state=0)
        net.fit(backend_case.asarray(X, dtype="float64"), y)
        with pytest.raises(ValueError, match=r"labels \[3\] that are not among the training classes \[0, 1, 2\]"):
            gradcheck_estimator(net, backend_case.asarray(X, dtype="float64"), y + 1)

    def test_attack_fitted_model_checked_on_data_with_other_features(self, backend_case):
        X, y = _data()
        net = nc.NeuralNet((4, 3), max_iter=3, learning_rate=0.1, backend=backend_case.spec, random_state=0)
        net.fit(backend_case.asarray(X, dtype="float64"), y)
        with pytest.raises(ValueError, match="X has 2 features, but the model was fitted with 3"):
            gradcheck_estimator(net, backend_case.asarray(X[:, :2], dtype="float64"), y)

    def test_attack_params_of_the_wrong_shape(self):
        X, y = _data()
        net = nc.NeuralNet((4, 3), backend="numpy", random_state=0)
        wrong = network.init_params(3, (4,), rng=np.random.default_rng(0), n_outputs=3)
        with pytest.raises(ValueError, match=r"^params must have exactly the keys \['W1', 'W2', 'W3'"):
            gradcheck_estimator(net, X, y, params=wrong)
        wrong = network.init_params(3, (4, 2), rng=np.random.default_rng(0), n_outputs=3)
        with pytest.raises(ValueError, match=r"^params\['W2'\] must have shape \(4, 3\), got \(4, 2\)"):
            gradcheck_estimator(net, X, y, params=wrong)


# ------------------------------------------------------------------ guards that held

def _reference_deep_gd(params, X, y, learning_rate, alpha, iterations):
    """An independent NumPy transcription: relu hidden layers, softmax output, L2 penalty."""
    classes = np.unique(y)
    Y = (y[:, None] == classes[None]).astype(float)
    depth = len(params) // 2
    p = {k: v.copy() for k, v in params.items()}
    costs = []
    for _ in range(iterations):
        A = [X]
        for layer in range(1, depth):
            A.append(np.maximum(A[-1] @ p[f"W{layer}"] + p[f"b{layer}"], 0))
        Z = A[-1] @ p[f"W{depth}"] + p[f"b{depth}"]
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        AL = E / E.sum(axis=1, keepdims=True)
        costs.append(-np.mean(np.sum(Y * np.log(AL), axis=1))
                     + alpha / 2 * sum(np.sum(p[f"W{layer}"] ** 2) for layer in range(1, depth + 1)))
        dZ = AL - Y
        grads = {}
        for layer in range(depth, 0, -1):
            grads[f"W{layer}"] = A[layer - 1].T @ dZ / X.shape[0] + alpha * p[f"W{layer}"]
            grads[f"b{layer}"] = dZ.mean(axis=0)
            if layer > 1:
                dZ = (dZ @ p[f"W{layer}"].T) * (A[layer - 1] > 0)
        p = {k: p[k] - learning_rate * grads[k] for k in p}
    return p, costs


def test_attack_many_classes_alpha_deep_net_matches_an_independent_numpy_loop(backend_case):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    y = np.arange(40) % 7  # seven classes, some with few samples
    sizes = [3, 5, 4, 3, 7]
    start = {}
    for layer in range(1, len(sizes)):
        start[f"W{layer}"] = rng.standard_normal((sizes[layer - 1], sizes[layer])) * 0.7
        start[f"b{layer}"] = rng.standard_normal(sizes[layer]) * 0.1
    p_ref, costs_ref = _reference_deep_gd(start, X, y, 0.1, 0.05, 15)
    net = nc.NeuralNet((5, 4, 3), alpha=0.05, learning_rate=0.1, max_iter=15, backend=backend_case.spec,
                       dtype=backend_case.dtype).fit(backend_case.asarray(X), y, init_params=start)
    tolerance = 1e-10 if backend_case.dtype == "float64" else 1e-4
    for key, value in p_ref.items():
        np.testing.assert_allclose(backend_case.to_numpy(net.params_[key]), value, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(net.loss_curve_, costs_ref, rtol=tolerance)


def test_attack_failed_refit_with_other_depth_and_labels_keeps_the_previous_model(backend_case):
    X, y = _data()
    net = nc.NeuralNet((4, 3), max_iter=3, learning_rate=0.1, backend=backend_case.spec, random_state=0)
    net.fit(backend_case.asarray(X), y > 0)
    before = {k: backend_case.to_numpy(v).copy() for k, v in net.params_.items()}
    calls = []

    def schedule(step):
        calls.append(step)
        if len(calls) > 2:
            raise RuntimeError("schedule broke")
        return 0.1

    net.set_params(hidden_units=(7,), learning_rate=schedule)
    with pytest.raises(RuntimeError, match="schedule broke"):
        net.fit(backend_case.asarray(X), y)
    assert sorted(net.params_) == sorted(before) and net.classes_.tolist() == [False, True]
    for key, value in before.items():
        np.testing.assert_array_equal(backend_case.to_numpy(net.params_[key]), value)


# ------------------------------------------------------------------ schedules

@pytest.mark.parametrize("returned", ["0.1", None, [0.1], np.array([0.1]), True],
                         ids=["attack-string", "attack-None", "attack-list", "attack-1d-array", "attack-bool"])
def test_attack_schedule_returning_a_non_number_names_the_schedule(returned):
    X, y = _data()
    net = nc.NeuralNet((4, 3), learning_rate=lambda step: returned, max_iter=3, backend="numpy")
    with pytest.raises(TypeError, match=r"the learning-rate schedule returned \w+ .* at step 0; it must return a positive"):
        net.fit(X, y)
    assert not hasattr(net, "params_")


def test_attack_schedule_returning_device_scalars_is_accepted(backend_case):
    X, y = _data()
    net = nc.NeuralNet((4, 3), learning_rate=lambda step: backend_case.asarray(0.1 / (1 + step)), max_iter=3,
                       batch_size=16, optimizer="adam", backend=backend_case.spec, dtype=backend_case.dtype,
                       random_state=0)
    reference = nc.NeuralNet((4, 3), learning_rate=lambda step: 0.1 / (1 + step), max_iter=3, batch_size=16,
                             optimizer="adam", backend=backend_case.spec, dtype=backend_case.dtype, random_state=0)
    X_case = backend_case.asarray(X)
    net.fit(X_case, y)
    reference.fit(X_case, y)
    assert net.loss_curve_ == reference.loss_curve_


# ------------------------------------------------------------------ model selection

def test_attack_divergence_error_survives_pickling_for_parallel_model_selection(backend_case):
    # joblib sends a worker's exception back pickled: GridSearchCV(n_jobs=2, error_score="raise")
    import io
    import pickle

    X, y = _data()
    net = nc.NeuralNet((8, 8), learning_rate=1e150 if backend_case.dtype == "float64" else 1e20, max_iter=5,
                       backend=backend_case.spec, dtype=backend_case.dtype, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(DivergenceError) as info:
            net.fit(backend_case.asarray(X), y)
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer)
    pickler.dispatch_table = {}  # the error's own reduction: a test plugin (tblib) may patch copyreg's table
    pickler.dump(info.value)
    copy = pickle.loads(buffer.getvalue())
    assert type(copy) is DivergenceError and str(copy) == str(info.value)
    assert (copy.iteration, copy.n_iter, copy.loss_curve) == (info.value.iteration, info.value.n_iter,
                                                               info.value.loss_curve)
    assert sorted(copy.params) == sorted(info.value.params)
    for key, value in info.value.params.items():
        np.testing.assert_array_equal(backend_case.to_numpy(copy.params[key]), backend_case.to_numpy(value))

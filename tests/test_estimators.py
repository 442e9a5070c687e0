import pickle

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import DataConversionWarning, DivergenceError, LogisticRegression, NotFittedError, TwoLayerNet
from neuralcore import device as nc_device
from neuralcore.datasets import make_planar

from . import reference

RNG = np.random.default_rng(3)
X_SMALL = RNG.normal(size=(60, 3))
y_SMALL = (X_SMALL @ np.asarray([1.0, -2.0, 0.5]) + 0.3 * RNG.normal(size=60) > 0).astype(np.int64)

ESTIMATORS = [
    pytest.param(lambda **kw: LogisticRegression(learning_rate=0.1, max_iter=50, **kw), id="LogisticRegression"),
    pytest.param(lambda **kw: TwoLayerNet(3, learning_rate=0.5, max_iter=50, random_state=0, **kw), id="TwoLayerNet"),
]


def trajectory_rtol(case):
    # float64 must equal the textbook loop to 1e-10; float32 rounding (~6e-8 per
    # operation) accumulates over the iterations, so compare with a looser bound.
    return 1e-10 if case.dtype == "float64" else 2e-4


class TestLogisticRegressionExactness:
    """Against the course's loop, written in plain NumPy in the course's (n_x, m) layout."""

    def test_matches_textbook(self, backend_case):
        X, y = X_SMALL, y_SMALL
        w_ref, b_ref, costs_ref = reference.logistic_regression(
            X.T, y.reshape(1, -1).astype(float), np.zeros((3, 1)), 0.0, learning_rate=0.1, num_iterations=150
        )
        model = LogisticRegression(learning_rate=0.1, max_iter=150, backend=backend_case.spec, dtype=backend_case.dtype)
        model.fit(X, y)
        rtol = trajectory_rtol(backend_case)
        np.testing.assert_allclose(model.loss_curve_, costs_ref, rtol=rtol)
        np.testing.assert_allclose(backend_case.to_numpy(model.params_["W"]), w_ref, rtol=rtol)
        np.testing.assert_allclose(backend_case.to_numpy(model.params_["b"]), [b_ref], rtol=rtol)
        assert model.n_iter_ == 150 and len(model.loss_curve_) == 150

    def test_matches_textbook_from_given_start(self, backend_case):
        start = {"W": np.asarray([[0.3], [-0.2], [0.1]]), "b": np.asarray([0.05])}
        _, _, costs_ref = reference.logistic_regression(
            X_SMALL.T, y_SMALL.reshape(1, -1).astype(float), start["W"], start["b"][0], learning_rate=0.2, num_iterations=40
        )
        model = LogisticRegression(learning_rate=0.2, max_iter=40, backend=backend_case.spec, dtype=backend_case.dtype)
        model.fit(X_SMALL, y_SMALL, init_params={k: backend_case.asarray(v) for k, v in start.items()})
        np.testing.assert_allclose(model.loss_curve_, costs_ref, rtol=trajectory_rtol(backend_case))


class TestTwoLayerNetExactness:
    def test_matches_textbook(self, backend_case, planar):
        X, y = planar
        rng = np.random.default_rng(2)
        W1, W2 = rng.normal(size=(4, 2)) * 0.01, rng.normal(size=(1, 4)) * 0.01
        b1, b2 = np.zeros((4, 1)), np.zeros((1, 1))
        (W1_ref, b1_ref, W2_ref, b2_ref), costs_ref = reference.two_layer_network(
            X.T, y.reshape(1, -1).astype(float), W1, b1, W2, b2, learning_rate=1.2, num_iterations=200
        )
        start = {"W1": W1.T, "b1": b1[:, 0], "W2": W2.T, "b2": b2[0]}
        net = TwoLayerNet(4, learning_rate=1.2, max_iter=200, backend=backend_case.spec, dtype=backend_case.dtype)
        net.fit(X, y, init_params=start)
        rtol = trajectory_rtol(backend_case) if backend_case.dtype == "float64" else 2e-3
        np.testing.assert_allclose(net.loss_curve_, costs_ref, rtol=rtol)
        got = {k: backend_case.to_numpy(v) for k, v in net.params_.items()}
        atol = 0 if backend_case.dtype == "float64" else 1e-4
        np.testing.assert_allclose(got["W1"], W1_ref.T, rtol=rtol, atol=atol)
        np.testing.assert_allclose(got["b1"], b1_ref[:, 0], rtol=rtol, atol=atol)
        np.testing.assert_allclose(got["W2"], W2_ref.T, rtol=rtol, atol=atol)
        np.testing.assert_allclose(got["b2"], b2_ref[0], rtol=rtol, atol=atol)


class TestPlanarFlower:
    def test_two_layer_learns_the_petals(self, backend_case, planar):
        X, y = planar
        net = TwoLayerNet(4, activation="tanh", max_iter=2500, random_state=0, backend=backend_case.spec, dtype=backend_case.dtype)
        assert net.fit(X, y).score(X, y) >= 0.88

    def test_logistic_regression_stays_near_chance(self, planar):
        X, y = planar
        assert 0.35 <= LogisticRegression(backend="numpy").fit(X, y).score(X, y) <= 0.65

    @pytest.mark.slow
    def test_defaults_reproduce_the_course(self, planar):
        X, y = planar
        assert TwoLayerNet(random_state=0, backend="numpy").fit(X, y).score(X, y) >= 0.9


@pytest.mark.parametrize("make", ESTIMATORS)
class TestPlacement:
    def test_parameters_stay_on_input_device(self, make, backend_case):
        model = make().fit(backend_case.asarray(X_SMALL), backend_case.asarray(y_SMALL))
        for value in model.params_.values():
            backend_case.assert_on_case(value)
        assert model.backend_ == backend_case.name

    def test_host_data_goes_to_selected_backend(self, make, backend_case):
        model = make(backend=backend_case.spec, dtype=backend_case.dtype).fit(X_SMALL, y_SMALL)
        for value in model.params_.values():
            backend_case.assert_on_case(value)

    def test_environment_variable_selects_backend(self, make, backend_case, monkeypatch):
        monkeypatch.setenv(nc_device.ENV_VAR, backend_case.spec)
        model = make(dtype=backend_case.dtype).fit(X_SMALL, y_SMALL)
        for value in model.params_.values():
            backend_case.assert_on_case(value)

    def test_outputs_follow_the_input(self, make, backend_case):
        model = make().fit(backend_case.asarray(X_SMALL), backend_case.asarray(y_SMALL))
        Xb = backend_case.asarray(X_SMALL)
        for out in (model.decision_function(Xb), model.predict_proba(Xb)):
            backend_case.assert_on_case(out)
        predicted = model.predict(Xb)
        assert nc_device.backend_of(predicted).name == backend_case.name
        # host input gives NumPy output, whatever the model's backend
        assert isinstance(model.predict_proba(X_SMALL), np.ndarray)
        assert isinstance(model.predict(X_SMALL), np.ndarray)
        np.testing.assert_array_equal(backend_case.to_numpy(predicted), model.predict(X_SMALL))

    def test_float32_stays_float32(self, make, backend_case):
        model = make().fit(backend_case.asarray(X_SMALL, dtype="float32"), y=backend_case.asarray(y_SMALL))
        for value in model.params_.values():
            assert nc_device.to_numpy_dtype(value.dtype) == np.float32
        assert model.predict_proba(X_SMALL).dtype == np.float32

    def test_integer_input_gets_default_float(self, make, backend_case):
        Xi = backend_case.asarray(np.round(X_SMALL * 3).astype(np.int64))
        model = make().fit(Xi, backend_case.asarray(y_SMALL))
        default = backend_case.xp.__array_namespace_info__().default_dtypes(device=backend_case.backend.device)["real floating"]
        assert model.params_[next(iter(model.params_))].dtype == default

    def test_dtype_argument_wins(self, make, backend_case):
        model = make(dtype="float32").fit(backend_case.asarray(X_SMALL, dtype="float64"), backend_case.asarray(y_SMALL))
        for value in model.params_.values():
            assert nc_device.to_numpy_dtype(value.dtype) == np.float32

    def test_inputs_not_mutated(self, make, backend_case):
        Xb, yb = backend_case.asarray(X_SMALL), backend_case.asarray(y_SMALL)
        X_before, y_before = backend_case.to_numpy(Xb).copy(), backend_case.to_numpy(yb).copy()
        model = make().fit(Xb, yb)
        model.predict(Xb), model.predict_proba(Xb), model.decision_function(Xb), model.score(Xb, yb)
        np.testing.assert_array_equal(backend_case.to_numpy(Xb), X_before)
        np.testing.assert_array_equal(backend_case.to_numpy(yb), y_before)

    def test_read_only_host_input(self, make, backend_case):
        X, y = X_SMALL.copy(), y_SMALL.copy()
        X.flags.writeable = False
        y.flags.writeable = False
        model = make(backend=backend_case.spec, dtype=backend_case.dtype).fit(X, y)
        model.predict(X)
        np.testing.assert_array_equal(X, X_SMALL)

    def test_model_on_other_device_is_a_clear_error(self, make, backend_case):
        model = make(backend="numpy").fit(X_SMALL, y_SMALL)
        other = backend_case.elsewhere(X_SMALL)
        with pytest.raises(ValueError, match=r"model's parameters are on numpy:cpu; move the model with \.to\("):
            model.predict(other)

    def test_to_moves_the_model(self, make, backend_case):
        model = make(backend="numpy").fit(X_SMALL, y_SMALL)
        expected = model.predict_proba(X_SMALL)
        model.to(backend_case.spec)
        assert model.backend_ == backend_case.name
        got = backend_case.to_numpy(model.predict_proba(backend_case.asarray(X_SMALL, dtype="float64")))
        np.testing.assert_allclose(got, expected, rtol=1e-12)

    def test_explicit_backend_conflicting_with_data_placement(self, make, backend_case):
        data, wanted = backend_case.elsewhere(X_SMALL), "numpy"
        with pytest.raises(ValueError, match=f"backend='{wanted}' was requested"):
            make(backend=wanted).fit(data, y_SMALL if nc_device.is_host(data) else nc_device.to_backend(y_SMALL, nc_device.backend_of(data)))


@pytest.mark.parametrize("make", ESTIMATORS)
class TestEstimatorContract:
    def test_fit_returns_self(self, make):
        model = make(backend="numpy")
        assert model.fit(X_SMALL, y_SMALL) is model

    def test_fitted_attributes(self, make):
        model = make(backend="numpy").fit(X_SMALL, y_SMALL)
        assert model.n_features_in_ == 3
        assert model.classes_.tolist() == [0, 1]
        assert model.n_iter_ == 50 and len(model.loss_curve_) == 50
        assert all(isinstance(v, float) for v in model.loss_curve_)
        assert model.loss_curve_[-1] < model.loss_curve_[0]

    def test_prediction_shapes_and_consistency(self, make):
        model = make(backend="numpy").fit(X_SMALL, y_SMALL)
        proba = model.predict_proba(X_SMALL)
        assert proba.shape == (60, 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_array_equal(model.predict(X_SMALL), model.classes_[np.argmax(proba, axis=1)])
        assert model.decision_function(X_SMALL).shape == (60,)
        assert isinstance(model.score(X_SMALL, y_SMALL), float)

    def test_string_labels(self, make):
        labels = np.where(y_SMALL == 1, "cat", "non-cat")
        model = make(backend="numpy").fit(X_SMALL, labels)
        assert model.classes_.tolist() == ["cat", "non-cat"]
        assert set(model.predict(X_SMALL)) <= {"cat", "non-cat"}
        assert model.score(X_SMALL, labels) > 0.7

    def test_column_vector_labels(self, make):
        with pytest.warns(DataConversionWarning, match="ravel"):  # as scikit-learn: converted, with a warning
            model = make(backend="numpy").fit(X_SMALL, y_SMALL.reshape(-1, 1))
        assert model.score(X_SMALL, y_SMALL) > 0.7

    def test_list_input(self, make):
        model = make(backend="numpy").fit(X_SMALL.tolist(), y_SMALL.tolist())
        assert model.predict(X_SMALL.tolist()).shape == (60,)

    def test_get_set_params(self, make):
        model = make()
        params = model.get_params()
        assert params["max_iter"] == 50
        model.set_params(max_iter=7)
        assert model.max_iter == 7
        with pytest.raises(ValueError, match="has no parameter 'epochs'"):
            model.set_params(epochs=3)
        assert type(model)(**model.get_params()).get_params() == model.get_params()
        assert "max_iter=7" in repr(model)

    def test_not_fitted(self, make):
        model = make()
        for method in (model.predict, model.predict_proba, model.decision_function):
            with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
                method(X_SMALL)
        assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)

    def test_wrong_number_of_features(self, make):
        model = make(backend="numpy").fit(X_SMALL, y_SMALL)
        with pytest.raises(ValueError, match=f"X has 2 features, but {type(model).__name__} is expecting 3 features as input"):
            model.predict(X_SMALL[:, :2])

    def test_score_with_unknown_labels(self, make):
        model = make(backend="numpy").fit(X_SMALL, y_SMALL)
        with pytest.raises(ValueError, match=r"y holds labels \[2\] that are not among the training classes \[0, 1\]"):
            model.score(X_SMALL, np.where(y_SMALL == 1, 2, 0))

    def test_pickle_gives_numpy_parameters(self, make, backend_case):
        model = make().fit(backend_case.asarray(X_SMALL), backend_case.asarray(y_SMALL))
        clone = pickle.loads(pickle.dumps(model))
        assert clone.backend_ == "numpy"
        assert all(isinstance(v, np.ndarray) for v in clone.params_.values())
        # the same parameters evaluated by another library: equal up to float32 rounding (matmul order)
        rtol = 1e-12 if backend_case.dtype == "float64" else 1e-5
        np.testing.assert_allclose(clone.predict_proba(X_SMALL), model.predict_proba(X_SMALL), rtol=rtol)
        for value in model.params_.values():  # the original is untouched
            backend_case.assert_on_case(value)

    def test_same_seed_same_fit(self, make):
        a = make(backend="numpy").fit(X_SMALL, y_SMALL)
        b = make(backend="numpy").fit(X_SMALL, y_SMALL)
        assert a.loss_curve_ == b.loss_curve_


class TestSameResultOnEveryBackend:
    def test_two_layer_fit_agrees_with_numpy_float64(self, backend_case, planar):
        X, y = planar
        ref = TwoLayerNet(4, max_iter=300, random_state=5, backend="numpy", dtype="float64").fit(X, y)
        net = TwoLayerNet(4, max_iter=300, random_state=5, backend=backend_case.spec, dtype=backend_case.dtype).fit(X, y)
        rtol = 1e-10 if backend_case.dtype == "float64" else 2e-3
        np.testing.assert_allclose(net.loss_curve_, ref.loss_curve_, rtol=rtol)


class TestInputValidation:
    @pytest.mark.parametrize(
        ("X", "message"),
        [
            (np.ones(5), r"X must be 2-D of shape \(n_samples, n_features\), got shape \(5,\) \(Reshape your data: .*reshape\(-1, 1\)"),
            (np.ones((2, 3, 4)), r"got shape \(2, 3, 4\) \(images\? flatten them first: X.reshape\(2, -1\)\)"),
            (np.ones((0, 3)), r"X has 0 sample\(s\) \(shape=\(0, 3\)\) while a minimum of 1 is required"),
            (np.ones((4, 0)), r"X has 0 feature\(s\) \(shape=\(4, 0\)\) while a minimum of 1 is required"),
            (np.asarray([[1.0, np.nan]] * 2), "X contains NaN or infinite values"),
            (np.asarray([[1.0, np.inf]] * 2), "X contains NaN or infinite values"),
            ([[1.0, 2.0], [3.0]], "X could not be read as a rectangular array"),
            (np.ones((2, 2), dtype=complex), "X has complex dtype complex128: Complex data not supported"),
        ],
    )
    def test_bad_X(self, X, message):
        with pytest.raises(ValueError, match=message):
            LogisticRegression(backend="numpy").fit(X, np.arange(len(X)) % 2)

    @pytest.mark.parametrize(
        ("X", "message"),
        [
            (np.asarray([["a", "b"], ["c", "d"]]), "X has non-numeric dtype"),
            (np.ones((2, 2), dtype=np.float16), "float16, which neuralcore does not train in; pass dtype='float32'"),
        ],
    )
    def test_bad_X_dtype(self, X, message):
        with pytest.raises(TypeError, match=message):
            LogisticRegression(backend="numpy").fit(X, [0, 1])

    def test_float16_with_dtype_argument_trains(self):
        model = LogisticRegression(backend="numpy", dtype="float32", max_iter=3).fit(np.ones((2, 2), dtype=np.float16), [0, 1])
        assert model.params_["W"].dtype == np.float32

    def test_bool_input_is_converted(self):
        model = LogisticRegression(backend="numpy", max_iter=3).fit(np.asarray([[True], [False]]), [1, 0])
        assert model.params_["W"].dtype == np.float64

    @pytest.mark.parametrize(
        ("y", "message"),
        [
            ([0, 0, 0, 0], r"y has only one class \(0\); classification needs at least two distinct labels"),
            ([0, 1, 1], "X has 4 samples but y has 3"),
            (np.ones((4, 2)), r"y must be 1-D of shape \(n_samples,\), got shape \(4, 2\)"),
            ([0.0, 1.0, np.nan, 1.0], "y contains NaN"),
            ([0, 1, None, 1], r"y contains missing values"),
        ],
    )
    def test_bad_y(self, y, message):
        with pytest.raises(ValueError, match=message):
            LogisticRegression(backend="numpy").fit(np.ones((4, 2)), y)

    def test_mixed_devices(self):
        strict = pytest.importorskip("array_api_strict")
        X = nc_device.to_backend(X_SMALL, "array_api_strict:device1")
        y = strict.asarray(y_SMALL)
        with pytest.raises(ValueError, match="X is a array_api_strict array on array_api_strict:device1 but y is a array_api_strict array on array_api_strict:CPU_DEVICE"):
            LogisticRegression().fit(X, y)

    def test_host_X_with_device_y(self):
        pytest.importorskip("array_api_strict")
        with pytest.raises(ValueError, match="X is host data but y is a array_api_strict array"):
            LogisticRegression().fit(X_SMALL, nc_device.to_backend(y_SMALL, "array_api_strict"))

    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            ({"learning_rate": 0}, ValueError, "learning_rate must be a positive finite number, got 0"),
            ({"learning_rate": -1.0}, ValueError, "learning_rate must be a positive"),
            ({"learning_rate": "fast"}, TypeError, "learning_rate must be a number"),
            ({"max_iter": 0}, ValueError, "max_iter must be at least 1, got 0"),
            ({"max_iter": 2.5}, TypeError, "max_iter must be an integer"),
            ({"init": "uniform"}, ValueError, "init must be one of 'zeros', 'normal'"),
            ({"dtype": "int32"}, TypeError, "dtype must be 'float32' or 'float64', got 'int32'"),
            ({"backend": "tpu"}, ValueError, "unknown backend 'tpu'.*valid names"),
            ({"random_state": "seed"}, TypeError, "random_state must be"),
            ({"verbose": -1}, ValueError, "verbose must be at least 0"),
        ],
    )
    def test_bad_hyperparameters(self, kwargs, error, message):
        with pytest.raises(error, match=message):
            LogisticRegression(**kwargs).fit(X_SMALL, y_SMALL)

    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            ({"hidden_units": 0}, ValueError, "hidden_units must be at least 1"),
            ({"activation": "gelu"}, ValueError, "activation must be one of 'sigmoid', 'tanh', 'relu', 'leaky_relu', got 'gelu'"),
            ({"init_scale": 0.0}, ValueError, "init_scale must be a positive"),
        ],
    )
    def test_bad_two_layer_hyperparameters(self, kwargs, error, message):
        with pytest.raises(error, match=message):
            TwoLayerNet(**kwargs).fit(X_SMALL, y_SMALL)

    @pytest.mark.parametrize(
        ("init_params", "error", "message"),
        [
            ({"W": np.zeros((3, 1))}, ValueError, r"exactly the keys \['W', 'b'\]"),
            ({"W": np.zeros((2, 1)), "b": np.zeros(1)}, ValueError, r"init_params\['W'\] must have shape \(3, 1\), got \(2, 1\)"),
            ({"W": np.full((3, 1), np.nan), "b": np.zeros(1)}, ValueError, "finite real numbers"),
            ([np.zeros((3, 1))], TypeError, "init_params must be a dict"),
        ],
    )
    def test_bad_init_params(self, init_params, error, message):
        with pytest.raises(error, match=message):
            LogisticRegression(backend="numpy").fit(X_SMALL, y_SMALL, init_params=init_params)


class TestDivergence:
    def test_divergent_learning_rate_is_a_clear_error_and_keeps_finite_parameters(self, backend_case):
        # relu units are unbounded: with this step the weights grow geometrically and the cost explodes
        model = TwoLayerNet(
            8, activation="relu", init="he", learning_rate=30.0, max_iter=400, random_state=0,
            backend=backend_case.spec, dtype=backend_case.dtype,
        )
        with np.errstate(all="ignore"), pytest.raises(DivergenceError, match=r"at iteration \d+.*smaller learning_rate") as info:
            model.fit(X_SMALL, y_SMALL)
        error = info.value
        assert error.iteration >= 1 and len(error.loss_curve) == error.iteration
        assert all(np.isfinite(error.loss_curve))
        for value in model.params_.values():
            backend_case.assert_on_case(value)
            assert np.isfinite(backend_case.to_numpy(value)).all()
        assert model.loss_curve_ == error.loss_curve
        # the kept parameters are exactly those after iteration - 1 updates
        replay = TwoLayerNet(**{**model.get_params(), "max_iter": error.iteration - 1}).fit(X_SMALL, y_SMALL)
        for key, value in replay.params_.items():
            np.testing.assert_array_equal(backend_case.to_numpy(model.params_[key]), backend_case.to_numpy(value))


class TestPredictLogProba:
    @pytest.mark.parametrize("n_classes", [2, 3])
    def test_equals_the_log_of_predict_proba_on_every_backend(self, backend_case, n_classes):
        rng = np.random.default_rng(4)
        X = rng.normal(size=(40, 3))
        y = np.argmax(X[:, :n_classes], axis=1) if n_classes > 2 else (X[:, 0] > 0).astype(int)
        model = nc.NeuralNet((4,), max_iter=20, learning_rate=0.3, random_state=0, backend=backend_case.spec,
                             dtype=backend_case.dtype).fit(backend_case.asarray(X), y)
        Xb = backend_case.asarray(X)
        log_proba = model.predict_log_proba(Xb)
        backend_case.assert_on_case(log_proba)
        assert log_proba.shape == (40, n_classes)
        np.testing.assert_allclose(backend_case.to_numpy(log_proba), np.log(backend_case.to_numpy(model.predict_proba(Xb))),
                                   rtol=backend_case.rtol * 10, atol=1e-6)

    def test_finite_where_a_probability_underflows(self):
        model = nc.LogisticRegression(backend="numpy").fit(np.asarray([[0.0], [1.0]]), [0, 1],
                                                            init_params={"W": np.asarray([[1.0]]), "b": np.zeros(1)})
        model.restore(**{**model.fitted_state(), "params_": {"W": np.asarray([[800.0]]), "b": np.zeros(1)}})
        log_proba = model.predict_log_proba(np.asarray([[1.0]]))
        np.testing.assert_allclose(log_proba, [[-800.0, 0.0]])
        assert model.predict_proba(np.asarray([[1.0]]))[0, 0] == 0.0  # where log(predict_proba) would be -inf

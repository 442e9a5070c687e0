"""Attacks on backends, devices, data sources and the functional API: each test names the attack it repels."""

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import device as nc_device
from neuralcore import logistic, optim, solvers
from neuralcore.data import ArrayData
from neuralcore.datasets import make_planar
from neuralcore.train import Steps, train

X_PLANAR, Y_PLANAR = make_planar(n_samples=60, random_state=0)
Y_COLUMN = Y_PLANAR.reshape(-1, 1).astype(np.float64)
STEPS = Steps(logistic.loss_and_grads, logistic.gd_step)


def host_params(dtype="float64"):
    return {"W": np.zeros((2, 1), dtype=dtype), "b": np.zeros(1, dtype=dtype)}


def case_params(case):
    return {key: case.asarray(value) for key, value in host_params(case.dtype).items()}


# ------------------------------------------------------------------------- Dask input


class TestDaskNarrowing:
    """float64 Dask data trained or scored in float32: values beyond float32 are refused, as in memory."""

    def _big(self):
        X = X_PLANAR.copy()
        X[3, 0] = 1e39  # finite in float64, infinite in float32
        return X

    def test_attack_dask_fit_float32_of_values_beyond_float32(self):
        da = pytest.importorskip("dask.array")
        X = da.from_array(self._big(), chunks=(20, 2))
        with pytest.raises(ValueError, match="X has values beyond the range of float32"):
            nc.LogisticRegression(max_iter=3, dtype="float32").fit(X, Y_PLANAR)

    def test_attack_dask_eval_set_beyond_float32_silently_scored(self):
        da = pytest.importorskip("dask.array")
        X = da.from_array(X_PLANAR, chunks=(20, 2))
        X_val = da.from_array(self._big(), chunks=(20, 2))
        model = nc.LogisticRegression(max_iter=3, dtype="float32")
        with pytest.raises(ValueError, match="eval_set X has values beyond the range of float32"):
            model.fit(X, Y_PLANAR, eval_set=(X_val, Y_PLANAR))
        assert not hasattr(model, "params_")

    def test_attack_dask_predict_float32_model_on_float64_beyond(self):
        da = pytest.importorskip("dask.array")
        model = nc.LogisticRegression(max_iter=3, dtype="float32").fit(X_PLANAR, Y_PLANAR)
        with pytest.raises(ValueError, match="X has values beyond the range of float32"):
            model.predict_proba(da.from_array(self._big(), chunks=(20, 2)))


class TestDaskWithExplicitBackend:
    """A Dask array trains with host parameters: an explicit other backend= is an error, not ignored."""

    def test_attack_dask_X_with_backend_elsewhere_silently_ignored(self, backend_case):
        da = pytest.importorskip("dask.array")
        X = da.from_array(X_PLANAR, chunks=(20, 2))
        model = nc.LogisticRegression(max_iter=3, backend=backend_case.spec)
        if backend_case.name == "numpy":  # where a Dask fit's parameters live: honoured
            assert model.fit(X, Y_PLANAR).trained_on_ == "dask"
            return
        with pytest.raises(ValueError, match=r"X is a Dask array.*backend="):
            model.fit(X, Y_PLANAR)
        assert not hasattr(model, "params_")

    @pytest.mark.parametrize("backend", ["numpy", "dask", "auto"])
    def test_dask_X_with_backend_it_honours(self, backend):
        da = pytest.importorskip("dask.array")
        X = da.from_array(X_PLANAR, chunks=(20, 2))
        model = nc.LogisticRegression(max_iter=3, backend=backend).fit(X, Y_PLANAR)
        assert model.trained_on_ == "dask" and isinstance(model.params_["W"], np.ndarray)


# ---------------------------------------------------------------------- functional API


class TestFunctionalTrainPlacement:
    """neuralcore.train.train and solvers.solve with parameters somewhere the data is not."""

    def test_attack_train_host_params_on_device_data(self, backend_case):
        data = ArrayData(backend_case.asarray(X_PLANAR), backend_case.asarray(Y_COLUMN))
        if backend_case.name == "numpy":  # host parameters are where NumPy data trains
            result = train(STEPS, host_params(backend_case.dtype), data, optimizer=optim.gradient_descent(0.5), max_iter=3)
            backend_case.assert_on_case(result.params["W"])
            return
        with pytest.raises(ValueError, match=r"params\['W'\] is a numpy array .* but the data is on .*data\.place"):
            train(STEPS, host_params(backend_case.dtype), data, optimizer=optim.gradient_descent(0.5), max_iter=3)

    def test_attack_train_params_on_other_device(self, backend_case):
        params = {key: nc_device.to_backend(value, backend_case.other_spec) for key, value in host_params().items()}
        data = (backend_case.asarray(X_PLANAR), backend_case.asarray(Y_COLUMN))
        with pytest.raises(ValueError, match=r"params\['W'\] is a .* array on .* but the data is on"):
            train(STEPS, params, data, optimizer=optim.adam(0.01), max_iter=3)

    def test_train_on_a_pair_equals_array_data(self, backend_case):
        X, Y = backend_case.asarray(X_PLANAR), backend_case.asarray(Y_COLUMN)
        by_pair = train(STEPS, case_params(backend_case), (X, Y), optimizer=optim.gradient_descent(0.5), max_iter=5)
        by_list = train(STEPS, case_params(backend_case), [X, Y], optimizer=optim.gradient_descent(0.5), max_iter=5)
        by_source = train(STEPS, case_params(backend_case), ArrayData(X, Y), optimizer=optim.gradient_descent(0.5),
                          max_iter=5)
        assert by_pair.loss_curve == by_source.loss_curve == by_list.loss_curve
        backend_case.assert_on_case(by_pair.params["W"])

    def test_attack_solve_on_a_pair_and_host_params(self, backend_case):
        X, Y = backend_case.asarray(X_PLANAR), backend_case.asarray(Y_COLUMN)
        result = solvers.solve("lbfgs", case_params(backend_case), (X, Y), alpha=0.01, max_iter=50)
        reference = solvers.solve("lbfgs", host_params(), ArrayData(X_PLANAR, Y_COLUMN), alpha=0.01, max_iter=50)
        backend_case.assert_on_case(result.params["W"])
        np.testing.assert_allclose(backend_case.to_numpy(result.params["W"]), reference.params["W"],
                                   rtol=1e-6 if backend_case.dtype == "float64" else 1e-2, atol=1e-6)
        if backend_case.name != "numpy":
            with pytest.raises(ValueError, match=r"params\['W'\] is a numpy array"):
                solvers.solve("newton", host_params(backend_case.dtype), (X, Y), alpha=0.01, max_iter=5)

    def test_attack_solve_unknown_solver_name(self):
        with pytest.raises(ValueError, match=r"solver must be one of 'lbfgs', 'newton', got 'bfgs'"):
            solvers.solve("bfgs", host_params(), (X_PLANAR, Y_COLUMN), alpha=0.01, max_iter=5)

    def test_attack_train_on_something_that_is_no_data(self):
        with pytest.raises(TypeError, match=r"data must be a data source .* or a pair \(X, Y\), got dict"):
            train(STEPS, host_params(), {"X": X_PLANAR}, optimizer=optim.gradient_descent(0.5), max_iter=3)
        with pytest.raises(TypeError, match=r"a pair \(X, Y\), got a tuple of 3"):
            train(STEPS, host_params(), (X_PLANAR, Y_COLUMN, None), optimizer=optim.gradient_descent(0.5), max_iter=3)


class TestArrayDataChecks:
    """ArrayData refuses what would otherwise fail deep in the loop, or broadcast silently."""

    def test_attack_rows_mismatch(self, backend_case):
        with pytest.raises(ValueError, match="X has 60 samples but Y has 50; they must match"):
            ArrayData(backend_case.asarray(X_PLANAR), backend_case.asarray(Y_COLUMN[:50]))

    def test_attack_one_dimensional_Y(self, backend_case):
        with pytest.raises(ValueError, match=r"Y must be 2-D of shape \(n_samples, n_outputs\), got shape \(60,\)"):
            ArrayData(backend_case.asarray(X_PLANAR), backend_case.asarray(Y_PLANAR.astype(float)))

    def test_attack_X_and_Y_on_two_devices(self, backend_case):
        with pytest.raises(ValueError, match="X is .* but Y is"):
            ArrayData(backend_case.asarray(X_PLANAR), nc_device.to_backend(Y_COLUMN, backend_case.other_spec))

    @pytest.mark.parametrize("batch_size, error", [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError)])
    def test_attack_bad_batch_size(self, batch_size, error):
        with pytest.raises(error, match="batch_size must be"):
            ArrayData(X_PLANAR, Y_COLUMN, batch_size=batch_size)

    def test_attack_lists(self):
        data = ArrayData(X_PLANAR.tolist(), Y_COLUMN.tolist())
        assert isinstance(data.X, np.ndarray) and data.n_samples == 60


# ----------------------------------------------------------------- devices and dtypes


class TestDeviceWithoutFloat64:
    """A device that cannot hold float64 (array-api-strict's 'no_float64', like PyTorch's MPS): a clear error
    that names the device and the way out, from fit and from to(); a float32 fit works there."""

    SPEC = "array_api_strict:no_float64"

    def test_attack_fit_float64_on_device_without_float64(self):
        model = nc.LogisticRegression(max_iter=3, backend=self.SPEC)
        with pytest.raises(ValueError, match=r"array_api_strict:no_float64 cannot hold float64 arrays.*float32"):
            model.fit(X_PLANAR, Y_PLANAR)
        assert not hasattr(model, "params_")
        fitted = model.set_params(dtype="float32").fit(X_PLANAR, Y_PLANAR)
        assert nc_device.to_numpy_dtype(fitted.params_["W"].dtype) == np.float32

    def test_attack_to_device_without_float64(self):
        model = nc.LogisticRegression(max_iter=3).fit(X_PLANAR, Y_PLANAR)
        before = model.predict_proba(X_PLANAR)
        with pytest.raises(ValueError, match=r"array_api_strict:no_float64 cannot hold float64 arrays"):
            model.to(self.SPEC)
        assert model.backend_ == "numpy" and isinstance(model.params_["W"], np.ndarray)
        np.testing.assert_array_equal(model.predict_proba(X_PLANAR), before)


class TestDeviceContext:
    """neuralcore.device.device_context takes what resolve_backend takes, as every other door of device.py."""

    def test_attack_device_context_given_a_name(self, backend_case):
        with nc_device.device_context(backend_case.spec):
            model = nc.LogisticRegression(max_iter=3, backend=backend_case.spec, dtype=backend_case.dtype)
            model.fit(X_PLANAR, Y_PLANAR)
        backend_case.assert_on_case(model.params_["W"])
        assert model.trained_on_ == str(backend_case.backend)

    def test_attack_device_context_given_junk(self):
        with pytest.raises(TypeError, match="backend must be a string such as 'numpy'"):
            nc_device.device_context(3)
        with pytest.raises(ValueError, match="unknown backend 'gpu'"):
            nc_device.device_context("gpu")


# ------------------------------------------------------------------------------ threads


class TestPredictDuringAnotherFit:
    """A fit on another thread that lands while a prediction runs (made deterministic here: the new
    fitted state is set from inside the prediction's forward pass) must not mix the two models: the
    prediction uses one fitted state, the one it started with."""

    def test_attack_state_replaced_mid_prediction(self, backend_case):
        kind = "predict"  # the labels are read after the logits
        X = backend_case.asarray(X_PLANAR)
        model = nc.NeuralNet((3,), max_iter=5, random_state=0, dtype=backend_case.dtype).fit(X, Y_PLANAR)
        expected = backend_case.to_numpy(getattr(model, kind)(X))
        other = nc.NeuralNet((3,), max_iter=5, random_state=1, dtype=backend_case.dtype)
        other.fit(X, np.arange(60) % 3 + 5)  # three other classes, other shapes
        forward = model._logits

        def logits_then_refit(params, X_, xp):
            out = forward(params, X_, xp)
            model.restore(**other.fitted_state())  # what a concurrent fit's _set_fitted does
            return out

        model._logits = logits_then_refit
        got = backend_case.to_numpy(getattr(model, kind)(X))
        np.testing.assert_array_equal(got, expected)


class TestBackendNames:
    """Device names that exist in a library but hold no data are refused by name, not by a deep traceback."""

    def test_attack_torch_meta_device(self):
        if not nc_device.backend_status("torch")[0]:
            pytest.skip("torch is not installed")
        with pytest.raises(ValueError, match="torch's 'meta' device holds no data"):
            nc.LogisticRegression(max_iter=3, backend="torch:meta").fit(X_PLANAR, Y_PLANAR)

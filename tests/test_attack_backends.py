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

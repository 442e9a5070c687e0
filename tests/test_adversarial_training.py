"""Adversarial matrix, training and backends (issue 11): one test per attack, named after it.

Training that lies: a finite cost that explodes is a divergence; requests that
need more memory than the device has are refused before anything is allocated.
Backends that pretend: a dtype the backend cannot hold is an error, never a
silent change; the code runs on the oldest Array API standard it states
(2023.12); an array without a host export (DLPack) fails at entry.
"""

from __future__ import annotations

import math
import types
import warnings

import array_api_strict
import numpy as np
import pytest

from neuralcore import ConvergenceWarning, DivergenceError, LogisticRegression, TwoLayerNet, budget
from neuralcore import device as nc_device
from neuralcore.cli import main
from neuralcore.optim import gradient_descent
from neuralcore.train import EXPLOSION_FACTOR, EXPLOSION_MARGIN, train

RNG = np.random.default_rng(11)
X_SMALL = RNG.normal(size=(48, 3))
y_SMALL = (X_SMALL @ np.asarray([1.0, -2.0, 0.5]) > 0).astype(np.int64)


def _models(backend_case, **hyper):
    common = dict(backend=backend_case.spec, dtype=backend_case.dtype, random_state=0, **hyper)
    return [LogisticRegression(**common), TwoLayerNet(4, **common)]


# ------------------------------------------------------------------- divergence


class TestExplodingCost:
    @pytest.mark.chunked
    def test_attack_learning_rate_1e200_full_batch(self, backend_case):
        X = backend_case.asarray(X_SMALL)
        for model in _models(backend_case, learning_rate=1e200, max_iter=30):
            # float64: the cost explodes, finite; float32: the rate itself overflows, the cost becomes NaN
            with np.errstate(all="ignore"), pytest.raises(DivergenceError, match="training diverged") as info:
                model.fit(X, y_SMALL)
            error = info.value
            # the last accepted cost is the start's: the parameters kept are the starting ones
            assert error.iteration == 1 and error.n_iter == 0 and len(error.loss_curve) == 1
            assert error.loss_curve[0] < 1  # about log(2)
            for value in error.params.values():
                assert np.isfinite(backend_case.to_numpy(value)).all()
                assert np.abs(backend_case.to_numpy(value)).max() < 1e3

    def test_attack_learning_rate_1e200_mini_batches(self, backend_case):
        X = backend_case.asarray(X_SMALL)
        for model in _models(backend_case, learning_rate=1e200, max_iter=5, batch_size=8):
            initial = {k: v.copy() for k, v in type(model)(**model.get_params())._init_params(3, 1, np.random.default_rng(0)).items()}
            # float64: the cost explodes, finite; float32: the rate itself overflows, the cost becomes NaN
            with np.errstate(all="ignore"), pytest.raises(DivergenceError, match="training diverged") as info:
                model.fit(X, y_SMALL)
            error = info.value
            # the first epoch's mean cost explodes against its first batch's cost: nothing accepted
            assert error.iteration == 0 and error.n_iter == 0 and error.loss_curve == []
            for key, value in error.params.items():
                np.testing.assert_allclose(backend_case.to_numpy(value), initial[key], rtol=1e-6)

    def test_attack_cost_climbing_finitely_stops_exactly_past_the_documented_bound(self):
        # a cost that never becomes NaN: 1, 50, 101 (= the bound max(100 * 1, 1 + 100): accepted), 102
        costs = iter([1.0, 50.0, 101.0, 102.0, 1e9])

        def loss_and_grads(params, X, Y):
            return np.asarray(next(costs)), {"w": np.ones(1)}

        with pytest.raises(DivergenceError, match=r"exploded to 102 at iteration 3") as info:
            train(loss_and_grads, {"w": np.zeros(1)}, (np.zeros((4, 1)), np.zeros((4, 1))), optimizer=gradient_descent(1.0), max_iter=5)
        error = info.value
        assert error.loss_curve == [1.0, 50.0, 101.0]
        assert error.iteration == 3 and error.n_iter == 2
        np.testing.assert_array_equal(error.params["w"], [-2.0])  # after 2 updates: the cost 101 was theirs
        assert (EXPLOSION_FACTOR, EXPLOSION_MARGIN) == (100.0, 100.0)

    def test_attack_large_starting_cost_uses_the_relative_bound(self):
        # starting far off (cost 1e4), climbing to 5e5 is within 100x; 2e6 is not
        costs = iter([1e4, 5e5, 2e6])

        def loss_and_grads(params, X, Y):
            return np.asarray(next(costs)), {"w": np.ones(1)}

        with pytest.raises(DivergenceError, match="iteration 2"):
            train(loss_and_grads, {"w": np.zeros(1)}, (np.zeros((4, 1)), np.zeros((4, 1))), optimizer=gradient_descent(1.0), max_iter=3)

    def test_attack_rule_must_not_fire_on_large_but_sane_learning_rates(self, backend_case, planar):
        X, y = planar
        X = backend_case.asarray(X)
        # full batch at 50x the course's rate climbs to ~20x its start and recovers; mini-batches of 1 are noisy
        TwoLayerNet(4, learning_rate=50.0, max_iter=150, random_state=0, backend=backend_case.spec).fit(X, y)
        LogisticRegression(learning_rate=5.0, max_iter=2, batch_size=1, random_state=0, backend=backend_case.spec).fit(X, y)


@pytest.mark.parametrize(
    "hyper, message",
    [
        ({"learning_rate": math.inf}, "learning_rate must be finite"),
        ({"learning_rate": math.nan}, "learning_rate must be finite"),
        ({"alpha": math.inf}, "alpha must be finite"),
        ({"tol": math.nan}, "tol must be finite"),
        ({"learning_rate": lambda step: math.inf}, "schedule returned inf at step 0"),
        ({"learning_rate": lambda step: -1.0}, "schedule returned -1.0 at step 0"),
        ({"optimizer": "adam", "optimizer_params": {"beta1": 2.0}}, "beta1 must be"),
    ],
    ids=["lr-inf", "lr-nan", "alpha-inf", "tol-nan", "schedule-inf", "schedule-negative", "adam-beta1-2"],
)
def test_attack_nonfinite_or_out_of_range_training_hyperparameters(hyper, message):
    model = TwoLayerNet(3, max_iter=3, random_state=0, backend="numpy", **hyper)
    with pytest.raises(ValueError, match=message):
        model.fit(X_SMALL, y_SMALL)
    assert not hasattr(model, "params_")


# ----------------------------------------------------------------------- memory


class TestMemoryBudget:
    @pytest.mark.chunked
    def test_attack_hidden_units_one_billion(self, backend_case):
        model = TwoLayerNet(hidden_units=1_000_000_000, backend=backend_case.spec)
        with pytest.raises(budget.MemoryBudgetError, match=r"hidden_units=1000000000.*GiB.*GiB in all") as info:
            model.fit(backend_case.asarray(X_SMALL), y_SMALL)
        assert isinstance(info.value, MemoryError) and isinstance(info.value, ValueError)
        assert not hasattr(model, "params_")

    def test_attack_newton_on_two_million_features(self, backend_case):
        X = backend_case.asarray(np.zeros((2, 2_000_000), dtype=np.float32), dtype="float32")
        model = LogisticRegression(solver="newton", alpha=1e-3, backend=backend_case.spec)
        with pytest.raises(budget.MemoryBudgetError, match=r"solver='newton' on 2000000 features: its Hessian.*solver='lbfgs'"):
            model.fit(X, [0, 1])

    def test_attack_huge_batch_names_batch_size(self, monkeypatch):
        # a device of 1 MiB: one batch of 2000 rows through 1000 units needs ~46 MiB
        monkeypatch.setattr(budget, "device_memory", lambda placement: 2**20)
        X = RNG.normal(size=(2000, 2))
        y = (X[:, 0] > 0).astype(int)
        with pytest.raises(budget.MemoryBudgetError, match=r"batch_size=2000 x hidden_units=1000.*smaller batch_size"):
            TwoLayerNet(1000, batch_size=2000, max_iter=1, backend="numpy").fit(X, y)

    def test_attack_refused_refit_keeps_the_fitted_model(self):
        model = LogisticRegression(max_iter=5, backend="numpy").fit(X_SMALL, y_SMALL)
        before = {k: v.copy() for k, v in model.params_.items()}
        X_wide = np.zeros((2, 2_000_000), dtype=np.float32)
        with pytest.raises(MemoryError):
            model.set_params(solver="newton", alpha=1e-3).fit(X_wide, [0, 1])
        assert model.n_features_in_ == 3
        for key, value in before.items():
            np.testing.assert_array_equal(model.params_[key], value)

    def test_estimate_counts_the_hessian_and_optimizer_state(self):
        shapes = {"W": (999, 1), "b": (1,)}
        plain = budget.fit_bytes(shapes, n_samples=10, n_features=999, n_outputs=1, itemsize=8)
        newton = budget.fit_bytes(shapes, n_samples=10, n_features=999, n_outputs=1, itemsize=8, solver="newton")
        adam = budget.fit_bytes(shapes, n_samples=10, n_features=999, n_outputs=1, itemsize=8, optimizer_slots=2)
        assert newton.solver >= 3 * 1000**2 * 8 and plain.solver == 0
        assert adam.parameters - plain.parameters == 2 * 1000 * 8

    def test_attack_cli_hidden_units_one_billion_is_one_line(self, capsys):
        status = main(["train", "planar", "--backend", "numpy", "--hidden-units", "1000000000", "--quiet"])
        err = capsys.readouterr().err
        assert status == 1
        assert err.count("\n") == 1 and err.startswith("neuralcore: error: this fit needs at least") and "GiB" in err


# ---------------------------------------------------------------------- backends


def _downcasting_backend(name="jax"):
    """A backend that stores float64 as float32 and int64 as int32, as JAX does with 64-bit numbers disabled."""
    narrow = {np.dtype("float64"): np.float32, np.dtype("int64"): np.int32}

    def asarray(host, device=None, dtype=None):
        host = np.asarray(host, dtype=dtype)
        return host.astype(narrow.get(host.dtype, host.dtype))

    xp = types.SimpleNamespace(__name__="fake", float32=np.float32, float64=np.float64, asarray=asarray)
    return nc_device.Backend(name, xp, None)


class TestBackendsThatPretend:
    def test_attack_float64_on_a_backend_that_stores_float32(self):
        fake = _downcasting_backend()
        with pytest.raises(TypeError, match=r"cannot hold float64: it gave float32.*jax_enable_x64.*dtype='float32'"):
            nc_device.to_backend(np.ones(3), fake)
        with pytest.raises(TypeError, match="cannot hold float64"):
            nc_device.to_backend(np.ones(3, dtype=np.float32), fake, dtype="float64")
        # what it can hold passes
        assert nc_device.to_backend(np.ones(3), fake, dtype="float32").dtype == np.float32

    def test_attack_float64_fit_on_a_backend_that_stores_float32(self):
        model = LogisticRegression(backend=_downcasting_backend(), dtype="float64", max_iter=2)
        with pytest.raises(TypeError, match="cannot hold float64"):
            model.fit(X_SMALL, y_SMALL)
        assert not hasattr(model, "params_")

    def test_attack_int64_narrowing_only_when_values_fit(self):
        fake = _downcasting_backend("other")
        assert nc_device.to_backend(np.arange(5), fake).dtype == np.int32  # indices: the values survive
        with pytest.raises(TypeError, match="cannot hold int64"):
            nc_device.to_backend(np.asarray([2**40]), fake)

    def test_attack_cast_on_the_backend_that_keeps_float32(self, monkeypatch):
        # an array already on its backend is cast there (check_X): that cast's result is checked too
        X = nc_device.to_backend(X_SMALL, "array_api_strict", dtype="float32")
        real = array_api_strict.astype
        monkeypatch.setattr(array_api_strict, "astype", lambda x, dtype, **kw: real(x, array_api_strict.float32))
        model = LogisticRegression(max_iter=2, dtype="float64")
        with pytest.raises(TypeError, match="array_api_strict.*cannot hold float64"):
            model.fit(X, y_SMALL)
        assert not hasattr(model, "params_")


class TestOldestArrayAPI:
    """The code runs on the 2023.12 standard (array-api-strict in that mode): Python scalars in
    ``where`` and friends need 2024.12."""

    @pytest.fixture
    def api_2023(self):
        with array_api_strict.ArrayAPIStrictFlags(api_version="2023.12"):
            yield

    @pytest.mark.parametrize("spec, dtype", [("array_api_strict", "float64"), ("array_api_strict:device1", "float32")])
    def test_attack_train_both_models_on_2023_12(self, api_2023, spec, dtype):
        X = nc_device.to_backend(X_SMALL, spec, dtype=dtype)
        y3 = np.arange(48) % 3
        models = [
            LogisticRegression(max_iter=3, backend=spec),
            LogisticRegression(solver="newton", alpha=1e-2, max_iter=3, backend=spec),
            LogisticRegression(solver="lbfgs", alpha=1e-2, max_iter=3, backend=spec),
            TwoLayerNet(3, activation="relu", max_iter=3, random_state=0, backend=spec),
            TwoLayerNet(3, activation="leaky_relu", max_iter=3, random_state=0, optimizer="adam", batch_size=16, backend=spec),
            TwoLayerNet(3, activation="tanh", max_iter=3, random_state=0, validation_fraction=0.25, backend=spec),
        ]
        for model in models:
            for y in (y_SMALL, y3):  # sigmoid and softmax outputs
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)  # 3 iterations of a solver
                    model.fit(X, y)
                proba = nc_device.to_numpy(model.predict_proba(X))
                assert proba.shape == (48, len(np.unique(y))) and np.allclose(proba.sum(axis=1), 1)
                assert math.isfinite(model.score(X, y))


class _ArrayWithoutDLPack:
    """An Array API object (it names a namespace) that has no way back to the host."""

    shape = (48, 3)
    dtype = np.dtype("float64")
    device = "elsewhere"

    def __array_namespace__(self, api_version=None):
        return types.ModuleType("nodlpack")


class TestNoHostExport:
    def test_attack_fit_on_an_array_without_dlpack(self):
        model = TwoLayerNet(2, max_iter=2)
        with pytest.raises(TypeError, match=r"X is a .*_ArrayWithoutDLPack.*no host export.*__dlpack__"):
            model.fit(_ArrayWithoutDLPack(), y_SMALL)
        assert not hasattr(model, "params_")

    def test_attack_predict_and_to_numpy_on_an_array_without_dlpack(self):
        model = LogisticRegression(max_iter=2, backend="numpy").fit(X_SMALL, y_SMALL)
        with pytest.raises(TypeError, match="no host export"):
            model.predict(_ArrayWithoutDLPack())
        with pytest.raises(TypeError, match="no host export"):
            nc_device.to_numpy(_ArrayWithoutDLPack())

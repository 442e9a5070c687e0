"""Attack round: the fitted state and its contract (restore, copies, model files of subclasses)."""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import persistence

X = np.random.RandomState(0).randn(40, 3)
Y = (X[:, 0] > 0).astype(int)


def _fitted(cls=nc.TwoLayerNet, **kw):
    return cls(**{"max_iter": 5, "random_state": 0, **kw}).fit(X, Y)


class TestRestoreRefusesBogusState:
    """restore() is public: a state that is not a fitted state of this estimator is refused by name,
    never set (an unknown key overwrote a hyperparameter; wrong shapes predicted silently)."""

    def test_attack_restore_unknown_key_overwrites_hyperparameter(self):
        model = _fitted()
        state = model.fitted_state()
        with pytest.raises(TypeError, match="learning_rate"):
            model.restore(**state, learning_rate=99.0)
        assert model.learning_rate == 1.2

    def test_attack_restore_partial_state_leaves_model_as_it_was(self):
        model = _fitted()
        before = model.predict_proba(X)
        other = _fitted(random_state=None).fitted_state()
        with pytest.raises(TypeError, match="classes_"):
            model.restore(params_=other["params_"])
        np.testing.assert_array_equal(model.predict_proba(X), before)

    def test_attack_restore_params_of_other_hyperparameters(self):
        state = {k: v for k, v in _fitted().fitted_state().items() if k != "_fitted_with"}
        model = nc.TwoLayerNet(8)
        with pytest.raises(ValueError, match="W1.*shape"):
            model.restore(**state)  # hidden_units=4 parameters in an 8-unit net
        assert "params_" not in model.__dict__

    @pytest.mark.parametrize("change", [{"n_features_in_": 5}, {"classes_": np.array([0, 1, 2])}])
    def test_attack_restore_state_inconsistent_with_its_params(self, change):
        state = {**_fitted().fitted_state(), **change}
        with pytest.raises(ValueError, match="shape"):
            nc.TwoLayerNet(4).restore(**state)

    def test_attack_restore_with_settings_other_than_the_hyperparameters(self):
        state = _fitted().fitted_state()  # _fitted_with says activation='tanh'
        model = nc.TwoLayerNet(4, activation="relu")
        with pytest.raises(ValueError, match="activation='tanh'"):
            model.restore(**state)
        assert "params_" not in model.__dict__


class TestCopiesKeepTheBackend:
    """copy.copy / copy.deepcopy went through __getstate__ (made for pickle) and moved the copy to NumPy:
    the copy then refused the very arrays the original predicts on."""

    @pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
    def test_attack_copy_of_a_backend_model(self, backend_case, copier):
        Xb = backend_case.asarray(X)
        model = nc.NeuralNet((3,), max_iter=5, random_state=0, dtype=backend_case.dtype).fit(Xb, Y)
        twin = copier(model)
        assert twin.backend_ == model.backend_
        backend_case.assert_on_case(twin.params_["W1"])
        np.testing.assert_array_equal(backend_case.to_numpy(twin.predict_proba(Xb)),
                                      backend_case.to_numpy(model.predict_proba(Xb)))

    def test_attack_deepcopy_is_independent(self):
        model = _fitted(nc.NeuralNet, hidden_units=[3])
        twin = copy.deepcopy(model)
        assert twin.params_["W1"] is not model.params_["W1"]
        twin.params_["W1"][...] = 0
        assert np.any(model.params_["W1"] != 0)
        twin.hidden_units.append(2)
        assert model.hidden_units == [3]


class TestFittedSettingsAreASnapshot:
    def test_attack_hidden_units_list_mutated_in_place_after_fit(self):
        model = _fitted(nc.NeuralNet, hidden_units=[4, 3])
        model.hidden_units.append(2)  # the same list object the fit read
        with pytest.raises(ValueError, match=r"fitted with hidden_units=\[4, 3\]"):
            model.predict(X)
        with pytest.raises(ValueError, match=r"fitted with hidden_units=\[4, 3\]"):
            model.save("unused.npz")


class TestModelFilesOfSubclasses:
    def test_attack_unregistered_subclass_with_a_builtin_name(self, tmp_path):
        class LogisticRegression(nc.LogisticRegression):  # a user's variant, named like the built-in
            def _logits(self, params, X, xp):
                return -super()._logits(params, X, xp)

        model = LogisticRegression(max_iter=5).fit(X, Y)
        path = tmp_path / "m.npz"
        with pytest.raises(ValueError, match="register"):
            model.save(path)  # it would load as neuralcore's LogisticRegression, predicting other labels
        assert not path.exists()

    def test_attack_registered_subclass_with_extra_hyperparameter(self, tmp_path):
        class WiderNet(nc.TwoLayerNet):
            def __init__(self, hidden_units=4, activation="tanh", max_iter=10000, random_state=None, extra=1):
                super().__init__(hidden_units=hidden_units, activation=activation, max_iter=max_iter,
                                 random_state=random_state)
                self.extra = extra

        persistence.register(WiderNet)
        try:
            model = WiderNet(max_iter=5, random_state=0, extra=3).fit(X, Y)
            loaded = nc.load(model.save(tmp_path / "w.npz"))
        finally:
            del persistence.ESTIMATORS["WiderNet"]
        assert type(loaded) is WiderNet and loaded.extra == 3
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))

    def test_attack_register_does_not_replace_a_builtin(self):
        class TwoLayerNet(nc.TwoLayerNet):
            pass

        with pytest.raises(ValueError, match="TwoLayerNet"):
            persistence.register(TwoLayerNet)
        assert persistence.ESTIMATORS["TwoLayerNet"] is nc.TwoLayerNet


class TestPredictWhileSetParams:
    """A thread calling set_params(activation=...) while another predicts (made deterministic: the change
    lands after the prediction checked the fitted settings, before its forward pass) must not make the
    fitted parameters predict through another activation: the prediction uses the settings it checked."""

    @pytest.mark.parametrize("kind", ["predict_proba", "decision_function"])
    def test_attack_set_params_mid_prediction(self, backend_case, monkeypatch, kind):
        from neuralcore import base

        Xb = backend_case.asarray(X)
        model = nc.NeuralNet((3,), activation="tanh", max_iter=5, random_state=0, dtype=backend_case.dtype)
        model.fit(Xb, Y)
        expected = backend_case.to_numpy(getattr(model, kind)(Xb))
        check_X = base.check_X

        def check_X_then_set_params(*args, **kwargs):
            model.set_params(activation="sigmoid")  # what another thread's set_params(...).fit(...) does first
            return check_X(*args, **kwargs)

        monkeypatch.setattr(base, "check_X", check_X_then_set_params)
        got = backend_case.to_numpy(getattr(model, kind)(Xb))
        np.testing.assert_array_equal(got, expected)


class TestSubclassSignature:
    def test_attack_subclass_with_kwargs_in_init(self):
        class MyNet(nc.TwoLayerNet):
            def __init__(self, hidden_units=4, extra=1, **kwargs):
                super().__init__(hidden_units=hidden_units, **kwargs)
                self.extra = extra

        with pytest.raises(TypeError, match=r"MyNet.__init__.*\*\*kwargs.*every hyperparameter"):
            MyNet().get_params()  # was: AttributeError 'MyNet' object has no attribute 'kwargs'


class TestTrainOutOntoData:
    """`train --out` onto existing data is refused (2035fde); by the file it would replace, not the name typed."""

    @pytest.fixture(autouse=True)
    def _in_tmp(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("NEURALCORE_BACKEND", raising=False)

    def test_attack_out_npz_symlink_to_a_csv_data_file(self, capsys):
        from .cli_helpers import fails

        with open("data.csv", "w") as handle:
            handle.write("keep me\n")
        os.symlink("data.csv", "model.npz")
        fails(capsys, "train", "xor:n_samples=20", "--iterations", 2, "--quiet", "--out", "model.npz",
              match="is an existing CSV data file")
        assert open("data.csv").read() == "keep me\n"

    def test_attack_out_onto_an_npz_data_file(self, capsys):
        from .cli_helpers import cli, fails

        np.savez("data.npz", X=X, y=Y)
        fails(capsys, "train", "xor:n_samples=20", "--iterations", 2, "--quiet", "--out", "data.npz",
              match="--out data.npz is an existing NPZ data file")
        np.testing.assert_array_equal(np.load("data.npz")["X"], X)
        # an existing model file is what --out replaces
        assert cli(capsys, "train", "xor:n_samples=20", "--iterations", 2, "--quiet", "--out", "m.npz")[0] == 0
        assert cli(capsys, "train", "xor:n_samples=20", "--iterations", 3, "--quiet", "--out", "m.npz")[0] == 0
        assert nc.load("m.npz").n_iter_ == 3

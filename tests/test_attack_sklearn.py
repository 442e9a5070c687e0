"""Attacks by scikit-learn users: neuralcore's estimators inside scikit-learn's tools.

Each test names the attack it replays. Metadata routing
(``sklearn.set_config(enable_metadata_routing=True)``): a user who turns it on
routes ``sample_weight`` (and the other arguments of ``fit``, ``partial_fit``
and ``score``) through pipelines and model selection with
``set_fit_request``/``set_score_request``, as for scikit-learn's own
estimators; without those methods, routing could not reach neuralcore at all.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

import sklearn  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_validate  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import neuralcore as nc  # noqa: E402


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 5.0, 0.2] + [0.0, 3.0, -1.0]
    y = (X[:, 0] + 0.3 * X[:, 1] + rng.normal(scale=1.0, size=n) > 1.0).astype(int)
    w = rng.integers(0, 4, size=n).astype(float)
    return X, y, w


def _model(spec="numpy", **settings):
    settings = {"solver": "lbfgs", "alpha": 1e-2, "max_iter": 50, **settings}
    return nc.LogisticRegression(backend=spec, **settings)


class TestMetadataRouting:
    def test_attack_routing_pipeline_sample_weight_reaches_model(self, routing, backend_case):
        X, y, w = _data()
        model = _model(backend_case.spec).set_fit_request(sample_weight=True)
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), model)
        pipe.fit(X, y, sample_weight=w)
        scaled = StandardScaler().fit_transform(X)
        direct = _model(backend_case.spec).fit(scaled, y, sample_weight=w)
        unweighted = _model(backend_case.spec).fit(scaled, y)
        routed, direct, unweighted = (backend_case.to_numpy(m.coef_) for m in (pipe[-1], direct, unweighted))
        np.testing.assert_allclose(routed, direct, rtol=backend_case.rtol * 100, atol=1e-6)
        assert np.max(np.abs(routed - unweighted)) > 1e-3  # the weights did reach the model

    def test_attack_routing_unrequested_weight_is_scikit_learns_error(self, routing):
        from sklearn.exceptions import UnsetMetadataPassedError

        X, y, w = _data()
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), _model())
        with pytest.raises(UnsetMetadataPassedError, match="set_fit_request"):
            pipe.fit(X, y, sample_weight=w)

    def test_attack_routing_cross_validate_weighted_fit_and_score(self, routing):
        X, y, w = _data()
        model = _model().set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        folds = KFold(3)
        result = cross_validate(model, X, y, cv=folds, params={"sample_weight": w}, return_estimator=True)
        for (train, test), fitted, score in zip(folds.split(X), result["estimator"], result["test_score"]):
            expected = _model().fit(X[train], y[train], sample_weight=w[train])
            np.testing.assert_allclose(fitted.coef_, expected.coef_, rtol=1e-10, atol=1e-12)
            assert score == pytest.approx(expected.score(X[test], y[test], sample_weight=w[test]), abs=1e-12)

    def test_attack_routing_alias_and_refusal(self, routing):
        X, y, w = _data()
        model = _model().set_fit_request(sample_weight="row_weight")
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), model)
        pipe.fit(X, y, row_weight=w)
        direct = _model().fit(StandardScaler().fit_transform(X), y, sample_weight=w)
        np.testing.assert_allclose(pipe[-1].coef_, direct.coef_, rtol=1e-10, atol=1e-12)
        refused = _model().set_fit_request(sample_weight=False)  # not requested: fits unweighted
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=True), refused).fit(X, y, sample_weight=w)
        plain = _model().fit(StandardScaler().fit(X, sample_weight=w).transform(X), y)
        np.testing.assert_allclose(pipe[-1].coef_, plain.coef_, rtol=1e-10, atol=1e-12)

    def test_attack_routing_grid_search_in_two_processes(self, routing):
        X, y, w = _data()
        model = _model().set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        search = GridSearchCV(model, {"alpha": [1e-2, 1.0]}, cv=KFold(2), n_jobs=2).fit(X, y, sample_weight=w)
        train, test = next(iter(KFold(2).split(X)))
        best = _model(alpha=search.best_params_["alpha"]).fit(X[train], y[train], sample_weight=w[train])
        assert search.cv_results_["split0_test_score"][search.best_index_] == pytest.approx(
            best.score(X[test], y[test], sample_weight=w[test]), abs=1e-12)

    def test_attack_routing_partial_fit_request(self, routing):
        model = nc.TwoLayerNet(4, random_state=0).set_partial_fit_request(classes=True, sample_weight=True)
        request = model.get_metadata_routing()
        assert request.partial_fit.requests == {"classes": True, "sample_weight": True}
        assert request.fit.requests["sample_weight"] is None  # untouched methods keep scikit-learn's default

    def test_attack_routing_requests_survive_clone_copy_pickle_and_fit(self, routing):
        X, y, w = _data()
        model = _model().set_fit_request(sample_weight=True).set_score_request(sample_weight="w")
        for twin in (clone(model), copy.deepcopy(model), pickle.loads(pickle.dumps(model)),
                     model.fit(X, y, sample_weight=w)):
            request = twin.get_metadata_routing()
            assert request.fit.requests["sample_weight"] is True
            assert request.score.requests["sample_weight"] == "w"
        assert _model().get_metadata_routing().fit.requests["sample_weight"] is None  # no state shared by instances

    def test_attack_routing_requests_are_not_hyperparameters(self, routing):
        model = _model().set_fit_request(sample_weight=True)
        assert "sample_weight" not in model.get_params()
        assert repr(model) == repr(_model())

    def test_attack_routing_bad_requests_are_clear_errors(self, routing):
        model = _model()
        with pytest.raises(TypeError, match="Unexpected args.*sample_wieght.*sample_weight"):
            model.set_fit_request(sample_wieght=True)
        with pytest.raises(ValueError, match="sample_weight.*valid identifier"):
            model.set_score_request(sample_weight="not an identifier")
        with pytest.raises(TypeError, match="positional"):
            model.set_fit_request(True)
        assert model.get_metadata_routing().score.requests == {"sample_weight": None}  # nothing was set

    def test_attack_routing_request_methods_need_routing_on(self):
        with sklearn.config_context(enable_metadata_routing=False):
            with pytest.raises(RuntimeError, match="enable_metadata_routing=True"):
                _model().set_fit_request(sample_weight=True)


class TestErrorsAcrossProcesses:
    @pytest.mark.parametrize("name", ["NotFittedError", "ConvergenceWarning", "DataConversionWarning"])
    def test_attack_worker_without_sklearn_sends_error_to_parent_with_it(self, name):
        """A joblib or multiprocessing worker that never imported scikit-learn raises our plain class; the
        parent, whose ``except sklearn.exceptions.NotFittedError`` awaits it, must catch it."""
        import sklearn.exceptions as sk_exceptions

        from neuralcore import exceptions

        plain = getattr(exceptions, name)("this TwoLayerNet is not fitted yet")  # what such a worker raises
        plain.add_note("raised in a worker")
        assert type(plain) is getattr(exceptions, name)
        again = pickle.loads(pickle.dumps(plain))
        assert isinstance(again, getattr(sk_exceptions, name)) and isinstance(again, getattr(exceptions, name))
        assert str(again) == str(plain) and again.__notes__ == ["raised in a worker"]
        assert type(pickle.loads(pickle.dumps(again))) is type(again)  # and the twin pickles as itself

    def test_attack_plain_error_unpickled_without_sklearn_stays_plain(self):
        import subprocess
        import sys

        from neuralcore import exceptions

        data = pickle.dumps(exceptions.NotFittedError("not fitted"))
        code = ("import pickle, sys\n"
                f"error = pickle.loads({data!r})\n"
                "assert 'sklearn' not in sys.modules, 'unpickling imported scikit-learn'\n"
                "import neuralcore\n"
                "assert type(error) is neuralcore.NotFittedError and str(error) == 'not fitted'\n")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr


def test_attack_notebook_display_is_scikit_learn_s_diagram(monkeypatch):
    model = nc.NeuralNet((8,), class_weight="balanced")
    html = model._repr_html_()
    assert "NeuralNet" in html and "class_weight" in html and "<div" in html
    import builtins

    real_import = builtins.__import__

    def without_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_sklearn)
    assert model._repr_html_() is None  # the notebook falls back to repr(model)

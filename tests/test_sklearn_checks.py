"""scikit-learn's own estimator checks on every estimator, and what makes them pass.

``parametrize_with_checks`` runs scikit-learn's common checks (clone, pickling,
input validation and its messages, fit idempotence, training accuracy...) on
LogisticRegression, TwoLayerNet and NeuralNet. None is expected to fail: where
a check looks for words, our messages carry scikit-learn's beside our own.
The focused tests below pin each of those messages on every backend, and the
design that lets code written for scikit-learn's exception and warning classes
catch ours without ``import neuralcore`` importing scikit-learn.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import sklearn.exceptions as sk_exceptions  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

import neuralcore as nc  # noqa: E402
from neuralcore import exceptions  # noqa: E402
from neuralcore.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError  # noqa: E402

# Settings a user would choose, for speed and for check_classifiers_train (> 0.83 accuracy on small blobs):
# - LogisticRegression(solver="lbfgs"): the checks train on unscaled data (features near 100), where plain
#   gradient descent with a fixed learning rate diverges; lbfgs is the recommended solver for such data.
# - TwoLayerNet: the defaults (gradient descent, learning_rate=1.2) with max_iter=100.
# - NeuralNet(hidden_units=(8,), optimizer="adam", learning_rate=0.01): the usual Adam setting; the default
#   (20, 7, 5) ReLU network with gradient descent needs thousands of iterations.
# All: max_iter=100 (the whole module runs in seconds), backend="numpy" (the checks compare NumPy results),
# random_state=0 (the checks ask for the same model from the same data).
ESTIMATORS = [
    nc.LogisticRegression(solver="lbfgs", max_iter=100, backend="numpy", random_state=0),
    nc.TwoLayerNet(max_iter=100, backend="numpy", random_state=0),
    nc.NeuralNet(hidden_units=(8,), optimizer="adam", learning_rate=0.01, max_iter=100, backend="numpy",
                 random_state=0),
]

with warnings.catch_warnings():
    # "does not inherit from sklearn.base.BaseEstimator": deliberate, so that importing neuralcore does not
    # import scikit-learn; the contract (get_params, set_params, tags, clone) is implemented instead
    warnings.filterwarnings("ignore", message=".*does not inherit from `sklearn.base.BaseEstimator`")
    _ALL = parametrize_with_checks(ESTIMATORS).mark


def _check_name(entry) -> str:
    check = (entry.values if hasattr(entry, "values") else entry)[1]
    return getattr(check, "func", check).__name__


# scikit-learn's array-API checks skip themselves unless SCIPY_ARRAY_API=1 was set before SciPy was imported:
# they run instead, every one of them, in a process of their own (test_array_api_checks_with_scipy_array_api)
CHECKS = pytest.mark.parametrize(_ALL.args[0], [entry for entry in _ALL.args[1] if "array_api" not in _check_name(entry)],
                                 **_ALL.kwargs)


@CHECKS
def test_sklearn_check(estimator, check):
    check(estimator)


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def _fitted(case, Estimator=nc.LogisticRegression):
    X = case.asarray(np.random.default_rng(0).normal(size=(20, 3)))
    y = np.arange(20) % 2
    return Estimator(max_iter=2, backend=case.spec).fit(X, y), X


# ------------------------------------------------------------------------- the exception design


class TestNotFittedError:
    def test_import_does_not_import_sklearn_and_raises_our_class(self):
        result = _run(
            "import sys, numpy as np, neuralcore as nc\n"
            "assert 'sklearn' not in sys.modules, 'import neuralcore imported scikit-learn'\n"
            "try:\n    nc.TwoLayerNet().predict(np.ones((2, 2)))\n"
            "except nc.NotFittedError as error:\n    assert type(error) is nc.NotFittedError, type(error)\n"
            "assert 'sklearn' not in sys.modules, 'raising imported scikit-learn'\n"
        )
        assert result.returncode == 0, result.stderr

    @pytest.mark.parametrize("Estimator", [nc.LogisticRegression, nc.TwoLayerNet, nc.NeuralNet])
    def test_caught_by_sklearn_except_clause(self, backend_case, Estimator):
        model = Estimator(backend=backend_case.spec)
        X = backend_case.asarray(np.ones((2, 3)))
        for method in (model.predict, model.predict_proba, model.predict_log_proba, model.decision_function):
            try:
                method(X)
            except sk_exceptions.NotFittedError as error:  # code written for scikit-learn's class
                assert isinstance(error, NotFittedError) and isinstance(error, (ValueError, AttributeError))
                assert f"this {Estimator.__name__} is not fitted yet; call fit(X, y)" in str(error)
                assert type(error).__name__ == "NotFittedError"
            else:  # pragma: no cover - the bug this test targets
                pytest.fail(f"{method.__name__} before fit did not raise")
        with pytest.raises(sk_exceptions.NotFittedError):
            model.coef_ if Estimator is nc.LogisticRegression else model.fitted_state()

    def test_check_is_fitted(self, backend_case):
        model = nc.TwoLayerNet(max_iter=2, backend=backend_case.spec)
        with pytest.raises(sk_exceptions.NotFittedError, match="TwoLayerNet"):
            check_is_fitted(model)
        assert model.__sklearn_is_fitted__() is False
        fitted, _ = _fitted(backend_case, nc.TwoLayerNet)
        check_is_fitted(fitted)  # no error
        assert fitted.__sklearn_is_fitted__() is True

    def test_pickles_into_a_process_without_sklearn(self):
        try:
            nc.LogisticRegression().predict(np.ones((2, 2)))
        except NotFittedError as caught:
            error = caught
        assert isinstance(error, sk_exceptions.NotFittedError)
        data = pickle.dumps(error)  # GridSearchCV(n_jobs=2) sends a worker's error back to the parent
        again = pickle.loads(data)
        assert type(again) is type(error) and str(again) == str(error)
        result = _run(
            "import pickle, sys\n"
            f"error = pickle.loads({data!r})\n"
            "import neuralcore, sklearn.exceptions as sk\n"
            "assert isinstance(error, neuralcore.NotFittedError) and isinstance(error, sk.NotFittedError)\n"
            "assert 'not fitted yet' in str(error)\n"
        )
        assert result.returncode == 0, result.stderr


class TestWarnings:
    def test_convergence_warning_of_a_solver_is_sklearns(self, backend_case):
        X = backend_case.asarray(np.random.default_rng(0).normal(size=(40, 3)))
        y = (np.arange(40) % 3 == 0).astype(int)
        model = nc.LogisticRegression(solver="lbfgs", max_iter=1, tol=1e-12, backend=backend_case.spec)
        with pytest.warns(sk_exceptions.ConvergenceWarning, match="did not converge") as records:
            model.fit(X, y)
        assert all(issubclass(r.category, ConvergenceWarning) for r in records)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.filterwarnings("ignore", category=sk_exceptions.ConvergenceWarning)  # a scikit-learn user's filter
            model.fit(X, y)

    def test_convergence_warning_of_the_training_loop_is_sklearns(self, backend_case):
        X = backend_case.asarray(np.random.default_rng(0).normal(size=(40, 3)))
        y = np.arange(40) % 2
        model = nc.TwoLayerNet(max_iter=3, tol=1e-12, learning_rate=0.01, backend=backend_case.spec)
        with pytest.warns(sk_exceptions.ConvergenceWarning, match="training stopped at max_iter=3"):
            model.fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.filterwarnings("ignore", category=sk_exceptions.ConvergenceWarning)
            model.fit(X, y)

    def test_column_y_warns_and_is_raveled(self, backend_case):
        X = backend_case.asarray(np.random.default_rng(0).normal(size=(30, 3)))
        y = np.arange(30) % 3
        flat = nc.LogisticRegression(max_iter=5, backend=backend_case.spec).fit(X, y)
        y_column = backend_case.asarray(y.reshape(-1, 1))
        with pytest.warns(sk_exceptions.DataConversionWarning,
                          match=r"A column-vector y was passed when a 1d array was expected.*ravel\(\)") as records:
            column = nc.LogisticRegression(max_iter=5, backend=backend_case.spec).fit(X, y_column)
        assert [r.category.__name__ for r in records] == ["DataConversionWarning"]
        assert issubclass(records[0].category, DataConversionWarning)
        assert records[0].filename == __file__  # points at the user's fit call
        for key, value in flat.params_.items():
            np.testing.assert_array_equal(backend_case.to_numpy(column.params_[key]), backend_case.to_numpy(value))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            column.score(X, y_column)  # score converts silently, as scikit-learn's accuracy


def test_sklearn_compatible_without_sklearn_class_gives_the_class():
    assert exceptions.sklearn_compatible(nc.DivergenceError) is nc.DivergenceError
    twin = exceptions.sklearn_compatible(NotFittedError)
    assert issubclass(twin, NotFittedError) and issubclass(twin, sk_exceptions.NotFittedError)
    assert exceptions.sklearn_compatible(NotFittedError) is twin  # built once: pickle finds it by name


# ------------------------------------------------------------------ messages with scikit-learn's words


class TestMessages:
    def test_wrong_number_of_features(self, backend_case):
        model, X = _fitted(backend_case)
        Xbad = backend_case.asarray(np.ones((4, 1)))
        for method in (model.predict, model.predict_proba, model.decision_function):
            with pytest.raises(ValueError, match=r"^X has 1 features, but LogisticRegression is expecting 3 features "
                                                 r"as input \(the number it was fitted with\)$"):
                method(Xbad)

    def test_1d_X_at_prediction(self, backend_case):
        model, X = _fitted(backend_case)
        with pytest.raises(ValueError, match=r"got shape \(3,\) \(Reshape your data: a single feature\? use "
                                             r"X.reshape\(-1, 1\); a single sample\? use X.reshape\(1, -1\)\)"):
            model.predict(X[0, :])

    def test_empty_data(self, backend_case):
        model = nc.LogisticRegression(backend=backend_case.spec)
        with pytest.raises(ValueError, match=r"^X has 0 sample\(s\) \(shape=\(0, 3\)\) while a minimum of 1 is "
                                             "required; pass at least one row$"):
            model.fit(backend_case.asarray(np.ones((0, 3))), np.ones(0))
        with pytest.raises(ValueError, match=r"^X has 0 feature\(s\) \(shape=\(4, 0\)\) while a minimum of 1 is "
                                             "required; pass at least one column$"):
            model.fit(backend_case.asarray(np.ones((4, 0))), [0, 1, 0, 1])

    def test_complex_X_is_a_value_error(self, backend_case):
        if backend_case.name == "numpy" or backend_case.dtype == "float64":
            X = backend_case.asarray(np.ones((4, 2), dtype=np.complex128), dtype="complex128")
        else:
            X = backend_case.asarray(np.ones((4, 2), dtype=np.complex64), dtype="complex64")
        with pytest.raises(ValueError, match=r"^X has complex dtype .*complex.*: Complex data not supported; "
                                             "neuralcore needs real numbers$"):
            nc.LogisticRegression(backend=backend_case.spec).fit(X, [0, 1, 0, 1])

    def test_complex_y_is_a_value_error(self):
        with pytest.raises(ValueError, match="^y has complex dtype complex128: Complex data not supported"):
            nc.LogisticRegression(backend="numpy").fit(np.ones((4, 2)), np.asarray([0, 1, 0, 1]) + 1j)

    def test_object_X_with_a_non_number(self):
        X = np.ones((4, 2)).astype(object)
        X[0, 0] = {"foo": "bar"}
        with pytest.raises(TypeError, match=r"^X holds dict \{'foo': 'bar'\} at \(0, 0\); neuralcore needs numbers "
                                            r"\(each argument must be a real number, not a string or dict: convert "
                                            r"the entries to numbers first\)$"):
            nc.LogisticRegression(backend="numpy").fit(X, [0, 1, 0, 1])
        X[0, 0] = "1.5"
        with pytest.raises(TypeError, match=r"X holds str '1.5' at \(0, 0\); .*not a string: convert"):
            nc.LogisticRegression(backend="numpy").fit(X, [0, 1, 0, 1])

    def test_y_none(self, backend_case):
        with pytest.raises(ValueError, match=r"^y is required \(labels of shape \(n_samples,\)\): this classifier "
                                             "requires y to be passed, but the target y is None$"):
            nc.TwoLayerNet(backend=backend_case.spec).fit(backend_case.asarray(np.ones((4, 2))), None)

    def test_one_sample_one_class(self, backend_case):
        with pytest.raises(ValueError, match=r"^y has only one class \(1\); classification needs at least two"):
            nc.NeuralNet(backend=backend_case.spec).fit(backend_case.asarray(np.ones((1, 10))), [1])


# ------------------------------------------------------------------- scikit-learn's array-API checks

_ARRAY_API_SCRIPT = r"""
import json, warnings
warnings.filterwarnings("ignore")
import neuralcore as nc
from sklearn.utils.estimator_checks import _yield_all_checks
results = {}
for est in (nc.LogisticRegression(solver="lbfgs", max_iter=50, random_state=0), nc.TwoLayerNet(max_iter=50, random_state=0),
            nc.NeuralNet(hidden_units=(8,), optimizer="adam", learning_rate=0.01, max_iter=50, random_state=0)):
    for check in _yield_all_checks(est, legacy=True):
        name = getattr(check, "func", check).__name__
        if "array_api" not in name:
            continue
        keywords = {k: str(v) for k, v in getattr(check, "keywords", {}).items()}
        if "cupy" in str(keywords) or "dpnp" in str(keywords):
            continue  # CuPy needs a GPU (ci/gpu_checks.sh), dpnp is not installed
        try:
            check(type(est).__name__, est)
            outcome = "passed"
        except Exception as error:
            outcome = "skipped" if type(error).__name__ == "SkipTest" else f"{type(error).__name__}: {error}"
        results.setdefault(type(est).__name__, []).append([name, keywords, outcome])
print(json.dumps(results))
"""


def test_array_api_checks_with_scipy_array_api():
    """scikit-learn runs its array-API checks only with SCIPY_ARRAY_API=1 (set before SciPy is imported), so
    they run here in a process of their own: NumPy, array-api-strict (both devices) and torch CPU inputs
    train and predict as scikit-learn expects, and exactly the two differences README lists fail."""
    import json
    import os

    done = subprocess.run([sys.executable, "-c", _ARRAY_API_SCRIPT], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "SCIPY_ARRAY_API": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(results) == ["LogisticRegression", "NeuralNet", "TwoLayerNet"]
    for name, checks in results.items():
        passed = [(check, keywords) for check, keywords, outcome in checks if outcome == "passed"]
        failed = {check: outcome for check, _, outcome in checks if outcome not in ("passed", "skipped")}
        namespaces = {keywords.get("array_namespace") for check, keywords in passed if check == "check_array_api_input"}
        assert {"numpy", "array_api_strict", "torch"} <= namespaces, (name, passed)
        assert sorted(failed) == ["check_array_api_mixed_inputs", "check_array_api_same_namespace"], (name, failed)
        assert "y is a array_api_strict array" in failed["check_array_api_mixed_inputs"]
        assert "did not raise when called with a different array namespace" in failed["check_array_api_same_namespace"]

"""Second-order solvers: the same optimum as scikit-learn's LogisticRegression (C = 1 / (alpha n))."""

import time
import warnings

import numpy as np
import pytest

from neuralcore import ConvergenceWarning, LogisticRegression, logistic, solvers
from neuralcore.validation import encode_labels


def standardized(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def problems():
    rng = np.random.default_rng(0)
    X2 = rng.normal(size=(300, 5))
    y2 = (X2 @ rng.normal(size=5) + rng.normal(size=300) > 0).astype(int)
    X3 = rng.normal(size=(300, 4))
    y3 = np.argmax(X3 @ rng.normal(size=(4, 3)) + rng.normal(size=(300, 3)), axis=1)
    return {"binary": (X2, y2), "three-class": (X3, y3)}


PROBLEMS = problems()


def cost(W, b, X, y, alpha):
    _, Y = encode_labels(y)
    value, _ = logistic.loss_and_grads({"W": W, "b": b}, X, Y, alpha=alpha)
    return float(value)


def reference_optimum(X, y, alpha):
    """A long, careful gradient descent run cannot be trusted to 1e-6; Newton in float64 NumPy with a tight
    tolerance is cross-checked against scikit-learn below, and serves as the oracle on every backend."""
    model = LogisticRegression(solver="newton", alpha=alpha, tol=1e-12, backend="numpy", dtype="float64").fit(X, y)
    return model.loss_curve_[-1]


@pytest.mark.parametrize("solver", sorted(solvers.SOLVERS))
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
class TestSolvers:
    def test_reaches_the_optimum_on_every_backend(self, solver, problem, backend_case):
        X, y = PROBLEMS[problem]
        alpha = 0.01
        model = LogisticRegression(solver=solver, alpha=alpha, backend=backend_case.spec, dtype=backend_case.dtype)
        model.fit(X, y)
        for value in model.params_.values():
            backend_case.assert_on_case(value)
        W, b = backend_case.to_numpy(model.params_["W"]).astype(float), backend_case.to_numpy(model.params_["b"]).astype(float)
        optimum = reference_optimum(X, y, alpha)
        rtol = 1e-6 if backend_case.dtype == "float64" else 1e-5  # float32 resolves the cost to ~1e-7
        assert abs(cost(W, b, X, y, alpha) - optimum) <= rtol * optimum
        assert model.n_iter_ == len(model.loss_curve_) < 200
        assert model.loss_curve_[-1] <= model.loss_curve_[0]

    def test_decreasing_cost(self, solver, problem):
        X, y = PROBLEMS[problem]
        curve = LogisticRegression(solver=solver, alpha=0.01, backend="numpy").fit(X, y).loss_curve_
        assert all(b <= a + 1e-15 for a, b in zip(curve, curve[1:]))


class TestAgainstScikitLearn:
    @pytest.mark.parametrize("dataset", ["breast_cancer", "iris"])
    @pytest.mark.parametrize("solver", ["lbfgs", "newton"])
    def test_same_optimum(self, dataset, solver):
        pytest.importorskip("sklearn")
        from sklearn import datasets
        from sklearn.linear_model import LogisticRegression as SkLogisticRegression

        X, y = getattr(datasets, f"load_{dataset}")(return_X_y=True)
        X = standardized(X)
        n = X.shape[0]
        alpha = 1.0 / n  # C = 1
        start = time.perf_counter()
        ours = LogisticRegression(solver=solver, alpha=alpha, backend="numpy").fit(X, y)
        seconds = time.perf_counter() - start
        theirs = SkLogisticRegression(C=1 / (alpha * n), tol=1e-12, max_iter=10000).fit(X, y)
        ours_cost = cost(ours.params_["W"], ours.params_["b"], X, y, alpha)
        theirs_cost = cost(theirs.coef_.T, theirs.intercept_, X, y, alpha)
        assert abs(ours_cost - theirs_cost) <= 1e-6 * theirs_cost
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        assert seconds < 60  # sanity, not a benchmark: see benchmarks/ for timings


class TestBadlyScaledFeatures:
    """Features on scales from 1 to 1e4 (plus an offset): the Hessian spans many orders of magnitude."""

    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 5)) * np.asarray([1, 10, 100, 1000, 1e4]) + np.asarray([0, 0, 0, 0, 5e4])
    y = (X[:, 0] + X[:, 3] / 1000 + rng.normal(size=500) > 0).astype(int)

    @pytest.mark.parametrize("solver", ["newton", "lbfgs"])
    def test_float64_converges(self, solver):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = LogisticRegression(solver=solver, alpha=1e-3, max_iter=1000, backend="numpy").fit(self.X, self.y)
        limit = 20 if solver == "newton" else 400
        assert model.n_iter_ < limit
        assert model.loss_curve_[-1] == pytest.approx(reference_optimum(self.X, self.y, 1e-3), rel=1e-9)

    def test_float32_says_when_precision_runs_out(self):
        with pytest.warns(ConvergenceWarning, match="line search found no decrease.*standardize the features"):
            LogisticRegression(solver="lbfgs", alpha=1e-3, max_iter=1000, backend="numpy", dtype="float32").fit(self.X, self.y)


class TestSolverOptions:
    def test_convergence_warning(self):
        X, y = PROBLEMS["binary"]
        with pytest.warns(ConvergenceWarning, match="solver='lbfgs' did not converge: reached max_iter=2"):
            LogisticRegression(solver="lbfgs", alpha=0.01, max_iter=2, backend="numpy").fit(X, y)

    def test_converged_without_warning(self):
        X, y = PROBLEMS["binary"]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            LogisticRegression(solver="newton", alpha=0.01, backend="numpy").fit(X, y)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"batch_size": 10}, "batch_size applies to solver='gd', not to solver='lbfgs'"),
            ({"validation_fraction": 0.2}, "validation_fraction applies to solver='gd'"),
            ({"optimizer": "adam"}, "optimizer applies to solver='gd'"),
        ],
    )
    def test_options_of_the_training_loop_are_refused(self, kwargs, message):
        X, y = PROBLEMS["binary"]
        with pytest.raises(ValueError, match=message):
            LogisticRegression(solver="lbfgs", backend="numpy", **kwargs).fit(X, y)

    def test_unknown_solver(self):
        X, y = PROBLEMS["binary"]
        with pytest.raises(ValueError, match="solver must be one of 'gd', 'lbfgs', 'newton', got 'sag'"):
            LogisticRegression(solver="sag").fit(X, y)

    def test_gd_reaches_the_same_optimum_slowly(self):
        X, y = PROBLEMS["binary"]
        gd = LogisticRegression(learning_rate=1.0, max_iter=3000, alpha=0.01, backend="numpy").fit(X, y)
        assert abs(gd.loss_curve_[-1] - reference_optimum(X, y, 0.01)) < 1e-8

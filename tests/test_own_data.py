"""README "On your own data": its tables are what examples/own_data.py prints, and what its text says holds."""

import importlib.util
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_SKLEARN = "1.9"  # the version whose numbers README's tables show


def _load_example():
    spec = importlib.util.spec_from_file_location("own_data_example", ROOT / "examples" / "own_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


own_data = _load_example()


def readme_table(header):
    """The README's table whose first row is ``header``, as stripped lines (a table may sit in a list item)."""
    lines = [line.strip() for line in README.read_text(encoding="utf-8").splitlines()]
    assert lines.count(header) == 1, f"README.md should hold one table starting {header!r}, holds {lines.count(header)}"
    start = lines.index(header)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return lines[start:end]


def scaled(name):
    X_train, X_test, y_train, y_test = own_data.split(name)
    return (*own_data.standardize(X_train, X_test), y_train, y_test)


def accuracy(cell):
    """A table's accuracy cell ("95.80%", "93.71%\\*") as a fraction."""
    return float(cell.split("%")[0]) / 100


@pytest.fixture(scope="module")
def tables():
    """The tables ``python examples/own_data.py`` prints, run as a user runs it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "own_data.py")], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.strip().split("\n\n")
    assert len(printed) == 3, done.stdout
    return printed


class TestReadmeTables:
    def test_the_readme_shows_what_the_script_prints(self, tables):
        # scikit-learn's rows are what the README's version (1.9) prints: another version may stop its
        # solvers elsewhere, so there only neuralcore's rows (which this project owns) must match exactly
        import sklearn

        same_version = sklearn.__version__.split(".")[:2] == README_SKLEARN.split(".")
        for table in tables:
            printed = table.splitlines()
            shown = readme_table(printed[0])
            if not same_version:
                printed, shown = ([row for row in rows if not row.startswith("| scikit-learn")] for rows in (printed, shown))
            assert shown == printed, (
                "README.md's table differs from what `python examples/own_data.py` prints; paste its output:\n" + table)

    def test_the_readme_names_the_scikit_learn_version(self):
        assert f"scikit-learn {README_SKLEARN})" in README.read_text(encoding="utf-8")

    def test_neuralcore_is_within_two_points_of_scikit_learn(self, tables):
        logistic, networks, _ = (table.splitlines()[2:] for table in tables)
        for sklearn_row, neuralcore_row in ((logistic[0], logistic[1]), (logistic[2], logistic[3]),
                                            (networks[0], networks[1])):
            theirs, ours = sklearn_row.split(" | ")[1:], neuralcore_row.split(" | ")[1:]
            for their_cell, our_cell in zip(theirs, ours):
                if "%" in their_cell:
                    assert accuracy(our_cell) >= accuracy(their_cell) - 0.02, (sklearn_row, neuralcore_row)


class TestStandardize:
    def test_scales_with_the_training_rows_only(self):
        rng = np.random.default_rng(0)
        X_train = rng.normal(3.0, 5.0, size=(50, 3))
        X_test = rng.normal(1000.0, 1.0, size=(10, 3))  # statistics of its own, which must not leak in
        train_copy, test_copy = X_train.copy(), X_test.copy()
        S_train, S_test = own_data.standardize(X_train, X_test)
        np.testing.assert_allclose(S_train.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(S_train.std(axis=0), 1.0, rtol=1e-12)
        np.testing.assert_allclose(S_test, (X_test - X_train.mean(axis=0)) / X_train.std(axis=0), rtol=1e-12)
        np.testing.assert_array_equal(X_train, train_copy)
        np.testing.assert_array_equal(X_test, test_copy)

    def test_a_constant_column_stays_finite(self):
        X_train = np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]])
        S_train, S_test = own_data.standardize(X_train, np.array([[2.0, 9.0]]))
        assert np.isfinite(S_train).all() and np.isfinite(S_test).all()
        np.testing.assert_array_equal(S_train[:, 1], 0.0)
        np.testing.assert_array_equal(S_test[:, 1], 2.0)


class TestLogisticRecipe:
    @pytest.mark.parametrize("name", list(own_data.DATASETS))
    @pytest.mark.parametrize("C", [1.0, 0.1])
    def test_reaches_scikit_learn_s_optimum(self, name, C):
        # The README: with tol=1e-10 scikit-learn reaches the same optimum as neuralcore, to better than 1e-12.
        X_train, _, y_train, _ = scaled(name)
        alpha = own_data.alpha_from_C(C, len(X_train))
        ours = own_data.neuralcore_logistic(C, len(X_train)).fit(X_train, y_train)
        theirs = SklearnLogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X_train, y_train)
        ours_cost = own_data.penalized_cost(ours, X_train, y_train, alpha)
        theirs_cost = own_data.penalized_cost(theirs, X_train, y_train, alpha)
        assert abs(ours_cost - theirs_cost) < 1e-12, (ours_cost, theirs_cost)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)

    @pytest.mark.chunked
    def test_on_every_backend(self, backend_case):
        X_train, X_test, y_train, y_test = scaled("breast-cancer")
        n = len(X_train)
        reference = own_data.neuralcore_logistic(1.0, n).fit(X_train, y_train)
        model = own_data.neuralcore_logistic(1.0, n, backend=None).fit(backend_case.asarray(X_train),
                                                                         backend_case.asarray(y_train))
        host = model.to("numpy")
        alpha = own_data.alpha_from_C(1.0, n)
        cost = own_data.penalized_cost(host, X_train, y_train, alpha)
        reference_cost = own_data.penalized_cost(reference, X_train, y_train, alpha)
        # float32 stops at a gradient of 1e-5 (the README: the cost within 1e-6 relative of float64's)
        assert cost == pytest.approx(reference_cost, rel=1e-12 if backend_case.dtype == "float64" else 1e-6)
        assert host.score(X_test, y_test) == reference.score(X_test, y_test)


class TestNetworkRecipe:
    def test_unscaled_the_cost_rule_stops_early(self):
        # The README: on raw wine features the noisy cost stops the network after 53 epochs (66.67%), while
        # all 1000 epochs reach 95.56%
        X_train, X_test, y_train, y_test = own_data.split("wine")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", own_data.nc.ConvergenceWarning)
            stopped = own_data.neuralcore_network().fit(X_train, y_train)
            full = own_data.neuralcore_network(tol=None).fit(X_train, y_train)
        assert (stopped.n_iter_, round(stopped.score(X_test, y_test), 4)) == (53, 0.6667)
        assert (full.n_iter_, round(full.score(X_test, y_test), 4)) == (1000, 0.9556)

    def test_two_layer_net_is_the_same_network(self):
        # The README: TwoLayerNet(100, activation="relu", init="he", ...) with the same settings gives the same numbers
        X_train, _, y_train, _ = scaled("wine")
        deep = own_data.neuralcore_network(max_iter=20, tol=None).fit(X_train, y_train)
        settings = {k: v for k, v in deep.get_params().items() if k != "hidden_units"}
        two_layer = own_data.nc.TwoLayerNet(100, **settings).fit(X_train, y_train)
        assert sorted(two_layer.params_) == sorted(deep.params_)
        for key in deep.params_:
            np.testing.assert_array_equal(two_layer.params_[key], deep.params_[key])

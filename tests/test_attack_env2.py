"""The environment attacked at the seams of issue 14's features (weights, warm_start, standardize, routing).

One test per attack; the attack is in the test id. The rules under attack (README "Install", "The command
line", "Sample and class weights", the scikit-learn section):

- the core needs only NumPy and array-api-compat: with scikit-learn (and scipy, pandas) absent, every feature
  that does not need them works: weights and ``class_weight="balanced"``, ``warm_start``, ``partial_fit``,
  ``standardize``, model files, pickles, our NotFittedError, ConvergenceWarning and DataConversionWarning,
  and the command line with ``--test-fraction``, ``--standardize`` and ``--class-weight``;
- what needs scikit-learn (metadata routing) says so in one clear error naming scikit-learn;
- an error or warning made in a process that has scikit-learn, pickled, loads where scikit-learn is absent;
- ``import neuralcore`` (every module, the new ones included) imports no optional package;
- a missing matplotlib for ``--plot`` with ``--test-fraction`` is one line, status 1, and leaves no file;
- a non-editable install holds every module and the package data, and runs from another directory;
- the environment variables (NEURALCORE_BACKEND, PYTHONWARNINGS=error) with the new features.

Missing packages are simulated in a subprocess whose ``sitecustomize`` refuses to import them.
"""

from __future__ import annotations

import pathlib
import pickle
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
OPTIONAL = ("matplotlib", "h5py", "tqdm", "dask", "distributed", "pandas", "scipy", "sklearn", "torch", "cupy",
            "array_api_strict", "jax", "hypothesis", "joblib", "threadpoolctl")
NO_SKLEARN = ("sklearn", "scipy", "pandas", "joblib", "threadpoolctl")

from .test_attack_env import one_error, subprocess_runner  # noqa: E402  (one runner and error check for both)


@pytest.fixture
def run(tmp_path):
    return subprocess_runner(tmp_path)


def write_csv(path, n=60):
    """Three features on wildly different scales (standardization matters) and text labels, rare class 'yes'."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3)) * [1.0, 100.0, 0.01] + [0.0, 50.0, 3.0]
    y = np.where(X[:, 0] > 0.5, "yes", "no")
    rows = ["a,b,c,label"] + [",".join(f"{v!r}" for v in row) + f",{label}" for row, label in zip(X.tolist(), y)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- scikit-learn absent

def test_attack_no_sklearn_every_new_feature_in_python_works(run):
    code = textwrap.dedent("""
        import pickle, sys, warnings
        import numpy as np
        import neuralcore as nc
        from neuralcore.datasets import make_blobs
        X, y = make_blobs(n_samples=90, random_state=0)
        X = X * [1.0, 100.0] + [0.0, 50.0]
        w = np.linspace(0.5, 2.0, 90)
        for cls, kw in [(nc.LogisticRegression, {}), (nc.TwoLayerNet, {}), (nc.NeuralNet, {"hidden_units": (3,)})]:
            model = cls(max_iter=20, random_state=0, class_weight="balanced", standardize=True, warm_start=True, **kw)
            model.fit(X, y, sample_weight=w).fit(X, y, sample_weight=w)
            assert model.n_iter_ == 40 and model.feature_mean_ is not None  # the whole history
            score = model.score(X, y, sample_weight=w)
            model.save("m.npz")
            assert nc.load("m.npz").score(X, y, sample_weight=w) == score
            assert pickle.loads(pickle.dumps(model)).score(X, y, sample_weight=w) == score
            online = cls(max_iter=1, random_state=0, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, **kw)
            scaled = (X - X.mean(axis=0)) / X.std(axis=0)
            online.partial_fit(scaled, y, classes=[0, 1, 2], sample_weight=w)
            online.partial_fit(scaled, y, sample_weight=w)
            assert online.n_iter_ == 2
            assert model._repr_html_() is None and "class_weight='balanced'" in repr(model)
        try:
            nc.TwoLayerNet().predict(X)
        except nc.NotFittedError as error:
            assert type(error) is nc.NotFittedError and "not fitted" in str(error)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            nc.LogisticRegression(max_iter=2, tol=1e-12, standardize=True).fit(X, y)
            nc.LogisticRegression(max_iter=2, standardize=True).fit(X, y.reshape(-1, 1))
        assert [type(c.message) for c in caught] == [nc.ConvergenceWarning, nc.DataConversionWarning], caught
        print(sorted({m.partition(".")[0] for m in sys.modules} & {"sklearn", "scipy", "pandas"}))
    """)
    status, out, err = run(code=code, block=NO_SKLEARN)
    assert status == 0, err
    assert out.strip() == "[]"


@pytest.mark.parametrize("method", ["set_fit_request", "set_partial_fit_request", "set_score_request",
                                    "get_metadata_routing"])
def test_attack_no_sklearn_routing_method_is_one_clear_error_naming_scikit_learn(run, method):
    kwargs = "" if method == "get_metadata_routing" else "sample_weight=True"
    code = textwrap.dedent(f"""
        import neuralcore as nc
        model = nc.LogisticRegression()
        try:
            model.{method}({kwargs})
        except ImportError as error:
            print(type(error).__name__, "|", error)
            assert model.__dict__.get("_metadata_request") is None, "a refused request was set"
        else:
            raise SystemExit("no error")
    """)
    status, out, err = run(code=code, block=NO_SKLEARN)
    assert status == 0, err
    message = out.split("|", 1)[1]
    assert "scikit-learn" in message and method in message and "pip install scikit-learn" in message, out


@pytest.mark.parametrize("kind", ["error", "warning"])
def test_attack_error_pickled_with_sklearn_loads_in_a_process_without_it(run, kind):
    """A joblib/Dask worker with scikit-learn sends a NotFittedError (or a recorded ConvergenceWarning) to a
    client that has none: it must unpickle as our plain class, not fail importing scikit-learn."""
    pytest.importorskip("sklearn")
    code = textwrap.dedent(f"""
        import pickle, sys, warnings
        import sklearn.exceptions
        import neuralcore as nc
        X, y = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]], [0, 1, 0]
        if {kind!r} == "error":
            try:
                nc.LogisticRegression().predict(X)
            except sklearn.exceptions.NotFittedError as error:
                error.add_note("from a worker")
                thing = error
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                nc.LogisticRegression(max_iter=1, tol=1e-12).fit(X, y)
            thing = caught[0].message
        assert isinstance(thing, getattr(sklearn.exceptions, type(thing).__name__))
        sys.stdout.write(pickle.dumps(thing).hex())
    """)
    status, out, err = run(code=code)
    assert status == 0, err
    data = bytes.fromhex(out.strip())
    code = textwrap.dedent(f"""
        import pickle, sys
        thing = pickle.loads({data!r})
        import neuralcore as nc
        expected = nc.NotFittedError if {kind!r} == "error" else nc.ConvergenceWarning
        assert type(thing) is expected, type(thing)
        assert getattr(thing, "__notes__", ["from a worker"]) == ["from a worker"]
        print(thing)
    """)
    status, out, err = run(code=code, block=NO_SKLEARN)
    assert status == 0, err
    assert ("not fitted" if kind == "error" else "max_iter=1") in out
    assert pickle.loads(data) is not None  # and where scikit-learn is installed it loads as before


def test_attack_no_sklearn_no_pandas_cli_train_split_weights_standardize_predict_evaluate(run):
    data = write_csv(run.work / "d.csv")
    status, out, err = run("train", data.name, "--test-fraction", "0.25", "--class-weight", "balanced",
                           "--iterations", "200", "--quiet", "--out", "m.npz", "--json", block=NO_SKLEARN)
    assert status == 0, err
    import json

    summary = json.loads(out)
    assert summary["model"]["class_weight"] == "balanced" and summary["model"]["standardize"] is True
    assert summary["split"] and summary["test_accuracy"] is not None and summary["standardization"]
    status, out, err = run("predict", "m.npz", data.name, "--proba", block=NO_SKLEARN)
    assert status == 0, err
    assert out.splitlines()[0] == "prediction,proba_no,proba_yes" and len(out.splitlines()) == 61
    status, out, err = run("evaluate", "m.npz", data.name, block=NO_SKLEARN)
    assert status == 0, err
    assert "accuracy:" in out and "class_weight='balanced'" in out
    status, out, err = run("train", "planar:n_samples=60", "--standardize", "--iterations", "5", "--quiet",
                           "--test-fraction", "0.5", "--model", "network", "--hidden-units", "3",
                           block=NO_SKLEARN)
    assert status == 0, err
    assert "standardized 2 features" in out and "test accuracy" in out


# --------------------------------------------------------------------------- other extras absent

def test_attack_no_matplotlib_plot_with_test_fraction_is_one_line_and_leaves_no_file(run):
    data = write_csv(run.work / "d.csv")
    for extra in ([], ["--json"]):
        status, out, err = run("train", data.name, "--test-fraction", "0.25", "--class-weight", "balanced",
                               "--iterations", "50", "--out", "m.npz", "--plot", "p.png", *extra,
                               block=["matplotlib"])
        one_error(status, err, 'neuralcore[plot]')
        assert out == ""  # the error comes before any other output
        assert sorted(p.name for p in run.work.iterdir()) == ["d.csv"]
    # the held-out curve is arithmetic, not a picture: it needs no matplotlib
    code = textwrap.dedent("""
        import neuralcore as nc, neuralcore.plot as plot
        from neuralcore.datasets import make_planar
        X, y = make_planar(n_samples=60)
        model = nc.TwoLayerNet(max_iter=20, random_state=0, standardize=True, class_weight="balanced").fit(X, y)
        iterations, costs = plot.held_out_curve(list(plot.checkpoints(model, X, y, n=4)), X, y)
        print([int(i) for i in iterations])
        try:
            plot.loss_curve(model)
        except ImportError as error:
            print(error)
    """)
    status, out, err = run(code=code, block=["matplotlib"])
    assert status == 0, err
    assert out.splitlines() == ["[1, 3, 7, 20]", 'plotting needs matplotlib: pip install "neuralcore[plot]"']


def test_attack_no_dask_import_cli_and_training_still_work(run):
    data = write_csv(run.work / "d.csv")
    status, out, err = run(code="import neuralcore, neuralcore.data, neuralcore.cli; print('ok')", block=["dask"])
    assert (status, out.strip()) == (0, "ok"), err
    status, out, err = run("--help", block=["dask"])
    assert status == 0 and "train" in out, err
    status, out, err = run("info", block=["dask"])
    assert status == 0 and "dask is not installed" in out, err
    status, out, err = run("train", data.name, "--test-fraction", "0.25", "--iterations", "5", "--quiet",
                           block=["dask"])
    assert status == 0, err
    status, out, err = run("train", data.name, "--iterations", "5", "--backend", "dask", block=["dask"])
    one_error(status, err, "neuralcore[dask]")


def test_attack_import_every_module_new_ones_included_loads_no_optional_package(run):
    """The module list is read from the package, so a module added later (weights, scaling, routing...)
    cannot escape the check, with the optional packages installed and with all of them missing."""
    modules = sorted(p.stem for p in (ROOT / "neuralcore").glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert {"weights", "scaling", "routing", "frames"} <= set(modules)
    code = ("import sys, neuralcore\n"
            f"for name in {modules!r}: __import__('neuralcore.' + name)\n"
            f"print(sorted({{m.partition('.')[0] for m in sys.modules}} & set({OPTIONAL!r})))")
    for block in ((), OPTIONAL):
        status, out, err = run(code=code, block=block)
        assert status == 0, err
        assert out.strip() == "[]", (block, out)


# --------------------------------------------------------------------------- a non-editable install

def test_attack_non_editable_install_has_every_module_and_runs_elsewhere(run, tmp_path):
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "neuralcore", source / "neuralcore", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                             "--no-index", "--quiet", "--target", str(target), str(source)],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    if result.returncode != 0 and "No module named pip" in result.stderr:
        pytest.skip("pip is not installed")
    assert result.returncode == 0, result.stderr
    shipped = {p.name for p in (ROOT / "neuralcore").iterdir() if p.is_file() and p.suffix != ".pyc"}
    installed = {p.name for p in (target / "neuralcore").iterdir() if p.is_file()}
    assert {"weights.py", "scaling.py", "routing.py", "kernels.cu"} <= installed
    assert shipped <= installed, shipped - installed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_csv(elsewhere / "d.csv")
    status, out, err = run(code="import neuralcore; print(neuralcore.__file__)", path=target, cwd=elsewhere)
    assert status == 0 and out.strip() == str(target / "neuralcore" / "__init__.py"), (out, err)
    status, out, err = run("--help", path=target, cwd=elsewhere)
    assert status == 0 and "neuralcore train" in out, err
    status, out, err = run("train", "d.csv", "--test-fraction", "0.25", "--class-weight", "balanced",
                           "--iterations", "20", "--quiet", "--out", "m.npz", path=target, cwd=elsewhere)
    assert status == 0 and "test accuracy" in out, err
    status, out, err = run("evaluate", "m.npz", "d.csv", path=target, cwd=elsewhere)
    assert status == 0 and "accuracy" in out, err


# --------------------------------------------------------------------------- environment variables

@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_attack_neuralcore_backend_and_pythonwarnings_error_with_the_new_cli_options(run, backend):
    pytest.importorskip(backend)
    data = write_csv(run.work / "d.csv")
    env = {"NEURALCORE_BACKEND": backend, "PYTHONWARNINGS": "error", "NEURALCORE_KERNELS": "off"}
    status, out, err = run("train", data.name, "--test-fraction", "0.25", "--class-weight", "balanced",
                           "--iterations", "30", "--quiet", "--out", "m.npz", env=env)
    assert status == 0, err
    assert f"backend: {backend}" in out and "test accuracy" in out
    status, out, err = run("evaluate", "m.npz", data.name, env=env)
    assert status == 0 and "accuracy" in out, err
    status, out, err = run("train", data.name, "--iterations", "5", "--quiet",
                           env={**env, "NEURALCORE_KERNELS": "bogus"})
    one_error(status, err, "NEURALCORE_KERNELS")

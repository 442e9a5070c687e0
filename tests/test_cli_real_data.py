"""The command line on real data: --standardize, --test-fraction, the held-out plot, help, plain-words errors.

The acceptance test of issue 14: scikit-learn's breast-cancer and wine data
exported to CSV, trained with ``neuralcore train FILE --target target
--test-fraction 0.25`` and the default model, reach scikit-learn's
``LogisticRegression()`` test accuracy on the same rows (within 2 points).
"""

import json
import pathlib
import warnings

import numpy as np
import pytest

from neuralcore import LogisticRegression, TwoLayerNet, load
from neuralcore.cli import _parser, main
from neuralcore.loaders import load_csv, stratified_split

from .cli_helpers import cli, fails


def write_csv(path, X, y, names=None, target="target"):
    names = names or [f"f{i}" for i in range(X.shape[1])]
    with open(path, "w") as handle:
        handle.write(",".join([*names, target]) + "\n")
        for row, label in zip(X, y):
            handle.write(",".join([*(repr(float(v)) for v in row), str(label)]) + "\n")
    return path


@pytest.fixture(scope="module")
def real_csv(tmp_path_factory):
    """scikit-learn's breast-cancer and wine data as CSV files with named columns and a 'target' column."""
    datasets = pytest.importorskip("sklearn.datasets")
    folder = tmp_path_factory.mktemp("real")
    files = {}
    for name, loader in (("breast_cancer", datasets.load_breast_cancer), ("wine", datasets.load_wine)):
        bunch = loader()
        names = [n.replace(" ", "_") for n in bunch.feature_names]
        files[name] = write_csv(folder / f"{name}.csv", bunch.data, bunch.target, names)
    return files


@pytest.fixture(scope="module")
def skewed_csv(tmp_path_factory):
    """Features on very different scales, one constant column, text labels."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3)) * [1.0, 1000.0, 0.001] + [0.0, 5000.0, 3.0]
    X = np.column_stack([X, np.full(60, 7.5)])  # constant
    y = np.where(X[:, 0] + (X[:, 1] - 5000) / 1000 > 0, "yes", "no")
    return write_csv(tmp_path_factory.mktemp("skewed") / "skewed.csv", X, y, ["a", "b", "c", "const"], "label")


class TestAcceptance:
    @pytest.mark.parametrize("name", ["breast_cancer", "wine"])
    def test_defaults_reach_scikit_learns_logistic_regression(self, capsys, real_csv, name):
        linear_model = pytest.importorskip("sklearn.linear_model")
        status, out, _ = cli(capsys, "train", real_csv[name], "--target", "target", "--test-fraction", "0.25",
                             "--json", "--backend", "numpy")
        assert status == 0
        summary = json.loads(out)
        X, y, _ = load_csv(real_csv[name], target="target")
        train, test = stratified_split(y, 0.25, seed=0)  # the rows the command trained and tested on
        assert summary["split"] == {"test_fraction": 0.25, "seed": 0, "stratified": True,
                                    "n_train": len(train), "n_test": len(test)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lbfgs on raw features stops at max_iter: what a user gets
            reference = linear_model.LogisticRegression().fit(X[train], y[train]).score(X[test], y[test])
        assert summary["test_accuracy"] >= reference - 0.02, (summary["test_accuracy"], reference)
        assert summary["standardization"]["fitted_on_rows"] == len(train)

    def test_the_readme_table_is_what_the_commands_give(self, capsys, real_csv):
        linear_model = pytest.importorskip("sklearn.linear_model")
        lines = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").splitlines()
        header = lines.index("| test accuracy (`--test-fraction 0.25`, seed 0) | breast cancer | wine |")
        shown = [[cell.strip() for cell in line.strip("|").split("|")[1:]] for line in lines[header + 2:header + 5]]
        given = [[], [], []]
        for name in ("breast_cancer", "wine"):
            for row, flags in enumerate(([], ["--no-standardize"])):
                status, out, _ = cli(capsys, "train", real_csv[name], "--target", "target", "--test-fraction", "0.25",
                                     *flags, "--json", "--backend", "numpy")
                assert status == 0
                given[row].append(f"{100 * json.loads(out)['test_accuracy']:.2f}%")
            X, y, _ = load_csv(real_csv[name], target="target")
            train, test = stratified_split(y, 0.25, seed=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reference = linear_model.LogisticRegression().fit(X[train], y[train]).score(X[test], y[test])
            given[2].append(f"{100 * reference:.2f}%")
        assert shown == given


class TestStandardize:
    def test_fitted_on_the_training_rows_and_learned_by_the_model(self, capsys, tmp_path, skewed_csv):
        model_file = tmp_path / "m.npz"
        status, out, _ = cli(capsys, "train", skewed_csv, "--test-fraction", "0.25", "--seed", "3", "--quiet",
                             "--iterations", "300", "--out", model_file, "--backend", "numpy")
        assert status == 0
        assert "standardized 4 features (mean/std of the 45 training rows; 1 constant feature only centred " \
               "(const)); --no-standardize to turn off" in out
        X, y, _ = load_csv(skewed_csv)
        train, _ = stratified_split(y, 0.25, seed=3)
        model = load(model_file)
        assert model.standardize is True and "standardization" not in model.metadata_
        np.testing.assert_allclose(model.feature_mean_, X[train].mean(axis=0), rtol=1e-12)  # the training rows only
        np.testing.assert_allclose(model.feature_scale_[:3], X[train].std(axis=0)[:3], rtol=1e-12)
        assert model.feature_scale_[3] == 1.0  # never a division by zero
        # the model itself standardizes raw features: in Python as predict and evaluate do
        pd = pytest.importorskip("pandas")
        expected = model.predict(pd.DataFrame(X, columns=["a", "b", "c", "const"]))
        status, out, _ = cli(capsys, "predict", model_file, skewed_csv)
        assert status == 0 and out.splitlines()[1:] == list(expected)
        status, out, _ = cli(capsys, "evaluate", model_file, skewed_csv, "--json")
        assert json.loads(out)["accuracy"] == pytest.approx(np.mean(expected == y))

    def test_standardizing_is_what_makes_raw_features_learnable(self, capsys, skewed_csv):
        accuracy = {}
        for flag in ("--standardize", "--no-standardize"):
            status, out, _ = cli(capsys, "train", skewed_csv, flag, "--iterations", "300", "--json",
                                 "--backend", "numpy")
            assert status == 0
            accuracy[flag] = json.loads(out)["train_accuracy"]
        assert accuracy["--standardize"] >= 0.95 > accuracy["--no-standardize"]

    def test_off_says_so_and_stores_nothing(self, capsys, tmp_path, skewed_csv):
        status, out, _ = cli(capsys, "train", skewed_csv, "--no-standardize", "--iterations", "5", "--quiet",
                             "--out", tmp_path / "m.npz", "--backend", "numpy")
        assert status == 0 and "features used as they are (--no-standardize)" in out
        assert load(tmp_path / "m.npz").feature_mean_ is None

    def test_images_are_already_scaled(self, capsys, tmp_path):
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, size=(20, 3, 3, 1), dtype=np.uint8)
        np.savez(tmp_path / "images.npz", X=images, y=np.arange(20) % 2)
        status, out, _ = cli(capsys, "train", tmp_path / "images.npz", "--iterations", "5", "--quiet",
                             "--out", tmp_path / "m.npz", "--backend", "numpy")
        assert status == 0 and "features used as they are: image pixels, flattened, scaled by 1/255" in out
        assert load(tmp_path / "m.npz").feature_mean_ is None

    def test_builtin_data_unchanged_and_silent(self, capsys):
        status, out, _ = cli(capsys, "train", "moons:n_samples=40", "--iterations", "5", "--quiet", "--backend", "numpy")
        assert status == 0 and "standardiz" not in out
        status, out, _ = cli(capsys, "train", "moons:n_samples=40", "--iterations", "5", "--json", "--backend", "numpy")
        assert json.loads(out)["standardization"] is None

    def test_a_standardized_model_predicts_on_every_backend(self, capsys, tmp_path, skewed_csv, backend_case):
        model_file = tmp_path / "m.npz"
        assert cli(capsys, "train", skewed_csv, "--iterations", "200", "--quiet", "--out", model_file,
                   "--backend", "numpy")[0] == 0
        reference = cli(capsys, "predict", model_file, skewed_csv, "--proba")[1].splitlines()
        status, out, _ = cli(capsys, "predict", model_file, skewed_csv, "--proba", "--backend", backend_case.spec)
        assert status == 0
        rows = [line.split(",") for line in out.splitlines()[1:]]
        expected = [line.split(",") for line in reference[1:]]
        assert [r[0] for r in rows] == [e[0] for e in expected]
        np.testing.assert_allclose(np.array([r[1:] for r in rows], float), np.array([e[1:] for e in expected], float),
                                   rtol=1e-4, atol=1e-6)


class TestTestFraction:
    def test_stratified_and_seeded(self):
        y = np.array([0] * 40 + [1] * 20 + [2] * 8)
        train, test = stratified_split(y, 0.25, seed=0)
        assert sorted(np.concatenate([train, test])) == list(range(68))  # a partition
        assert [int(np.sum(y[test] == c)) for c in (0, 1, 2)] == [10, 5, 2]  # each class's share
        np.testing.assert_array_equal(stratified_split(y, 0.25, seed=0)[1], test)
        assert not np.array_equal(stratified_split(y, 0.25, seed=1)[1], test)

    def test_every_class_on_both_sides(self):
        y = np.array(["a"] * 50 + ["b"] * 2)
        for fraction in (0.01, 0.99):
            train, test = stratified_split(y, fraction, seed=0)
            assert set(y[train]) == set(y[test]) == {"a", "b"}

    def test_too_few_rows_of_a_class(self):
        with pytest.raises(ValueError, match="class 'b' has 1 sample; a split needs at least 2 of each class"):
            stratified_split(["a", "a", "b"], 0.5)

    @pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, float("nan"), True])
    def test_bad_fraction(self, fraction):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            stratified_split([0, 0, 1, 1], fraction)

    def test_command_line_errors(self, capsys, tmp_path):
        fails(capsys, "train", "moons", "--test-fraction", "1", match="--test-fraction must be strictly between 0 and 1")
        fails(capsys, "train", "moons", "--test", "moons", "--test-fraction", "0.2", match="--test and --test-fraction")
        tiny = write_csv(tmp_path / "tiny.csv", np.arange(6.0).reshape(3, 2), [0, 0, 1])
        fails(capsys, "train", tiny, "--test-fraction", "0.3", match="--test-fraction: class 1 has 1 sample")


class TestHelp:
    def test_every_command_has_a_description_an_example_and_help_for_each_argument(self):
        parser = _parser()
        commands = next(a for a in parser._actions if a.dest == "command").choices
        assert set(commands) == {"train", "predict", "evaluate", "info", "datasets"}
        for name, command in commands.items():
            assert command.description, name
            assert f"neuralcore {name}" in (command.epilog or ""), name
            for action in command._actions:
                assert action.help, (name, action.dest)

    def test_data_and_model_explained_and_defaults_truthful(self, capsys):
        for name in ("train", "predict", "evaluate"):
            with pytest.raises(SystemExit):
                _parser().parse_args([name, "--help"])
            text = capsys.readouterr().out
            assert "DATA is a built-in dataset or a data file" in text and "FILE.csv" in text
            if name != "train":
                assert "MODEL is a model file written by" in text
                assert "else numpy)" in " ".join(text.split())  # not "auto": predict and evaluate use numpy


class TestErrors:
    @pytest.mark.parametrize("args, message", [
        (["--model", "network", "--solver", "gd"], "--solver applies to --model logistic, not to --model network"),
        (["--solver", "lbfgs"], "--solver applies to --model logistic, not to --model two-layer"),
        (["--model", "logistic", "--hidden-units", "3"], "--hidden-units applies to --model two-layer or network"),
    ])
    def test_flags_that_do_not_apply(self, capsys, args, message):
        status, out, err = cli(capsys, "train", "moons", *args)
        assert status == 1 and out == "" and message in err

    def test_evaluate_without_labels(self, capsys, tmp_path, skewed_csv):
        model_file = tmp_path / "m.npz"
        assert cli(capsys, "train", skewed_csv, "--iterations", "5", "--quiet", "--out", model_file,
                   "--backend", "numpy")[0] == 0
        X, _, names = load_csv(skewed_csv)
        unlabelled = tmp_path / "new.csv"
        unlabelled.write_text(",".join(names) + "\n" + "\n".join(",".join(map(str, row)) for row in X) + "\n")
        fails(capsys, "evaluate", model_file, unlabelled,
              match=["has no labels (no column 'label')", "evaluate needs the true labels",
                     "use `neuralcore predict` for the labels of unlabelled data"])
        assert cli(capsys, "predict", model_file, unlabelled)[0] == 0  # what it says works


class TestHeldOutPlot:
    def test_checkpoints_retrace_plain_gradient_descent_exactly(self, backend_case):
        from neuralcore.datasets import make_planar
        from neuralcore.plot import checkpoints

        X, y = make_planar(n_samples=60, random_state=0)
        X = backend_case.asarray(X)
        for model in (TwoLayerNet(max_iter=120, random_state=0, backend=backend_case.spec, dtype=backend_case.dtype),
                      LogisticRegression(max_iter=120, learning_rate=0.5, backend=backend_case.spec,
                                         dtype=backend_case.dtype)):
            model.fit(X, y)
            points = list(checkpoints(model, X, y, n=6))
            assert [i for i, _ in points][-1] == 120 and len(points) <= 6
            for key, value in model.params_.items():
                np.testing.assert_array_equal(backend_case.to_numpy(points[-1][1].params_[key]),
                                              backend_case.to_numpy(value))

    def test_checkpoints_retrace_stateful_optimizers_and_shuffled_batches_exactly(self):
        # warm_start segments carry the optimizer state and the shuffling generator: the same run
        from neuralcore import optim
        from neuralcore.datasets import make_planar
        from neuralcore.plot import checkpoints

        X, y = make_planar(n_samples=60, random_state=0)
        for settings in ({"optimizer": "adam", "learning_rate": 0.01},
                         {"optimizer": "momentum", "learning_rate": optim.exponential_decay(0.5, 0.5, 10),
                          "batch_size": 16}):
            model = TwoLayerNet(max_iter=40, random_state=3, backend="numpy", **settings).fit(X, y)
            points = list(checkpoints(model, X, y, n=5))
            assert [i for i, _ in points][-1] == 40
            assert [p.n_iter_ for _, p in points] == [i for i, _ in points]  # each copy is the model there
            for key, value in model.params_.items():
                np.testing.assert_array_equal(points[-1][1].params_[key], value)
            np.testing.assert_array_equal(points[-1][1].loss_curve_, model.loss_curve_)

    @pytest.mark.filterwarnings("ignore:training stopped at max_iter")  # the tol=1e-3 model: stopped by max_iter=5
    def test_refuses_what_it_cannot_retrace(self):
        from neuralcore.plot import checkpoints

        X, y = [[0.], [1.]], [0, 1]
        for model, why in ((TwoLayerNet(max_iter=5, backend="numpy"), "only a seed"),
                           (TwoLayerNet(max_iter=5, tol=1e-3, random_state=0, backend="numpy"), "early stopping"),
                           (LogisticRegression(solver="lbfgs", alpha=0.1, backend="numpy"), "solver='lbfgs'")):
            model.fit(X, y)
            with pytest.raises(ValueError, match=why):
                next(checkpoints(model, X, y))

    def test_held_out_curve_is_the_log_loss_at_each_checkpoint(self):
        from neuralcore.plot import held_out_curve

        X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
        models = [(n, LogisticRegression(max_iter=n, learning_rate=0.5, backend="numpy").fit(X, y)) for n in (1, 50)]
        iterations, costs = held_out_curve(models, X, y)
        expected = [-np.mean(np.log(np.where(y == 1, *m.predict_proba(X)[:, ::-1].T))) for _, m in models]
        np.testing.assert_array_equal(iterations, [1, 50])
        np.testing.assert_allclose(costs, expected, rtol=1e-10)
        assert costs[1] < costs[0]

    def test_command_draws_the_held_out_cost(self, capsys, tmp_path, real_csv, monkeypatch):
        from neuralcore import plot

        drawn = {}
        original = plot.training_summary

        def spy(model, X=None, y=None, **kwargs):
            drawn["figure"] = figure = original(model, X, y, **kwargs)
            return figure

        monkeypatch.setattr(plot, "training_summary", spy)
        status, out, _ = cli(capsys, "train", real_csv["wine"], "--test-fraction", "0.25", "--iterations", "400",
                             "--quiet", "--plot", tmp_path / "cost.png", "--backend", "numpy")
        assert status == 0 and (tmp_path / "cost.png").stat().st_size > 0
        ax = drawn["figure"].axes[0]
        labels = [line.get_label() for line in ax.lines]
        assert labels == ["training cost", "held-out cost"]
        assert ax.get_yscale() == "log"  # the costs span decades
        held_out = ax.lines[1]
        assert held_out.get_xdata()[-1] == 400 and 10 <= len(held_out.get_xdata()) <= 50

    def test_otherwise_a_note_says_why_not(self, capsys, tmp_path, monkeypatch):
        from neuralcore import plot

        notes = []
        original = plot.training_summary
        monkeypatch.setattr(plot, "training_summary",
                            lambda *a, **k: notes.append(k.get("note")) or original(*a, **k))
        status, _, _ = cli(capsys, "train", "moons:n_samples=60", "--test-fraction", "0.25", "--model", "logistic",
                           "--solver", "lbfgs", "--alpha", "0.01", "--quiet", "--plot", tmp_path / "c.png",
                           "--backend", "numpy")
        assert status == 0 and notes == ["held-out cost not drawn: solver='lbfgs' is not iterated by gradient descent"]
        notes.clear()  # adam and mini-batches are retraced exactly (warm_start segments): drawn, no note
        status, _, _ = cli(capsys, "train", "moons:n_samples=60", "--test-fraction", "0.25", "--optimizer", "adam",
                           "--learning-rate", "0.01", "--iterations", "20", "--batch-size", "16", "--quiet",
                           "--plot", tmp_path / "d.png", "--backend", "numpy")
        assert status == 0 and notes == [None]


class TestClassWeight:
    @pytest.mark.filterwarnings("ignore:X does not have valid feature names")  # an array, as the README says
    def test_balanced_class_weight_reaches_the_model_and_its_file(self, capsys, tmp_path):
        from neuralcore import load

        rng = np.random.default_rng(0)
        X = rng.normal(size=(200, 2))
        y = (X[:, 0] > 1.2).astype(int)  # about 12% positives
        data = tmp_path / "rare.csv"
        data.write_text("a,b,label\n" + "\n".join(f"{a},{b},{c}" for (a, b), c in zip(X, y)) + "\n")
        model_file = tmp_path / "m.npz"
        args = ("train", data, "--model", "logistic", "--solver", "lbfgs", "--alpha", "0.01", "--quiet",
                "--backend", "numpy", "--out")
        assert cli(capsys, *args, model_file, "--class-weight", "balanced")[0] == 0
        weighted = load(model_file)
        assert weighted.class_weight == "balanced"
        assert cli(capsys, *args, tmp_path / "plain.npz")[0] == 0
        plain = load(tmp_path / "plain.npz")
        # the rare class is predicted more often once it weighs as much as the common one
        assert (weighted.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()

    def test_unknown_choice_is_refused_by_name(self, capsys):
        with pytest.raises(SystemExit) as exit_info:
            main(["train", "--class-weight", "even"])
        assert exit_info.value.code == 2 and "--class-weight" in capsys.readouterr().err

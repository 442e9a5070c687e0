"""Attacks on the command line and model files on real data: huge and tiny feature columns, tampered files."""

import csv
import json

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import device as nc_device
from neuralcore.persistence import load

from .cli_helpers import cli
from .test_persistence import _rewrite

RNG = np.random.default_rng(7)
N = 60
LABELS = np.repeat([0, 1], N // 2)


def _columns(dtype):
    """A normal column, a huge one and a tiny one (both informative), in the range where squaring breaks."""
    huge, tiny = (1e300, 1e-170) if dtype == "float64" else (1e20, 1e-23)
    signal = LABELS + RNG.normal(scale=0.3, size=N)
    return np.column_stack([RNG.normal(size=N), huge * (2 + signal), tiny * (2 - signal)])


def _reference_scale(X):
    """The population standard deviation of each column, computed on values brought near 1 first."""
    size = np.max(np.abs(X), axis=0)
    return np.std(X / size, axis=0) * size


class TestHugeAndTinyColumns:
    @pytest.mark.chunked
    def test_attack_standardize_spread_neither_overflows_nor_underflows(self, backend_case):
        X = _columns(backend_case.dtype)
        model = nc.LogisticRegression(max_iter=5, standardize=True,
                                      backend=None if backend_case.name == "dask" else backend_case.spec)
        model.fit(backend_case.asarray(X, dtype=backend_case.dtype), LABELS)
        reference = _reference_scale(X.astype(backend_case.dtype).astype(np.float64))
        np.testing.assert_allclose(nc_device.to_numpy(model.feature_scale_), reference,
                                   rtol=1e-12 if backend_case.dtype == "float64" else 1e-5)

    def test_attack_overflowing_mean_message_does_not_suggest_the_dtype_in_use(self):
        X = np.column_stack([np.linspace(-1, 1, N), np.full(N, 1.5e308) * np.where(LABELS == 0, 1, 0.99)])
        with pytest.raises(ValueError, match="overflows float64") as info:
            nc.LogisticRegression(standardize=True, backend="numpy").fit(X, LABELS)
        assert "dtype='float64'" not in str(info.value)

    @pytest.mark.filterwarnings("ignore:X does not have valid feature names")  # an array, as the README says
    def test_attack_cli_trains_on_a_1e300_column_and_python_predicts_as_the_cli(self, tmp_path, capsys):
        X = _columns("float64")
        data = tmp_path / "huge.csv"
        with open(data, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["noise", "huge", "tiny", "label"])
            writer.writerows([[repr(float(v)) for v in row] + [label] for row, label in zip(X, LABELS)])
        model_file = tmp_path / "m.npz"
        status, out, err = cli(capsys, "train", data, "--model", "logistic", "--solver", "lbfgs", "--json",
                               "--out", model_file)
        assert status == 0, err
        assert json.loads(out)["train_accuracy"] > 0.9  # the huge and tiny columns carry the labels
        status, out, err = cli(capsys, "predict", model_file, data)
        assert status == 0, err
        from_cli = np.asarray(out.split()[1:], dtype=int)
        np.testing.assert_array_equal(load(model_file).predict(X), from_cli)


class TestTamperedModelFiles:
    def test_attack_class_weight_pairs_naming_a_label_twice_are_refused(self, tmp_path):
        path = tmp_path / "m.npz"
        nc.LogisticRegression(max_iter=3, class_weight={0: 1.0, 1: 2.0}).fit(_columns("float64")[:, :1], LABELS).save(path)
        assert load(path).class_weight == {0: 1.0, 1: 2.0}
        _rewrite(path, lambda arrays, d: d["hyperparameters"].update(class_weight=[[0, 1.0], [0, 2.0]]))
        with pytest.raises(ValueError, match="class_weight.*0.*twice"):
            load(path)


def _trained(capsys, tmp_path, csv_text):
    """The model file the command line trains (3 iterations) on a CSV file holding ``csv_text``."""
    train, model_file = tmp_path / "train.csv", tmp_path / "m.npz"
    train.write_text(csv_text)
    assert cli(capsys, "train", train, "--iterations", "3", "--quiet", "--out", model_file)[0] == 0
    return model_file


class TestLabelsThatAreNotValues:
    @pytest.mark.parametrize("bad", ["1e400", "nan", "-inf"])
    def test_attack_nan_or_infinite_labels_fail_before_any_output_naming_the_file(self, tmp_path, capsys, bad):
        data = tmp_path / "labels.csv"
        data.write_text(f"a,b,label\n1,2,0.5\n3,4,{bad}\n5,6,0.5\n7,8,{bad}\n")
        status, out, err = cli(capsys, "train", data, "--iterations", "3")
        assert status == 1 and out == "", (status, out, err)  # the README: errors come before any other output
        assert err.startswith("neuralcore: error: ") and len(err.strip().splitlines()) == 1, err
        assert str(data) in err and "'label'" in err and "sample 2" in err, err

    def test_attack_predict_ignores_a_label_column_of_nan_it_does_not_use(self, tmp_path, capsys):
        model_file = _trained(capsys, tmp_path, "a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
        new = tmp_path / "new.csv"
        new.write_text("a,b,label\n1,2,nan\n7,8,nan\n")
        status, out, err = cli(capsys, "predict", model_file, new)
        assert status == 0 and out.splitlines()[0] == "prediction" and len(out.splitlines()) == 3, err
        status, out, err = cli(capsys, "evaluate", model_file, new)
        assert status == 1 and "sample 1, column 'label' (the labels) is nan" in err, err

    def test_attack_evaluate_on_labels_the_model_never_saw_names_the_file_and_column(self, tmp_path, capsys):
        model_file = _trained(capsys, tmp_path, "a,b,answer\n1,2,no\n3,4,yes\n5,6,no\n7,8,yes\n")
        other = tmp_path / "other.csv"
        other.write_text("a,b,answer\n1,2,no\n3,4,maybe\n")
        status, out, err = cli(capsys, "evaluate", model_file, other)
        assert status == 1 and out == "", (out, err)
        assert str(other) in err and "'answer'" in err and "['maybe']" in err and "['no', 'yes']" in err, err


class TestFailsBeforeAnyOutput:
    """The README: errors are one line, printed before any other output, naming the flag typed."""

    @staticmethod
    def _write(path, big):
        rows = [f"{i % 3},{big * (1 + i % 2)!r},{i % 2}" for i in range(20)]
        path.write_text("a,big,label\n" + "\n".join(rows) + "\n")

    @pytest.mark.parametrize("flags", [["--dtype", "float32"], ["--dtype", "float32", "--no-standardize"]])
    def test_attack_dtype_float32_with_values_beyond_its_range(self, tmp_path, capsys, flags):
        data = tmp_path / "big.csv"
        self._write(data, 1e300)
        status, out, err = cli(capsys, "train", data, "--iterations", "3", *flags)
        assert status == 1 and out == "", (out, err)
        assert "--dtype float32" in err and "'big'" in err and str(data) in err and "dtype='" not in err, err

    def test_attack_standardizing_in_float32_overflows_the_mean(self, tmp_path, capsys):
        data = tmp_path / "big.csv"
        self._write(data, 3e37)  # within float32, but the sum of 20 rows is not
        status, out, err = cli(capsys, "train", data, "--iterations", "3", "--dtype", "float32")
        assert status == 1 and out == "", (out, err)
        assert "'big'" in err and "--no-standardize" in err and "--dtype float64" in err and "dtype='" not in err, err
        assert cli(capsys, "train", data, "--iterations", "3", "--quiet", "--dtype", "float64")[0] == 0


class TestTamperedCommandLineMetadata:
    """What train --out stores for predict and evaluate (preprocessing, columns, label column), changed by hand."""

    @pytest.fixture
    def image_model(self, tmp_path, capsys):
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, size=(20, 2, 2, 3)).astype(np.uint8)
        data = tmp_path / "images.npz"
        np.savez(data, X=images, y=(images.reshape(20, -1).mean(axis=1) > 127).astype(int))
        model_file = tmp_path / "m.npz"
        assert cli(capsys, "train", data, "--model", "logistic", "--iterations", "5", "--quiet", "--out", model_file)[0] == 0
        return model_file, data

    @pytest.mark.parametrize("change, match", [
        (lambda m: m["preprocessing"].update(scale=-255), "scale"),
        (lambda m: m["preprocessing"].update(scale=0), "scale"),
        (lambda m: m["preprocessing"].update(scale="x"), "scale"),
        (lambda m: m["preprocessing"].update(scale=10**400), "scale"),  # beyond float64: not an OverflowError
        (lambda m: m["preprocessing"].update(shape="ab"), "shape"),
        (lambda m: m["preprocessing"].update(shape=[2, 0, 3]), "shape"),
        (lambda m: m["preprocessing"].update(kind="audio"), "kind"),
        (lambda m: m.update(preprocessing="images"), "preprocessing"),
        (lambda m: m.update(feature_names=5), "feature_names"),
        (lambda m: m.update(target=["label"]), "target"),
    ], ids=["negative-scale", "zero-scale", "text-scale", "huge-int-scale", "text-shape", "empty-shape", "unknown-kind",
            "preprocessing-not-a-dict", "feature-names-not-a-list", "target-not-a-name"])
    def test_attack_invalid_metadata_is_refused_naming_the_model_file(self, image_model, capsys, change, match):
        model_file, data = image_model
        _rewrite(model_file, lambda arrays, document: change(document["metadata"]))
        for command in ("predict", "evaluate"):
            status, out, err = cli(capsys, command, model_file, data)
            assert status == 1 and out == "", (command, out, err)
            assert str(model_file) in err and match in err and "unexpected" not in err, err


class TestTrainingMessagesNameTheFlags:
    def test_attack_divergence_names_the_learning_rate_flag(self, tmp_path, capsys):
        data = tmp_path / "d.csv"
        data.write_text("a,b,label\n" + "".join(f"{i},{i * i % 7},{i % 2}\n" for i in range(12)))
        status, out, err = cli(capsys, "train", data, "--model", "logistic", "--learning-rate", "1e30",
                               "--no-standardize", "--iterations", "20", "--quiet")
        assert status == 1 and "diverged" in err and "--learning-rate" in err, err
        assert "learning_rate" not in err and ".params" not in err, err  # Python's names mean nothing here


class TestPandasArtifacts:
    def test_attack_a_pandas_index_column_unnamed_0_is_not_trained_on(self, tmp_path, capsys):
        pd = pytest.importorskip("pandas")
        first, again = tmp_path / "first.csv", tmp_path / "again.csv"
        pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "label": [0, 1, 0, 1]}).to_csv(first)  # the index written
        pd.read_csv(first).to_csv(again, index=False)  # read back and saved: the index is now 'Unnamed: 0'
        assert open(again).readline().strip() == "Unnamed: 0,a,label"
        status, out, err = cli(capsys, "train", again, "--iterations", "3")
        assert status == 1 and out == "", (out, err)
        assert "'Unnamed: 0'" in err and "index" in err, err


def test_attack_dask_chunks_each_constant_merge_to_the_spread_between_them():
    da = pytest.importorskip("dask.array")
    column = np.repeat([1e-170, 3e-170, 5e-170], 10)  # constant within each chunk of 10 rows
    X = np.column_stack([column, np.arange(30.0)])
    model = nc.LogisticRegression(max_iter=2, standardize=True).fit(da.from_array(X, chunks=(10, 2)), np.arange(30) % 2)
    np.testing.assert_allclose(nc_device.to_numpy(model.feature_scale_), _reference_scale(X), rtol=1e-12)

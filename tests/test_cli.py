"""The ``neuralcore`` console script, run for real in a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuralcore import device as nc_device

SCRIPT = Path(sys.executable).parent / "neuralcore"


def run(*args, ok=True, cwd=None):
    assert SCRIPT.exists(), f"the console script is not installed at {SCRIPT}: pip install -e ."
    env = {**os.environ, "NEURALCORE_BACKEND": "numpy"}
    done = subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    if ok:
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    return done


def fails(*args, match):
    done = run(*args, ok=False)
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuralcore: error: "), done.stderr
    assert match in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    with open(folder / "train.csv", "w") as f:
        f.write("a,label,b,c\n")
        for row, label in zip(X, y):
            f.write(f"{row[0]},{'yes' if label else 'no'},{row[1]},{row[2]}\n")
    np.savez(folder / "train.npz", features=X, labels=y)
    h5py = pytest.importorskip("h5py")
    images = np.clip(np.where(y[:, None, None, None] == 1, 170, 80) + rng.integers(-60, 60, size=(120, 6, 6, 3)), 0, 255).astype(np.uint8)
    for name, part in (("train", slice(0, 90)), ("test", slice(90, 120))):
        with h5py.File(folder / f"{name}_images.h5", "w") as f:
            f[f"{name}_set_x"], f[f"{name}_set_y"] = images[part], y[part]
            f["list_classes"] = np.asarray([b"dark", b"bright"])
    return folder


class TestTrain:
    def test_default_trains_the_flower(self):
        out = run("train").stdout
        assert "backend: numpy:cpu" in out
        assert "data: built-in planar, X (400, 2), 2 classes [0, 1]" in out
        assert "Cost after iteration 0: 0.693" in out and "Cost after iteration 9000:" in out
        accuracy = float(out.split("train accuracy: ")[1].split("%")[0])
        assert accuracy >= 88

    def test_python_dash_m(self):
        done = subprocess.run([sys.executable, "-m", "neuralcore", "train", "xor", "--iterations", "50", "--quiet"],
                              capture_output=True, text=True, env={**os.environ, "NEURALCORE_BACKEND": "numpy"})
        assert done.returncode == 0 and "train accuracy" in done.stdout

    def test_json(self, tmp_path):
        summary = json.loads(run("train", "moons:n_samples=200", "--iterations", "300", "--json", "--out", tmp_path / "m.npz").stdout)
        assert summary["backend"] == "numpy" and summary["data"]["n_samples"] == 200
        assert summary["n_iter"] == 300 and 0 <= summary["train_accuracy"] <= 1
        assert summary["model"]["class"] == "TwoLayerNet" and summary["model_file"].endswith("m.npz")

    @pytest.mark.parametrize("spec", ["planar:n_samples=100,noise=0.3", "moons", "circles", "blobs:centers=3", "xor"])
    def test_builtins(self, spec):
        assert "train accuracy" in run("train", spec, "--iterations", "100", "--quiet").stdout

    def test_options(self):
        out = run("train", "blobs:centers=3", "--model", "logistic", "--solver", "lbfgs", "--alpha", "0.01", "--quiet").stdout
        assert "solver='lbfgs'" in out and "3 classes" in out
        out = run("train", "moons", "--optimizer", "adam", "--learning-rate", "0.01", "--batch-size", "32",
                  "--iterations", "20", "--hidden-units", "8", "--activation", "relu", "--init", "he", "--dtype", "float32").stdout
        assert "(20 epochs" in out and "Cost after epoch 19" in out

    def test_csv_with_target_and_model_round_trip(self, files, tmp_path):
        model = tmp_path / "csv.npz"
        out = run("train", files / "train.csv", "--target", "label", "--model", "logistic", "--learning-rate", "0.5",
                  "--iterations", "300", "--out", model, "--quiet").stdout
        assert "2 classes ['no', 'yes']" in out
        predictions = run("predict", model, files / "train.csv", "--proba").stdout.splitlines()
        assert predictions[0] == "prediction,proba_no,proba_yes" and len(predictions) == 121
        evaluation = run("evaluate", model, files / "train.csv").stdout
        assert "accuracy:" in evaluation and "confusion matrix" in evaluation

    def test_npz_with_keys(self, files):
        out = run("train", files / "train.npz", "--x-key", "features", "--y-key", "labels", "--iterations", "50", "--quiet").stdout
        assert "X (120, 3)" in out

    def test_hdf5_images_preprocessing_is_stored_and_reapplied(self, files, tmp_path):
        model = tmp_path / "img.npz"
        out = run("train", files / "train_images.h5", "--test", files / "test_images.h5", "--model", "logistic",
                  "--learning-rate", "0.05", "--iterations", "1500", "--out", model, "--quiet").stdout
        assert "X (90, 108)" in out
        assert float(out.split("test accuracy: ")[1].split("%")[0]) >= 85
        evaluation = json.loads(run("evaluate", model, files / "test_images.h5", "--json").stdout)
        assert evaluation["n_samples"] == 30 and evaluation["accuracy"] >= 0.85
        assert sum(map(sum, evaluation["confusion_matrix"])) == 30

    def test_plot(self, tmp_path):
        run("train", "planar", "--iterations", "200", "--plot", tmp_path / "fig.png", "--quiet")
        assert (tmp_path / "fig.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def test_convergence_warning_is_one_line(self):
        done = run("train", "moons", "--model", "logistic", "--solver", "newton", "--alpha", "0.01", "--iterations", "1", "--quiet")
        # in the flags' words, as the errors are
        assert done.stderr.strip().startswith("neuralcore: warning: --solver newton did not converge: reached --iterations 1")


class TestPredict:
    def test_to_file(self, tmp_path):
        run("train", "xor", "--iterations", "200", "--out", tmp_path / "m.npz", "--quiet")
        done = run("predict", tmp_path / "m.npz", "xor:n_samples=10", "--out", tmp_path / "p.csv")
        lines = (tmp_path / "p.csv").read_text().splitlines()
        assert lines[0] == "prediction" and len(lines) == 11 and set(lines[1:]) <= {"0", "1"}
        assert "10 predictions written" in done.stderr


class TestInfoAndDatasets:
    def test_info(self):
        out = run("info").stdout
        assert "backend 'auto' here:" in out and "numpy" in out and "cupy" in out
        assert "compiled kernels: CUDA kernels for CuPy arrays" in out

    def test_info_kernels_off(self):
        done = subprocess.run([str(SCRIPT), "info", "--json"], capture_output=True, text=True,
                              env={**os.environ, "NEURALCORE_KERNELS": "off"}, timeout=120)
        report = json.loads(done.stdout)
        assert report["compiled_kernels"]["enabled"] is False and report["compiled_kernels"]["usable"] is False
        assert report["environment"]["NEURALCORE_KERNELS"] == "off"

    def test_info_json(self):
        report = json.loads(run("info", "--json").stdout)
        names = [row["backend"] for row in report["backends"]]
        assert names[:2] == ["numpy", "cupy"]
        assert report["backends"][0]["usable"] is True

    def test_datasets(self):
        out = run("datasets").stdout
        for name in ("planar", "moons", "circles", "blobs", "xor"):
            assert f"  {name} " in out

    def test_version(self):
        assert run("--version").stdout.startswith("neuralcore ")


class TestErrors:
    def test_missing_file(self):
        fails("train", "nothing.csv", match="no such file: nothing.csv")

    def test_unknown_dataset(self):
        fails("train", "iris", match="no such file or built-in dataset: 'iris'")

    def test_bad_dataset_parameter(self):
        fails("train", "planar:petals=3", match="dataset 'planar' has no parameter 'petals'")

    def test_wrong_target_column(self, files):
        fails("train", files / "train.csv", "--target", "klass", match="no column 'klass' for the labels")

    def test_non_numeric_feature(self, files):
        fails("train", files / "train.csv", match="column 'label' holds 'no', not a number")

    def test_wrong_npz_key(self, files):
        fails("train", files / "train.npz", match="has no array 'X'; it has ['features', 'labels'] (choose it with --x-key)")

    def test_wrong_hdf5_key(self, files):
        fails("train", files / "train_images.h5", "--x-key", "pixels", match="has no dataset 'pixels'")

    def test_continuous_labels(self, tmp_path):
        np.savez(tmp_path / "reg.npz", X=np.ones((5, 2)), y=np.linspace(0, 1, 5))
        fails("train", tmp_path / "reg.npz", match="y holds non-integer numbers such as 0.25")

    def test_single_class(self, tmp_path):
        np.savez(tmp_path / "one.npz", X=np.ones((5, 2)), y=np.zeros(5))
        fails("train", tmp_path / "one.npz", match="y has only one class")

    def test_corrupted_model(self, tmp_path):
        (tmp_path / "m.npz").write_bytes(b"PK\x03\x04 not really a zip")
        fails("predict", tmp_path / "m.npz", "planar", match="is not a neuralcore model file")

    def test_newer_model(self, tmp_path):
        run("train", "xor", "--iterations", "5", "--out", tmp_path / "m.npz", "--quiet")
        with np.load(tmp_path / "m.npz") as archive:
            arrays = {n: archive[n] for n in archive.files}
        document = json.loads(arrays["metadata"].tobytes())
        document["format_version"] = 7
        arrays["metadata"] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
        np.savez(tmp_path / "m.npz", **arrays)
        fails("evaluate", tmp_path / "m.npz", "xor", match="written by a newer neuralcore")

    def test_feature_mismatch_at_prediction(self, tmp_path):
        run("train", "xor", "--iterations", "5", "--out", tmp_path / "m.npz", "--quiet")
        fails("predict", tmp_path / "m.npz", "blobs:n_features=3", match="X has 3 features, but TwoLayerNet is expecting 2 features as input")

    def test_unusable_backend(self):
        if nc_device.backend_status("cupy")[0]:  # a GPU machine: ask for a GPU it does not have
            done, expected = run("train", "--backend", "cupy:99", ok=False), "neuralcore: error: CUDA device 99 does not exist"
        else:
            done, expected = run("train", "--backend", "cupy", ok=False), "neuralcore: error: backend 'cupy'"
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert expected in done.stderr

    def test_divergence(self):
        fails("train", "planar", "--activation", "relu", "--init", "he", "--learning-rate", "1000", "--iterations", "400",
              "--hidden-units", "8", match="training diverged")

    def test_usage_error_exits_2(self):
        done = run("train", "--iterations", "many", ok=False)
        assert done.returncode == 2 and "invalid int value" in done.stderr


class TestDeepNetworks:
    def test_train_predict_evaluate_a_network_of_any_depth(self, tmp_path):
        model = tmp_path / "deep.npz"
        out = run("train", "moons:n_samples=300", "--model", "network", "--hidden-units", "16,8,4", "--optimizer", "adam",
                  "--learning-rate", "0.01", "--batch-size", "32", "--iterations", "150", "--out", model,
                  "--plot", tmp_path / "deep.png", "--quiet").stdout
        assert "model: NeuralNet(hidden_units=(16, 8, 4), activation='relu'" in out
        assert float(out.split("train accuracy: ")[1].split("%")[0]) > 95
        assert (tmp_path / "deep.png").stat().st_size > 0
        evaluation = json.loads(run("evaluate", model, "moons:n_samples=200,random_state=5", "--json").stdout)
        assert evaluation["accuracy"] > 0.95
        predictions = run("predict", model, "moons:n_samples=4,random_state=5").stdout.splitlines()
        assert predictions[0] == "prediction" and len(predictions) == 5

    @pytest.mark.parametrize(("value", "match"), [
        ("3,0", "--hidden-units must be at least 1 for every layer, got '3,0'"),
        ("3;4", "expected positive integers separated by commas (20,7,5), got '3;4'"),
        ("", "expected positive integers separated by commas"),
    ])
    def test_malformed_hidden_units(self, value, match):
        done = run("train", "xor", "--model", "network", "--hidden-units", value, ok=False)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert match in done.stderr.strip().splitlines()[-1]

    def test_two_layer_takes_one_size(self):
        fails("train", "xor", "--model", "two-layer", "--hidden-units", "3,4",
              match="--model two-layer has one hidden layer, got --hidden-units 3,4; use --model network")

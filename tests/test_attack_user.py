"""End to end as a careless user: files, data, command line, model files and plots together.

One test per attack; the attack is in the test id. Each area was hardened on its
own; these tests attack the seams: a model trained on one file and used on
another, spreadsheet exports, preprocessing that differs between training and
prediction, outputs landing on inputs, interrupted and concurrent saves.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import neuralcore as nc
from neuralcore.cli import main

from .cli_helpers import cli, fails
from neuralcore.files import TEMP_PREFIX



@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEURALCORE_BACKEND", raising=False)




def write(path, text):
    with open(path, "w", newline="") as handle:
        handle.write(text)
    return path


TRAIN_CSV = "a,b,label\n1,2,0\n2,1,1\n3,3,0\n0,5,1\n1,1,0\n4,2,1\n"


def trained_csv_model(capsys, *extra):
    write("train.csv", TRAIN_CSV)
    status, _, err = cli(capsys, "train", "train.csv", "--iterations", 20, "--quiet", "--out", "m.npz", *extra)
    assert status == 0, err
    return nc.load("m.npz")


def predictions(out):
    return out.strip().splitlines()[1:]


# ---------------------------------------------------------------- CSV columns between training and use


def test_evaluate_csv_with_reordered_columns_and_an_extra_id_column_finds_the_label_column(capsys):
    """The label column is known by name: an ``id`` column beside it makes no ambiguity."""
    trained_csv_model(capsys)
    write("other.csv", "id,b,a,label\n9,2,1,0\n8,1,2,1\n7,3,3,0\n")
    status, out, err = cli(capsys, "evaluate", "m.npz", "other.csv", "--json")
    assert status == 0, err
    assert json.loads(out)["n_samples"] == 3


def test_evaluate_csv_never_takes_a_leftover_column_for_the_labels(capsys):
    """``flag`` (0/1, like the labels) is not the label column ``label``: refused, not scored against."""
    trained_csv_model(capsys)
    write("other.csv", "b,a,flag\n2,1,0\n1,2,1\n")
    fails(capsys, "evaluate", "m.npz", "other.csv", match=["other.csv", "'label'"])


def test_evaluate_csv_without_a_label_column_names_the_missing_column(capsys):
    trained_csv_model(capsys)
    write("nolabels.csv", "b,a\n2,1\n1,2\n")
    fails(capsys, "evaluate", "m.npz", "nolabels.csv", match=["nolabels.csv", "'label'"])
    status, out, _ = cli(capsys, "predict", "m.npz", "nolabels.csv")  # prediction needs no labels
    assert status == 0 and len(predictions(out)) == 2


def test_train_test_csv_without_a_label_column_names_the_missing_column(capsys):
    write("train.csv", TRAIN_CSV)
    write("test.csv", "b,a\n2,1\n1,2\n")
    fails(capsys, "train", "train.csv", "--test", "test.csv", "--quiet", match=["test.csv", "'label'"])


def test_features_only_csv_on_a_model_trained_without_column_names_keeps_every_column(capsys):
    """A model trained on an .npz has no column names: a CSV of exactly its features loses no column."""
    rng = np.random.default_rng(0)
    np.savez("two.npz", X=rng.normal(size=(10, 2)), y=np.arange(10) % 2)
    assert cli(capsys, "train", "two.npz", "--iterations", 5, "--quiet", "--out", "m.npz")[0] == 0
    write("features.csv", "x1,x2\n1,2\n3,4\n")
    status, out, err = cli(capsys, "predict", "m.npz", "features.csv")
    assert status == 0, err
    expected = nc.load("m.npz").predict(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert predictions(out) == [str(v) for v in expected]
    fails(capsys, "evaluate", "m.npz", "features.csv", match=["features.csv", "label"])


# ---------------------------------------------------------------- spreadsheet exports


@pytest.mark.parametrize("text, match", [
    pytest.param("a;b;label\n1;2;0\n2;1;1\n", "semicolon", id="semicolon-separated"),
    pytest.param("a\tb\tlabel\n1\t2\t0\n2\t1\t1\n", "tab", id="tab-separated"),
    pytest.param(",a,b,label\n0,1,2,0\n1,2,1,1\n", "index", id="pandas-index-column"),
    pytest.param("a,b,label,\n1,2,0,\n2,1,1,\n", "trailing comma", id="excel-trailing-commas"),
    pytest.param("a,b,label\n1,nan,0\n2,1,1\n", ["sample 1", "column 'b'", "impute"], id="nan-cell"),
    pytest.param("a,b,label\n1,1e400,0\n2,1,1\n", ["sample 1", "column 'b'", "impute"], id="overflowing-cell"),
])
def test_spreadsheet_export_is_refused_with_a_hint(capsys, text, match):
    write("sheet.csv", text)
    fails(capsys, "train", "sheet.csv", "--iterations", 5, "--quiet", match=match)


# ---------------------------------------------------------------- preprocessing between training and use


def _images(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 4, 4, 3), dtype=np.uint8), rng.integers(0, 2, n)


def test_image_model_refuses_a_csv_of_raw_pixels(capsys):
    """A CSV carries no image shape: its pixels would reach the model unscaled."""
    X, y = _images()
    np.savez("img.npz", X=X, y=y)
    assert cli(capsys, "train", "img.npz", "--model", "logistic", "--iterations", 5, "--quiet", "--out", "m.npz")[0] == 0
    flat = X.reshape(len(X), -1)
    header = ",".join(f"p{i}" for i in range(flat.shape[1])) + ",label"
    write("pixels.csv", header + "\n" + "\n".join(",".join(map(str, row)) + f",{t}" for row, t in zip(flat, y)) + "\n")
    fails(capsys, "predict", "m.npz", "pixels.csv", match=["pixels.csv", "images"])


def test_model_trained_on_flat_features_refuses_images_instead_of_rescaling_them(capsys):
    """Trained on 2-D uint8 features (not scaled): 4-D images must not be flattened AND divided by 255."""
    X, y = _images()
    np.savez("flat.npz", X=X.reshape(len(X), -1), y=y)
    np.savez("img.npz", X=X, y=y)
    # unscaled pixels: a small step, or the cost explodes (a DivergenceError by the documented rule)
    assert cli(capsys, "train", "flat.npz", "--model", "logistic", "--learning-rate", "1e-6", "--iterations", 5,
               "--quiet", "--out", "m.npz")[0] == 0
    fails(capsys, "predict", "m.npz", "img.npz", match=["img.npz", "(4, 4, 3)"])


def test_train_test_with_a_different_preprocessing_is_refused(capsys):
    X, y = _images()
    np.savez("flat.npz", X=X.reshape(len(X), -1), y=y)
    np.savez("img.npz", X=X, y=y)
    fails(capsys, "train", "flat.npz", "--test", "img.npz", "--model", "logistic", "--iterations", 5, "--quiet",
          match=["img.npz", "(4, 4, 3)"])


def test_model_trained_on_unscaled_float_images_does_not_scale_uint8_images(capsys):
    """Float images were not scaled in training; the same pixels as uint8 must give the same predictions."""
    X, y = _images()
    np.savez("float_img.npz", X=X.astype(np.float64), y=y)
    np.savez("uint8_img.npz", X=X, y=y)
    assert cli(capsys, "train", "float_img.npz", "--model", "logistic", "--learning-rate", "1e-6", "--iterations", 5,
               "--quiet", "--out", "m.npz")[0] == 0
    status, out_float, _ = cli(capsys, "predict", "m.npz", "float_img.npz", "--proba")
    status, out_uint8, err = cli(capsys, "predict", "m.npz", "uint8_img.npz", "--proba")
    assert status == 0, err
    assert out_uint8 == out_float


# ---------------------------------------------------------------- outputs, JSON, warnings


def test_train_csv_with_out_and_plot_prints_no_feature_name_warning(capsys):
    pytest.importorskip("matplotlib")
    write("train.csv", TRAIN_CSV)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        status, out, err = cli(capsys, "train", "train.csv", "--iterations", 5, "--json", "--out", "m.npz",
                               "--plot", "m.png")
    assert status == 0, err
    assert err == ""
    summary = json.loads(out)
    assert summary["model_file"] == "m.npz" and summary["plot_file"] == "m.png"
    assert list(nc.load("m.npz").feature_names_in_) == ["a", "b"]


def test_train_out_onto_the_test_file_is_refused_and_the_file_kept(capsys):
    write("train.csv", TRAIN_CSV)
    write("test.csv", TRAIN_CSV)
    fails(capsys, "train", "train.csv", "--test", "./test.csv", "--out", "test.csv", "--quiet", match="--test")
    assert open("test.csv").read() == TRAIN_CSV


# ---------------------------------------------------------------- processes: concurrent saves, signals


def _command(*args):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env.pop("NEURALCORE_BACKEND", None)
    return [sys.executable, "-m", "neuralcore", *map(str, args)], env


def test_concurrent_saves_to_one_path_while_another_process_loads_it(capsys):
    """Four trainings save to one path while it is read: every read sees a whole model, no temp file stays."""
    procs = []
    for seed in range(3):
        command, env = _command("train", "moons", "--model", "network", "--hidden-units", "200,200", "--iterations", 2,
                                "--seed", seed, "--quiet", "--out", "same.npz")
        procs.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    reads = 0
    while any(p.poll() is None for p in procs):
        if os.path.exists("same.npz"):
            nc.load("same.npz")  # never half a file
            reads += 1
    assert [p.wait() for p in procs] == [0, 0, 0], [p.stderr.read() for p in procs]
    nc.load("same.npz")
    assert not [f for f in os.listdir(".") if f.startswith(TEMP_PREFIX)]


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_signal_while_training_over_a_model_keeps_the_old_model(capsys, sig, status):
    write("train.csv", TRAIN_CSV)
    assert cli(capsys, "train", "train.csv", "--iterations", 5, "--quiet", "--out", "m.npz")[0] == 0
    before = open("m.npz", "rb").read()
    command, env = _command("train", "planar", "--iterations", 10**8, "--out", "m.npz")
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    proc.stdout.readline()  # started: the backend line is printed
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert b"Traceback" not in err
    assert open("m.npz", "rb").read() == before
    assert not [f for f in os.listdir(".") if f.startswith(TEMP_PREFIX)]


def test_test_and_evaluate_files_whose_labels_all_look_numeric_match_text_classes(capsys):
    """Trained on labels "1" and "cat": a file holding only "1" means the class "1", not the number 1."""
    write("mixed.csv", "a,b,label\n1,2,1\n2,1,cat\n3,3,1\n0,5,cat\n")
    write("ones.csv", "a,b,label\n1,2,1\n3,3,1\n")
    status, _, err = cli(capsys, "train", "mixed.csv", "--test", "ones.csv", "--iterations", 5, "--quiet", "--out", "m.npz")
    assert status == 0, err
    status, out, err = cli(capsys, "evaluate", "m.npz", "ones.csv", "--json")
    assert status == 0, err
    assert json.loads(out)["classes"] == ["1", "cat"]


def test_evaluate_with_a_model_file_that_does_not_name_its_label_column_asks_which_column(capsys):
    """Model files written before the label column was stored: two leftover columns are a question, not 'no labels'."""
    trained_csv_model(capsys)
    with np.load("m.npz") as archive:
        members = {name: archive[name] for name in archive.files}
    document = json.loads(bytes(members["metadata"]).decode())
    document["metadata"]["target"] = None  # as train --out wrote it without --target
    members["metadata"] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    np.savez("old.npz", **members)
    write("other.csv", "id,b,a,label\n9,2,1,0\n8,1,2,1\n")
    fails(capsys, "evaluate", "old.npz", "other.csv", match=["which column", "['id', 'label']", "--target"])
    status, out, err = cli(capsys, "evaluate", "old.npz", "other.csv", "--target", "label", "--json")
    assert status == 0, err


def test_plot_that_cannot_be_drawn_leaves_no_model_file(capsys, monkeypatch):
    """``--plot x.pgf`` without LaTeX fails after training: the status says so, and no model file was written."""
    pytest.importorskip("matplotlib")
    import neuralcore.plot

    class Unsaveable:
        def savefig(self, *args, **kwargs):
            raise RuntimeError("'xelatex' not found")

    monkeypatch.setattr(neuralcore.plot, "training_summary", lambda *args, **kwargs: Unsaveable())
    write("train.csv", TRAIN_CSV)
    fails(capsys, "train", "train.csv", "--iterations", 5, "--quiet", "--out", "m.npz", "--plot", "m.pgf",
          match="xelatex")
    assert not os.path.exists("m.npz") and not os.path.exists("m.pgf")
    assert not [f for f in os.listdir(".") if f.startswith(TEMP_PREFIX)]


@pytest.mark.parametrize("text", [
    pytest.param("5.1,3.5,setosa\n4.9,3.0,setosa\n6.2,2.9,virginica\n", id="headerless-with-text-labels"),
    pytest.param("-0.5,1e3,cat\n1,2,dog\n", id="headerless-exponent"),
])
def test_headerless_csv_with_text_labels_does_not_lose_its_first_sample(capsys, text):
    write("iris.csv", text)
    fails(capsys, "train", "iris.csv", "--iterations", 5, "--quiet", match=["line 1", "is the header missing"])


def test_integer_column_names_of_a_pandas_frame_are_a_header(capsys):
    """``pd.DataFrame(X).assign(label=y).to_csv(index=False)`` writes ``0,1,label``: names, not a sample."""
    write("frame.csv", "0,1,label\n0.5,1.5,cat\n1.5,0.5,dog\n")
    status, out, err = cli(capsys, "train", "frame.csv", "--iterations", 5, "--json")
    assert status == 0, err
    assert json.loads(out)["data"]["n_samples"] == 2


def test_predict_on_a_csv_with_a_missing_value_names_the_sample_and_column(capsys):
    trained_csv_model(capsys)
    write("gaps.csv", "b,a\n2,1\n1,NaN\n")
    fails(capsys, "predict", "m.npz", "gaps.csv", match=["gaps.csv", "sample 2", "column 'a'", "nan"])


@pytest.mark.parametrize("name", ["data.csv", "images.h5"])
def test_train_out_onto_an_existing_data_file_is_refused(capsys, name):
    """Found by the attack round: `train --out data.csv` replaced an unrelated data file with a model."""
    write(name, "keep me\n")
    fails(capsys, "train", "xor:n_samples=20", "--iterations", 2, "--quiet", "--out", name,
          match=f"--out {name} is an existing")
    assert open(name).read() == "keep me\n"


def test_predict_out_csv_may_replace_an_old_predictions_file(capsys):
    """Predictions are CSV: overwriting an earlier predictions file is what --out is for."""
    assert cli(capsys, "train", "xor:n_samples=20", "--iterations", 2, "--quiet", "--out", "m.npz")[0] == 0
    write("predictions.csv", "old\n")
    status, _, err = cli(capsys, "predict", "m.npz", "xor:n_samples=5", "--out", "predictions.csv")
    assert status == 0, err
    assert open("predictions.csv").read().startswith("prediction")

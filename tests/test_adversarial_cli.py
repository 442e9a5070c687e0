"""The command line attacked as a careless and a hostile user would (issue 11, "Command line").

One test per attack; the attack is in the test id. The rules under attack:

- every failure is ONE line ``neuralcore: error: ...`` on standard error and a non-zero
  status, never a traceback: status 1 for a user error (a value out of range, a missing
  file, options that do not go together), 2 for a command line argparse itself rejects
  (an unknown option, a value of the wrong type or not among the choices, an empty path);
- ``neuralcore ... | head`` ends quietly (status 141, nothing on standard error);
- text output uses ``\\n`` line ends;
- ``info`` reports invalid ``NEURALCORE_BACKEND`` / ``NEURALCORE_KERNELS`` settings;
- Ctrl-C ends training with one line and status 130.

Most attacks run ``neuralcore.cli.main`` in-process (fast); pipes and signals need a
real process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from neuralcore import device as nc_device
from neuralcore import kernels
from neuralcore.cli import main

from .cli_helpers import ERROR, cli, fails





def usage_error(capsys, *args, match):
    """argparse rejects the command line: status 2, its message names the problem."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert "Traceback" not in err and match in err.strip().splitlines()[-1], err


def quietly(*args):
    """Run the command in-process outside capsys (for module fixtures)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        status = main([str(a) for a in args])
    assert status == 0, err.getvalue()


def env():
    """The environment of a real run: NumPy, and standard output block-buffered as users have it."""
    return {**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}, "NEURALCORE_BACKEND": "numpy"}


@pytest.fixture(autouse=True)
def _numpy(monkeypatch):
    monkeypatch.setenv(nc_device.ENV_VAR, "numpy")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Small data files and models: a CSV-trained logistic model, a two-layer model on xor."""
    folder = tmp_path_factory.mktemp("attack")
    (folder / "train.csv").write_text("a,b,label\n1,2,no\n3,4,yes\n5,6,no\n7,8,yes\n")
    (folder / "wide.csv").write_text("x,y,z,label\n1,2,3,no\n3,4,5,yes\n")
    (folder / "features.csv").write_text("a,b\n1,2\n3,4\n")
    (folder / "unseen.csv").write_text("a,b,label\n1,2,no\n3,4,maybe\n")
    (folder / "empty.csv").write_text("")
    (folder / "folder.csv").mkdir()
    (folder / "junk.npz").write_bytes(b"not a zip archive")
    np.savez(folder / "data.npz", X=np.ones((4, 2)), y=np.array([0, 1, 0, 1]))
    np.savez(folder / "nolabels.npz", X=np.ones((4, 2)))
    saved = os.environ.get(nc_device.ENV_VAR)
    os.environ[nc_device.ENV_VAR] = "numpy"
    try:
        quietly("train", folder / "train.csv", "--model", "logistic", "--iterations", "5", "--out", folder / "csv.npz",
                "--quiet")
        quietly("train", "xor:n_samples=40", "--iterations", "5", "--out", folder / "xor.npz", "--quiet")
    finally:
        if saved is None:
            os.environ.pop(nc_device.ENV_VAR, None)
        else:
            os.environ[nc_device.ENV_VAR] = saved
    return folder


# ---------------------------------------------------------------- dataset parameter strings


@pytest.mark.parametrize("spec, match", [
    ("planar:n_samples=-1", "n_samples must be an integer >= 2, got -1"),
    ("planar:n_samples=0", "n_samples must be an integer >= 2, got 0"),
    ("planar:n_samples=1e99", "n_samples must be an integer >= 2"),
    ("planar:n_samples=3.5", "n_samples must be an integer >= 2"),
    ("planar:foo=1", "dataset 'planar' has no parameter 'foo'"),
    ("moons:noise=nan", "noise must be a number between 0"),
    ("moons:noise=-inf", "noise must be a number between 0"),
    ("planar:radius=inf", "radius must be a positive finite number"),
    ("planar:random_state=abc", "random_state"),
    ("planar:=", "key=value pairs"),
    ("planar:n_samples", "key=value pairs"),
    ("planar:n_samples=10,n_samples=20", "dataset parameter 'n_samples' is given twice"),
    ("blobs:centers=1", "centers must be an integer between 2 and n_samples"),
    (":", "no such file or built-in dataset: ':'"),
    ("", "no such file or built-in dataset: ''"),
    ("planarÅ", "no such file or built-in dataset: 'planarÅ'"),
    ("x" * 5000, "no such file or built-in dataset"),
    # sizes no machine can allocate even lazily: without the check they end in MemoryError, not in swap
    ("blobs:n_features=1000000000000", "blobs with n_samples=400, n_features=1000000000000 needs at least"),
    ("planar:n_samples=10000000000000", "planar with n_samples=10000000000000, n_features=2 needs at least"),
], ids=lambda v: v if len(v) < 40 else f"{v[:10]}...{len(v)}chars")
def test_bad_dataset_spec(capsys, spec, match):
    fails(capsys, "train", spec, "--iterations", "2", "--quiet", match=match)


@pytest.mark.parametrize("spec", ["planar:", "planar:n_samples=3", "planar:n_samples=2,noise=0"])
def test_edge_dataset_spec_trains(capsys, spec):
    status, out, _ = cli(capsys, "train", spec, "--iterations", "2", "--quiet")
    assert status == 0 and "train accuracy" in out


# ------------------------------------------------------------------------- option values


@pytest.mark.parametrize("option, value, match", [
    ("--iterations", "-1", "--iterations must be at least 1, got -1"),
    ("--iterations", "0", "--iterations must be at least 1, got 0"),
    ("--learning-rate", "nan", "--learning-rate must be finite, got nan"),
    ("--learning-rate", "inf", "--learning-rate must be finite"),
    ("--learning-rate", "1e400", "--learning-rate must be finite"),
    ("--learning-rate", "-1", "--learning-rate must be a positive finite number"),
    ("--learning-rate", "0", "--learning-rate must be a positive finite number"),
    ("--alpha", "nan", "--alpha must be finite"),
    ("--alpha", "-1", "--alpha must be at least 0"),
    ("--batch-size", "0", "--batch-size must be at least 1"),
    ("--seed", "-1", "--seed must be a non-negative integer"),
    ("--backend", "junk", "unknown backend 'junk'"),
    ("--backend", "", "unknown backend ''"),
    ("--backend", ":", "unknown backend ''"),
    ("--backend", "numpy:7", "backend 'numpy' has only the 'cpu' device"),
    ("--backend", "auto:0", "'auto' takes no device"),
    ("--backend", "array_api_strict:junk", "array_api_strict has no device 'junk'"),
])
def test_bad_option_value(capsys, option, value, match):
    fails(capsys, "train", "xor:n_samples=20", "--iterations", "2", "--quiet", option, value, match=match)


def test_torch_device_junk_names_backend_and_device(capsys):
    if not nc_device.backend_status("torch")[0]:
        pytest.skip("torch is not installed")
    fails(capsys, "train", "xor:n_samples=20", "--backend", "torch:junk", match="torch has no device 'junk'")


def test_unusable_backend(capsys):
    if nc_device.backend_status("cupy")[0]:
        fails(capsys, "train", "xor:n_samples=20", "--backend", "cupy:99", match="CUDA device 99 does not exist")
    else:
        fails(capsys, "train", "xor:n_samples=20", "--backend", "cupy", match="backend 'cupy' (from backend='cupy')")


@pytest.mark.parametrize("args, match", [
    (["--dtype", "float16"], "invalid choice: 'float16'"),
    (["--model", "svm"], "invalid choice: 'svm'"),
    (["--init", ""], "invalid choice: ''"),
    (["--hidden-units", "0"], "--hidden-units must be at least 1 for every layer, got '0'"),
    (["--hidden-units", "-5"], "--hidden-units must be at least 1 for every layer, got '-5'"),
    (["--init", "kaiming"], "invalid choice: 'kaiming'"),
    (["--iterations", "many"], "invalid int value: 'many'"),
    (["--iterations", "1.5"], "invalid int value: '1.5'"),
    (["--learning-rate", "0x10"], "invalid float value: '0x10'"),
    (["--out", ""], "argument --out: expected a file path, got ''"),
    (["--out", "  "], "argument --out: expected a file path"),
    (["--plot", ""], "argument --plot: expected a file path, got ''"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_malformed_command_line_exits_2(capsys, tmp_path, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)  # were "--out '  '" accepted, the model file would land here
    usage_error(capsys, "train", "xor", *args, match=match)


def test_predict_out_empty_exits_2(capsys, files):
    usage_error(capsys, "predict", files / "xor.npz", "xor", "--out", "", match="argument --out: expected a file path")


# ------------------------------------------------------------ options that do not go together


@pytest.mark.parametrize("args, match", [
    (["--model", "logistic", "--hidden-units", "8"], "--hidden-units applies to --model two-layer"),
    (["--model", "logistic", "--activation", "relu"], "--activation applies to --model two-layer"),
    (["--model", "logistic", "--solver", "lbfgs", "--learning-rate", "5"], "--learning-rate applies to --solver gd"),
    (["--solver", "newton"], "--solver lbfgs/newton applies to --model logistic"),
    (["--model", "logistic", "--solver", "lbfgs", "--batch-size", "10"], "--batch-size applies to --solver gd, not to --solver lbfgs"),
    (["--model", "logistic", "--solver", "newton", "--optimizer", "adam"], "--optimizer applies to --solver gd, not to --solver newton"),
    (["--target", "label"], "--target applies to CSV files, not to 'xor:n_samples=20'"),
    (["--x-key", "X"], "--x-key applies to .npz and HDF5 files"),
    (["--y-key", "y"], "--y-key applies to .npz and HDF5 files"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_options_that_do_not_apply(capsys, args, match):
    fails(capsys, "train", "xor:n_samples=20", "--iterations", "2", "--quiet", *args, match=match)


def test_x_key_with_csv_file(capsys, files):
    fails(capsys, "train", files / "train.csv", "--x-key", "a", match="--x-key applies to .npz and HDF5 files")


def test_target_for_csv_test_set_is_allowed(capsys, files):
    """--target applies when any of the data (here --test) is a CSV file."""
    status, out, _ = cli(capsys, "train", files / "train.csv", "--test", files / "train.csv", "--target", "label",
                         "--model", "logistic", "--iterations", "2", "--quiet")
    assert status == 0 and "test accuracy" in out


@pytest.mark.parametrize("test, match", [
    ("unseen.csv", "holds labels ['maybe'] that are not in the training data ['no', 'yes']"),
    ("blobs:n_features=3,n_samples=10", "has 3 features, the training data 2"),
])
def test_test_set_that_cannot_be_scored_fails_before_training(capsys, files, monkeypatch, test, match):
    import neuralcore.estimators

    def no_fit(*args, **kwargs):
        raise AssertionError("trained before finding the --test data unusable")

    monkeypatch.setattr(neuralcore.estimators.LogisticRegression, "fit", no_fit)
    test = str(files / test) if test.endswith(".csv") else test
    fails(capsys, "train", files / "train.csv", "--test", test, "--model", "logistic", "--quiet",
          match=f"--test {test if test.endswith('.csv') else 'built-in ' + test} {match}")


def test_model_defaults_still_apply(capsys):
    """--hidden-units and --activation have no argparse default (to detect them): the model's apply."""
    status, out, _ = cli(capsys, "train", "xor:n_samples=20", "--iterations", "2", "--quiet")
    assert status == 0 and "TwoLayerNet(hidden_units=4, activation='tanh'" in out


# -------------------------------------------------------------------------- files


@pytest.mark.parametrize("name, match", [
    ("missing.csv", "no such file:"),
    ("folder.csv", "folder.csv"),
    ("empty.csv", "needs a header row and at least one data row"),
    ("junk.npz", "is not a readable .npz file"),
    (".", "unknown file type"),
])
def test_bad_data_file(capsys, files, name, match):
    fails(capsys, "train", files / name, "--iterations", "2", "--quiet", match=match)


def test_dev_null_as_data(capsys):
    fails(capsys, "train", os.devnull, "--quiet", match="unknown file type")


@pytest.mark.parametrize("model, match", [
    ("missing.npz", "no such model file"),
    ("folder.csv", "is not a neuralcore model file"),
    ("train.csv", "is not a neuralcore model file"),
    ("junk.npz", "is not a neuralcore model file"),
    ("data.npz", "is not a neuralcore model file (no metadata)"),
])
def test_predict_with_a_file_that_is_not_a_model(capsys, files, model, match):
    fails(capsys, "predict", files / model, "xor:n_samples=5", match=match)


def test_predict_with_empty_model_path(capsys):
    fails(capsys, "predict", "", "xor:n_samples=5", match="model file path is empty")


def test_predict_on_a_model_file_as_data(capsys, files):
    fails(capsys, "predict", files / "xor.npz", files / "xor.npz", match="has no array 'X'")


def test_predict_with_wrong_width(capsys, files):
    fails(capsys, "predict", files / "xor.npz", "blobs:n_features=3,n_samples=10",
          match="X has 3 features, but TwoLayerNet is expecting 2 features as input")


def test_predict_csv_missing_a_trained_column(capsys, files):
    fails(capsys, "predict", files / "csv.npz", files / "wide.csv", match="'a'")


def test_evaluate_without_labels(capsys, files):
    fails(capsys, "evaluate", files / "xor.npz", files / "nolabels.npz", match="has no array 'y'")


def test_evaluate_with_unseen_label(capsys, files):
    fails(capsys, "evaluate", files / "csv.npz", files / "unseen.csv", match="not among the training classes")


def test_predict_with_a_y_key_that_is_not_there(capsys, files):
    fails(capsys, "predict", files / "xor.npz", files / "nolabels.npz", "--y-key", "labels", match="has no array 'labels'")


def test_predict_with_a_target_that_is_not_there(capsys, files):
    fails(capsys, "predict", files / "xor.npz", files / "features.csv", "--target", "label", match="'label'")


def test_predict_target_with_builtin(capsys, files):
    fails(capsys, "predict", files / "xor.npz", "xor:n_samples=5", "--target", "label",
          match="--target applies to CSV files")


def test_predict_honours_invalid_env_backend(capsys, files, monkeypatch):
    monkeypatch.setenv(nc_device.ENV_VAR, "junk")
    fails(capsys, "predict", files / "xor.npz", "xor:n_samples=5", match="from NEURALCORE_BACKEND='junk'")


def test_predict_and_evaluate_on_every_backend(capsys, files, backend_case, monkeypatch):
    """The CLI's errors and results do not depend on where the model runs."""
    monkeypatch.delenv(nc_device.ENV_VAR)
    status, out, _ = cli(capsys, "predict", files / "xor.npz", "xor:n_samples=6", "--proba", "--backend", backend_case.spec)
    assert status == 0 and out.splitlines()[0] == "prediction,proba_0,proba_1" and len(out.splitlines()) == 7
    fails(capsys, "predict", files / "xor.npz", "blobs:n_features=3,n_samples=10", "--backend", backend_case.spec,
          match="X has 3 features, but TwoLayerNet is expecting 2 features as input")
    fails(capsys, "evaluate", files / "xor.npz", "blobs:centers=3,n_samples=9", "--backend", backend_case.spec,
          match="not among the training classes")


@pytest.fixture(scope="module")
def overflowing_model(files):
    """A valid model file whose parameters are finite but overflow every decision value to inf or NaN."""
    from neuralcore.persistence import load

    model = load(files / "xor.npz")
    model.params_ = {key: np.full_like(value, 1.7e308) for key, value in model.params_.items()}
    model.save(files / "overflow.npz")
    return files / "overflow.npz"


@pytest.mark.parametrize("command", [["predict"], ["predict", "--proba"], ["evaluate"], ["evaluate", "--json"]],
                         ids=" ".join)
def test_model_whose_outputs_overflow(capsys, overflowing_model, command):
    """Not NaN probabilities, arbitrary labels, or NaN in JSON with status 0 and a screen of RuntimeWarnings."""
    fails(capsys, command[0], overflowing_model, "xor:n_samples=20", *command[1:], match="decision values are not finite")


# ------------------------------------------------------------------------- environment


@pytest.mark.parametrize("variable, value, match", [
    ("NEURALCORE_BACKEND", "junk", "unknown backend 'junk' (from NEURALCORE_BACKEND='junk')"),
    ("NEURALCORE_KERNELS", "maybe", "NEURALCORE_KERNELS='maybe' is not valid"),
])
def test_training_with_junk_environment(capsys, monkeypatch, variable, value, match):
    monkeypatch.setenv(variable, value)
    fails(capsys, "train", "xor:n_samples=20", "--iterations", "2", "--quiet", match=match)


@pytest.mark.parametrize("variable, value, match, flag", [
    ("NEURALCORE_BACKEND", "junk", "unknown backend 'junk' (from NEURALCORE_BACKEND='junk')", "NOT USABLE"),
    ("NEURALCORE_BACKEND", "numpy:3", "backend 'numpy' has only the 'cpu' device", "NOT USABLE"),
    ("NEURALCORE_KERNELS", "maybe", "NEURALCORE_KERNELS='maybe' is not valid", "NOT VALID"),
])
def test_info_reports_junk_environment(capsys, monkeypatch, variable, value, match, flag):
    monkeypatch.setenv(variable, value)
    status, out, err = cli(capsys, "info")
    assert status == 1
    assert "backends:" in out and f"{variable}={value}: {flag}" in out  # the whole report, marked
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR) and match in lines[0], err
    status, out, err = cli(capsys, "info", "--json")
    report = json.loads(out)
    assert status == 1 and len(report["problems"]) == 1 and match in report["problems"][0]


def test_info_unusable_env_backend(capsys, monkeypatch):
    if nc_device.backend_status("cupy")[0]:
        pytest.skip("CuPy is usable here")
    monkeypatch.setenv(nc_device.ENV_VAR, "cupy")
    status, out, err = cli(capsys, "info")
    assert status == 1 and "backend 'cupy' (from NEURALCORE_BACKEND='cupy') is not usable" in err


def test_info_valid_environment_has_no_problems(capsys, monkeypatch):
    monkeypatch.setenv(kernels.ENV_VAR, "off")
    status, out, err = cli(capsys, "info", "--json")
    assert status == 0 and err == "" and json.loads(out)["problems"] == []


# ---------------------------------------------------------- errors we did not foresee


def test_out_of_memory_is_one_line(capsys, monkeypatch):
    import neuralcore.loaders

    def explode(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.28 TiB for an array")

    monkeypatch.setattr(neuralcore.loaders, "load_data", explode)
    fails(capsys, "train", "xor", match="out of memory: Unable to allocate 7.28 TiB")


@pytest.mark.parametrize("error", [KeyError("W1"), IndexError("index 3 is out of bounds"), AttributeError("nope"),
                                   ZeroDivisionError("division by zero")], ids=lambda e: type(e).__name__)
def test_unexpected_exception_is_one_line(capsys, monkeypatch, error):
    import neuralcore.loaders

    def explode(*args, **kwargs):
        raise error

    monkeypatch.setattr(neuralcore.loaders, "load_data", explode)
    fails(capsys, "train", "xor", match=f"unexpected {type(error).__name__}")


def test_multi_line_message_is_folded(capsys, files):
    fails(capsys, "train", str(files / "no\nsuch.csv"), match="no such file")


# -------------------------------------------------------------------------- line ends


def test_predict_stdout_line_ends(capsys, files):
    status, out, _ = cli(capsys, "predict", files / "xor.npz", "xor:n_samples=4", "--proba")
    assert status == 0 and "\r" not in out and out.count("\n") == 5


def test_predict_file_line_ends(capsys, files, tmp_path):
    status, _, _ = cli(capsys, "predict", files / "xor.npz", "xor:n_samples=4", "--out", tmp_path / "p.csv")
    data = (tmp_path / "p.csv").read_bytes()
    assert status == 0 and b"\r" not in data and data.count(b"\n") == 5


@pytest.mark.parametrize("command", [["evaluate", "{model}", "xor:n_samples=8"], ["evaluate", "{model}", "xor:n_samples=8", "--json"],
                                     ["info"], ["datasets"], ["train", "xor:n_samples=8", "--iterations", "2", "--json"]],
                         ids=" ".join)
def test_text_output_line_ends(capsys, files, command):
    status, out, err = cli(capsys, *[part.format(model=files / "xor.npz") for part in command])
    assert status == 0 and out and "\r" not in out and "\r" not in err


# ---------------------------------------------------------- real processes: pipes, signals


def _run_into_closed_pipe(*args):
    """Run the command with its standard output a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "neuralcore", *map(str, args)], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, env=env(), timeout=120)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("command", [["info"], ["predict", "{model}", "xor:n_samples=50", "--proba"],
                                     ["train", "xor:n_samples=20", "--iterations", "2000"], ["train", "--help"],
                                     ["--version"], []], ids=lambda c: " ".join(c) or "no-command")
def test_closed_pipe_ends_quietly(files, command):
    done = _run_into_closed_pipe(*[part.format(model=files / "xor.npz") for part in command])
    assert done.returncode == 141 and done.stderr == "", (done.returncode, done.stderr)


def test_usage_error_into_closed_pipe(files):
    """argparse's own error goes to standard error, unharmed by the closed standard output."""
    done = _run_into_closed_pipe("predict", files / "xor.npz", "xor", "--bogus")
    assert done.returncode == 2 and done.stderr.splitlines()[-1] == "neuralcore: error: unrecognized arguments: --bogus"


def test_pipe_to_head(files):
    """``neuralcore predict ... | head -1`` as a shell runs it: one line, silence, SIGPIPE's status."""
    command = (f"{sys.executable} -m neuralcore predict {files / 'xor.npz'} xor:n_samples=100000 --proba "
               "| head -1; echo \"status ${PIPESTATUS[0]}\" >&2")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env(), timeout=120)
    assert done.stdout == "prediction,proba_0,proba_1\n"
    assert done.stderr == "status 141\n", done.stderr


def test_ctrl_c_during_training(files):
    process = subprocess.Popen([sys.executable, "-m", "neuralcore", "train", "planar", "--iterations", "100000000",
                                "--learning-rate", "0.01", "--out", files / "never.npz"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    try:
        for line in process.stdout:
            if line.startswith("model:"):  # flushed just before fit
                break
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130 and err == "neuralcore: interrupted\n", (process.returncode, err)
    assert not (files / "never.npz").exists()


@pytest.mark.parametrize("args, flag", [
    (["--iterations", "0"], "--iterations"), (["--seed", "-3"], "--seed"), (["--batch-size", "0"], "--batch-size"),
    (["--learning-rate", "-2"], "--learning-rate"), (["--model", "network", "--alpha", "nan"], "--alpha"),
])
def test_hyperparameter_errors_name_the_flag_and_come_before_any_output(capsys, args, flag):
    status = main(["train", "xor:n_samples=20", *args])
    out, err = capsys.readouterr()
    assert status == 1 and out == ""  # nothing printed before the error: not the backend, not the data
    assert err.startswith(f"neuralcore: error: {flag} ") and "_" not in err.split(":")[2].split()[0]

"""The examples run as a user runs them: as scripts, in a subprocess."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script, *args):
    env = {**os.environ, "NEURALCORE_BACKEND": "numpy"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *map(str, args)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def accuracy(line):
    return float(line.split("accuracy")[1].split("%")[0]) / 100


def test_planar_flower():
    out = run("planar_flower.py", "--iterations", "2500").splitlines()
    logistic = next(line for line in out if line.startswith("logistic regression"))
    net = next(line for line in out if line.startswith("two-layer net"))
    assert accuracy(logistic) < 0.65 and accuracy(net) >= 0.88
    assert "on numpy" in net


def test_gpu_quickstart():
    out = run("gpu_quickstart.py", "--samples", "1000", "--iterations", "50", "--backend", "numpy")
    assert "trained on numpy (numpy:cpu)" in out


def test_image_classifier(tmp_path):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(0)

    def images(n):
        # bright images are class 1, dark ones class 0
        y = np.arange(n) % 2
        base = np.where(y[:, None, None, None] == 1, 170, 80)
        return np.clip(base + rng.integers(-60, 60, size=(n, 8, 8, 3)), 0, 255).astype(np.uint8), y

    for name, n in (("train", 200), ("test", 40)):
        X, y = images(n)
        with h5py.File(tmp_path / f"{name}.h5", "w") as f:
            f[f"{name}_set_x"], f[f"{name}_set_y"] = X, y
    out = run("image_classifier.py", tmp_path / "train.h5", tmp_path / "test.h5", "--iterations", "2000")
    assert "train: (200, 8, 8, 3) -> X (200, 192)" in out
    lines = [line for line in out.splitlines() if "test" in line and "%" in line]
    assert len(lines) == 2
    for line in lines:
        test_accuracy = float(line.split("test")[1].split("%")[0]) / 100
        assert test_accuracy >= 0.85, line


def test_planar_hidden_sizes(tmp_path):
    pytest.importorskip("matplotlib")
    out = run("planar_hidden_sizes.py", "--iterations", "2000", "--plot", tmp_path / "sizes.png")
    table = {line[:22].strip(): float(line[22:37].strip().rstrip("%")) / 100 for line in out.splitlines()
             if line.startswith(("logistic", "1 ", "2 ", "3 ", "4 ", "5 ", "20 ", "50 "))}
    assert set(table) == {"logistic regression", *(f"{n} hidden units" for n in (1, 2, 3, 4, 5, 20, 50))}
    assert table["logistic regression"] < 0.65 and table["4 hidden units"] >= 0.88
    assert (tmp_path / "sizes.png").stat().st_size > 10_000


def test_learning_rates(tmp_path):
    pytest.importorskip("matplotlib")
    out = run("learning_rates.py", "--iterations", "300", "--out", tmp_path / "lr.png")
    assert out.count("\n") >= 6 and (tmp_path / "lr.png").read_bytes()[:4] == b"\x89PNG"
    # the conclusion printed follows from the costs: the too-large default rate oscillates
    assert "  1.2: the lowest final cost\n" in out and "  50: too large, oscillates: the cost went up" in out, out


def test_learning_rates_verdicts():
    spec = importlib.util.spec_from_file_location("learning_rates", EXAMPLES / "learning_rates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    Run = module.Run
    lines = module.verdicts([Run(0.1, [0.7, 0.5, 0.4]), Run(1.0, [0.7, 0.2, 0.1]), Run(5.0, [0.7, 0.3, 0.6, 0.9]),
                             Run(1e9, [0.7, 5e6], diverged_at=2), Run(0.5, [0.7, 0.3, 0.3])])
    assert lines == [
        "0.1: too small, learned more slowly (final cost 0.4000)",
        "1: the lowest final cost",
        "5: too large, oscillates: the cost went up at 2 of 3 updates, ending at 0.9000, above its lowest 0.3000",
        "1e+09: too large, diverged (the cost became NaN or infinite at iteration 2)",
        "0.5: too small, learned more slowly (final cost 0.3000)",
    ]


def test_dask_out_of_core():
    pytest.importorskip("dask.array")
    out = run("dask_out_of_core.py", "--gib", "0.05", "--chunk-rows", "20000", "--iterations", "2")
    assert "Cost after iteration 1:" in out and "accuracy on the first 100000 rows" in out


def test_deep_image_classifier(tmp_path):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(1)
    for name, n in (("train", 120), ("test", 40)):
        y = np.arange(n) % 2
        base = np.where(y[:, None, None, None] == 1, 170, 80)
        X = np.clip(base + rng.integers(-60, 60, size=(n, 6, 6, 3)), 0, 255).astype(np.uint8)
        with h5py.File(tmp_path / f"{name}.h5", "w") as f:
            f[f"{name}_set_x"], f[f"{name}_set_y"] = X, y
    out = run("deep_image_classifier.py", tmp_path / "train.h5", tmp_path / "test.h5", "--iterations", "2500",
              "--hidden-units", "8,4")
    assert "layers [108, 8, 4, 1]" in out and "Cost after iteration 0:" in out
    rows = [line for line in out.splitlines() if " train " in line and " test " in line]
    assert [row.split()[0] for row in rows] == ["L-layer", "two-layer", "logistic"]
    assert float(rows[0].split(" test ")[1].split()[0]) >= 0.9  # bright vs dark images: an easy problem

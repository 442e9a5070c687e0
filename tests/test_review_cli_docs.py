"""Final review: the command line's help says what it does with image data (uint8 pixels scaled, others not), and
the README's table of ``train --test-fraction`` results is measured."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from neuralcore.cli import _parser
from neuralcore.loaders import stratified_split

from .cli_helpers import cli


def _help(command):
    return " ".join(next(a for a in _parser()._actions if a.dest == "command").choices[command].format_help().split())


def test_float_images_are_standardized_by_default_as_the_help_says(capsys, tmp_path):
    # float pixels (0-255): no scale is guessed, so they are standardized like any features of a file (unscaled,
    # gradient descent at the default rate trained them to 50%); uint8 pixels keep the course's 1/255
    images = np.random.default_rng(0).uniform(0, 255, size=(20, 2, 2, 3))
    np.savez(tmp_path / "images.npz", X=images, y=np.arange(20) % 2)
    status, out, _ = cli(capsys, "train", tmp_path / "images.npz", "--iterations", "2", "--quiet", "--backend", "numpy")
    assert status == 0 and "standardized 12 features" in out
    np.savez(tmp_path / "pixels.npz", X=images.astype(np.uint8), y=np.arange(20) % 2)
    status, out, _ = cli(capsys, "train", tmp_path / "pixels.npz", "--iterations", "2", "--quiet", "--backend", "numpy")
    assert status == 0 and "features used as they are: image pixels, flattened, scaled by 1/255" in out
    assert "images of float pixels included" in _help("train") and "images of uint8 pixels" in _help("train")


@pytest.mark.parametrize("command", ["train", "predict", "evaluate"])
def test_images_in_npz_files_are_described(command):
    assert "in .npz and .h5, images (n, height, width, channels) are flattened" in _help(command)


def _readme_row(label):
    """The cells after the label of the README's test-fraction table row that starts with ``label``."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    (row,) = [line for line in readme.splitlines() if line.startswith(f"| {label}")]
    return [cell.strip() for cell in row.strip("|").split("|")[1:]]


def test_the_readme_test_fraction_table_is_what_the_command_and_scikit_learn_give(capsys, tmp_path):
    """README "Data files: standardization and a test split": every cell of its table, measured."""
    datasets = pytest.importorskip("sklearn.datasets")
    linear_model = pytest.importorskip("sklearn.linear_model")
    measured = {"standardized": [], "raw": [], "sklearn": []}
    for loader in (datasets.load_breast_cancer, datasets.load_wine):
        X, y = loader(return_X_y=True)
        path = tmp_path / "data.csv"
        path.write_text("\n".join([",".join([*(f"f{i}" for i in range(X.shape[1])), "target"])]
                                  + [",".join([*map(repr, row.tolist()), str(label)]) for row, label in zip(X, y)]))
        for key, flag in (("standardized", "--standardize"), ("raw", "--no-standardize")):
            status, out, err = cli(capsys, "train", path, "--target", "target", "--test-fraction", "0.25", flag,
                                   "--json", "--backend", "numpy")
            assert status == 0, err
            measured[key].append(f"{json.loads(out)['test_accuracy']:.2%}")
        train, test = stratified_split(y, 0.25, seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lbfgs on the raw features stops at max_iter, as the row says
            measured["sklearn"].append(f"{linear_model.LogisticRegression().fit(X[train], y[train]).score(X[test], y[test]):.2%}")
    assert _readme_row("`neuralcore train` (standardized") == measured["standardized"]
    assert _readme_row("`neuralcore train --no-standardize`") == measured["raw"]
    assert _readme_row("scikit-learn `LogisticRegression()`, same rows, raw features") == measured["sklearn"]

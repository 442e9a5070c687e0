"""Final review: the command line's help says what it does with image data (uint8 pixels scaled, others not)."""

import numpy as np
import pytest

from neuralcore.cli import _parser

from .cli_helpers import cli


def _help(command):
    return " ".join(next(a for a in _parser()._actions if a.dest == "command").choices[command].format_help().split())


def test_float_images_are_neither_scaled_nor_standardized_as_the_help_says(capsys, tmp_path):
    images = np.random.default_rng(0).uniform(0, 255, size=(20, 2, 2, 3))  # float pixels: no scale is guessed
    np.savez(tmp_path / "images.npz", X=images, y=np.arange(20) % 2)
    status, out, _ = cli(capsys, "train", tmp_path / "images.npz", "--iterations", "2", "--quiet", "--backend", "numpy")
    assert status == 0 and "features used as they are: image pixels, flattened (--standardize" in out
    assert "other pixels used as they are" in _help("train")


@pytest.mark.parametrize("command", ["train", "predict", "evaluate"])
def test_images_in_npz_files_are_described(command):
    assert "in .npz and .h5, images (n, height, width, channels) are flattened" in _help(command)

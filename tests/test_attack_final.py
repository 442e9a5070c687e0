"""Attacks on the last hour's changes: a warm fit's divergence message counts as its printed lines do, and the
command line names --dtype (not Python's dtype=) for pixels of a dtype neuralcore does not train in."""

import re
import warnings

import numpy as np
import pytest

from neuralcore import NeuralNet, TwoLayerNet
from neuralcore.exceptions import DivergenceError

from .cli_helpers import fails

X = np.random.default_rng(0).normal(size=(40, 3))
y = (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("cls, batch_size", [(NeuralNet, None), (TwoLayerNet, 8), (NeuralNet, 8)])
def test_a_warm_fits_divergence_names_the_iteration_its_lines_and_loss_curve_use(backend_case, cls, batch_size):
    Xb = backend_case.asarray(X)
    model = cls(max_iter=5, warm_start=True, random_state=0, batch_size=batch_size, dtype=backend_case.dtype,
                backend=backend_case.spec)
    model.fit(Xb, y)
    history = len(model.loss_curve_)
    model.set_params(learning_rate=1e300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(DivergenceError) as caught:
            model.fit(Xb, y)
    # the epoch that diverged comes after the history's: its number is the one verbose=2 would print for it
    (number,) = [int(n) for n in re.findall(r"(?:iteration|epoch) (\d+)", caught.value.summary)]
    assert number == history + caught.value.iteration, caught.value.summary
    assert caught.value.summary in str(caught.value)


def test_float16_images_fail_in_the_flags_words(capsys, tmp_path):
    images = np.random.default_rng(0).uniform(0, 255, size=(20, 2, 2, 3)).astype(np.float16)
    np.savez(tmp_path / "half.npz", X=images, y=np.arange(20) % 2)
    line = fails(capsys, "train", tmp_path / "half.npz", "--iterations", "2", "--quiet", "--backend", "numpy",
                 match=["float16", "--dtype float32"])
    assert "dtype=" not in line


def test_attack_split_of_no_labels_or_unorderable_labels_is_a_clear_error():
    from neuralcore.loaders import stratified_split

    with pytest.raises(ValueError, match="no labels to split"):
        stratified_split([], 0.25)
    with pytest.raises(TypeError, match="mix types that cannot be ordered"):
        stratified_split(np.array([1, "a", 1, "a"], dtype=object), 0.5)

"""Final review of the library code: each fix pinned by a test."""

import numpy as np
import pytest

from neuralcore import LogisticRegression, optim

X_SMALL = np.asarray([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
y_SMALL = np.asarray([0, 0, 1, 1])
HUGE = 10**400  # a Python int beyond float64: math.isfinite and np.isfinite raise on it instead of answering


@pytest.mark.parametrize(
    "hyper, message",
    [
        ({"alpha": HUGE}, "alpha must be finite"),
        ({"learning_rate": HUGE}, "learning_rate must be finite"),
        ({"tol": HUGE}, "tol must be finite"),
        ({"optimizer": "adam", "optimizer_params": {"beta1": HUGE}}, "beta1 must be a positive finite number"),
        ({"learning_rate": lambda step: HUGE}, "schedule returned inf at step 0"),
    ],
    ids=["alpha", "learning_rate", "tol", "adam-beta1", "schedule"],
)
def test_an_int_beyond_float64_is_refused_as_not_finite(hyper, message):
    # it used to escape as NumPy's "ufunc 'isfinite' not supported" TypeError or a bare OverflowError
    model = LogisticRegression(max_iter=2, backend="numpy", **hyper)
    with pytest.raises(ValueError, match=message):
        model.fit(X_SMALL, y_SMALL)
    assert not hasattr(model, "params_")


def test_an_optimizer_built_directly_refuses_an_int_beyond_float64():
    with pytest.raises(ValueError, match="eps must be a positive finite number"):
        optim.adam(eps=HUGE)

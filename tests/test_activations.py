import numpy as np
import pytest

from neuralcore import activations
from neuralcore.activations import ACTIVATION_GRADS, ACTIVATIONS

Z = np.asarray([[-800.0, -30.0, -2.5, -1e-3, 0.0], [1e-3, 0.7, 3.0, 40.0, 900.0]])

REFERENCE = {
    "sigmoid": lambda z: np.exp(-np.logaddexp(0.0, -z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, activations.LEAKY_RELU_SLOPE * z),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
class TestActivation:
    def test_matches_reference(self, name, backend_case):
        out = ACTIVATIONS[name](backend_case.asarray(Z))
        np.testing.assert_allclose(backend_case.to_numpy(out), REFERENCE[name](Z), rtol=backend_case.rtol, atol=1e-300)

    def test_device(self, name, backend_case):
        backend_case.assert_on_case(ACTIVATIONS[name](backend_case.asarray(Z)))

    def test_xp(self, name, backend_case):
        z = backend_case.asarray(Z)
        np.testing.assert_array_equal(
            backend_case.to_numpy(ACTIVATIONS[name](z, xp=backend_case.xp)), backend_case.to_numpy(ACTIVATIONS[name](z))
        )

    def test_grad_from_output_matches_finite_differences(self, name, backend_case):
        z = np.linspace(-3, 3, 13).reshape(1, -1) + 0.05  # away from relu's kink at 0
        h = 1e-6
        numerical = (REFERENCE[name](z + h) - REFERENCE[name](z - h)) / (2 * h)
        a = ACTIVATIONS[name](backend_case.asarray(z))
        grad = ACTIVATION_GRADS[name](a)
        backend_case.assert_on_case(grad)
        tol = 1e-7 if backend_case.dtype == "float64" else 2e-3
        np.testing.assert_allclose(backend_case.to_numpy(grad), numerical, rtol=tol, atol=tol)

    def test_input_not_mutated(self, name, backend_case):
        z = backend_case.asarray(Z)
        before = backend_case.to_numpy(z).copy()
        ACTIVATION_GRADS[name](ACTIVATIONS[name](z))
        np.testing.assert_array_equal(backend_case.to_numpy(z), before)


class TestSigmoid:
    def test_no_overflow_and_exact_limits(self, backend_case):
        # pytest turns RuntimeWarning (overflow) into errors: this also checks no warning is raised.
        out = backend_case.to_numpy(activations.sigmoid(backend_case.asarray([-1e4, -1e3, 0.0, 1e3, 1e4])))
        assert np.all(np.isfinite(out))
        np.testing.assert_array_equal(out[[0, 1]], [0.0, 0.0])
        np.testing.assert_array_equal(out[2:], [0.5, 1.0, 1.0])

    def test_tiny_tail_keeps_relative_precision(self):
        out = activations.sigmoid(np.asarray([-700.0]))
        np.testing.assert_allclose(out, np.exp(-700.0), rtol=1e-12)

import numpy as np
import pytest

from neuralcore import losses
from neuralcore.losses import LOSSES


def reference_bce(z, y):
    # -[y log a + (1-y) log(1-a)] with log a = -log(1 + e^-z), log(1-a) = -log(1 + e^z)
    return y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)


Z = np.asarray([[-50.0], [-3.0], [-0.1], [0.0], [0.4], [2.0], [60.0]])
Y = np.asarray([[0.0], [1.0], [0.0], [1.0], [1.0], [0.0], [1.0]])


class TestBinaryCrossEntropy:
    def test_matches_reference(self, backend_case):
        out = losses.binary_cross_entropy(backend_case.asarray(Z), backend_case.asarray(Y))
        np.testing.assert_allclose(float(backend_case.to_numpy(out)), reference_bce(Z, Y).mean(), rtol=backend_case.rtol)

    def test_device(self, backend_case):
        backend_case.assert_on_case(losses.binary_cross_entropy_per_sample(backend_case.asarray(Z), backend_case.asarray(Y)))
        out = losses.binary_cross_entropy(backend_case.asarray(Z), backend_case.asarray(Y))
        assert out.shape == ()
        backend_case.assert_on_case(out)

    def test_xp(self, backend_case):
        z, y = backend_case.asarray(Z), backend_case.asarray(Y)
        assert float(backend_case.to_numpy(losses.binary_cross_entropy(z, y, xp=backend_case.xp))) == float(
            backend_case.to_numpy(losses.binary_cross_entropy(z, y))
        )

    def test_extreme_logits_are_finite_and_exact(self, backend_case):
        z = backend_case.asarray([[-1e4], [1e4], [-1e3], [1e3]])
        y = backend_case.asarray([[1.0], [0.0], [0.0], [1.0]])
        out = backend_case.to_numpy(losses.binary_cross_entropy_per_sample(z, y))
        np.testing.assert_allclose(out.ravel(), [1e4, 1e4, 0.0, 0.0], rtol=1e-6, atol=0)

    def test_non_negative(self, backend_case):
        out = backend_case.to_numpy(losses.binary_cross_entropy_per_sample(backend_case.asarray(Z), backend_case.asarray(Y)))
        assert np.all(out >= 0)

    def test_gradient_is_a_minus_y(self):
        h = 1e-6
        numerical = (reference_bce(Z + h, Y) - reference_bce(Z - h, Y)) / (2 * h)
        np.testing.assert_allclose(numerical, 1 / (1 + np.exp(-Z)) - Y, atol=1e-8)

    def test_table(self):
        assert LOSSES["binary_cross_entropy"] is losses.binary_cross_entropy

    @pytest.mark.parametrize("z", [-1e308, 1e308])
    def test_no_overflow_warning_at_float64_limits(self, z):
        out = losses.binary_cross_entropy_per_sample(np.asarray([z]), np.asarray([0.5]))
        assert np.isfinite(out).all()

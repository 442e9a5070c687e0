import numpy as np
import pytest

from neuralcore import TwoLayerNet, logistic, two_layer
from neuralcore.init import INITIALIZERS, check_random_state, init_weights


class TestInitWeights:
    @pytest.mark.parametrize("name", sorted(INITIALIZERS))
    def test_shape_and_dtype(self, name):
        w = init_weights(name, 5, 3, check_random_state(0))
        assert w.shape == (5, 3) and w.dtype == np.float64

    def test_same_seed_same_weights(self):
        a = init_weights("normal", 4, 4, check_random_state(7))
        b = init_weights("normal", 4, 4, check_random_state(7))
        np.testing.assert_array_equal(a, b)

    @pytest.mark.parametrize(
        ("name", "std"),
        [("normal", 0.01), ("xavier", np.sqrt(2 / (400 + 300))), ("glorot", np.sqrt(2 / 700)), ("he", np.sqrt(2 / 400))],
    )
    def test_scale(self, name, std):
        w = init_weights(name, 400, 300, check_random_state(0), scale=0.01)
        assert abs(w.std() / std - 1) < 0.02
        assert abs(w.mean()) < 0.05 * std

    def test_zeros(self):
        assert not init_weights("zeros", 3, 2, check_random_state(0)).any()

    def test_unknown(self):
        with pytest.raises(ValueError, match="unknown init 'uniform'; valid names: zeros, normal"):
            init_weights("uniform", 2, 2, check_random_state(0))


class TestCheckRandomState:
    def test_int_generator_none(self):
        assert check_random_state(3).integers(1000) == np.random.default_rng(3).integers(1000)
        g = np.random.default_rng(1)
        assert isinstance(check_random_state(g), np.random.Generator)
        assert isinstance(check_random_state(None), np.random.Generator)

    @pytest.mark.parametrize("bad", ["3", 1.5, True])
    def test_bad_type(self, bad):
        with pytest.raises(TypeError, match="random_state must be"):
            check_random_state(bad)

    def test_negative(self):
        with pytest.raises(ValueError, match="non-negative"):
            check_random_state(-1)


class TestModelInitParams:
    def test_logistic_shapes(self):
        params = logistic.init_params(6, rng=check_random_state(0))
        assert {k: v.shape for k, v in params.items()} == logistic.param_shapes(6)
        assert not params["W"].any()

    def test_two_layer_shapes_and_zero_biases(self):
        params = two_layer.init_params(6, 5, rng=check_random_state(0))
        assert {k: v.shape for k, v in params.items()} == two_layer.param_shapes(6, 5)
        assert not params["b1"].any() and not params["b2"].any()
        assert params["W1"].std() > 0


def test_same_seed_same_initial_weights_on_every_backend(backend_case):
    """One seed, one start: the weights drawn for a backend equal NumPy's float64 draw cast to its dtype."""
    X = np.random.default_rng(0).normal(size=(8, 3))
    y = np.arange(8) % 2
    net = TwoLayerNet(hidden_units=5, max_iter=1, learning_rate=1e-12, random_state=42, backend=backend_case.spec, dtype=backend_case.dtype)
    net.fit(X, y)
    expected = two_layer.init_params(3, 5, rng=check_random_state(42))
    # after one update with a learning rate of 1e-12 the weights are the initial ones to within 1e-12
    for key in ("W1", "W2"):
        got = backend_case.to_numpy(net.params_[key])
        np.testing.assert_allclose(got, expected[key].astype(backend_case.dtype), rtol=1e-6, atol=1e-11)

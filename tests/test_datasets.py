import numpy as np
import pytest

from neuralcore.datasets import make_planar


class TestMakePlanar:
    def test_shapes_and_labels(self):
        X, y = make_planar()
        assert X.shape == (400, 2) and X.dtype == np.float64
        assert y.shape == (400,) and y.dtype == np.int64
        assert np.bincount(y).tolist() == [200, 200]

    def test_odd_size(self):
        X, y = make_planar(n_samples=7)
        assert X.shape == (7, 2) and np.bincount(y).tolist() == [3, 4]

    def test_seeded(self):
        a, _ = make_planar(random_state=3)
        b, _ = make_planar(random_state=3)
        c, _ = make_planar(random_state=4)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)

    def test_points_lie_on_the_petals(self):
        X, _ = make_planar(noise=0.0)
        r = np.hypot(X[:, 0], X[:, 1])
        assert r.max() <= 4.0 + 1e-12
        t = np.arctan2(X[:, 0], X[:, 1])  # x = r sin t, y = r cos t
        np.testing.assert_allclose(r, np.abs(4 * np.sin(4 * t)), atol=1e-9)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [({"n_samples": 1}, "n_samples must be an integer >= 2"), ({"noise": -1.0}, "noise"), ({"radius": 0}, "radius")],
    )
    def test_bad_arguments(self, kwargs, message):
        with pytest.raises(ValueError, match=message):
            make_planar(**kwargs)

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


from neuralcore.datasets import BUILTIN, load_builtin, make_blobs, make_circles, make_moons, make_xor


class TestOtherBuiltins:
    @pytest.mark.parametrize("name", sorted(BUILTIN))
    def test_shapes_labels_and_seeding(self, name):
        X, y = BUILTIN[name](n_samples=101)
        assert X.shape[0] == 101 and X.dtype == np.float64 and y.dtype == np.int64
        assert len(np.unique(y)) >= 2
        X2, _ = BUILTIN[name](n_samples=101)
        np.testing.assert_array_equal(X, X2)
        X3, _ = BUILTIN[name](n_samples=101, random_state=9)
        assert not np.array_equal(X, X3)

    def test_moons_geometry(self):
        X, y = make_moons(noise=0.0)
        np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
        np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)

    def test_circles_geometry(self):
        X, y = make_circles(noise=0.0, factor=0.3)
        np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3)

    def test_blobs_classes_and_features(self):
        X, y = make_blobs(n_samples=30, centers=3, n_features=5)
        assert X.shape == (30, 5) and np.bincount(y).tolist() == [10, 10, 10]

    def test_xor_labels(self):
        X, y = make_xor()
        np.testing.assert_array_equal(y, (X[:, 0] > 0) != (X[:, 1] > 0))

    def test_load_builtin_parses_parameters(self):
        X, y = load_builtin("blobs:n_samples=12,centers=4,cluster_std=0.5")
        assert X.shape == (12, 2) and len(np.unique(y)) == 4

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ("iris", "unknown built-in dataset 'iris'; built-ins: planar, moons, circles, blobs, xor"),
            ("planar:400", "key=value pairs"),
            ("moons:radius=2", "dataset 'moons' has no parameter 'radius'; it takes n_samples, noise, random_state"),
            ("circles:factor=2", "factor must be between 0 and 1"),
            ("blobs:centers=1", "centers must be an integer between 2 and n_samples"),
        ],
    )
    def test_bad_specs(self, spec, message):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_builtin(spec)

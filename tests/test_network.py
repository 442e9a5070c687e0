"""Deep networks: one layered model code (neuralcore.network) behind NeuralNet, LogisticRegression and
TwoLayerNet, checked against a plain NumPy transcription of the course's L-layer loop and the course's table."""

import pathlib
import warnings

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import network
from neuralcore.activations import ACTIVATIONS

from . import reference

RNG = np.random.default_rng(7)
X = RNG.normal(size=(80, 6))
y = (X[:, 0] - X[:, 1] ** 2 + 0.3 * RNG.normal(size=80) > 0).astype(int)
Y = y.reshape(-1, 1).astype(float)
y3 = np.argmax(X[:, :3], axis=1)

CATS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "datasets" / "catvnoncat"


def course_params(layer_dims):
    """The course's initial parameters, in our layout (W transposed, b flat)."""
    course = reference.initialize_parameters_deep(layer_dims)
    return {k: (v.T if k[0] == "W" else v[:, 0]) for k, v in course.items()}


class TestAgainstTheCourseLoop:
    def test_four_layers_match_the_numpy_transcription(self, backend_case):
        layer_dims = [6, 5, 4, 3, 1]
        start = course_params(layer_dims)
        expected, costs = reference.l_layer_model(X.T, Y.T, reference.initialize_parameters_deep(layer_dims), 0.3, 60)
        net = nc.NeuralNet(layer_dims[1:-1], learning_rate=0.3, max_iter=60, backend=backend_case.spec,
                           dtype=backend_case.dtype)
        net.fit(backend_case.asarray(X), y, init_params=start)
        rtol = 1e-10 if backend_case.dtype == "float64" else 2e-4
        np.testing.assert_allclose(net.loss_curve_, costs, rtol=rtol)
        for key, value in net.params_.items():
            backend_case.assert_on_case(value)
            want = expected[key].T if key[0] == "W" else expected[key][:, 0]
            np.testing.assert_allclose(backend_case.to_numpy(value), want, rtol=rtol, atol=rtol * 1e-2)

    def test_the_lecun_initializer_draws_the_course_weights(self):
        layer_dims = [6, 5, 4, 1]
        drawn = network.init_params(6, (5, 4), rng=np.random.RandomState(1), init="lecun")
        for key, value in course_params(layer_dims).items():
            np.testing.assert_array_equal(drawn[key], value)

    @pytest.mark.slow
    @pytest.mark.skipif(not CATS.is_dir(), reason="the course's cat images are not beside this checkout")
    def test_the_course_table_on_the_cat_images(self):
        """layers [12288, 20, 7, 5, 1], relu, lr 0.0075, 2500 iterations: the course's printed costs and accuracies."""
        h5py = pytest.importorskip("h5py")
        with h5py.File(CATS / "train_catvnoncat.h5") as f:
            X_train, y_train = np.asarray(f["train_set_x"]), np.asarray(f["train_set_y"])
        with h5py.File(CATS / "test_catvnoncat.h5") as f:
            X_test, y_test = np.asarray(f["test_set_x"]), np.asarray(f["test_set_y"])
        X_train, X_test = X_train.reshape(209, -1) / 255.0, X_test.reshape(50, -1) / 255.0
        net = nc.NeuralNet((20, 7, 5), init="lecun", random_state=np.random.RandomState(1), backend="numpy")
        net.fit(X_train, y_train)
        printed = {0: 0.771749, 100: 0.672053, 200: 0.648263, 2400: 0.092878}
        assert {i: round(net.loss_curve_[i], 6) for i in printed} == printed
        assert round(net.score(X_train, y_train), 4) == 0.9856
        assert net.score(X_test, y_test) == 0.80
        # and the first iterations equal the plain NumPy loop to 1e-10
        _, costs = reference.l_layer_model(X_train.T, y_train.reshape(1, -1),
                                           reference.initialize_parameters_deep([12288, 20, 7, 5, 1]), 0.0075, 20)
        np.testing.assert_allclose(net.loss_curve_[:20], costs, rtol=1e-10)


class TestSameCodeAsTheShallowModels:
    def test_no_hidden_layer_is_logistic_regression(self, backend_case):
        kwargs = dict(learning_rate=0.2, max_iter=40, backend=backend_case.spec, dtype=backend_case.dtype)
        ours = nc.NeuralNet((), init="zeros", **kwargs).fit(backend_case.asarray(X), y3)
        logistic = nc.LogisticRegression(**kwargs).fit(backend_case.asarray(X), y3)
        np.testing.assert_allclose(ours.loss_curve_, logistic.loss_curve_, rtol=1e-12)
        for a, b in (("W1", "W"), ("b1", "b")):
            np.testing.assert_allclose(backend_case.to_numpy(ours.params_[a]), backend_case.to_numpy(logistic.params_[b]),
                                       rtol=1e-12, atol=1e-14)

    @pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
    def test_one_hidden_layer_is_the_two_layer_network(self, backend_case, activation):
        kwargs = dict(activation=activation, init="xavier", learning_rate=0.5, max_iter=40, random_state=3,
                      backend=backend_case.spec, dtype=backend_case.dtype)
        ours = nc.NeuralNet((5,), **kwargs).fit(backend_case.asarray(X), y)
        theirs = nc.TwoLayerNet(5, **kwargs).fit(backend_case.asarray(X), y)
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12)
        for key in theirs.params_:
            np.testing.assert_allclose(backend_case.to_numpy(ours.params_[key]), backend_case.to_numpy(theirs.params_[key]),
                                       rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("hidden_units", [(), (4,), (5, 3), (4, 3, 3)], ids=lambda h: f"depth{len(h)}")
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("labels", ["binary", "three"])
def test_gradcheck_every_depth_and_activation(hidden_units, activation, labels):
    target = y if labels == "binary" else y3
    net = nc.NeuralNet(hidden_units, activation=activation, alpha=0.01, random_state=0, backend="numpy")
    result = nc.gradcheck_estimator(net, X[:30], target[:30])
    assert result.passed, result


def test_gradcheck_on_every_backend(backend_case):
    net = nc.NeuralNet((4, 3), activation="tanh", alpha=0.05, random_state=0, backend=backend_case.spec,
                       dtype=backend_case.dtype)
    result = nc.gradcheck_estimator(net, X[:30], y3[:30], dtype=None if backend_case.dtype == "float32" else "float64")
    assert result.relative_error < (1e-7 if backend_case.dtype == "float64" else 5e-2)


@pytest.mark.chunked
def test_trains_and_predicts_on_every_backend(backend_case):
    net = nc.NeuralNet((16, 8), learning_rate=0.05, optimizer="adam", batch_size=20, max_iter=60, random_state=0,
                       backend=backend_case.spec, dtype=backend_case.dtype)
    net.fit(backend_case.asarray(X), y)
    assert sorted(net.params_) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert net.params_["W2"].shape == (16, 8) and net.params_["b3"].shape == (1,)
    assert net.score(X, y) > 0.9
    proba = backend_case.to_numpy(net.predict_proba(backend_case.asarray(X)))
    assert proba.shape == (80, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


class TestHyperparameters:
    @pytest.mark.parametrize(("hidden_units", "error", "message"), [
        ((4, 0), ValueError, r"hidden_units\[1\] must be"),
        ((4, -2), ValueError, r"hidden_units\[1\] must be"),
        ("20,7", TypeError, "hidden_units must be an int or a sequence of ints"),
        ((4.5,), TypeError, r"hidden_units\[0\]"),
        (None, TypeError, "hidden_units must be"),
    ])
    def test_bad_hidden_units(self, hidden_units, error, message):
        with pytest.raises(error, match=message):
            nc.NeuralNet(hidden_units, backend="numpy").fit(X, y)

    def test_an_int_is_one_layer_and_a_list_works(self):
        a = nc.NeuralNet(3, max_iter=5, random_state=0, backend="numpy").fit(X, y)
        b = nc.NeuralNet([3], max_iter=5, random_state=0, backend="numpy").fit(X, y)
        assert sorted(a.params_) == sorted(b.params_) == ["W1", "W2", "b1", "b2"]
        np.testing.assert_array_equal(a.params_["W1"], b.params_["W1"])

    def test_he_is_the_default_and_scales_by_fan_in(self):
        net = nc.NeuralNet((200, 100), max_iter=1, random_state=0, backend="numpy")
        params = net._init_params(400, 1, np.random.default_rng(0))
        assert net.init == "he"
        assert params["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)
        assert params["W2"].std() == pytest.approx(np.sqrt(2 / 200), rel=0.05)


def test_save_and_load_a_deep_model(tmp_path):
    net = nc.NeuralNet((5, 4, 3), max_iter=30, learning_rate=0.1, random_state=0, backend="numpy").fit(X, y3)
    path = net.save(tmp_path / "deep.npz")
    loaded = nc.load(path)
    assert isinstance(loaded, nc.NeuralNet) and loaded.hidden_units == (5, 4, 3)
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_deep_relu_network_trains_where_depth_matters():
    """Not a toy check of shapes: a 3-hidden-layer relu network fits circles that logistic regression cannot."""
    from neuralcore.datasets import make_circles

    Xc, yc = make_circles(n_samples=400, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deep = nc.NeuralNet((16, 16, 8), optimizer="adam", learning_rate=0.01, max_iter=300, batch_size=64,
                            random_state=0, backend="numpy").fit(Xc, yc)
    flat = nc.LogisticRegression(solver="lbfgs", alpha=1e-3, backend="numpy").fit(Xc, yc)
    assert deep.score(Xc, yc) > 0.95 > 0.7 > flat.score(Xc, yc)

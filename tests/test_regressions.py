"""Regression tests for defects found in review: each failed before its fix."""

import numpy as np
import pytest

from neuralcore import DivergenceError, LogisticRegression, TwoLayerNet, optim
from neuralcore import device as nc_device
from neuralcore.datasets import make_blobs, make_planar
from neuralcore.validation import stratified_split

RNG = np.random.default_rng(7)
X = RNG.normal(size=(80, 3))
y = (X[:, 0] - X[:, 2] > 0).astype(int)


def test_numpy_scalar_schedule_keeps_the_working_dtype(backend_case):
    schedule = lambda step: np.float64(0.5) * np.exp(-1e-3 * step)  # noqa: E731
    model = LogisticRegression(learning_rate=schedule, max_iter=20, backend=backend_case.spec, dtype=backend_case.dtype).fit(X, y)
    for value in model.params_.values():
        backend_case.assert_on_case(value)


def test_bad_schedule_value_is_a_clear_error():
    with pytest.raises(ValueError, match="the learning-rate schedule returned -1.0 at step 0"):
        LogisticRegression(learning_rate=lambda step: -1.0, max_iter=3, backend="numpy").fit(X, y)


def test_values_beyond_float32_are_refused_not_turned_into_inf(backend_case):
    big = X.copy()
    big[0, 0] = 1e39
    data = backend_case.asarray(big, dtype="float64") if backend_case.dtype == "float64" else big
    with pytest.raises(ValueError, match="X has values beyond the range of float32"):
        LogisticRegression(max_iter=2, dtype="float32", backend=None if not nc_device.is_host(data) else backend_case.spec).fit(data, y)
    model = LogisticRegression(max_iter=2, dtype="float32", backend="numpy").fit(X, y)
    with pytest.raises(ValueError, match="beyond the range of float32"):
        model.predict(big)


def test_fitted_parameters_never_alias_init_params():
    start = {"W": np.zeros((3, 1)), "b": np.zeros(1)}
    model = LogisticRegression(max_iter=1, learning_rate=1e-300, validation_fraction=0.25, n_iter_no_change=1,
                               backend="numpy").fit(X, y, init_params=start)
    assert all(model.params_[k] is not start[k] for k in start)
    before = model.decision_function(X)
    start["W"][:] = 100.0
    np.testing.assert_array_equal(model.decision_function(X), before)


def test_mini_batch_divergence_counts_the_epochs_of_the_kept_parameters():
    Xp, yp = make_planar(n_samples=60, random_state=3)
    kwargs = dict(activation="relu", init="he", learning_rate=30.0, batch_size=20, shuffle=False, random_state=0, backend="numpy")
    model = TwoLayerNet(8, max_iter=400, **kwargs)
    with np.errstate(all="ignore"), pytest.raises(DivergenceError) as info:
        model.fit(Xp, yp)
    epochs = info.value.iteration
    assert model.n_iter_ == info.value.n_iter == epochs
    replay = TwoLayerNet(8, max_iter=epochs, **kwargs).fit(Xp, yp)
    for key, value in replay.params_.items():
        np.testing.assert_array_equal(model.params_[key], value)


def test_continuous_integer_targets_are_refused():
    target = np.arange(400) * 3
    with pytest.raises(ValueError, match="y has 400 distinct values for 400 samples: it looks like a continuous target"):
        LogisticRegression(backend="numpy").fit(np.ones((400, 2)), target)


def test_many_classes_with_enough_samples_are_fine():
    Xb, yb = make_blobs(n_samples=600, centers=60, random_state=0)
    model = LogisticRegression(max_iter=2, backend="numpy").fit(Xb, yb)
    assert model.params_["W"].shape == (2, 60)


def test_predict_agrees_with_the_sign_of_decision_function():
    model = LogisticRegression(max_iter=1, backend="numpy", dtype="float32").fit(X, y)
    model.params_ = {"W": np.zeros((3, 1), dtype=np.float32), "b": np.asarray([3e-8], dtype=np.float32)}
    assert model.decision_function(X[:2]).tolist() == pytest.approx([3e-8, 3e-8])
    assert model.predict(X[:2]).tolist() == [1, 1]


def test_eval_set_length_mismatch_names_eval_set():
    with pytest.raises(ValueError, match="eval_set X has 5 samples but eval_set y has 4"):
        LogisticRegression(backend="numpy").fit(X, y, eval_set=(X[:5], y[:4]))


def test_stratified_split_keeps_class_proportions():
    labels = np.asarray([0] * 80 + [1] * 20)
    train, held_out = stratified_split(labels, 0.25, np.random.default_rng(0))
    assert np.bincount(labels[held_out]).tolist() == [20, 5]
    assert np.bincount(labels[train]).tolist() == [60, 15]
    assert sorted(np.concatenate([train, held_out]).tolist()) == list(range(100))
    other, _ = stratified_split(labels, 0.25, np.random.default_rng(1))
    assert not np.array_equal(train, other)  # drawn from the generator, not the first rows


class TestTorch:
    torch = pytest.importorskip("torch")

    def test_requires_grad_input_builds_no_graph(self):
        Xt = self.torch.tensor(X, requires_grad=True)
        model = TwoLayerNet(3, max_iter=20, random_state=0).fit(Xt, self.torch.tensor(y))
        assert not any(value.requires_grad for value in model.params_.values())
        assert Xt.grad is None

    @pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64"])
    def test_unsigned_labels(self, dtype):
        labels = y.astype(dtype)
        model = LogisticRegression(learning_rate=0.5, max_iter=50, backend="torch").fit(X, labels)
        predicted = model.predict(self.torch.tensor(X))
        np.testing.assert_array_equal(nc_device.to_numpy(predicted), model.predict(X))
        assert model.score(self.torch.tensor(X), labels) > 0.8


class TestScikitLearnInterop:
    sklearn = None

    @pytest.fixture(autouse=True)
    def _sklearn(self):
        pytest.importorskip("sklearn")

    def test_model_selection_and_pipelines(self):
        from sklearn.base import clone, is_classifier
        from sklearn.model_selection import GridSearchCV, cross_val_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = LogisticRegression(learning_rate=0.5, max_iter=100, backend="numpy")
        assert is_classifier(model) and clone(model).get_params() == model.get_params()
        assert cross_val_score(model, X, y, cv=3).mean() > 0.85
        search = GridSearchCV(TwoLayerNet(max_iter=200, random_state=0, backend="numpy"),
                              {"hidden_units": [2, 4], "learning_rate": [0.1, 0.5]}, cv=3).fit(X, y)
        assert search.best_score_ > 0.85
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(learning_rate=0.5, max_iter=100, backend="numpy"))
        assert pipeline.fit(X, y).score(X, y) > 0.85

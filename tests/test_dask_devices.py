"""Dask arrays whose chunks live on a device (issue 15, part A): each chunk's cost, gradient, Hessian and
score are computed where the chunk is, in its own namespace, and only the small sums come back.

No GPU here: the chunks are array-api-strict arrays on its second device ``device1``, which *refuses* any
conversion to NumPy (a silent host conversion of a chunk would raise), or PyTorch CPU tensors, which NumPy
code cannot use as they are. Results must equal the fit on NumPy chunks (1e-10 in float64; the same
arithmetic, so in practice exactly)."""

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import network

da = pytest.importorskip("dask.array")
xs = pytest.importorskip("array_api_strict")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(240, 4))
y = (X[:, 0] - X[:, 1] + 0.3 * RNG.normal(size=240) > 0).astype(int)
y3 = np.argmax(X[:, :3] + 0.2 * RNG.normal(size=(240, 3)), axis=1)
X_val = RNG.normal(size=(60, 4))
y_val = (X_val[:, 0] - X_val[:, 1] > 0).astype(int)


def strict_device1(block):
    return xs.asarray(block, device=xs.Device("device1"))


def torch_tensor(block):
    import torch

    return torch.from_numpy(np.ascontiguousarray(block))


CHUNK_KINDS = {"device1": strict_device1, "torch": torch_tensor}


def chunked(host, kind=None, chunks=60):
    """A Dask array of ``host`` in row chunks; with ``kind``, each chunk is that library's array."""
    array = da.from_array(host, chunks=(chunks, host.shape[1]))
    if kind is None:
        return array
    if kind == "torch":
        pytest.importorskip("torch")
    return array.map_blocks(CHUNK_KINDS[kind], dtype=host.dtype, meta=np.empty((0, 0), dtype=host.dtype))


MODELS = {
    "logistic-gd": lambda: nc.LogisticRegression(learning_rate=0.2, max_iter=40),
    "logistic-newton": lambda: nc.LogisticRegression(solver="newton", alpha=0.01),
    "logistic-lbfgs": lambda: nc.LogisticRegression(solver="lbfgs", alpha=0.01),
    "two-layer": lambda: nc.TwoLayerNet(5, learning_rate=0.5, max_iter=40, random_state=0),
    "deep-adam-minibatches": lambda: nc.NeuralNet((6, 4), optimizer="adam", learning_rate=0.02, batch_size=60,
                                                  max_iter=15, random_state=0),
}


def assert_same_fit(on_device, on_host):
    np.testing.assert_allclose(on_device.loss_curve_, on_host.loss_curve_, rtol=1e-10)
    last_W, last_b = network.layer_keys(on_host.params_)[-1]
    for key, value in on_host.params_.items():
        got = on_device.params_[key]
        if key in (last_W, last_b) and value.shape[-1] > 1:
            # a softmax output does not change when every class's logit moves by the same amount: Newton's
            # method fixes that direction by rounding alone, so compare what the predictions depend on
            got, value = got - got.mean(axis=-1, keepdims=True), value - value.mean(axis=-1, keepdims=True)
        np.testing.assert_allclose(got, value, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(CHUNK_KINDS))
@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
@pytest.mark.parametrize("labels", ["binary", "three"])
def test_fit_on_device_chunks_equals_the_fit_on_numpy_chunks(kind, make, labels):
    target = y if labels == "binary" else y3
    on_host = make().fit(chunked(X), target)
    on_device = make().fit(chunked(X, kind), target)
    assert_same_fit(on_device, on_host)


@pytest.mark.parametrize("kind", sorted(CHUNK_KINDS))
def test_validation_set_on_device_chunks(kind):
    def make():
        return nc.TwoLayerNet(4, learning_rate=0.5, max_iter=30, n_iter_no_change=5, random_state=0)

    on_host = make().fit(chunked(X), y, eval_set=(chunked(X_val), y_val))
    on_device = make().fit(chunked(X, kind), y, eval_set=(chunked(X_val, kind, chunks=20), y_val))
    assert on_device.validation_scores_ == on_host.validation_scores_
    assert on_device.best_iteration_ == on_host.best_iteration_
    assert_same_fit(on_device, on_host)


def test_float32_chunks_on_device1_train_in_float32():
    Xd = chunked(X.astype(np.float32), "device1")
    model = nc.TwoLayerNet(4, learning_rate=0.5, max_iter=20, random_state=0).fit(Xd, y)
    reference = nc.TwoLayerNet(4, learning_rate=0.5, max_iter=20, random_state=0).fit(chunked(X.astype(np.float32)), y)
    assert all(value.dtype == np.float32 for value in model.params_.values())
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-6)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function"])
@pytest.mark.parametrize("labels", ["binary", "three"])
def test_predictions_stay_lazy_and_on_the_chunks_device(method, labels):
    target = y if labels == "binary" else y3
    model = nc.NeuralNet((5,), learning_rate=0.3, max_iter=30, random_state=0).fit(chunked(X), target)
    out = getattr(model, method)(chunked(X, "device1"))
    assert isinstance(out, da.Array)  # lazy
    blocks = out.to_delayed().ravel()
    expected = getattr(model, method)(X)
    start = 0
    for block in blocks:
        value = block.compute()
        assert isinstance(value, xs._array_object.Array) and value.device == xs.Device("device1")
        host = np.asarray(value.to_device(xs.__array_namespace_info__().default_device()))
        np.testing.assert_allclose(host, expected[start:start + host.shape[0]], rtol=1e-12)
        start += host.shape[0]
    assert start == X.shape[0]


def test_string_labels_from_device_chunks_come_back_as_numpy_as_for_arrays_in_memory():
    names = np.where(y == 1, "yes", "no")
    model = nc.LogisticRegression(learning_rate=0.2, max_iter=20).fit(chunked(X), names)
    first = model.predict(chunked(X, "device1")).to_delayed().ravel()[0].compute()
    assert isinstance(first, np.ndarray) and first.dtype.kind == "U"
    np.testing.assert_array_equal(first, model.predict(X[:60]))


def test_the_chunks_really_are_refusing_host_conversions():
    """The guard these tests rely on: a device1 chunk cannot become a NumPy array behind our back."""
    block = chunked(X, "device1").to_delayed().ravel()[0].compute()
    with pytest.raises(RuntimeError, match="Can't convert array"):
        np.asarray(block)


def test_bad_values_in_device_chunks_are_found_where_they_are():
    bad = X.copy()
    bad[130, 2] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinite values"):
        nc.LogisticRegression(max_iter=2).fit(chunked(bad, "device1"), y)
    huge = X.copy()
    huge[7, 1] = 1e300
    with pytest.raises(ValueError, match="beyond the range of float32"):
        nc.LogisticRegression(max_iter=2, dtype="float32").fit(chunked(huge, "device1"), y)


def test_cast_to_float32_happens_on_the_chunks_device():
    model = nc.LogisticRegression(learning_rate=0.2, max_iter=10, dtype="float32").fit(chunked(X, "device1"), y)
    reference = nc.LogisticRegression(learning_rate=0.2, max_iter=10, dtype="float32").fit(chunked(X), y)
    assert model.params_["W"].dtype == np.float32
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-6)

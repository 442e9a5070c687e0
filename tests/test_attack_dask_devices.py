"""Attack round on Dask arrays whose chunks live on a device (array-api-strict's ``device1``, which refuses any
conversion to NumPy, or PyTorch tensors): Dask labels on the device, feature-split device chunks, mixed chunk
kinds, and predict_log_proba on device chunks. Each test names the attack it repels."""

import numpy as np
import pytest

import neuralcore as nc

da = pytest.importorskip("dask.array")
xs = pytest.importorskip("array_api_strict")

RNG = np.random.default_rng(1)
X = RNG.normal(size=(120, 4))
y = (X[:, 0] - X[:, 1] > 0).astype(int)
y3 = np.argmax(X[:, :3], axis=1)
DEVICE1 = xs.Device("device1")


def on_device1(block):
    return xs.asarray(block, device=DEVICE1)


def chunked(host, chunks, kind="device1"):
    array = da.from_array(host, chunks=chunks)
    if kind is None:
        return array
    meta = np.empty((0,) * host.ndim, dtype=host.dtype)
    return array.map_blocks(on_device1, dtype=host.dtype, meta=meta)


def host_blocks(out):
    """The blocks of a lazy output, each brought back on its own (the device1 blocks refuse np.asarray)."""
    parts = []
    for block in out.to_delayed().ravel():
        value = block.compute()
        assert not isinstance(value, np.ndarray), type(value)  # numeric outputs stay on the chunks' device
        assert value.device == DEVICE1
        value = np.asarray(value.to_device(xs.__array_namespace_info__().default_device()))
        parts.append(value)
    return np.concatenate(parts)


def test_attack_dask_labels_on_device1_fit_as_host_labels():
    y_dev = chunked(y, 30)
    model = nc.LogisticRegression(solver="lbfgs", alpha=0.01).fit(chunked(X, (30, 4)), y_dev)
    reference = nc.LogisticRegression(solver="lbfgs", alpha=0.01).fit(chunked(X, (30, 4)), y)
    np.testing.assert_array_equal(model.params_["W"], reference.params_["W"])


def test_attack_dask_labels_on_device1_in_eval_set():
    def make():
        return nc.TwoLayerNet(3, learning_rate=0.5, max_iter=8, random_state=0)

    got = make().fit(chunked(X, (30, 4)), y, eval_set=(chunked(X[:60], (20, 4)), chunked(y[:60], 20)))
    expected = make().fit(chunked(X, (30, 4)), y, eval_set=(X[:60], y[:60]))
    assert got.validation_scores_ == expected.validation_scores_


def test_attack_score_on_device1_chunks_and_device1_labels():
    model = nc.LogisticRegression(learning_rate=0.3, max_iter=20).fit(X, y3)
    expected = model.score(X, y3)
    assert model.score(chunked(X, (30, 4)), y3) == expected
    assert model.score(chunked(X, (30, 4)), chunked(y3, 30)) == expected


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba", "decision_function"])
def test_attack_device1_chunks_split_along_features(method):
    """README: 'all features in one chunk' is asked for, but a careless X split along features too is joined
    chunk by chunk on its device (a Dask rechunk would concatenate the device arrays with NumPy)."""
    model = nc.NeuralNet((4,), learning_rate=0.3, max_iter=10, random_state=0).fit(X, y3)
    out = getattr(model, method)(chunked(X, (30, 2)))
    assert isinstance(out, da.Array)
    got = host_blocks(out)
    expected = getattr(model, method)(X)
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    else:
        np.testing.assert_array_equal(got, expected)


def test_attack_fit_on_device1_chunks_split_along_features():
    split = nc.LogisticRegression(solver="newton", alpha=0.01).fit(chunked(X, (40, 2)), y)
    whole = nc.LogisticRegression(solver="newton", alpha=0.01).fit(chunked(X, (40, 4)), y)
    np.testing.assert_allclose(split.params_["W"], whole.params_["W"], rtol=1e-10)


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "gd-minibatches"])
def test_attack_chunks_whose_dtype_differs_from_the_declared_one_train_in_the_declared_dtype(solver):
    """map_blocks(..., dtype=float64) whose function returns float32 chunks (a careless user's meta): the fit
    is in float64, as declared and as params_ says, not silently in the chunks' float32."""
    values = X.astype(np.float32).astype(np.float64)  # what the float32 chunks hold, exactly, in float64

    def float32_on_device1(block):
        return xs.asarray(block.astype(np.float32), device=DEVICE1)

    lying = da.from_array(values, chunks=(30, 4)).map_blocks(float32_on_device1, dtype=np.float64,
                                                              meta=np.empty((0, 0)))
    if solver == "gd-minibatches":
        def make():
            return nc.NeuralNet((3,), optimizer="adam", learning_rate=0.05, batch_size=30, max_iter=5, random_state=0)
    else:
        def make():
            return nc.LogisticRegression(solver=solver, alpha=0.01)
    model = make().fit(lying, y)
    reference = make().fit(chunked(values, (30, 4)), y)
    assert all(value.dtype == np.float64 for value in model.params_.values())
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-10)
    for key, value in reference.params_.items():
        np.testing.assert_allclose(model.params_[key], value, rtol=1e-10, atol=1e-12)

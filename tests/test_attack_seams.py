"""Attack round 2 on the seams between features: standardize=True x sample/class weights x warm_start x
partial_fit x eval_set x Dask (uneven and empty chunks, chunks on array-api-strict's ``device1``) x every
backend x float32 x to() x save/load x pickle. Each combination is checked against the plain path it must
equal (weights on data standardized by hand, the in-memory fit of the same rows). Each test names its attack.
"""

import pickle
import warnings

import numpy as np
import pytest

import neuralcore as nc
from neuralcore.device import backend_of, resolve_backend, to_numpy, to_numpy_dtype

da = pytest.importorskip("dask.array")
xs = pytest.importorskip("array_api_strict")

RNG = np.random.default_rng(7)
X = RNG.normal(size=(90, 3)) * [3.0, 0.5, 20.0] + [10.0, -4.0, 100.0]  # far from standardized
X_STD = (X - X.mean(0)) / X.std(0)
Y = (X_STD[:, 0] - X_STD[:, 1] + 0.7 * RNG.normal(size=90) > 0).astype(int)
Y3 = np.argmax(X_STD + 0.7 * RNG.normal(size=X.shape), axis=1)
W = (np.arange(90) % 4).astype(float)  # weights 0, 1, 2, 3: rows left out and rows repeated
# standardize=True weighs its statistics by sample_weight (as StandardScaler.fit(sample_weight=)): by hand
MEAN_W = np.average(X, axis=0, weights=W)
SCALE_W = np.sqrt(np.average((X - MEAN_W) ** 2, axis=0, weights=W))
X_STD_W = (X - MEAN_W) / SCALE_W
CLASS_WEIGHT = {0: 2.0, 1: 0.5}
DEVICE1 = xs.Device("device1")


def on_device1(block):
    return xs.asarray(block, device=DEVICE1)


def chunked(host, chunks, device1=False):
    array = da.from_array(host, chunks=chunks)
    if not device1:
        return array
    return array.map_blocks(on_device1, dtype=host.dtype, meta=np.empty((0,) * host.ndim, dtype=host.dtype))


def net(**kw):
    settings = dict(hidden_units=3, optimizer="adam", learning_rate=0.02, max_iter=12, random_state=0)
    return nc.TwoLayerNet(**{**settings, **kw})


def assert_same_params(a, b, rtol=1e-10, atol=1e-12):
    assert set(a.params_) == set(b.params_)
    for key in a.params_:
        np.testing.assert_allclose(to_numpy(a.params_[key]), to_numpy(b.params_[key]), rtol=rtol, atol=atol,
                                   err_msg=key)


def tolerances(case):
    return (1e-9, 1e-11) if case.dtype == "float64" else (2e-4, 2e-5)


class TestStandardizeWithWeights:
    """``standardize=True`` with sample and class weights is the weighted fit on data standardized by hand."""

    @pytest.mark.chunked
    @pytest.mark.parametrize("class_weight", [None, CLASS_WEIGHT, "balanced"], ids=["none", "dict", "balanced"])
    def test_attack_standardize_times_weights_on_every_backend(self, backend_case, class_weight):
        # the reference in the case's dtype: Adam's first steps divide near-zero gradients by their own size,
        # so float32 rounding of the weights alone moves a float32 bias by 1% against float64's
        reference = net(class_weight=class_weight, dtype=backend_case.dtype).fit(X_STD_W, Y, sample_weight=W)
        model = net(standardize=True, class_weight=class_weight, dtype=backend_case.dtype)
        model.fit(backend_case.asarray(X), Y, sample_weight=W)
        rtol, atol = tolerances(backend_case)
        np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=rtol, atol=atol)
        if backend_case.dtype == "float32" and class_weight == "balanced":
            atol = 5e-4  # float32 Adam on near-zero bias gradients: each backend's summation order moves b1 by ~1e-4
        assert_same_params(model, reference, rtol=rtol, atol=atol)
        np.testing.assert_allclose(to_numpy(model.feature_mean_), MEAN_W, rtol=rtol)
        np.testing.assert_allclose(to_numpy(model.feature_scale_), SCALE_W, rtol=rtol)
        assert model.score(backend_case.asarray(X), Y, sample_weight=W) == pytest.approx(
            reference.score(X_STD_W, Y, sample_weight=W))

    @pytest.mark.parametrize("solver", ["lbfgs", "newton"])
    @pytest.mark.parametrize("labels", [Y, Y3], ids=["binary", "3-class"])
    def test_attack_second_order_solver_on_uneven_dask_chunks(self, solver, labels):
        settings = dict(solver=solver, alpha=1e-2, class_weight="balanced")
        reference = nc.LogisticRegression(**settings).fit(X_STD_W, labels, sample_weight=W)
        model = nc.LogisticRegression(standardize=True, **settings)
        model.fit(chunked(X, ((40, 7, 30, 13), 3)), labels, sample_weight=chunked(W, ((11, 50, 29),)))
        assert_same_params(model, reference, rtol=1e-7, atol=1e-9)

    def test_attack_eval_set_triple_on_dask_device1_chunks(self):
        Xv, yv, wv = X[::2], Y[::2], W[::2] + 1
        reference = net(class_weight="balanced").fit(X_STD_W, Y, sample_weight=W,
                                                     eval_set=((Xv - MEAN_W) / SCALE_W, yv, wv))
        model = net(standardize=True, class_weight="balanced").fit(
            chunked(X, ((40, 7, 43), 3), device1=True), Y, sample_weight=chunked(W, 30),
            eval_set=(chunked(Xv, 20, device1=True), yv, wv))
        np.testing.assert_allclose(model.validation_scores_, reference.validation_scores_, rtol=1e-12)
        assert_same_params(model, reference)

    def test_attack_score_with_weights_on_a_standardized_dask_model(self):
        model = net(standardize=True, class_weight=CLASS_WEIGHT).fit(chunked(X, 25), Y, sample_weight=W)
        host = net(standardize=True, class_weight=CLASS_WEIGHT).fit(X, Y, sample_weight=W)
        Xd = chunked(X, ((40, 7, 43), 3), device1=True)
        assert model.score(Xd, chunked(Y, 33), sample_weight=chunked(W, 45)) == pytest.approx(
            host.score(X, Y, sample_weight=W), rel=1e-12)


class TestContinuing:
    """warm_start and partial_fit continue with the first fit's statistics and the weights they are given."""

    def test_attack_partial_fit_with_sample_weight_on_uneven_dask_chunks(self):
        first = dict(X=X[:50], y=Y[:50], sample_weight=W[:50])
        model = net(standardize=True, class_weight=CLASS_WEIGHT, batch_size=None)
        host = net(standardize=True, class_weight=CLASS_WEIGHT, batch_size=None)
        model.fit(chunked(first["X"], ((20, 3, 27), 3)), first["y"], sample_weight=first["sample_weight"])
        host.fit(**first)
        for _ in range(3):
            model.partial_fit(chunked(X[50:], ((9, 31), 3), device1=True), Y[50:],
                              sample_weight=chunked(W[50:], 17))
            host.partial_fit(X[50:], Y[50:], sample_weight=W[50:])
        np.testing.assert_allclose(to_numpy(model.feature_mean_), to_numpy(host.feature_mean_), rtol=1e-14)
        np.testing.assert_allclose(model.loss_curve_, host.loss_curve_, rtol=1e-10)
        assert_same_params(model, host)

    @pytest.mark.parametrize("route", ["load", "pickle", "deepcopy"])
    def test_attack_warm_fit_after_a_round_trip_keeps_statistics_and_class_weight(self, route, tmp_path):
        import copy

        model = net(standardize=True, class_weight="balanced", warm_start=True).fit(X, Y, sample_weight=W)
        if route == "load":
            twin = nc.load(model.save(tmp_path / "m.npz"))
        elif route == "pickle":
            twin = pickle.loads(pickle.dumps(model))
        else:
            twin = copy.deepcopy(model)
        assert twin.class_weight == "balanced" and twin.warm_start and twin.standardize
        # the second fit sees other rows: the statistics must stay the first fit's, not be learned again
        twin.fit(X[:40] * 2, Y[:40], sample_weight=W[:40])
        np.testing.assert_array_equal(to_numpy(twin.feature_mean_), to_numpy(model.feature_mean_))
        np.testing.assert_array_equal(to_numpy(twin.feature_scale_), to_numpy(model.feature_scale_))
        # ... and it is the weighted warm fit on the rows standardized with them, from the same parameters
        reference = net(class_weight="balanced", warm_start=True, max_iter=12)
        reference.restore(**{**model.fitted_state(), "feature_mean_": None, "feature_scale_": None,
                             "_fitted_with": reference._prediction_settings()})
        if route == "load":  # a model file holds no optimizer state nor generator: a fresh one
            reference.restore(**{**reference.fitted_state(), "_optimizer_state": None, "_rng_state": None})
        reference.fit((X[:40] * 2 - MEAN_W) / SCALE_W, Y[:40], sample_weight=W[:40])
        assert_same_params(twin, reference)

    def test_attack_to_then_warm_fit_keeps_dtype_and_device(self, backend_case):
        model = net(standardize=True, class_weight=CLASS_WEIGHT, warm_start=True, dtype=backend_case.dtype)
        model.fit(X, Y, sample_weight=W).to(backend_case.spec)
        model.fit(backend_case.asarray(X), Y, sample_weight=backend_case.asarray(W))
        for value in (*model.params_.values(), model.feature_mean_, model.feature_scale_):
            backend_case.assert_on_case(value)
        for value in model._optimizer_state[1].first_moment.values():
            backend_case.assert_on_case(value)
        reference = net(standardize=True, class_weight=CLASS_WEIGHT, max_iter=24, dtype="float64")
        reference.fit(X, Y, sample_weight=W)
        rtol, atol = tolerances(backend_case)
        np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=max(rtol, 1e-9), atol=atol)


class TestDaskChunks:
    """Dask arrays with uneven or empty row chunks train and predict as the same rows in memory."""

    @pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton"])
    def test_attack_an_empty_chunk_trains_as_the_same_rows(self, solver):
        settings = dict(solver=solver, alpha=1e-2, max_iter=15, standardize=True, class_weight="balanced")
        Xd = chunked(X, ((40, 0, 37, 0, 13), 3))
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # 0 / 0 on an empty chunk is the bug
            model = nc.LogisticRegression(**settings).fit(Xd, Y, sample_weight=W, **(
                {"eval_set": (Xd, Y, W)} if solver == "gd" else {}))
        reference = nc.LogisticRegression(**settings).fit(X, Y, sample_weight=W, **(
            {"eval_set": (X, Y, W)} if solver == "gd" else {}))
        assert_same_params(model, reference, rtol=1e-8, atol=1e-10)

    def test_attack_empty_chunk_in_mini_batches(self):
        Xd = chunked(X, ((30, 0, 30, 30), 3))
        model = net(batch_size=30, class_weight=CLASS_WEIGHT).fit(Xd, Y, sample_weight=W)
        assert np.all(np.isfinite(model.loss_curve_)) and model.n_iter_ == 12

    @pytest.mark.parametrize("device1", [False, True], ids=["numpy-chunks", "device1-chunks"])
    @pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function", "predict_log_proba"])
    def test_attack_predictions_on_a_dask_array_with_an_empty_chunk(self, method, device1):
        model = net(standardize=True, class_weight=CLASS_WEIGHT).fit(X, Y3, sample_weight=W)
        out = getattr(model, method)(chunked(X, ((40, 0, 50), 3), device1=device1))
        blocks = [block.compute() for block in out.to_delayed().ravel()]
        if device1 and method != "predict":
            assert all(backend_of(block).name == "array_api_strict" for block in blocks)
        got = np.concatenate([to_numpy(block) for block in blocks])
        np.testing.assert_allclose(got, getattr(model, method)(X), rtol=1e-12)

    def test_attack_last_chunk_larger_than_batch_size_is_refused(self):
        # each mini-batch is one chunk: a last chunk of 60 rows would silently be a batch of 60, not 30
        with pytest.raises(ValueError, match=r"uneven \(30, 60 rows\).*batch_size=30"):
            net(batch_size=30).fit(chunked(X, ((30, 60), 3)), Y)

    def test_attack_uneven_chunks_error_names_the_chunk_sizes(self):
        with pytest.raises(ValueError) as error:
            net(batch_size=40).fit(chunked(X, ((40, 7, 43), 3)), Y)
        message = str(error.value)
        assert "40, 7, 43" in message and "batch_size=40" in message
        assert "equal to the chunk size (40)" not in message  # what was passed: no advice


def test_attack_eval_set_of_a_class_absent_from_a_balanced_warm_fit_names_the_cause():
    # a warm fit on two of three classes: 'balanced' weighs the third 0, and an eval_set of only that class
    # then weighs nothing; the error must say so, not blame an eval_set sample_weight that was never given
    rng = np.random.default_rng(0)
    X3 = rng.normal(size=(60, 3))
    y3 = np.argmax(X3, axis=1)
    model = net(class_weight="balanced", warm_start=True, max_iter=2).fit(X3, y3)
    before = {key: value for key, value in model.__dict__.items()}
    with pytest.raises(ValueError, match=r"class_weight gives weight 0 to every class these samples hold.*"
                                         r"'balanced' gives 0 to a class absent from the training data"):
        model.fit(X3[y3 < 2], y3[y3 < 2], eval_set=(X3[y3 == 2], y3[y3 == 2]))
    assert model.__dict__ == before  # the failed warm fit changed nothing (the same objects)


class TestRetracedCheckpoints:
    """plot.checkpoints retraces a training with warm_start segments: never silently another training."""

    def test_attack_checkpoints_of_a_weighted_standardized_fit(self):
        from neuralcore.plot import checkpoints

        model = net(standardize=True, class_weight=CLASS_WEIGHT).fit(X, Y, sample_weight=W)
        with pytest.raises(ValueError, match="pass the X, y and sample_weight it was fitted with"):
            list(checkpoints(model, X, Y, n=4))  # the unweighted run is another training
        points = list(checkpoints(model, X, Y, sample_weight=W, n=4))
        assert points[-1][0] == model.n_iter_
        assert_same_params(points[-1][1], model, rtol=0, atol=0)
        np.testing.assert_array_equal(to_numpy(points[-1][1].feature_mean_), to_numpy(model.feature_mean_))

    def test_attack_checkpoints_of_a_fit_from_init_params(self):
        from neuralcore.plot import checkpoints

        start = {key: value + 0.5 for key, value in net().fit(X, Y).params_.items()}
        model = net().fit(X, Y, init_params=start)
        with pytest.raises(ValueError, match="init_params cannot be retraced"):
            list(checkpoints(model, X, Y, n=4))


def test_attack_warm_fit_on_host_data_stays_on_the_model_s_device(backend_case):
    # a model moved to another device (array-api-strict's device1 for the NumPy cases), then warm-fitted on host
    # data: it trains where it is, as predict puts host data there (it used to move back to NumPy)
    from neuralcore.datasets import make_moons

    X, y = make_moons(n_samples=60, random_state=0)
    there = resolve_backend(backend_case.other_spec if backend_case.name == "numpy" else backend_case.spec)
    model = nc.TwoLayerNet(3, max_iter=5, warm_start=True, random_state=0, backend="numpy", dtype=backend_case.dtype)
    model.fit(X, y).set_params(backend=None).to(str(there))
    model.fit(X, y)
    assert model.backend_ == there.name
    for value in model.params_.values():
        assert str(backend_of(value)) == str(there) and to_numpy_dtype(value.dtype).name == backend_case.dtype
    assert len(model.loss_curve_) == 10
    model.set_params(backend="numpy").fit(X, y)  # said explicitly: it moves
    assert model.backend_ == "numpy"

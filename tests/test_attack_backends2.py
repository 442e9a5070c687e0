"""Attacks on the new features (sample and class weights, warm_start, partial_fit, weighted scores) on
every backend: array-api-strict's ``device1`` (the stand-in for a GPU), torch float32 and Dask with
uneven chunks, chunks of another dtype than declared and weights chunked otherwise than ``X``.

Each test names its attack. The promise attacked: the NumPy numbers on every backend, float32 stays
float32 (float64 weights promote nothing), only ratios of weights matter, the compiled kernels step
aside when rows are weighted, and bad input is a clear error that leaves the model as it was.
"""

import warnings

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import kernels, logistic, metrics, network
from neuralcore.device import backend_of, resolve_backend, to_backend, to_numpy, to_numpy_dtype

from .test_warm_start import _arrays  # the arrays of a nested state

RNG = np.random.default_rng(11)
X = RNG.normal(size=(30, 3))
Y2 = (X[:, 0] + 0.5 * RNG.normal(size=30) > 0).astype(int)
Y3 = np.argmax(X + 0.7 * RNG.normal(size=X.shape), axis=1)
W = RNG.uniform(0.2, 3.0, size=30)

MODELS = {
    "logistic": lambda **kw: nc.LogisticRegression(**{"learning_rate": 0.5, "max_iter": 8, **kw}),
    "two_layer": lambda **kw: nc.TwoLayerNet(3, **{"learning_rate": 0.5, "max_iter": 8, "random_state": 0, **kw}),
}


def quiet_fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.ConvergenceWarning)
        return model.fit(*args, **kwargs)


def tolerance(case):
    return (1e-10, 1e-12) if case.dtype == "float64" else (2e-4, 2e-6)


class TestWeightScale:
    """Only the ratios of the weights matter (the cost is ``sum(w * loss) / sum(w)``)."""

    @pytest.mark.chunked
    @pytest.mark.parametrize("scale", [1e307, 2e-309], ids=["near-float64-max", "subnormal"])
    def test_attack_extreme_weight_scale_trains_as_any_multiple(self, backend_case, scale):
        # weights near 1e308 summed to inf (cost 0, an untrained model, a NaN score); subnormal ones
        # made n / sum(w) inf (a DivergenceError at the first step)
        make = MODELS["logistic"]
        plain = quiet_fit(make(backend=backend_case.spec, dtype=backend_case.dtype), backend_case.asarray(X), Y3, W)
        scaled = quiet_fit(make(backend=backend_case.spec, dtype=backend_case.dtype), backend_case.asarray(X), Y3,
                           W * scale)
        rtol, atol = tolerance(backend_case)
        np.testing.assert_allclose(scaled.loss_curve_, plain.loss_curve_, rtol=rtol, atol=atol)
        Xb = backend_case.asarray(X)
        assert scaled.score(Xb, Y3, W * scale) == pytest.approx(plain.score(Xb, Y3, W), rel=1e-12)

    def test_attack_huge_class_weights_and_balanced_with_huge_sample_weights(self):
        make = MODELS["logistic"]
        plain = quiet_fit(make(), X, Y3)
        huge = quiet_fit(make(class_weight={0: 1e308, 1: 1e308, 2: 1e308}), X, Y3)
        np.testing.assert_allclose(huge.loss_curve_, plain.loss_curve_, rtol=1e-12)
        balanced = quiet_fit(make(class_weight="balanced"), X, Y3, W)
        balanced_huge = quiet_fit(make(class_weight="balanced"), X, Y3, W * 1e307)  # the class sums overflowed
        np.testing.assert_allclose(balanced_huge.loss_curve_, balanced.loss_curve_, rtol=1e-12)
        by_class = quiet_fit(make(class_weight={0: 1.0, 1: 2.0}), X, Y3, W)
        both_huge = quiet_fit(make(class_weight={0: 0.5e308, 1: 1e308, 2: 0.5e308}), X, Y3, W * 1e307)  # the product did
        np.testing.assert_allclose(both_huge.loss_curve_, by_class.loss_curve_, rtol=1e-12)

    def test_attack_weighted_accuracy_of_huge_weights(self):
        assert metrics.accuracy(np.array([0, 1, 1]), np.array([0, 1, 0]), np.array([1e308, 1e308, 1.5e308])) \
            == pytest.approx(2 / 3.5)


class TestPublicFunctionsWithWeights:
    """The model functions take a weight column; hostile callers pass float64 or 1-D weights."""

    @pytest.mark.parametrize("K", [1, 3], ids=["binary", "3-class"])
    def test_attack_weights_in_the_other_float_dtype(self, backend_case, K):
        # float64 weights promoted a float32 model's cost and gradients (NumPy) or failed deep in a matmul (torch)
        other = "float64" if backend_case.dtype == "float32" else "float32"
        params = {key: backend_case.asarray(value) for key, value in
                  logistic.init_params(3, rng=np.random.default_rng(0), init="normal", n_outputs=K).items()}
        Y = np.eye(3)[Y3] if K == 3 else Y2[:, None].astype(float)
        Xb, Yb = backend_case.asarray(X), backend_case.asarray(Y)
        same, foreign = backend_case.asarray(W[:, None]), backend_case.asarray(W[:, None], dtype=other)
        cost, grads = logistic.loss_and_grads(params, Xb, Yb, sample_weight=foreign)
        expected_cost, expected = logistic.loss_and_grads(params, Xb, Yb, sample_weight=same)
        for value in (cost, *grads.values(), logistic.hessian(params, Xb, sample_weight=foreign),
                      metrics.correct_from_logits(logistic.logits(params, Xb), Yb, sample_weight=foreign)):
            backend_case.assert_on_case(value)
        assert float(cost) == pytest.approx(float(expected_cost), rel=1e-6)
        for key in grads:
            np.testing.assert_allclose(to_numpy(grads[key]), to_numpy(expected[key]), rtol=1e-6)

    @pytest.mark.parametrize("K", [1, 3], ids=["binary", "3-class"])
    def test_attack_one_d_weights_are_the_column(self, backend_case, K):
        # (n, 1) logits times (n,) weights broadcast to (n, n): a cost off by a factor, gradients of shape (f, n)
        params = {key: backend_case.asarray(value) for key, value in
                  network.init_params(3, (4,), rng=np.random.default_rng(0), init="normal", n_outputs=K).items()}
        Y = np.eye(3)[Y3] if K == 3 else Y2[:, None].astype(float)
        Xb, Yb = backend_case.asarray(X), backend_case.asarray(Y)
        flat, column = backend_case.asarray(W), backend_case.asarray(W[:, None])
        cost, grads = network.loss_and_grads(params, Xb, Yb, activation="tanh", sample_weight=flat)
        expected_cost, expected = network.loss_and_grads(params, Xb, Yb, activation="tanh", sample_weight=column)
        assert float(cost) == pytest.approx(float(expected_cost), rel=backend_case.rtol)
        for key in grads:
            assert tuple(grads[key].shape) == tuple(params[key].shape)
            np.testing.assert_allclose(to_numpy(grads[key]), to_numpy(expected[key]), rtol=backend_case.rtol)

    def test_attack_weights_of_another_length_or_device(self, backend_case):
        params = {key: backend_case.asarray(value) for key, value in
                  logistic.init_params(3, rng=np.random.default_rng(0), n_outputs=1).items()}
        Xb, Yb = backend_case.asarray(X), backend_case.asarray(Y2[:, None])
        with pytest.raises(ValueError, match=r"sample_weight must have shape \(30, 1\) or \(30,\)"):
            logistic.loss_and_grads(params, Xb, Yb, sample_weight=backend_case.asarray(W[:10]))
        if backend_case.name == "array_api_strict":  # the one library with two devices here
            other = to_backend(W[:, None], backend_case.other_spec, dtype=backend_case.dtype)
            with pytest.raises(ValueError, match="sample_weight is on device"):
                logistic.loss_and_grads(params, Xb, Yb, sample_weight=other)


class TestFloat32EverywhereWithWeights:
    @pytest.mark.parametrize("optimizer", ["adam", "momentum"])
    def test_attack_float64_device_weights_warm_fits_and_to(self, backend_case, optimizer):
        """float64 weights on the device, warm fits, a move and back: parameters and optimizer state keep
        the case's dtype and device, and the numbers are one long NumPy run's."""
        kw = dict(optimizer=optimizer, batch_size=8, random_state=0, dtype=backend_case.dtype)
        Xb, wb = backend_case.asarray(X), backend_case.asarray(W, dtype="float64")
        model = MODELS["two_layer"](max_iter=2, warm_start=True, backend=backend_case.spec, **kw)
        quiet_fit(model, Xb, Y3, wb)
        model.to(backend_case.other_spec)  # the state travels with the parameters (in their dtype), and back
        for value in (*model.params_.values(), *_arrays(model._optimizer_state[1])):
            assert str(backend_of(value)) == str(resolve_backend(backend_case.other_spec))
            assert to_numpy_dtype(value.dtype).name == backend_case.dtype
        model.to(backend_case.spec)
        quiet_fit(model, Xb, Y3, wb)
        model.partial_fit(Xb, Y3, sample_weight=wb)
        for value in (*model.params_.values(), *_arrays(model._optimizer_state[1])):
            backend_case.assert_on_case(value)
        once = quiet_fit(MODELS["two_layer"](max_iter=5, backend="numpy", **kw), X, Y3, W)
        rtol, atol = tolerance(backend_case)
        np.testing.assert_allclose(model.loss_curve_, once.loss_curve_, rtol=rtol, atol=atol)


class TestKernelsStepAside:
    """The compiled kernels take no weights: with weights they must never be asked (a GPU would train
    the unweighted cost). A fake kernel module that fails when asked stands in for CuPy's."""

    class Refusing:
        def __init__(self):
            self.asked = []

        def __getattr__(self, name):
            if name == "descend":  # the plain update of one parameter: no weights involved, may serve
                return lambda p, g, rate: None

            def refuse(*args, **kwargs):
                self.asked.append(name)
                return None  # the reference code runs, as for a call the kernels do not suit

            return refuse

    @pytest.mark.chunked
    @pytest.mark.parametrize("how", ["sample_weight", "class_weight", "partial_fit", "warm_start"])
    @pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
    def test_attack_weighted_fits_never_ask_the_kernels(self, backend_case, monkeypatch, how, make):
        fake = self.Refusing()
        monkeypatch.setattr(kernels, "_native", lambda x: fake)
        Xb = backend_case.asarray(X)
        model = make(max_iter=2, backend=backend_case.spec, dtype=backend_case.dtype,
                     class_weight={0: 2.0} if how == "class_weight" else None, warm_start=how == "warm_start")
        if how == "partial_fit":
            model.partial_fit(Xb, Y2, classes=[0, 1], sample_weight=W)
        else:
            quiet_fit(model, Xb, Y2, None if how == "class_weight" else W)
            if how == "warm_start":
                quiet_fit(model, Xb, Y2, W)
        assert fake.asked == []
        quiet_fit(make(max_iter=2, backend=backend_case.spec, dtype=backend_case.dtype), Xb, Y2)
        if not backend_case.name == "dask":  # the fake is reached by an unweighted fit: this test can fail
            assert fake.asked


class TestDaskChunks:
    @pytest.mark.parametrize("dtype", ["float64", "float32"])
    @pytest.mark.parametrize("declared", ["same", "other"], ids=["chunks-as-declared", "chunks-of-another-dtype"])
    def test_attack_uneven_chunks_and_weights_chunked_otherwise(self, dtype, declared):
        da = pytest.importorskip("dask.array")
        host = X.astype(dtype)
        if declared == "other":  # the chunks hold float64 while the array says float32 (or the reverse)
            other = "float32" if dtype == "float64" else "float64"
            host = X.astype("float32").astype(dtype)  # the values both dtypes hold
            Xd = da.from_array(host, chunks=((4, 17, 9), 3)).map_blocks(lambda block: block.astype(other), dtype=dtype)
        else:
            Xd = da.from_array(host, chunks=((4, 17, 9), 3))
        wd = da.from_array(W, chunks=11)
        for make in MODELS.values():
            ref = quiet_fit(make(dtype=dtype, class_weight={1: 2.5}, backend="numpy"), host, Y3, W,
                            eval_set=(host, Y3, W))
            model = quiet_fit(make(dtype=dtype, class_weight={1: 2.5}), Xd, Y3, wd, eval_set=(Xd, Y3, wd))
            rtol = 1e-10 if dtype == "float64" else 2e-5
            np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=rtol)
            np.testing.assert_allclose(model.validation_scores_, ref.validation_scores_, rtol=rtol)
            assert to_numpy_dtype(next(iter(model.params_.values())).dtype).name == dtype
            assert model.score(Xd, Y3, wd) == pytest.approx(ref.score(host, Y3, W), rel=1e-12)


class TestDivergenceAndEvalSet:
    def test_attack_divergence_with_weights_keeps_params_on_the_device(self, backend_case):
        model = nc.TwoLayerNet(4, learning_rate=1e6, max_iter=20, random_state=0, backend=backend_case.spec,
                               dtype=backend_case.dtype)
        with pytest.raises(nc.DivergenceError) as caught:
            model.fit(backend_case.asarray(X * 1e3), Y3, backend_case.asarray(W, dtype="float64"))
        for value in (*caught.value.params.values(), *model.params_.values()):
            backend_case.assert_on_case(value)

    def test_attack_eval_set_weights_on_another_device(self, backend_case):
        model = MODELS["logistic"](backend=backend_case.spec, dtype=backend_case.dtype)
        Xb = backend_case.asarray(X)
        before = dict(model.__dict__)
        wrong = to_backend(W, backend_case.other_spec)
        with pytest.raises(ValueError, match="eval_set sample_weight"):
            model.fit(Xb, Y3, W, eval_set=(Xb, Y3, wrong))
        assert model.__dict__ == before

    def test_attack_bfloat16_weights_are_read_exactly(self):
        # torch's bfloat16 has no NumPy dtype: its values (exact in float32) are the weights, not a raw torch error
        torch = pytest.importorskip("torch")
        Xt = torch.asarray(X, dtype=torch.float32)
        exact = np.round(np.asarray(W) * 8) / 8
        ours = nc.LogisticRegression(max_iter=2).fit(Xt, Y2, torch.asarray(exact, dtype=torch.bfloat16))
        reference = nc.LogisticRegression(max_iter=2).fit(Xt, Y2, exact.astype(np.float32))
        np.testing.assert_array_equal(ours.loss_curve_, reference.loss_curve_)
        assert ours.score(Xt, Y2, torch.ones(30, dtype=torch.bfloat16)) == ours.score(Xt, Y2)


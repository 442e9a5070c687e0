"""Dask arrays: the same model code, trained chunk by chunk, on the local scheduler and a LocalCluster."""

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import device as nc_device
from neuralcore.datasets import make_blobs, make_planar

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

X_PLANAR, Y_PLANAR = make_planar(n_samples=400, random_state=1)


@pytest.fixture(scope="module")
def cluster():
    """A real dask.distributed LocalCluster with two worker processes, closed after the tests."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        with distributed.Client(local) as client:
            yield client


def chunked(host, rows=100):
    return da.from_array(host, chunks=(rows,) + np.shape(host)[1:])


@pytest.mark.chunked
class TestSameResultsAsInMemory:
    """Full-batch gradient descent on chunks equals NumPy's to 1e-10 (float64)."""

    @pytest.mark.parametrize("make", [
        lambda case: nc.LogisticRegression(learning_rate=0.1, max_iter=60, dtype=case.dtype),
        lambda case: nc.TwoLayerNet(4, max_iter=60, random_state=0, dtype=case.dtype),
    ], ids=["LogisticRegression", "TwoLayerNet"])
    def test_full_batch(self, make, backend_case):
        model = make(backend_case).fit(backend_case.asarray(X_PLANAR), Y_PLANAR)
        ref = make(backend_case).set_params(backend="numpy", dtype="float64").fit(X_PLANAR, Y_PLANAR)
        rtol = 1e-10 if backend_case.dtype == "float64" else 1e-4
        np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=rtol)
        for key, value in ref.params_.items():
            np.testing.assert_allclose(nc.to_numpy(model.params_[key]), value, rtol=rtol, atol=1e-12 if rtol < 1e-6 else 1e-6)

    def test_outputs_follow_the_input(self, backend_case):
        model = nc.TwoLayerNet(4, max_iter=50, random_state=0, dtype=backend_case.dtype).fit(backend_case.asarray(X_PLANAR), Y_PLANAR)
        Xb = backend_case.asarray(X_PLANAR)
        for output in (model.predict_proba(Xb), model.decision_function(Xb), model.predict(Xb)):
            if nc_device.is_chunked(Xb):
                assert nc_device.is_chunked(output)
        np.testing.assert_allclose(nc.to_numpy(model.predict_proba(Xb)), model.predict_proba(X_PLANAR), rtol=1e-6)
        np.testing.assert_array_equal(nc.to_numpy(model.predict(Xb)), model.predict(X_PLANAR))
        assert model.score(Xb, Y_PLANAR) == model.score(X_PLANAR, Y_PLANAR)


class TestSolversOnChunks:
    @pytest.mark.parametrize("solver", ["lbfgs", "newton"])
    @pytest.mark.parametrize("classes", [2, 3])
    def test_same_optimum(self, solver, classes):
        X, y = make_blobs(n_samples=300, centers=classes, cluster_std=3.0, random_state=2)
        ours = nc.LogisticRegression(solver=solver, alpha=0.01).fit(chunked(X, 70), y)
        ref = nc.LogisticRegression(solver="newton", alpha=0.01, tol=1e-12, backend="numpy").fit(X, y)
        assert ours.loss_curve_[-1] == pytest.approx(ref.loss_curve_[-1], rel=1e-10)
        np.testing.assert_array_equal(nc.to_numpy(ours.predict(chunked(X))), ref.predict(X))


class TestMiniBatchesAreChunks:
    def test_one_update_per_chunk_reproducible(self):
        kwargs = dict(optimizer="adam", learning_rate=0.01, batch_size=100, max_iter=4, random_state=3)
        a = nc.TwoLayerNet(4, **kwargs).fit(chunked(X_PLANAR), Y_PLANAR)
        b = nc.TwoLayerNet(4, **kwargs).fit(chunked(X_PLANAR), Y_PLANAR)
        assert a.loss_curve_ == b.loss_curve_ and len(a.loss_curve_) == 4 and a.n_iter_ == 4
        c = nc.TwoLayerNet(4, **{**kwargs, "random_state": 4}).fit(chunked(X_PLANAR), Y_PLANAR)
        assert c.loss_curve_ != a.loss_curve_

    def test_equals_in_memory_without_shuffling(self):
        kwargs = dict(learning_rate=0.5, batch_size=100, max_iter=3, shuffle=False, random_state=0)
        dask_model = nc.TwoLayerNet(4, **kwargs).fit(chunked(X_PLANAR), Y_PLANAR)
        ref = nc.TwoLayerNet(4, backend="numpy", **kwargs).fit(X_PLANAR, Y_PLANAR)
        np.testing.assert_allclose(dask_model.loss_curve_, ref.loss_curve_, rtol=1e-12)

    def test_batch_size_must_match_the_chunks(self):
        with pytest.raises(ValueError, match=r"each mini-batch is one chunk: pass batch_size equal to the chunk size \(100\)"):
            nc.TwoLayerNet(4, batch_size=64, max_iter=2).fit(chunked(X_PLANAR), Y_PLANAR)


class TestGraphDoesNotGrow:
    def test_tasks_per_iteration_are_constant(self):
        from dask.callbacks import Callback

        sizes = []

        class Count(Callback):
            def _start_state(self, dsk, state):
                sizes.append(len(dsk))

        with Count():
            nc.TwoLayerNet(4, max_iter=30, random_state=0).fit(chunked(X_PLANAR, 50), Y_PLANAR)
        training = sizes[1:]  # the first compute is the finiteness check
        assert len(training) >= 30 and len(set(training)) == 1, sizes


class TestDistributed:
    def test_local_cluster_gives_the_same_fit(self, cluster):
        X = chunked(X_PLANAR).persist()
        model = nc.TwoLayerNet(4, max_iter=40, random_state=0).fit(X, Y_PLANAR)
        ref = nc.TwoLayerNet(4, max_iter=40, random_state=0, backend="numpy").fit(X_PLANAR, Y_PLANAR)
        np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=1e-10)
        assert model.trained_on_ == "dask"
        assert model.score(X, Y_PLANAR) == ref.score(X_PLANAR, Y_PLANAR)

    def test_newton_on_the_cluster(self, cluster):
        X, y = make_blobs(n_samples=400, centers=2, cluster_std=4.0, random_state=5)
        model = nc.LogisticRegression(solver="newton", alpha=0.01).fit(chunked(X, 100), y)
        ref = nc.LogisticRegression(solver="newton", alpha=0.01, backend="numpy").fit(X, y)
        assert model.loss_curve_[-1] == pytest.approx(ref.loss_curve_[-1], rel=1e-12)


class TestChunkedValidation:
    def test_nan(self):
        X = X_PLANAR.copy()
        X[7, 1] = np.nan
        with pytest.raises(ValueError, match="X contains NaN or infinite values"):
            nc.LogisticRegression().fit(chunked(X), Y_PLANAR)

    def test_unknown_chunk_sizes(self):
        X = chunked(X_PLANAR)
        X = X[X[:, 0] > -100]  # boolean indexing: sizes unknown until computed
        with pytest.raises(ValueError, match=r"unknown chunk sizes; call X.compute_chunk_sizes\(\) first"):
            nc.LogisticRegression().fit(X, Y_PLANAR)

    def test_wrong_features_at_predict(self):
        model = nc.LogisticRegression(max_iter=2).fit(chunked(X_PLANAR), Y_PLANAR)
        with pytest.raises(ValueError, match="X has 3 features, but LogisticRegression is expecting 2 features as input"):
            model.predict(chunked(np.ones((10, 3))))

    def test_features_split_in_chunks_are_merged(self):
        X = da.from_array(X_PLANAR, chunks=(100, 1))
        model = nc.LogisticRegression(max_iter=5).fit(X, Y_PLANAR)
        assert model.n_features_in_ == 2


def test_memory_stays_bounded_by_a_few_chunks(tmp_path):
    """Out of core, machine-independently: 800 MB generated chunk by chunk (8 MB chunks), trained on in a
    subprocess whose peak resident memory must stay far below the data's size."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import resource, dask, dask.array as da, numpy as np, neuralcore as nc
        dask.config.set(scheduler="synchronous")
        X = da.random.default_rng(0).standard_normal((2_000_000, 50), chunks=(20_000, 50))  # 800 MB, 8 MB chunks
        y = np.arange(2_000_000) % 2
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        nc.LogisticRegression(max_iter=2).fit(X, y)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) * 1024)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    growth = int(done.stdout.strip().splitlines()[-1])
    assert growth < 200 * 2**20, f"peak memory grew by {growth / 2**20:.0f} MiB for 800 MiB of data"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_targets_held_once_in_the_working_dtype(monkeypatch, dtype):
    """The encoded labels go to the chunked data as they are: no float64 copy beside a float32 one."""
    from neuralcore import base
    from neuralcore import data as nc_data

    encoded, received = [], []
    original_encode, original_init = base.encode_labels, nc_data.ChunkedData.__init__

    def encode(*args, **kwargs):
        result = original_encode(*args, **kwargs)
        encoded.append(result[1])
        return result

    def init(self, X, Y, **kwargs):
        received.append(Y)
        original_init(self, X, Y, **kwargs)

    monkeypatch.setattr(base, "encode_labels", encode)
    monkeypatch.setattr(nc_data.ChunkedData, "__init__", init)
    nc.LogisticRegression(max_iter=3).fit(chunked(X_PLANAR.astype(dtype)), Y_PLANAR)
    assert received[0] is encoded[0] and received[0].dtype == np.dtype(dtype)


class TestValidationSets:
    """eval_set with Dask training data: the same scores, early stop and best parameters as in memory."""

    def _fits(self, X_val_kind, model_factory):
        rng = np.random.default_rng(3)
        X_val = X_PLANAR[rng.permutation(400)[:120]] + 0.1 * rng.normal(size=(120, 2))
        y_val = (X_val[:, 1] > 0).astype(int)  # another rule than the training labels: a score that moves
        val = chunked(X_val, rows=50) if X_val_kind == "dask" else X_val
        ours = model_factory().fit(chunked(X_PLANAR), Y_PLANAR, eval_set=(val, y_val))
        reference = model_factory().fit(X_PLANAR, Y_PLANAR, eval_set=(X_val, y_val))
        return ours, reference

    @pytest.mark.parametrize("X_val_kind", ["dask", "host"])
    def test_same_scores_and_best_parameters(self, X_val_kind):
        def factory():
            return nc.TwoLayerNet(4, learning_rate=1.2, max_iter=400, n_iter_no_change=40, random_state=0, backend="numpy")

        ours, reference = self._fits(X_val_kind, factory)
        assert ours.validation_scores_ == reference.validation_scores_
        assert ours.best_iteration_ == reference.best_iteration_ and ours.n_iter_ == reference.n_iter_
        np.testing.assert_allclose(ours.loss_curve_, reference.loss_curve_, rtol=1e-10)
        for key in reference.params_:
            np.testing.assert_allclose(ours.params_[key], reference.params_[key], rtol=1e-9, atol=1e-12)

    def test_mini_batches_with_a_validation_set(self):
        rng = np.random.default_rng(4)
        X_val = rng.normal(size=(60, 2))
        model = nc.LogisticRegression(batch_size=100, max_iter=5, random_state=0).fit(
            chunked(X_PLANAR), Y_PLANAR, eval_set=(chunked(X_val, rows=25), (X_val[:, 0] > 0).astype(int))
        )
        assert len(model.validation_scores_) == 5 and all(0 <= s <= 1 for s in model.validation_scores_)

    def test_validation_fraction_points_to_eval_set(self):
        with pytest.raises(ValueError, match="pass a validation set as eval_set"):
            nc.LogisticRegression(validation_fraction=0.2).fit(chunked(X_PLANAR), Y_PLANAR)

    def test_bad_validation_sets(self):
        with pytest.raises(ValueError, match="eval_set X has 3 features, but the model was fitted with 2|eval_set X.*3"):
            nc.LogisticRegression(max_iter=2).fit(chunked(X_PLANAR), Y_PLANAR, eval_set=(chunked(np.ones((10, 3))), [0, 1] * 5))
        with pytest.raises(ValueError, match="eval_set y holds labels"):
            nc.LogisticRegression(max_iter=2).fit(chunked(X_PLANAR), Y_PLANAR, eval_set=(np.ones((4, 2)), [0, 1, 2, 1]))
        with pytest.raises(ValueError, match="eval_set applies to solver='gd'"):
            nc.LogisticRegression(solver="lbfgs").fit(chunked(X_PLANAR), Y_PLANAR, eval_set=(np.ones((4, 2)), [0, 1, 0, 1]))
        with pytest.raises(TypeError, match="eval_set must be a pair"):
            nc.LogisticRegression(max_iter=2).fit(chunked(X_PLANAR), Y_PLANAR, eval_set=np.ones((4, 2)))

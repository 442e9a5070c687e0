"""``standardize=True``: the mean and scale learned by ``fit`` are part of the model.

Training with ``standardize=True`` on raw features is training on manually standardized features, and every
prediction of the fitted model on raw features is the manual model's on standardized ones: on every backend,
on Dask, after a save and load, a move, a pickle; a model file from the command line predicts raw features in
Python as ``neuralcore predict`` does. Statistics are the population mean and standard deviation of the rows
given to ``fit`` (1 for a constant column), kept by warm fits and refused to a first ``partial_fit``.
"""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import device as nc_device
from neuralcore.budget import check_fit_memory
from neuralcore.loaders import stratified_split

from .cli_helpers import cli
from .test_cli_real_data import write_csv

RNG = np.random.default_rng(7)
# features on very different scales and offsets: raw and standardized training differ a lot
X = RNG.normal(size=(48, 3)) * [1.0, 300.0, 0.01] + [2.0, -900.0, 5.0]
Y = np.asarray(["a", "b", "c"])[np.argmax((X - X.mean(0)) / X.std(0) + [0.3, 0.0, -0.3], axis=1)]
Y2 = (Y == "a").astype(int)


def manual(X_train, *others):
    """NumPy float64 standardization with the statistics of ``X_train``: what a user would write."""
    mean, scale = X_train.mean(axis=0), X_train.std(axis=0)
    scale = np.where(scale == 0, 1.0, scale)
    return [(a - mean) / scale for a in (X_train, *others)]


def net(**kw):
    return nc.TwoLayerNet(3, **{"learning_rate": 0.5, "max_iter": 25, "random_state": 0, **kw})


def _close(got, want, case, exact=1e-12):
    tol = exact if case.dtype == "float64" else 2e-4
    np.testing.assert_allclose(nc_device.to_numpy(got), nc_device.to_numpy(want), rtol=tol, atol=tol)


class TestEqualsManualStandardization:
    @pytest.mark.chunked
    def test_fit_and_every_prediction(self, backend_case):
        (S,) = manual(X)
        ours = net(standardize=True, backend=None if backend_case.name == "dask" else backend_case.spec)
        ours.fit(backend_case.asarray(X), Y)
        reference = net(backend="numpy" if backend_case.name == "dask" else backend_case.spec)
        reference.fit(backend_case.asarray(S) if backend_case.name != "dask" else S.astype(backend_case.dtype), Y)
        # the statistics: population standard deviation (ddof=0), of the rows given to fit
        _close(ours.feature_mean_, X.mean(axis=0), backend_case)
        _close(ours.feature_scale_, X.std(axis=0), backend_case)
        if backend_case.name != "dask":
            backend_case.assert_on_case(ours.feature_mean_)
            backend_case.assert_on_case(ours.feature_scale_)
        for key in reference.params_:
            _close(ours.params_[key], reference.params_[key], backend_case)
        Xq, Sq = backend_case.asarray(X), backend_case.asarray(S)
        for method in ("decision_function", "predict_proba", "predict_log_proba"):
            got = getattr(ours, method)(Xq)
            if backend_case.name == "dask":
                got = got.compute()
            _close(got, getattr(reference, method)(Sq if backend_case.name != "dask" else S), backend_case)
        np.testing.assert_array_equal(nc_device.to_numpy(ours.predict(X)), reference.predict(S.astype(backend_case.dtype)))
        assert ours.score(X, Y) == reference.score(S.astype(backend_case.dtype), Y)

    def test_dask_statistics_and_predictions_equal_in_memory(self):
        da = pytest.importorskip("dask.array")
        in_memory = net(standardize=True, backend="numpy").fit(X, Y)
        chunked = net(standardize=True).fit(da.from_array(X, chunks=(10, 3)), Y)  # uneven chunks: 10, 10, 10, 10, 8
        np.testing.assert_allclose(chunked.feature_mean_, in_memory.feature_mean_, rtol=1e-13)
        np.testing.assert_allclose(chunked.feature_scale_, in_memory.feature_scale_, rtol=1e-13)
        lazy = chunked.predict_proba(da.from_array(X, chunks=(7, 3)))
        np.testing.assert_allclose(lazy.compute(), in_memory.predict_proba(X), rtol=1e-10, atol=1e-12)

    @pytest.mark.parametrize("kind", ["device1", "torch"])
    def test_dask_chunks_on_a_device_are_standardized_where_they_are(self, kind):
        # array-api-strict's device1 refuses any conversion to NumPy, as a GPU's chunks would need a copy
        from .test_dask_devices import chunked

        on_host = net(standardize=True, batch_size=12).fit(chunked(X, chunks=12), Y)  # NumPy chunks
        on_device = net(standardize=True, batch_size=12).fit(chunked(X, kind, chunks=12), Y)
        np.testing.assert_allclose(on_device.feature_scale_, on_host.feature_scale_, rtol=1e-13)
        for key in on_host.params_:
            np.testing.assert_allclose(on_device.params_[key], on_host.params_[key], rtol=1e-10, atol=1e-12)
        blocks = on_device.predict_proba(chunked(X, kind, chunks=12)).to_delayed().ravel()
        for start, block in zip(range(0, len(X), 12), blocks):  # each block stays on the chunks' device
            value = block.compute()
            assert nc_device.backend_of(value).name == ("torch" if kind == "torch" else "array_api_strict")
            if kind == "device1":
                value = value.to_device(nc_device.resolve_backend("array_api_strict").device)
            np.testing.assert_allclose(nc_device.to_numpy(value), on_host.predict_proba(X[start:start + 12]),
                                       rtol=1e-10, atol=1e-12)

    def test_eval_set_is_standardized_with_the_training_statistics(self):
        X_train, X_val, y_train, y_val = X[:36], X[36:], Y[:36], Y[36:]
        S_train, S_val = manual(X_train, X_val)
        ours = net(standardize=True, backend="numpy").fit(X_train, y_train, eval_set=(X_val, y_val))
        reference = net(backend="numpy").fit(S_train, y_train, eval_set=(S_val, y_val))
        assert ours.validation_scores_ == reference.validation_scores_
        assert ours.best_iteration_ == reference.best_iteration_

    def test_validation_fraction_statistics_cover_every_row_given_to_fit(self):
        (S,) = manual(X)
        ours = net(standardize=True, validation_fraction=0.25, backend="numpy").fit(X, Y)
        reference = net(validation_fraction=0.25, backend="numpy").fit(S, Y)
        np.testing.assert_allclose(ours.feature_mean_, X.mean(axis=0), rtol=1e-13)
        assert ours.validation_scores_ == reference.validation_scores_
        for key in reference.params_:
            np.testing.assert_allclose(ours.params_[key], reference.params_[key], rtol=1e-12, atol=1e-12)

    @pytest.mark.parametrize("solver", ["lbfgs", "newton"])
    def test_second_order_solvers(self, solver):
        (S,) = manual(X)
        ours = nc.LogisticRegression(solver=solver, alpha=1e-2, standardize=True, backend="numpy").fit(X, Y2)
        reference = nc.LogisticRegression(solver=solver, alpha=1e-2, backend="numpy").fit(S, Y2)
        np.testing.assert_allclose(ours.coef_, reference.coef_, rtol=1e-10)  # in the standardized space
        np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(S), rtol=1e-10)


class TestStatistics:
    def test_constant_columns_are_only_centred(self, backend_case):
        # 0.1 is not exact in binary: the computed mean of a constant 0.1 column may differ from 0.1 by rounding
        Xc = np.column_stack([X[:, 0], np.full(len(X), 0.1), np.full(len(X), -3e5)])
        model = net(standardize=True, backend=backend_case.spec).fit(backend_case.asarray(Xc), Y)
        scale = nc_device.to_numpy(model.feature_scale_)
        assert scale[1] == 1.0 and scale[2] == 1.0
        _close(scale[0], X[:, 0].std(), backend_case)
        assert np.all(np.isfinite(nc_device.to_numpy(model.predict_proba(backend_case.asarray(Xc)))))

    def test_scikit_learns_standard_scaler(self):
        preprocessing = pytest.importorskip("sklearn.preprocessing")
        Xc = np.column_stack([X, np.full(len(X), 4.0)])
        scaler = preprocessing.StandardScaler().fit(Xc)
        model = net(standardize=True, backend="numpy").fit(Xc, Y)
        np.testing.assert_allclose(model.feature_mean_, scaler.mean_, rtol=1e-13)
        np.testing.assert_allclose(model.feature_scale_, scaler.scale_, rtol=1e-13)

    def test_inputs_are_not_modified(self, backend_case):
        X_case = backend_case.asarray(X)
        before = nc_device.to_numpy(X_case).copy()
        host = X.copy()
        model = net(standardize=True, backend=backend_case.spec).fit(X_case, Y)
        model.predict_proba(X_case)
        np.testing.assert_array_equal(nc_device.to_numpy(X_case), before)
        net(standardize=True, backend="numpy").fit(host, Y).predict(host)
        np.testing.assert_array_equal(host, X)

    def test_off_by_default_and_checked(self):
        model = net(backend="numpy").fit(X, Y)
        assert model.standardize is False and model.feature_mean_ is None and model.feature_scale_ is None
        with pytest.raises(TypeError, match="standardize must be True or False, got 'yes'"):
            net(standardize="yes").fit(X, Y)

    def test_the_fitted_statistics_decide_not_the_hyperparameter(self):
        model = net(standardize=True, backend="numpy").fit(X, Y)
        before = model.predict_proba(X)
        model.set_params(standardize=False)
        np.testing.assert_array_equal(model.predict_proba(X), before)
        raw = net(backend="numpy").fit(X, Y)
        raw.set_params(standardize=True)  # fitted without statistics: nothing to apply
        assert raw.feature_mean_ is None and raw.predict(X).shape == (len(X),)

    def test_overflowing_spread_is_refused_before_training(self):
        huge = np.column_stack([X[:, 0], np.where(Y2 == 1, 3e38, -3e38)]).astype(np.float32)
        model = net(standardize=True, backend="numpy", dtype="float32")
        with pytest.raises(ValueError, match="mean or standard deviation of some features overflows float32"):
            model.fit(huge, Y)
        assert not hasattr(model, "params_")

    def test_the_memory_budget_counts_the_standardized_copy(self):
        placement = nc_device.resolve_backend("numpy")
        plain = check_fit_memory(net(), X, 3, placement)
        scaled = check_fit_memory(net(standardize=True), X, 3, placement)
        assert scaled.data - plain.data == X.size * X.itemsize


class TestKeptWithTheModel:
    def test_save_load_to_pickle_deepcopy_restore(self, backend_case, tmp_path):
        X_case = backend_case.asarray(X)
        model = net(standardize=True, backend=backend_case.spec).fit(X_case, Y)
        expected = nc_device.to_numpy(model.predict_proba(X_case))
        loaded = nc.load(model.save(tmp_path / "m.npz"), backend=backend_case.spec)
        backend_case.assert_on_case(loaded.feature_mean_)
        twins = {
            "load": loaded,
            "to": copy.deepcopy(model).to("numpy"),
            "pickle": pickle.loads(pickle.dumps(model)),
            "deepcopy": copy.deepcopy(model),
            "restore": net(standardize=True).restore(**model.fitted_state()),
        }
        for how, twin in twins.items():
            on_host = nc_device.is_host(nc_device.to_numpy(twin.params_["W1"])) and twin.backend_ == "numpy"
            data = X.astype(backend_case.dtype) if on_host else X_case
            _close(twin.predict_proba(data), expected, backend_case, exact=1e-13)
            np.testing.assert_array_equal(nc_device.to_numpy(twin.feature_scale_),
                                          nc_device.to_numpy(model.feature_scale_), err_msg=how)
        assert twins["to"].backend_ == "numpy" and isinstance(twins["to"].feature_mean_, np.ndarray)
        assert isinstance(twins["pickle"].feature_mean_, np.ndarray)

    def test_restore_checks_the_statistics(self):
        state = net(standardize=True, backend="numpy").fit(X, Y).fitted_state()
        with pytest.raises(ValueError, match=r"feature_scale_ must have shape \(3,\)"):
            net().restore(**{**state, "feature_scale_": np.ones(2)})
        with pytest.raises(ValueError, match="go together"):
            net().restore(**{**state, "feature_scale_": None})

    def test_an_unstandardized_model_file_has_no_statistics(self, tmp_path):
        path = net(backend="numpy").fit(X, Y).save(tmp_path / "m.npz")
        with np.load(path) as archive:
            assert "feature_mean" not in archive.files and "feature_scale" not in archive.files
        assert nc.load(path).feature_mean_ is None


def _rewrite(path, out, *, document=None, **arrays):
    """A copy of the model file ``path`` with members replaced (None: removed) and the JSON edited."""
    with np.load(path) as archive:
        members = {name: archive[name] for name in archive.files}
    if document is not None:
        doc = json.loads(members["metadata"].tobytes())
        document(doc)
        members["metadata"] = np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)
    for name, value in arrays.items():
        if value is None:
            members.pop(name)
        else:
            members[name] = value
    np.savez(out, **members)
    return out


class TestTamperedFiles:
    @pytest.fixture
    def saved(self, tmp_path):
        return net(standardize=True, backend="numpy").fit(X, Y).save(tmp_path / "m.npz")

    @pytest.mark.parametrize("change, message", [
        ({"feature_scale": np.asarray([1.0, 0.0, 2.0])}, "feature_scale_ finite and > 0"),
        ({"feature_scale": np.asarray([1.0, -1.0, 2.0])}, "feature_scale_ finite and > 0"),
        ({"feature_mean": np.asarray([np.nan, 0.0, 0.0])}, "feature_mean_ must be finite"),
        ({"feature_scale": np.asarray([1.0, np.inf, 2.0])}, "feature_scale_ finite"),
        ({"feature_mean": np.zeros(4)}, "has shape (4,), the metadata says (3,)"),
        ({"feature_mean": np.zeros(3, dtype=np.float32)}, "corrupted (dtype float32"),
        ({"feature_scale": None}, "statistics (feature_scale) are missing"),
    ], ids=["zero-scale", "negative-scale", "nan-mean", "inf-scale", "shape", "dtype", "missing"])
    def test_bad_statistics_are_refused(self, saved, tmp_path, change, message):
        bad = _rewrite(saved, tmp_path / "bad.npz", **change)
        with pytest.raises(ValueError, match="bad.npz") as error:
            nc.load(bad)
        assert message in str(error.value)

    def test_statistics_without_the_flag_or_a_bad_flag(self, saved, tmp_path):
        unflagged = _rewrite(saved, tmp_path / "a.npz", document=lambda d: d.update(standardized=False))
        with pytest.raises(ValueError, match="members the model format does not define"):
            nc.load(unflagged)  # never silently dropped: predictions would be on the wrong scale
        flagged = _rewrite(saved, tmp_path / "b.npz", document=lambda d: d.update(standardized="yes"))
        with pytest.raises(ValueError, match="standardized must be true or false"):
            nc.load(flagged)

    def test_files_written_before_standardize_load_as_before(self, tmp_path):
        path = net(backend="numpy").fit(X, Y).save(tmp_path / "m.npz")
        old = _rewrite(path, tmp_path / "old.npz", document=lambda d: d.pop("standardized"))
        model = nc.load(old)
        assert model.feature_mean_ is None
        np.testing.assert_array_equal(model.predict_proba(X), nc.load(path).predict_proba(X))


class TestContinuing:
    def test_a_warm_fit_keeps_the_first_statistics(self):
        once = net(standardize=True, backend="numpy", max_iter=20).fit(X, Y)
        twice = net(standardize=True, warm_start=True, backend="numpy", max_iter=10).fit(X, Y)
        mean = twice.feature_mean_.copy()
        twice.fit(X * 3 + 100, Y)  # other statistics: not learned again
        np.testing.assert_array_equal(twice.feature_mean_, mean)
        exact = net(standardize=True, warm_start=True, backend="numpy", max_iter=10).fit(X, Y).fit(X, Y)
        for key in once.params_:  # 10 + 10 epochs are 20, as without standardization
            np.testing.assert_array_equal(exact.params_[key], once.params_[key])

    @pytest.mark.parametrize("first, then", [(True, False), (False, True)])
    def test_a_warm_fit_refuses_another_standardize(self, first, then):
        model = net(standardize=first, warm_start=True, backend="numpy", max_iter=5).fit(X, Y)
        params = {k: v.copy() for k, v in model.params_.items()}
        model.set_params(standardize=then)
        with pytest.raises(ValueError, match=f"fitted with standardize={first}, now standardize={then}"):
            model.fit(X, Y)
        with pytest.raises(ValueError, match=f"fitted with standardize={first}"):
            model.partial_fit(X, Y)
        for key in params:  # a refused fit changes nothing
            np.testing.assert_array_equal(model.params_[key], params[key])

    def test_the_first_partial_fit_is_refused(self):
        model = net(standardize=True, backend="numpy")
        with pytest.raises(ValueError, match="partial_fit cannot start .* with standardize=True.*scale the stream "
                                             "yourself.*or fit once first"):
            model.partial_fit(X, Y, classes=["a", "b", "c"])
        assert not hasattr(model, "params_")
        model.fit(X, Y).partial_fit(X[:10] * 5, Y[:10])  # after a fit: its statistics are kept
        np.testing.assert_allclose(model.feature_mean_, X.mean(axis=0), rtol=1e-13)


class TestCommandLine:
    def test_a_model_file_predicts_raw_features_in_python_as_the_command_line_does(self, capsys, tmp_path):
        pd = pytest.importorskip("pandas")
        names = ["f0", "f1", "f2"]
        data = write_csv(tmp_path / "d.csv", X, Y, names)
        model_file = tmp_path / "m.npz"
        status, out, _ = cli(capsys, "train", data, "--test-fraction", "0.25", "--iterations", "40", "--quiet",
                             "--json", "--out", model_file, "--backend", "numpy")
        assert status == 0 and json.loads(out)["standardization"]["fitted_on_rows"] == 36
        model = nc.load(model_file)
        train, _ = stratified_split(Y, 0.25, seed=0)
        # the statistics of the training rows only, never of the held-out ones
        np.testing.assert_allclose(model.feature_mean_, X[train].mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(model.feature_scale_, X[train].std(axis=0), rtol=1e-12)
        status, out, _ = cli(capsys, "predict", model_file, data, "--proba")
        assert status == 0
        rows = [line.split(",") for line in out.splitlines()[1:]]
        frame = pd.DataFrame(X, columns=names)
        assert [r[0] for r in rows] == model.predict(frame).tolist()
        assert [r[1:] for r in rows] == [[f"{p:.6g}" for p in row] for row in model.predict_proba(frame)]


class TestWeightedStatistics:
    """The statistics are weighted by sample_weight (as StandardScaler.fit(X, sample_weight=w)): an integer weight
    is the row repeated for the whole fit, statistics included, and a weight of 0 leaves the row out."""

    WEIGHTS = np.random.default_rng(3).integers(0, 4, size=X.shape[0]).astype(float)

    @pytest.mark.chunked
    def test_integer_weights_are_rows_repeated(self, backend_case):
        repeated = np.repeat(X, self.WEIGHTS.astype(int), axis=0)
        labels = np.repeat(Y, self.WEIGHTS.astype(int))
        spec = None if backend_case.name == "dask" else backend_case.spec
        weighted = net(standardize=True, backend=spec).fit(backend_case.asarray(X), Y, sample_weight=self.WEIGHTS)
        reference = net(standardize=True, backend=spec).fit(backend_case.asarray(repeated), labels)
        _close(weighted.feature_mean_, repeated.mean(axis=0), backend_case, exact=1e-10)
        _close(weighted.feature_scale_, repeated.std(axis=0), backend_case, exact=1e-10)
        for key in reference.params_:
            _close(weighted.params_[key], reference.params_[key], backend_case, exact=1e-10)

    def test_equals_scikit_learn_s_weighted_scaler(self):
        preprocessing = pytest.importorskip("sklearn.preprocessing")
        scaler = preprocessing.StandardScaler().fit(X, sample_weight=self.WEIGHTS)
        model = net(standardize=True, backend="numpy").fit(X, Y, sample_weight=self.WEIGHTS)
        np.testing.assert_allclose(model.feature_mean_, scaler.mean_, rtol=1e-12)
        np.testing.assert_allclose(model.feature_scale_, scaler.scale_, rtol=1e-12)

    def test_class_weights_weigh_the_cost_not_the_statistics(self):
        plain = net(standardize=True, backend="numpy").fit(X, Y)
        balanced = net(standardize=True, class_weight="balanced", backend="numpy").fit(X, Y)
        np.testing.assert_array_equal(balanced.feature_mean_, plain.feature_mean_)
        np.testing.assert_array_equal(balanced.feature_scale_, plain.feature_scale_)

    def test_huge_weights_and_a_column_constant_among_weighted_rows(self):
        Xc = X.copy()
        weights = np.where(np.arange(X.shape[0]) < 10, 0.0, 1e308)
        Xc[10:, 1] = 7.0  # constant where the weight is not 0
        model = net(standardize=True, backend="numpy").fit(Xc, Y, sample_weight=weights)
        np.testing.assert_allclose(model.feature_mean_, Xc[10:].mean(axis=0), rtol=1e-12)
        assert model.feature_scale_[1] == 1.0 and np.isfinite(model.feature_scale_).all()

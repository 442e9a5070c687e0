import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import LogisticRegression, TwoLayerNet, optim, persistence

RNG = np.random.default_rng(0)
X = RNG.normal(size=(50, 3))
y = (X[:, 0] - X[:, 1] > 0).astype(int)


@pytest.fixture
def fitted():
    return TwoLayerNet(3, max_iter=50, learning_rate=0.5, random_state=0, backend="numpy").fit(X, y)


class TestSaveLoad:
    def test_round_trip_on_every_backend(self, backend_case, tmp_path):
        model = TwoLayerNet(3, max_iter=30, random_state=0).fit(backend_case.asarray(X), backend_case.asarray(y))
        path = model.save(tmp_path / "model.npz", metadata={"note": "hello"})
        loaded = nc.load(path)
        assert loaded.backend_ == "numpy" and loaded.trained_on_ == str(backend_case.backend)
        assert loaded.metadata_ == {"note": "hello"}
        assert loaded.get_params() == model.get_params()
        assert loaded.n_iter_ == 30 and loaded.loss_curve_ == model.loss_curve_
        for key, value in model.params_.items():
            np.testing.assert_array_equal(loaded.params_[key], backend_case.to_numpy(value))
            assert loaded.params_[key].dtype == np.dtype(backend_case.dtype)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))

    def test_load_onto_a_backend(self, backend_case, fitted, tmp_path):
        fitted.save(tmp_path / "m.npz")
        loaded = nc.load(tmp_path / "m.npz", backend=backend_case.spec)
        for value in loaded.params_.values():
            assert nc.device.backend_of(value).name == backend_case.name
        np.testing.assert_allclose(loaded.predict_proba(X), fitted.predict_proba(X), rtol=1e-12)

    @pytest.mark.parametrize("labels", [np.asarray(["cat", "dog"]), np.asarray([True, False]), np.asarray([-1.0, 1.0])])
    def test_label_types(self, labels, tmp_path):
        model = LogisticRegression(max_iter=5, backend="numpy").fit(X, labels[y])
        loaded = nc.load(model.save(tmp_path / "m.npz"))
        np.testing.assert_array_equal(loaded.classes_, model.classes_)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))

    def test_multiclass(self, tmp_path):
        labels = np.asarray(["a", "b", "c"])[np.arange(50) % 3]
        model = LogisticRegression(solver="lbfgs", alpha=0.1, backend="numpy").fit(X, labels)
        loaded = nc.load(model.save(tmp_path / "m.npz"))
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))

    def test_file_holds_no_pickle(self, fitted, tmp_path):
        fitted.save(tmp_path / "m.npz")
        with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
            assert {a.dtype.kind for a in (archive[n] for n in archive.files)} <= set("biufU")

    def test_unsaved_hyperparameters_are_reported(self, tmp_path):
        model = TwoLayerNet(3, optimizer=optim.adam(0.01), max_iter=3, backend="numpy").fit(X, y)
        model.save(tmp_path / "m.npz")
        document = _document(tmp_path / "m.npz")
        assert "optimizer" in document["unsaved_hyperparameters"]
        assert nc.load(tmp_path / "m.npz").optimizer == "gd"  # back to the default

    def test_unfitted_model(self, tmp_path):
        with pytest.raises(nc.NotFittedError):
            TwoLayerNet().save(tmp_path / "m.npz")

    def test_missing_folder(self, fitted, tmp_path):
        with pytest.raises(FileNotFoundError, match="folder .* does not exist"):
            fitted.save(tmp_path / "nope" / "m.npz")

    def test_pickle_still_works(self, fitted):
        clone = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(clone.predict(X), fitted.predict(X))


class TestAtomicSave:
    def test_interrupted_save_keeps_the_old_file(self, fitted, tmp_path, monkeypatch):
        path = tmp_path / "m.npz"
        fitted.save(path)
        before = path.read_bytes()

        def broken(*args, **kwargs):
            raise KeyboardInterrupt("power cut")

        monkeypatch.setattr(persistence.np, "savez", broken)
        with pytest.raises(KeyboardInterrupt):
            fitted.save(path)
        assert path.read_bytes() == before
        assert os.listdir(tmp_path) == ["m.npz"]  # no temporary file left behind


def _document(path):
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(archive["metadata"].tobytes())


def _rewrite(path, change):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    document = json.loads(arrays["metadata"].tobytes())
    change(arrays, document)
    arrays["metadata"] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


class TestBadFiles:
    def test_missing(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="no such model file"):
            nc.load(tmp_path / "none.npz")

    def test_truncated(self, fitted, tmp_path):
        path = tmp_path / "m.npz"
        fitted.save(path)
        path.write_bytes(path.read_bytes()[:200])
        with pytest.raises(ValueError, match="not a neuralcore model file"):
            nc.load(path)

    def test_random_bytes(self, tmp_path):
        path = tmp_path / "m.npz"
        path.write_bytes(np.random.default_rng(0).bytes(3000))
        with pytest.raises(ValueError, match="not a neuralcore model file"):
            nc.load(path)

    def test_other_npz(self, tmp_path):
        np.savez(tmp_path / "data.npz", X=X, y=y)
        with pytest.raises(ValueError, match="no metadata"):
            nc.load(tmp_path / "data.npz")

    def test_newer_version(self, fitted, tmp_path):
        path = tmp_path / "m.npz"
        fitted.save(path)
        _rewrite(path, lambda arrays, doc: doc.update(format_version=99, neuralcore_version="9.0"))
        with pytest.raises(ValueError, match=r"written by a newer neuralcore \(9.0, model format 99\).*upgrade"):
            nc.load(path)

    def test_shape_mismatch(self, fitted, tmp_path):
        path = tmp_path / "m.npz"
        fitted.save(path)
        _rewrite(path, lambda arrays, doc: arrays.update({"param.W1": np.zeros((2, 3))}))
        with pytest.raises(ValueError, match=r"parameter 'W1' has shape \(2, 3\), the metadata says \(3, 3\)"):
            nc.load(path)

    def test_corrupted_metadata(self, fitted, tmp_path):
        path = tmp_path / "m.npz"
        fitted.save(path)
        with np.load(path) as archive:
            arrays = {n: archive[n] for n in archive.files}
        arrays["metadata"] = arrays["metadata"][:-10]
        np.savez(path, **arrays)
        with pytest.raises(ValueError, match="metadata is corrupted"):
            nc.load(path)

    def test_pickled_arrays_are_refused(self, tmp_path):
        path = tmp_path / "m.npz"
        np.savez(path, metadata=np.asarray([{"x": 1}], dtype=object))
        with pytest.raises(ValueError, match="not a neuralcore model file"):
            nc.load(path)

    def test_not_a_zip(self, tmp_path):
        path = tmp_path / "m.npz"
        path.write_text("hello")
        with pytest.raises(ValueError, match="not a neuralcore model file"):
            nc.load(path)
        assert not zipfile.is_zipfile(path)

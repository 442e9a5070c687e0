import numpy as np
import pytest

from neuralcore.loaders import flatten_images, load_hdf5

h5py = pytest.importorskip("h5py")


def write(path, **datasets):
    with h5py.File(path, "w") as f:
        for name, value in datasets.items():
            f[name] = value
    return path


class TestLoadHdf5:
    def test_auto_detects_the_pair(self, tmp_path):
        images = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
        path = write(tmp_path / "d.h5", train_set_x=images, train_set_y=np.asarray([0, 1]), list_classes=np.asarray([b"a", b"b"]))
        X, y = load_hdf5(path)
        np.testing.assert_array_equal(X, images)
        assert y.tolist() == [0, 1]

    def test_explicit_keys_and_row_vector_labels(self, tmp_path):
        path = write(tmp_path / "d.h5", images=np.zeros((3, 2)), labels=np.asarray([[0, 1, 1]]))
        X, y = load_hdf5(path, x_key="images", y_key="labels")
        assert X.shape == (3, 2) and y.tolist() == [0, 1, 1]

    def test_missing_file(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="no such file"):
            load_hdf5(tmp_path / "nope.h5")

    def test_not_hdf5(self, tmp_path):
        path = tmp_path / "bad.h5"
        path.write_bytes(b"not an hdf5 file at all")
        with pytest.raises(ValueError, match="is not a readable HDF5 file"):
            load_hdf5(path)

    def test_no_pair(self, tmp_path):
        path = write(tmp_path / "d.h5", images=np.zeros((3, 2)), labels=np.zeros(3))
        with pytest.raises(ValueError, match=r"found no '<name>_x'/'<name>_y' dataset pairs among \['images', 'labels'\]"):
            load_hdf5(path)

    def test_ambiguous_pairs(self, tmp_path):
        path = write(tmp_path / "d.h5", a_x=np.zeros((1, 1)), a_y=np.zeros(1), b_x=np.zeros((1, 1)), b_y=np.zeros(1))
        with pytest.raises(ValueError, match="found 2"):
            load_hdf5(path)

    def test_wrong_key(self, tmp_path):
        path = write(tmp_path / "d.h5", a_x=np.zeros((1, 1)), a_y=np.zeros(1))
        with pytest.raises(ValueError, match=r"has no dataset 'images'; it has \['a_x', 'a_y'\]"):
            load_hdf5(path, x_key="images", y_key="a_y")

    def test_length_mismatch(self, tmp_path):
        path = write(tmp_path / "d.h5", a_x=np.zeros((3, 1)), a_y=np.zeros(2))
        with pytest.raises(ValueError, match="'a_x' has 3 samples but 'a_y' has 2"):
            load_hdf5(path)


class TestFlattenImages:
    def test_uint8_scaled(self):
        images = np.full((2, 2, 2, 3), 255, dtype=np.uint8)
        flat = flatten_images(images)
        assert flat.shape == (2, 12) and flat.max() == 1.0 and flat.dtype == np.float64
        assert images.max() == 255  # not modified

    def test_float_kept(self):
        images = np.full((2, 2, 2), 0.5, dtype=np.float32)
        assert flatten_images(images).dtype == np.float32

    def test_needs_samples_axis(self):
        with pytest.raises(ValueError, match="expected an array of images"):
            flatten_images(np.zeros(3))

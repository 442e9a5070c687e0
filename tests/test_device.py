import logging
import os
import sys
import types

import numpy as np
import pytest

import neuralcore
from neuralcore import device as nc_device
from neuralcore.device import BackendUnavailableError


@pytest.fixture
def fresh_status():
    """Forget cached backend probes before and after a test that fakes a library."""
    nc_device.backend_status.cache_clear()
    nc_device._auto_reported = False
    yield
    nc_device.backend_status.cache_clear()
    nc_device._auto_reported = False


def _fake_cupy(count_error=None, count=0):
    cupy = types.ModuleType("cupy")
    cupy.__version__ = "99.0-fake"
    cupy.ndarray = type("ndarray", (), {})  # array_api_compat looks this up in sys.modules

    def get_device_count():
        if count_error is not None:
            raise count_error
        return count

    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count))
    return cupy


def _hide_cupy(monkeypatch):
    real_import = nc_device._import

    def fake_import(name):
        if name == "cupy":
            raise ImportError("No module named 'cupy'")
        return real_import(name)

    monkeypatch.setattr(nc_device, "_import", fake_import)


class TestAvailableBackends:
    def test_numpy_always(self):
        assert neuralcore.available_backends()[0] == "numpy"

    def test_only_usable_names(self):
        for name in neuralcore.available_backends():
            assert name in nc_device.KNOWN_BACKENDS
            assert nc_device.backend_status(name)[0]

    def test_cupy_without_driver_is_not_available(self, monkeypatch, fresh_status):
        monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient")))
        assert "cupy" not in neuralcore.available_backends()
        usable, reason = nc_device.backend_status("cupy")
        assert not usable and "cudaErrorInsufficientDriver" in reason

    def test_cupy_without_device_is_not_available(self, monkeypatch, fresh_status):
        monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(count=0))
        usable, reason = nc_device.backend_status("cupy")
        assert not usable and "no CUDA device" in reason

    def test_cupy_not_installed(self, monkeypatch, fresh_status):
        _hide_cupy(monkeypatch)
        usable, reason = nc_device.backend_status("cupy")
        assert not usable and "not installed" in reason and "cuda12" in reason

    def test_unknown_name(self):
        with pytest.raises(ValueError, match="unknown backend 'tensorflow'"):
            nc_device.backend_status("tensorflow")


class TestResolveBackend:
    def test_argument(self):
        backend = nc_device.resolve_backend("numpy")
        assert backend.name == "numpy" and backend.device == "cpu"

    def test_environment_variable(self, monkeypatch):
        monkeypatch.setenv(nc_device.ENV_VAR, "numpy")
        assert nc_device.resolve_backend().name == "numpy"

    def test_argument_beats_environment(self, monkeypatch):
        monkeypatch.setenv(nc_device.ENV_VAR, "not-a-backend")
        assert nc_device.resolve_backend("numpy").name == "numpy"

    def test_environment_error_names_the_variable(self, monkeypatch):
        monkeypatch.setenv(nc_device.ENV_VAR, "tensorflow")
        with pytest.raises(ValueError, match="NEURALCORE_BACKEND='tensorflow'.*valid names: auto, numpy"):
            nc_device.resolve_backend()

    def test_unknown_lists_valid_names(self):
        with pytest.raises(ValueError, match="unknown backend 'mxnet'.*valid names: auto, numpy, cupy"):
            nc_device.resolve_backend("mxnet")

    def test_not_a_string(self):
        with pytest.raises(TypeError, match="backend must be a string"):
            nc_device.resolve_backend(3)

    def test_auto_falls_back_to_numpy_and_says_why_once(self, monkeypatch, fresh_status, caplog):
        monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(RuntimeError("no driver here")))
        with caplog.at_level(logging.INFO, logger="neuralcore"):
            assert nc_device.resolve_backend("auto").name == "numpy"
            assert nc_device.resolve_backend(None).name == "numpy"
        messages = [r.getMessage() for r in caplog.records if "auto" in r.getMessage()]
        assert len(messages) == 1 and "no driver here" in messages[0]

    def test_explicit_cupy_without_gpu_raises_with_reason(self, monkeypatch, fresh_status):
        monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")))
        with pytest.raises(BackendUnavailableError, match="'cupy'.*not usable.*cudaErrorNoDevice"):
            nc_device.resolve_backend("cupy")

    def test_explicit_cupy_not_installed(self, monkeypatch, fresh_status):
        _hide_cupy(monkeypatch)
        with pytest.raises(BackendUnavailableError, match="not installed"):
            nc_device.resolve_backend("cupy:0")

    def test_estimator_with_auto_trains_on_numpy_without_gpu(self, monkeypatch, fresh_status):
        monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(RuntimeError("no driver")))
        model = neuralcore.LogisticRegression(max_iter=5).fit([[0.0], [1.0]], [0, 1])
        assert model.backend_ == "numpy"
        with pytest.raises(BackendUnavailableError):
            neuralcore.LogisticRegression(max_iter=5, backend="cupy").fit([[0.0], [1.0]], [0, 1])

    def test_numpy_rejects_other_devices(self):
        with pytest.raises(ValueError, match="only the 'cpu' device"):
            nc_device.resolve_backend("numpy:gpu")

    def test_auto_takes_no_device(self):
        with pytest.raises(ValueError, match="'auto' takes no device"):
            nc_device.resolve_backend("auto:1")

    def test_array_api_strict_device_qualified(self):
        pytest.importorskip("array_api_strict")
        backend = nc_device.resolve_backend("array_api_strict:device1")
        assert str(backend) == "array_api_strict:device1"
        with pytest.raises(ValueError, match="no device 'device9'"):
            nc_device.resolve_backend("array_api_strict:device9")

    def test_torch_device_qualified(self):
        pytest.importorskip("torch")
        assert str(nc_device.resolve_backend("torch:cpu")) == "torch:cpu"


@pytest.mark.cupy_no_gpu
def test_real_cupy_installed_without_gpu(fresh_status):
    """The real thing: CuPy is installed (CI installs it) on a machine with no usable GPU."""
    try:
        import cupy  # noqa: F401
    except ImportError:
        if os.environ.get("NEURALCORE_EXPECT_CUPY_WITHOUT_GPU"):
            pytest.fail("CI installs CuPy to run this test, but it does not import")
        pytest.skip("CuPy is not installed here; CI installs it to run this test")
    usable, reason = nc_device.backend_status("cupy")
    if usable:
        pytest.skip(f"a GPU is usable here ({reason})")
    assert "cupy" not in neuralcore.available_backends()
    assert nc_device.resolve_backend("auto").name == "numpy"
    with pytest.raises(BackendUnavailableError, match="not usable"):
        nc_device.resolve_backend("cupy")
    model = neuralcore.TwoLayerNet(max_iter=3, backend="auto").fit([[0.0], [1.0]], [0, 1])
    assert model.backend_ == "numpy"


class TestGetNamespace:
    def test_device(self, backend_case):
        x = backend_case.asarray(np.ones((2, 2)))
        xp, device = nc_device.get_namespace(x, None, x)
        assert str(nc_device.Backend(backend_case.name, xp, device)) == str(backend_case.backend)

    def test_xp(self, backend_case):
        xp, _ = nc_device.get_namespace(backend_case.asarray(np.ones(2)))
        assert xp is backend_case.xp

    def test_mixed_libraries(self, backend_case):
        other = "array_api_strict" if backend_case.name == "numpy" else "numpy"
        y = nc_device.to_backend(np.ones(2), other)
        with pytest.raises(ValueError, match=f"X is a {backend_case.name} array but y is a {other} array"):
            nc_device.get_namespace(backend_case.asarray(np.ones(2)), y, names=("X", "y"))

    def test_mixed_devices(self):
        strict = pytest.importorskip("array_api_strict")
        a = strict.asarray([1.0])
        b = strict.asarray([1.0], device=strict.Device("device1"))
        with pytest.raises(ValueError, match="X is on device CPU_DEVICE but y is on device device1"):
            nc_device.get_namespace(a, b, names=("X", "y"))


class TestTransfer:
    def test_round_trip(self, backend_case):
        host = np.arange(6.0).reshape(2, 3)
        x = backend_case.asarray(host)
        backend_case.assert_on_case(x)
        np.testing.assert_array_equal(nc_device.to_numpy(x), host)

    def test_already_there_is_not_copied(self, backend_case):
        x = backend_case.asarray(np.ones(3))
        assert nc_device.to_backend(x, backend_case.backend) is x

    def test_read_only_input(self, backend_case):
        host = np.arange(4.0)
        host.flags.writeable = False
        x = nc_device.to_backend(host, backend_case.backend, dtype=backend_case.dtype)
        np.testing.assert_array_equal(nc_device.to_numpy(x), host)

    def test_to_numpy_of_lists(self):
        np.testing.assert_array_equal(nc_device.to_numpy([[1, 2]]), np.asarray([[1, 2]]))

    def test_between_backends(self, backend_case):
        x = backend_case.asarray(np.arange(3.0))
        y = nc_device.to_backend(x, "numpy")
        assert isinstance(y, np.ndarray)
        np.testing.assert_array_equal(y, [0.0, 1.0, 2.0])

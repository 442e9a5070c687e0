"""The Python side of ``neuralcore/_cuda.py`` and of the kernels switch, without a GPU.

A fake ``cupy`` module (streams, allocations, device synchronization, kernels that are plain
callables) stands in for the real one, so that the buffer selection, the failure bookkeeping and
the once-per-fit reading of ``NEURALCORE_KERNELS`` are tested on every machine. The same
behaviour on a real GPU is tested in ``tests/test_kernels.py`` (class ``TestOnGPU``).
"""

import sys
import threading
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from neuralcore import _cuda, device
from neuralcore import kernels as kernel_door


class FakeCupy:
    """What ``_cuda`` uses of CuPy: a per-thread current stream and device, ``empty``, synchronization."""

    def __init__(self, device_id=0, sync_error=None):
        self._local = threading.local()
        self.device_id = device_id
        self.sync_error = sync_error
        self.syncs = 0
        self.allocations = []
        me = self
        self.cuda = SimpleNamespace(
            get_current_stream=lambda: SimpleNamespace(ptr=getattr(me._local, "stream", 0)),
            runtime=SimpleNamespace(getDevice=lambda: me.device_id, deviceSynchronize=me._sync),
        )

    def _sync(self):
        self.syncs += 1
        if self.sync_error is not None:
            raise self.sync_error

    def use_stream(self, ptr):
        self._local.stream = ptr

    def empty(self, shape, dtype):
        array = np.zeros(shape, dtype)
        self.allocations.append(array)
        return array


def fake_array(shape, dtype="float64", device_id=0):
    host = np.zeros(shape, dtype)
    return SimpleNamespace(
        dtype=host.dtype, ndim=host.ndim, shape=host.shape, strides=host.strides,
        flags=SimpleNamespace(c_contiguous=True), device=SimpleNamespace(id=device_id),
    )


@pytest.fixture
def fake(monkeypatch):
    cupy = FakeCupy()
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setattr(_cuda, "_FAILED", {})
    monkeypatch.setattr(_cuda, "_WORKED", set())
    calls = []

    def kernel(grid, block, args):
        calls.append((threading.current_thread().name, grid, args))  # args keep the arrays alive

    monkeypatch.setattr(_cuda, "_functions", lambda *key: (kernel, kernel, 7))
    cupy.calls = calls
    return cupy


def kernels(f=5, device_id=0):
    return _cuda.LogisticKernels("float64", f, device_id, None, None)


def partials_of(launch):
    return launch[3][2]  # tail = (n, f, partials)


class TestScratchBuffers:
    def test_reused_by_the_steps_of_one_thread_on_one_stream(self, fake):
        step = kernels()
        X, Y = fake_array((100, 5)), fake_array((100, 1))
        first = step._launch_data(X, Y, 0.0)
        assert first is not None and step._launch_data(X, Y, 0.0) is first
        assert partials_of(first).shape == (min(7, -(-100 // (step._block_rows * _cuda.MIN_ROW_GROUPS))), 5 + 2)
        fake.use_stream(12345)  # another stream: another buffer
        other = step._launch_data(X, Y, 0.0)
        assert partials_of(other) is not partials_of(first)
        assert partials_of(step._launch_data(X, Y, 0.5)) is not partials_of(other)  # another alpha: new launch data

    def test_two_threads_never_share_a_buffer(self, fake):
        """Two threads on one compiled step (on the same stream, the default) get their own buffers: with one
        buffer, one thread's partial sums would be read by the other's second kernel."""
        step = kernels()
        X, Y = fake_array((100, 5)), fake_array((100, 1))
        barrier = threading.Barrier(2)
        got = {}

        def work(name):
            barrier.wait()
            first = step._launch_data(X, Y, 0.0)
            barrier.wait()  # both have launch data before either asks again
            got[name] = (first, step._launch_data(X, Y, 0.0))

        threads = [threading.Thread(target=work, args=(name,)) for name in "ab"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        (a1, a2), (b1, b2) = got["a"], got["b"]
        assert a1 is a2 and b1 is b2  # each thread keeps its own
        assert partials_of(a1) is not partials_of(b1)

    def test_two_threads_stepping_launch_with_their_own_buffers(self, fake):
        step = kernels()
        X, Y = fake_array((100, 5)), fake_array((100, 1))
        params = {"W": fake_array((5, 1)), "b": fake_array((1,))}
        barrier = threading.Barrier(2)

        def work():
            for _ in range(2):
                barrier.wait()
                assert step._call(params, X, Y, 0.0, 0.1, 1) is not None

        threads = [threading.Thread(target=work, name=name) for name in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        by_thread = {}
        for name, _, args in fake.calls:  # the buffer of partial sums: (blocks, f + 2)
            by_thread.setdefault(name, set()).update(
                id(a) for a in args if isinstance(a, np.ndarray) and a.ndim == 2 and a.shape[1] == 7
            )
        assert len(by_thread) == 2
        first, second = by_thread.values()
        assert len(first) == 1 and len(second) == 1 and not first & second  # one buffer each, never shared
        assert len(fake.calls) == 8


class TestFailures:
    def test_a_failure_gives_up_the_kernel_on_that_gpu_only(self, fake, monkeypatch):
        def broken(grid, block, args):
            raise RuntimeError("no kernel image for this GPU")

        monkeypatch.setattr(_cuda, "_functions", lambda *key: (broken, broken, 7))
        params = {"W": fake_array((5, 1)), "b": fake_array((1,))}
        X, Y = fake_array((100, 5)), fake_array((100, 1))
        with pytest.warns(_cuda.KernelFallbackWarning, match="failed on GPU 0 .*no kernel image"):
            assert kernels()._call(params, X, Y, 0.0, 0.1, 1) is None
        name = "nc_logistic_partials<double,1,4,8>"
        assert set(_cuda._FAILED) == {(name, 0)}
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # given up on GPU 0: not tried, not warned again
            assert kernels()._call(params, X, Y, 0.0, 0.1, 1) is None
        # GPU 1 still tries (and warns for itself)
        fake.device_id = 1
        on_one = {"W": fake_array((5, 1), device_id=1), "b": fake_array((1,), device_id=1)}
        with pytest.warns(_cuda.KernelFallbackWarning, match="failed on GPU 1"):
            kernels(device_id=1)._call(on_one, fake_array((100, 5), device_id=1), fake_array((100, 1), device_id=1),
                                       0.0, 0.1, 1)
        assert set(_cuda._FAILED) == {(name, 0), (name, 1)}

    def test_an_earlier_error_is_not_blamed_on_the_kernel(self, fake):
        """An error left on the device by earlier asynchronous work surfaces at the synchronization before the
        first launch, as itself: the kernel is not given up."""
        fake.sync_error = RuntimeError("cudaErrorIllegalAddress from an earlier launch")
        params = {"W": fake_array((5, 1)), "b": fake_array((1,))}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(RuntimeError, match="earlier launch"):
                kernels()._call(params, fake_array((100, 5)), fake_array((100, 1)), 0.0, 0.1, 1)
        assert _cuda._FAILED == {} and fake.calls == []

    def test_an_earlier_error_is_not_blamed_on_the_compilation(self, fake, monkeypatch):
        def compile_fails(*key):
            raise RuntimeError("module load failed")

        monkeypatch.setattr(_cuda, "_functions", compile_fails)
        params = {"W": fake_array((5, 1)), "b": fake_array((1,))}
        fake.sync_error = RuntimeError("sticky error from an earlier launch")
        with pytest.raises(RuntimeError, match="sticky"):
            kernels()._call(params, fake_array((100, 5)), fake_array((100, 1)), 0.0, 0.1, 1)
        assert _cuda._FAILED == {}
        fake.sync_error = None  # a healthy device: the compilation's own failure gives the kernel up
        with pytest.warns(_cuda.KernelFallbackWarning, match="module load failed"):
            assert kernels()._call(params, fake_array((100, 5)), fake_array((100, 1)), 0.0, 0.1, 1) is None
        assert list(_cuda._FAILED) == [("nc_logistic_partials<double,1,4,8>", 0)]

    def test_the_synchronization_is_for_the_first_launch_only(self, fake):
        step = kernels()
        params = {"W": fake_array((5, 1)), "b": fake_array((1,))}
        X, Y = fake_array((100, 5)), fake_array((100, 1))
        for _ in range(3):
            assert step._call(params, X, Y, 0.0, 0.1, 1) is not None
        assert fake.syncs == 1 and len(fake.calls) == 6

    def test_elementwise_failures_are_per_gpu_and_earlier_errors_propagate(self, fake, monkeypatch):
        def broken(*args):
            raise RuntimeError("NVRTC missing")

        monkeypatch.setattr(_cuda, "_elementwise", lambda name: broken)
        monkeypatch.setattr(_cuda, "_on_device", lambda x, function, *args: function(*args))
        x0, x1 = fake_array((3,)), fake_array((3,), device_id=1)
        with pytest.warns(_cuda.KernelFallbackWarning, match="failed on GPU 0"):
            assert _cuda._elementwise_call("descend", x0, 1) is None
        with pytest.warns(_cuda.KernelFallbackWarning, match="failed on GPU 1"):
            assert _cuda._elementwise_call("descend", x1, 1) is None
        assert set(_cuda._FAILED) == {("descend", 0), ("descend", 1)}
        monkeypatch.setattr(_cuda, "_FAILED", {})
        fake.sync_error = RuntimeError("sticky")
        with pytest.raises(RuntimeError, match="sticky"):
            _cuda._elementwise_call("descend", x0, 1)
        assert _cuda._FAILED == {}

    def test_warns_once(self, monkeypatch):
        monkeypatch.setattr(_cuda, "_FAILED", {})
        with pytest.warns(_cuda.KernelFallbackWarning, match="CUDA kernel demo failed on GPU 0 .*RuntimeError: no NVRTC"):
            _cuda._give_up("demo", 0, RuntimeError("no NVRTC"))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _cuda._give_up("demo", 0, RuntimeError("no NVRTC"))  # already known: silent
        assert ("demo", 0) in _cuda._FAILED


class TestSwitchReadOncePerFit:
    def test_per_step_calls_use_the_setting_read_at_the_start_of_the_fit(self, monkeypatch):
        """The kernel door runs at every step: it must not read the environment (here a value that is not
        valid would raise if it did), only the setting ``kernel_door.enabled`` read when the fit started."""
        ran = []
        monkeypatch.setattr(kernel_door.aac, "is_cupy_array", lambda x: True)
        monkeypatch.setattr(_cuda, "descend", lambda *args: ran.append(args) or "ran")
        monkeypatch.setenv(kernel_door.ENV_VAR, "auto")
        assert kernel_door.enabled()
        monkeypatch.setenv(kernel_door.ENV_VAR, "fast")
        assert kernel_door.descend(1, 2, -0.5) == "ran"
        monkeypatch.setenv(kernel_door.ENV_VAR, "off")
        assert kernel_door.descend(1, 2, -0.5) == "ran"  # not re-read: still the fit's setting
        assert not kernel_door.enabled()  # the next fit reads it
        assert kernel_door.descend(1, 2, -0.5) is None
        assert len(ran) == 2

    def test_a_fit_reads_the_setting_again(self, monkeypatch):
        from neuralcore import LogisticRegression

        monkeypatch.setenv(kernel_door.ENV_VAR, "off")
        LogisticRegression(max_iter=2).fit(np.eye(4, 2), [0, 1, 0, 1])
        assert kernel_door._setting() is False
        monkeypatch.setenv(kernel_door.ENV_VAR, "auto")
        LogisticRegression(max_iter=2).fit(np.eye(4, 2), [0, 1, 0, 1])
        assert kernel_door._setting() is True
        monkeypatch.setenv(kernel_door.ENV_VAR, "fast")
        with pytest.raises(ValueError, match="NEURALCORE_KERNELS='fast' is not valid"):
            LogisticRegression(max_iter=2).fit(np.eye(4, 2), [0, 1, 0, 1])

"""One fixture, ``backend_case``, turns a test into a test on every available backend.

Cases: NumPy (float64, float32); array-api-strict on its default device
(float64) and on its fake second device ``device1`` (float32), which catches
any array created without ``device=`` (what a GPU would show); PyTorch on the
CPU when installed; CuPy (float64, float32) when a CUDA device is usable.

``NEURALCORE_TEST_BACKENDS=numpy,array_api_strict`` selects a subset (names or
case ids, comma-separated); naming a backend that is not usable is an error,
not a silent skip.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest

from neuralcore import device as nc_device
from neuralcore import kernels


@dataclass(frozen=True)
class BackendCase:
    """A backend, a device on it and a working dtype, with test helpers."""

    id: str
    name: str
    device: str | None
    dtype: str

    @property
    def spec(self) -> str:
        """What to pass as ``backend=``."""
        return self.name if self.device is None else f"{self.name}:{self.device}"

    @property
    def backend(self):
        return nc_device.resolve_backend(self.spec)

    @property
    def xp(self):
        return self.backend.xp

    def asarray(self, host, dtype: str | None = None):
        """Put host data on this case's backend and device; floating data in the case's dtype."""
        host = np.asarray(host)
        if dtype is None and host.dtype.kind == "f":
            dtype = self.dtype
        return nc_device.to_backend(host, self.backend, dtype=dtype)

    def to_numpy(self, x):
        return nc_device.to_numpy(x)

    def assert_on_case(self, x):
        """``x`` is an array of this case's library, on its device, in its dtype."""
        here = nc_device.backend_of(x)
        assert here.name == self.name, f"array is on {here.name}, expected {self.name}"
        assert str(here) == str(self.backend), f"array is on {here}, expected {self.backend}"
        assert nc_device.to_numpy_dtype(x.dtype).name == self.dtype, f"dtype {x.dtype}, expected {self.dtype}"

    @property
    def rtol(self) -> float:
        """Tolerance for one pass of arithmetic compared with a float64 NumPy reference."""
        return 1e-10 if self.dtype == "float64" else 2e-5

    @property
    def has_kernels(self) -> bool:
        """Whether neuralcore's compiled kernels serve this case (CuPy, with NEURALCORE_KERNELS on)."""
        return self.name == "cupy"

    @property
    def other_spec(self) -> str:
        """A backend spec on another library or device than this case's (arrays there are never host data)."""
        if self.name == "array_api_strict":
            return "array_api_strict" if self.device else "array_api_strict:device1"
        return "array_api_strict:device1"

    @property
    def default_float(self) -> str:
        """The backend's default floating dtype (float64 for NumPy/CuPy, torch's default for PyTorch)."""
        if self.name == "torch":
            import torch

            return str(torch.get_default_dtype()).rsplit(".", 1)[-1]
        return "float64"

    def elsewhere(self, host):
        """``host`` as an array that is not host data (not NumPy): on this case's placement, or, for the
        NumPy cases, on array-api-strict's second device."""
        if self.name == "numpy":
            return nc_device.to_backend(host, self.other_spec)
        return self.asarray(host)


@dataclass(frozen=True)
class ChunkedCase(BackendCase):
    """A Dask array split in four row chunks: the model trains with host parameters on lazy data."""

    @property
    def spec(self) -> str:
        return "dask"

    def asarray(self, host, dtype: str | None = None):
        import dask.array as da

        host = np.asarray(host)
        if dtype is None and host.dtype.kind == "f":
            dtype = self.dtype
        if dtype is not None:
            host = host.astype(dtype)
        rows = max(1, -(-host.shape[0] // 4))
        return da.from_array(host, chunks=(rows,) + host.shape[1:])

    def to_numpy(self, x):
        return nc_device.to_numpy(x)

    def assert_on_case(self, x):
        assert nc_device.is_chunked(x), f"expected a Dask array, got {type(x).__name__}"
        assert np.dtype(x.dtype).name == self.dtype

    @property
    def rtol(self) -> float:
        return 1e-10 if self.dtype == "float64" else 2e-5


CHUNKED_CASES = (ChunkedCase("dask-float64", "dask", None, "float64"), ChunkedCase("dask-float32", "dask", None, "float32"))

ALL_CASES = (
    BackendCase("numpy-float64", "numpy", None, "float64"),
    BackendCase("numpy-float32", "numpy", None, "float32"),
    BackendCase("array_api_strict-float64", "array_api_strict", None, "float64"),
    BackendCase("array_api_strict-device1-float32", "array_api_strict", "device1", "float32"),
    BackendCase("torch-cpu-float64", "torch", "cpu", "float64"),
    BackendCase("torch-cpu-float32", "torch", "cpu", "float32"),
    BackendCase("cupy-float64", "cupy", None, "float64"),
    BackendCase("cupy-float32", "cupy", None, "float32"),
)


def _selected_cases():
    wanted = [w.strip() for w in os.environ.get("NEURALCORE_TEST_BACKENDS", "").split(",") if w.strip()]
    if wanted and all(w.startswith("dask") for w in wanted):
        return []  # only the Dask cases, which join the tests marked chunked
    wanted = [w for w in wanted if not w.startswith("dask")]
    cases = []
    for case in ALL_CASES:
        usable, _ = nc_device.backend_status(case.name)
        chosen = not wanted or case.name in wanted or case.id in wanted
        if chosen and usable:
            cases.append(case)
    for want in wanted:
        matches = [c for c in ALL_CASES if want in (c.name, c.id)]
        if not matches:
            raise pytest.UsageError(
                f"NEURALCORE_TEST_BACKENDS names {want!r}; known: {', '.join(c.id for c in ALL_CASES)}"
            )
        usable, reason = nc_device.backend_status(matches[0].name)
        if not usable:
            raise pytest.UsageError(f"NEURALCORE_TEST_BACKENDS asks for {want!r}, which is not usable: {reason}")
    return cases


CASES = _selected_cases()
# Dask joins the tests marked ``chunked``: those whose subject accepts chunked arrays.
_CHUNKED = [c for c in CHUNKED_CASES if nc_device.backend_status("dask")[0] and (
    not os.environ.get("NEURALCORE_TEST_BACKENDS") or "dask" in os.environ["NEURALCORE_TEST_BACKENDS"])]


def pytest_report_header(config):
    lines = [f"neuralcore backend cases: {', '.join(c.id for c in CASES)}; chunked tests also: "
             f"{', '.join(c.id for c in _CHUNKED) or 'none (dask not installed)'}"]
    for name in nc_device.KNOWN_BACKENDS:
        lines.append(f"  {name}: {nc_device.backend_status(name)[1]}")
    return lines


def pytest_generate_tests(metafunc):
    if "backend_case" in metafunc.fixturenames:
        cases = list(CASES)
        if metafunc.definition.get_closest_marker("chunked"):
            cases += _CHUNKED
        metafunc.parametrize("backend_case", cases, ids=[c.id for c in cases])


@pytest.fixture(autouse=True)
def _no_backend_env(monkeypatch):
    """Tests choose their backend explicitly; a developer's NEURALCORE_BACKEND (or
    NEURALCORE_KERNELS) must not leak in."""
    monkeypatch.delenv(nc_device.ENV_VAR, raising=False)
    monkeypatch.delenv(kernels.ENV_VAR, raising=False)
    kernels.enabled()  # and the setting per-step kernel calls use is the default's, not a past test's


@pytest.fixture
def planar():
    from neuralcore.datasets import make_planar

    return make_planar(n_samples=400, random_state=1)

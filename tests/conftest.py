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


def pytest_report_header(config):
    lines = [f"neuralcore backend cases: {', '.join(c.id for c in CASES)}"]
    for name in nc_device.KNOWN_BACKENDS:
        lines.append(f"  {name}: {nc_device.backend_status(name)[1]}")
    return lines


def pytest_generate_tests(metafunc):
    if "backend_case" in metafunc.fixturenames:
        metafunc.parametrize("backend_case", CASES, ids=[c.id for c in CASES])


@pytest.fixture(autouse=True)
def _no_backend_env(monkeypatch):
    """Tests choose their backend explicitly; a developer's NEURALCORE_BACKEND must not leak in."""
    monkeypatch.delenv(nc_device.ENV_VAR, raising=False)


@pytest.fixture
def planar():
    from neuralcore.datasets import make_planar

    return make_planar(n_samples=400, random_state=1)

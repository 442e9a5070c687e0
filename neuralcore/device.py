"""Backends: the only module that knows backend names.

A *backend* is an Array API namespace plus a device on it: ``numpy`` (the CPU),
``cupy`` (a CUDA GPU), or any other library that ``array-api-compat`` supports
(``torch``, ``array_api_strict``, ``jax``, ``dask``). Everything else in
neuralcore receives arrays and asks them for their namespace; only this module
turns a name such as ``"cupy:1"`` into a namespace and a device, decides what
``"auto"`` means on this machine, and moves arrays between libraries.

Selection order: the ``backend=`` argument, else the ``NEURALCORE_BACKEND``
environment variable, else ``"auto"`` (CuPy when a CUDA device is usable,
otherwise NumPy, with one log message saying why it fell back).

The oldest Array API standard the model code runs on is 2023.12 (tested with
array-api-strict in that mode). What a backend cannot honour is an error, never
a silent change: a dtype it cannot hold (:func:`to_backend`), an array with no
way back to the host (:func:`require_host_export`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import os
from dataclasses import dataclass
from typing import Any

import array_api_compat as aac
import numpy as np

__all__ = [
    "ENV_VAR",
    "KNOWN_BACKENDS",
    "Backend",
    "BackendUnavailableError",
    "available_backends",
    "backend_of",
    "backend_status",
    "chunk_rows",
    "compute",
    "delayed",
    "detach",
    "device_context",
    "device_memory",
    "is_chunked",
    "get_namespace",
    "is_host",
    "list_devices",
    "label_array",
    "map_row_chunks",
    "require_host_export",
    "resolve_backend",
    "to_backend",
    "to_numpy",
    "whole_rows",
]

logger = logging.getLogger("neuralcore")

#: Environment variable that selects the backend when no ``backend=`` is given.
ENV_VAR = "NEURALCORE_BACKEND"

#: Backend names neuralcore knows, in the order ``available_backends`` lists them.
KNOWN_BACKENDS = ("numpy", "cupy", "torch", "array_api_strict", "jax", "dask")

_IMPORT_NAMES = {
    "numpy": "numpy",
    "cupy": "cupy",
    "torch": "torch",
    "array_api_strict": "array_api_strict",
    "jax": "jax.numpy",
    "dask": "dask.array",
}

_NAMESPACE_TESTS = (
    ("numpy", aac.is_numpy_namespace),
    ("cupy", aac.is_cupy_namespace),
    ("torch", aac.is_torch_namespace),
    ("array_api_strict", aac.is_array_api_strict_namespace),
    ("jax", aac.is_jax_namespace),
    ("dask", aac.is_dask_namespace),
)


class BackendUnavailableError(RuntimeError):
    """A backend was asked for explicitly but cannot be used on this machine."""


@dataclass(frozen=True)
class Backend:
    """A resolved backend: its name, its Array API namespace and a device.

    Attributes
    ----------
    name : str
        One of :data:`KNOWN_BACKENDS`, or the namespace's module name for an
        Array API library neuralcore does not know by name.
    xp : module
        The Array API (compat) namespace.
    device : object
        The library's device object, passed as ``device=`` when creating arrays.
    """

    name: str
    xp: Any
    device: Any

    def __str__(self) -> str:
        return f"{self.name}:{_device_label(self.name, self.device)}"


# --------------------------------------------------------------------------- status


# the extra that installs a backend, named in the reason it is not usable
_INSTALL_HINTS = {"cupy": " (install neuralcore[cuda12] or neuralcore[cuda13])", "dask": " (install neuralcore[dask])"}


def _import(name: str):
    return importlib.import_module(_IMPORT_NAMES[name])


@functools.lru_cache(maxsize=None)
def backend_status(name: str) -> tuple[bool, str]:
    """Whether backend ``name`` is usable here, and why (or why not).

    Never raises for a known name: a library that is installed but broken, or
    CuPy on a machine without a CUDA driver, reports ``(False, reason)``.

    Examples
    --------
    >>> backend_status("numpy")[0]
    True
    """
    if name not in KNOWN_BACKENDS:
        raise ValueError(f"unknown backend {name!r}; valid names: {', '.join(KNOWN_BACKENDS)}")
    try:
        module = _import(name)
    except ImportError as exc:
        hint = _INSTALL_HINTS.get(name, "")
        return False, f"{name} is not installed{hint}: {exc}"
    except Exception as exc:  # a broken install must not take neuralcore down with it
        return False, f"{name} failed to import: {type(exc).__name__}: {exc}"
    if name != "cupy":
        version = getattr(module, "__version__", None) or getattr(
            importlib.import_module(name.split(".")[0]), "__version__", "?"
        )
        return True, f"{name} {version}"
    return _cupy_status(module)


def _cupy_status(cupy) -> tuple[bool, str]:
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError without a driver, and friends
        return False, f"CuPy {cupy.__version__} is installed but CUDA is not usable: {exc}"
    if count < 1:
        return False, f"CuPy {cupy.__version__} is installed but no CUDA device was found"
    try:
        # Runs a real kernel: catches a missing NVRTC or an incompatible driver,
        # which only show up when the first kernel is compiled.
        float((cupy.arange(3, dtype=cupy.float32) * 2).sum().get())
    except Exception as exc:
        return False, f"CuPy {cupy.__version__} found {count} CUDA device(s) but cannot run on them: {exc}"
    return True, f"CuPy {cupy.__version__}, {count} CUDA device(s)"


def available_backends() -> list[str]:
    """Names of the backends usable on this machine.

    ``"numpy"`` always; ``"cupy"`` only when CuPy imports *and* a CUDA device
    runs a kernel; the other Array API libraries when they import.

    Examples
    --------
    >>> "numpy" in available_backends()
    True
    """
    return [name for name in KNOWN_BACKENDS if backend_status(name)[0]]


# ------------------------------------------------------------------------ selection


def _split_spec(spec: str) -> tuple[str, str | None]:
    name, _, device = spec.strip().partition(":")
    return name.strip().lower(), (device.strip() or None)


_auto_reported = False


def resolve_backend(backend: str | Backend | None = None) -> Backend:
    """Turn a backend name into a :class:`Backend`.

    Parameters
    ----------
    backend : str, Backend or None
        ``"auto"``, a name from :data:`KNOWN_BACKENDS`, or a device-qualified
        name such as ``"cupy:1"``, ``"torch:cuda"`` or
        ``"array_api_strict:device1"``. ``None`` reads ``NEURALCORE_BACKEND``
        and falls back to ``"auto"``.

    Returns
    -------
    Backend

    Raises
    ------
    ValueError
        For a name neuralcore does not know (the message lists the valid ones)
        or a device the backend does not have.
    BackendUnavailableError
        When the backend was named explicitly but is not usable here; the
        message says why (not installed, no CUDA device, the driver's message).

    Examples
    --------
    >>> resolve_backend("numpy").name
    'numpy'
    """
    global _auto_reported
    if isinstance(backend, Backend):
        return backend
    if backend is None:
        backend = os.environ.get(ENV_VAR, "").strip() or "auto"
        source = f"{ENV_VAR}={backend!r}" if backend != "auto" else "default"
    else:
        source = f"backend={backend!r}"
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a string such as 'numpy' or 'cupy:0', got {type(backend).__name__}")
    name, device = _split_spec(backend)
    if name == "auto":
        if device is not None:
            raise ValueError(f"'auto' takes no device, got {backend!r}")
        usable, reason = backend_status("cupy")
        if usable:
            return _make_backend("cupy", None)
        if not _auto_reported:
            logger.info("neuralcore: backend 'auto' is using NumPy on the CPU: %s", reason)
            _auto_reported = True
        return _make_backend("numpy", None)
    if name not in KNOWN_BACKENDS:
        raise ValueError(
            f"unknown backend {name!r} (from {source}); valid names: auto, {', '.join(KNOWN_BACKENDS)}"
        )
    usable, reason = backend_status(name)
    if not usable:
        raise BackendUnavailableError(f"backend {name!r} (from {source}) is not usable: {reason}")
    return _make_backend(name, device)


def _make_backend(name: str, device: str | None) -> Backend:
    module = _import(name)
    xp = aac.array_namespace(_probe_array(name, module))
    return Backend(name, xp, _parse_device(name, module, device, xp))


def _probe_array(name: str, module):
    # array_api_compat maps arrays (not modules) to namespaces: make a tiny one.
    if name in ("cupy", "jax", "dask"):
        return module.zeros(0)
    return module.asarray([0.0])


def _parse_device(name: str, module, device: str | None, xp):
    if name == "numpy" or name == "dask":
        if device not in (None, "cpu"):
            raise ValueError(f"backend {name!r} has only the 'cpu' device, got {device!r}")
        return "cpu"
    if name == "cupy":
        index = 0 if device is None else _int_device(name, device)
        count = module.cuda.runtime.getDeviceCount()
        if not 0 <= index < count:
            raise ValueError(f"CUDA device {index} does not exist; this machine has {count} (0..{count - 1})")
        return module.cuda.Device(index)
    if name == "torch":
        try:
            dev = module.device(device or "cpu")
        except RuntimeError as exc:  # torch's own message names neither the backend nor the argument
            raise ValueError(f"torch has no device {device!r}: {exc}") from None
        if dev.type == "meta":  # shapes without values: training "succeeds" on nothing, reading back fails
            raise ValueError(f"torch's 'meta' device holds no data; choose a device that computes, got {device!r}")
        if dev.type == "cuda" and not module.cuda.is_available():
            raise BackendUnavailableError(f"torch:{device} requested but torch sees no CUDA device")
        # "cuda" and "cuda:0" name one device but compare unequal: use what tensors report
        return module.empty(0, device=dev).device
    if name == "array_api_strict":
        if device is None:
            return xp.__array_namespace_info__().default_device()
        try:
            return module.Device(device)
        except ValueError:
            devices = [_device_label(name, d) for d in xp.__array_namespace_info__().devices()]
            raise ValueError(f"array_api_strict has no device {device!r}; it has {devices}") from None
    if name == "jax":
        import jax

        if device is None:
            return jax.devices()[0]
        platform, _, index = device.partition(":")
        try:
            return jax.devices(platform)[int(index or 0)]
        except (RuntimeError, IndexError, ValueError) as exc:
            raise ValueError(f"jax has no device {device!r}: {exc}") from None
    raise ValueError(f"backend {name!r} takes no device, got {device!r}")  # pragma: no cover


def device_context(backend: str | Backend | None):
    """A context manager that makes ``backend``'s device the current one, where the library has one.

    ``backend`` is a :class:`Backend` or anything :func:`resolve_backend` takes (``"cupy:1"``).

    CuPy computes on the *current* GPU: without this, work on a ``cupy:1``
    model (reductions, read-backs, kernels-off code) would run on device 0,
    reading device 1's memory through peer access. PyTorch on a CUDA device
    likewise. Elsewhere (NumPy, array-api-strict, the CPU) it does nothing.
    Every entry point of the estimators runs inside it.

    Examples
    --------
    >>> with device_context(resolve_backend("numpy")):
    ...     pass
    """
    backend = resolve_backend(backend)
    if backend.name == "cupy":
        return backend.device  # a cupy.cuda.Device is its own context manager
    if backend.name == "torch" and getattr(backend.device, "type", None) == "cuda":
        import torch

        return torch.cuda.device(backend.device)
    return contextlib.nullcontext()


def _int_device(name: str, device: str) -> int:
    try:
        return int(device)
    except ValueError:
        raise ValueError(f"{name} devices are numbered ('{name}:0', '{name}:1'), got {device!r}") from None


def _device_label(name: str, device) -> str:
    if name == "cupy":
        return str(getattr(device, "id", device))
    if name == "array_api_strict":
        text = repr(device)  # array_api_strict.Device('device1')
        return text.split("'")[1] if "'" in text else text
    return str(device)


# ----------------------------------------------------------------------- inspection


def list_devices(name: str) -> list:
    """Human-readable names of the devices backend ``name`` can use here (``neuralcore info``).

    Never raises: a failing device query is reported as one entry.

    Examples
    --------
    >>> list_devices("numpy")
    ['numpy:cpu']
    """
    try:
        if name == "cupy":
            import cupy

            out = []
            for index in range(cupy.cuda.runtime.getDeviceCount()):
                props = cupy.cuda.runtime.getDeviceProperties(index)
                memory = props["totalGlobalMem"] / 2**30
                out.append(f"cupy:{index} {props['name'].decode()} ({memory:.0f} GiB)")
            return out
        if name == "torch":
            import torch

            out = ["torch:cpu"]
            if torch.cuda.is_available():
                out += [f"torch:cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
            return out
        if name == "array_api_strict":
            backend = resolve_backend(name)
            return [f"array_api_strict:{_device_label(name, d)}"
                    for d in backend.xp.__array_namespace_info__().devices()]
    except Exception as exc:  # a device query must not break the report
        return [f"(could not list devices: {exc})"]
    return [f"{name}:cpu"]


def is_host(x) -> bool:
    """True for host data: NumPy arrays, lists, scalars, and anything that is
    not an array of an Array API library (a pandas DataFrame, say)."""
    return aac.is_numpy_array(x) or not aac.is_array_api_obj(x)


def _name_of_namespace(xp) -> str:
    for name, test in _NAMESPACE_TESTS:
        if test(xp):
            return name
    return getattr(xp, "__name__", "unknown")


def backend_of(x) -> Backend:
    """The :class:`Backend` an array lives on (NumPy for host data)."""
    if not aac.is_array_api_obj(x):
        return _make_backend("numpy", None)
    xp = aac.array_namespace(x)
    return Backend(_name_of_namespace(xp), xp, aac.device(x))


def get_namespace(*arrays, names: tuple[str, ...] | None = None):
    """Namespace and device shared by ``arrays`` (``None`` entries are ignored).

    Raises a :class:`ValueError` naming the arguments when they come from two
    libraries or sit on two devices.

    Returns
    -------
    xp : module
    device : object
    """
    names = names or tuple(f"argument {i}" for i in range(len(arrays)))
    found = [(n, backend_of(a)) for n, a in zip(names, arrays) if a is not None]
    if not found:
        raise ValueError("no arrays given")
    first_name, first = found[0]
    for other_name, other in found[1:]:
        if other.name != first.name:
            raise ValueError(
                f"{first_name} is a {first.name} array but {other_name} is a {other.name} array; "
                "pass arrays from one library (see neuralcore.device.to_backend)"
            )
        if not _same_device(first.device, other.device):
            raise ValueError(
                f"{first_name} is on device {_device_label(first.name, first.device)} but {other_name} "
                f"is on device {_device_label(other.name, other.device)}; move them to one device first"
            )
    return first.xp, first.device


def _same_device(a, b) -> bool:
    return a == b or str(a) == str(b)


# ------------------------------------------------------------------------- transfer


def detach(x):
    """``x`` without autograd history (PyTorch tensors that require grad); other arrays as they are.

    Training on a tensor that records gradients would make every update part
    of an ever-growing autograd graph.
    """
    if aac.is_torch_array(x) and x.requires_grad:
        return x.detach()
    return x


def to_numpy(x) -> np.ndarray:
    """Copy (or view) any supported array as a NumPy array on the host.

    Examples
    --------
    >>> to_numpy([1.0, 2.0])
    array([1., 2.])
    """
    if aac.is_numpy_array(x) or not aac.is_array_api_obj(x):
        return np.asarray(x)
    if aac.is_cupy_array(x):
        return x.get()
    if aac.is_torch_array(x):
        return x.detach().cpu().resolve_conj().numpy()
    if aac.is_dask_array(x):
        # each chunk to the host where it is, then the join: Dask's own join would feed device chunks
        # (CuPy, another library's) to NumPy
        meta = np.empty((0,) * x.ndim, dtype=x.dtype)
        return np.asarray(x.map_blocks(to_numpy, dtype=x.dtype, meta=meta).compute())
    if aac.is_jax_array(x):
        return np.asarray(x)
    require_host_export(x)
    xp = aac.array_namespace(x)
    if aac.is_array_api_strict_namespace(xp):
        cpu = xp.__array_namespace_info__().default_device()
        if aac.device(x) != cpu:
            x = x.to_device(cpu)
    return np.from_dlpack(x)


def require_host_export(x, *, name: str = "the array") -> None:
    """Raise a TypeError unless ``x`` can be copied to the host (NumPy) by :func:`to_numpy`.

    The libraries neuralcore knows by name all can; any other Array API
    library must implement DLPack (``__dlpack__``), through which results,
    costs and saved parameters come back to the host. Checked at entry, so
    such data fails before any work instead of deep inside a fit.
    """
    known = (aac.is_numpy_array, aac.is_cupy_array, aac.is_torch_array, aac.is_dask_array, aac.is_jax_array)
    if not aac.is_array_api_obj(x) or any(test(x) for test in known) or hasattr(x, "__dlpack__"):
        return
    library = type(x).__module__.split(".")[0] or type(x).__name__
    raise TypeError(
        f"{name} is a {library} array ({type(x).__name__}), which has no host export (no __dlpack__ method), "
        "so neuralcore could not read its results back; convert it to NumPy first (numpy.asarray), or use "
        "a library that supports DLPack"
    )


def _check_dtype_kept(result, wanted: np.dtype, target: Backend, values=None):
    """Raise a TypeError when ``target`` gave ``result`` another dtype than ``wanted`` (never a silent change).

    An integer narrowing (JAX without 64-bit turns int64 into int32) is accepted
    when the host ``values`` fit in the dtype obtained.
    """
    try:
        obtained = to_numpy_dtype(result.dtype)
    except TypeError:
        obtained = None
    if obtained is not None and obtained.name == wanted.name:  # by name: a big-endian float64 is still float64
        return result
    if (
        obtained is not None and values is not None and wanted.kind in "iu" and obtained.kind in "iu"
        and (values.size == 0 or (np.iinfo(obtained).min <= values.min() and values.max() <= np.iinfo(obtained).max))
    ):
        return result
    hint = "pass dtype='float32'" if wanted == np.float64 else "use a dtype the backend supports"
    if target.name == "jax":
        hint = 'enable 64-bit numbers first (jax.config.update("jax_enable_x64", True)), or ' + hint
    raise TypeError(f"backend {target} cannot hold {wanted.name}: it gave {result.dtype} instead; {hint}")


def to_backend(x, backend: str | Backend | None = None, *, dtype=None):
    """Move an array (or host data) to a backend, optionally casting it.

    Returns ``x`` itself when it is already there with the requested dtype.
    The input is never modified; a read-only NumPy array is accepted. A
    backend that cannot hold the dtype (JAX with 64-bit numbers disabled,
    given float64) raises a TypeError saying how to fix it, instead of
    silently storing another dtype.

    Parameters
    ----------
    x : array_like
    backend : str, Backend or None
        As for :func:`resolve_backend`.
    dtype : str or dtype, optional
        A dtype name (``"float32"``) or a dtype of the target namespace.

    Examples
    --------
    >>> to_backend([1, 2], "numpy", dtype="float32").dtype
    dtype('float32')
    """
    target = resolve_backend(backend)
    xp, device = target.xp, target.device
    target_dtype = None if dtype is None else (getattr(xp, dtype) if isinstance(dtype, str) else dtype)
    if aac.is_array_api_obj(x) and not aac.is_numpy_array(x):
        src = backend_of(x)
        if src.name == target.name and _same_device(src.device, device):
            if target_dtype is None or x.dtype == target_dtype:
                return x
            return _check_dtype_kept(xp.astype(x, target_dtype), to_numpy_dtype(dtype), target)
    host = to_numpy(x)
    if target_dtype is not None:
        host = host.astype(to_numpy_dtype(target_dtype), copy=False)
    if target.name == "numpy":
        return host
    if host.dtype.kind == "f" and not _holds(target, host.dtype):
        raise ValueError(
            f"{target} cannot hold {host.dtype.name} arrays (a device without float64); "
            "use float32 there (dtype='float32'), or another device"
        )
    if target.name == "torch" and not host.flags.writeable:
        host = host.copy()  # torch refuses to wrap read-only memory
    return _check_dtype_kept(xp.asarray(host, device=device), host.dtype, target, host)


def _holds(target: Backend, dtype: np.dtype) -> bool:
    """Whether ``target``'s device supports floating ``dtype`` (True when the library cannot say)."""
    try:
        names = target.xp.__array_namespace_info__().dtypes(device=target.device, kind="real floating")
    except Exception:  # an older library without the inspection API: let it answer for itself
        return True
    return dtype.name in names


def to_numpy_dtype(dtype) -> np.dtype:
    """The NumPy dtype with the same name as a dtype of any backend."""
    try:
        return np.dtype(dtype)  # NumPy and CuPy dtypes, dtype names
    except TypeError:
        return np.dtype(str(dtype).rsplit(".", 1)[-1])  # torch.float32, array_api_strict.float32


def device_memory(backend: str | Backend | None = None) -> int | None:
    """Bytes of memory the device of ``backend`` has in all (not what is free now).

    A CUDA GPU (CuPy, PyTorch) reports its own total; every other placement
    (the CPU, Dask, unknown libraries) is bounded by the host's physical
    memory. ``None`` when the platform does not say.

    Examples
    --------
    >>> device_memory("numpy") > 0
    True
    """
    target = backend if isinstance(backend, Backend) else resolve_backend(backend)
    try:
        if target.name == "cupy":
            return int(target.device.mem_info[1])
        if target.name == "torch" and getattr(target.device, "type", None) == "cuda":
            return int(importlib.import_module("torch").cuda.get_device_properties(target.device).total_memory)
    except Exception:  # a device query must not break a fit: fall back to the host bound
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # not POSIX
        return None


# ---------------------------------------------------------------- chunked (Dask)


def is_chunked(x) -> bool:
    """True for a Dask array: data split in chunks, possibly larger than memory or on a cluster."""
    return aac.is_dask_array(x)


def whole_rows(x):
    """A chunked 2-D array with the feature axis in one chunk, so that each block holds whole samples.

    The column blocks of each row block are joined in their own library and on their own device (a Dask
    rechunk would join them with NumPy, which a GPU's or another library's chunks do not survive).
    """
    if x.ndim != 2 or x.numblocks[1] == 1:
        return x
    import dask.array as da

    return da.blockwise(_join_columns, "ij", x, "ik", new_axes={"j": x.shape[1]}, dtype=x.dtype, meta=x._meta)


def _join_columns(blocks):
    xp = aac.array_namespace(*blocks)
    return xp.concat(list(blocks), axis=1)


def chunk_rows(x) -> list:
    """The row blocks of a chunked 2-D (or 1-D) array, as lazy objects in row order, each of whole samples."""
    x = whole_rows(x)
    blocks = x.to_delayed()
    return list(blocks[:, 0] if x.ndim == 2 else blocks)


def delayed(function):
    """``function`` made lazy, for use on :func:`chunk_rows` blocks."""
    import dask

    return dask.delayed(function, pure=True)


def compute(*values):
    """Evaluate lazy values together, in one graph (on a ``dask.distributed`` client if one is active)."""
    import dask

    return dask.compute(*values)


def map_row_chunks(x, function, n_columns: int | None, dtype):
    """Apply ``function`` (rows -> rows, in the chunk's own library and device) to each row chunk of ``x``, lazily.

    Returns a Dask array of shape (n_samples, n_columns), or (n_samples,) for
    ``n_columns=None``, chunked like ``x``'s rows.
    """
    x = whole_rows(x)
    if n_columns is None:
        # a column then a lazy slice, not map_blocks(drop_axis=...): dropping an axis makes Dask
        # concatenate the blocks with NumPy, which another library's chunks (a GPU's) do not survive
        column = x.map_blocks(_as_column, function, dtype=dtype, chunks=(x.chunks[0], (1,)))
        return column[:, 0]
    return x.map_blocks(function, dtype=dtype, chunks=(x.chunks[0], (n_columns,)))


def _as_column(block, function):
    out = function(block)
    return aac.array_namespace(out).reshape(out, (-1, 1))


# ---------------------------------------------------------------- labels on a device

# Label dtypes that every backend can gather on the device (PyTorch lacks unsigned 16/32/64-bit take).
_DEVICE_LABEL_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64")


def label_array(classes: np.ndarray, backend: str | Backend):
    """``classes`` (host labels) as an array on ``backend`` to gather predicted labels from, or None
    when that backend cannot hold or gather them (strings, objects, some unsigned integers): the
    caller then gathers on the host.

    Examples
    --------
    >>> label_array(np.asarray(["a", "b"]), "numpy") is None
    True
    """
    if np.asarray(classes).dtype.name not in _DEVICE_LABEL_DTYPES:
        return None
    return to_backend(classes, backend)

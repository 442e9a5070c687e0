"""Compiled CUDA kernels for CuPy arrays: one-pass logistic-regression steps.

Backend code, reached only through :mod:`neuralcore.kernels` (which decides
when these kernels apply). The
pure Array API functions in :mod:`neuralcore.logistic` stay the reference
implementation: the tests compare these kernels with them on a GPU, and
``NEURALCORE_KERNELS=off`` turns the kernels off everywhere.

Why a kernel: the Array API step reads ``X`` twice (``Z = X @ W`` then
``X.T @ dZ``) and launches about thirty small kernels (the sigmoid, the cost
terms, the reductions, the update). Here each row of ``X`` is read once: a
*team* of threads (8, 16 or 32 lanes of a warp for rows of up to 128, 256 or
1024 features, a block of 256 threads for up to 12288) loads the row into
registers, reduces its dot product
with ``W``, computes ``dZ = sigmoid(z) - y`` and the cost term from the logit
(``max(z, 0) - z y + log1p(exp(-|z|))``, one ``exp`` shared with the sigmoid)
and accumulates ``dZ * x`` into per-thread gradient registers. Each block
writes one row of partial sums; a second kernel sums them in a fixed order (so
results are deterministic: no atomics), divides by ``m``, adds the L2 term and,
for plain gradient descent, writes the updated parameters. Two launches per
step instead of about thirty, and one pass over ``X`` instead of two.

"Deterministic" means: the same inputs give the same bits on the same GPU model
with the same CUDA toolkit (and CuPy). The number of blocks, and so the order in
which partial sums are added, comes from the kernel's register count (which the
toolkit's compiler decides) and from the GPU's number of multiprocessors; another
GPU model or toolkit may round differently (within the float tolerance), never
differently from run to run.

Threads and devices: the scratch buffer of partial sums is per thread and per
stream (two threads sharing one compiled step never share a buffer), and a kernel
that fails to compile or launch is given up on that GPU only (``_FAILED`` is keyed
by kernel name and device). Before a kernel's first launch on a thread the device
is synchronized, so that an error left by earlier asynchronous work is raised as
itself instead of being taken for the kernel's failure.

Two smaller kernels serve every model on CuPy (through
:mod:`neuralcore.kernels`): the binary output layer and its
cross-entropy in one elementwise pass (two launches instead of about twenty),
and the gradient-descent update ``p - lr * g`` (one launch instead of two).
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
import math
import threading
import warnings

import numpy as np

logger = logging.getLogger("neuralcore")

__all__ = [
    "KernelFallbackWarning",
    "LogisticKernels",
    "MAX_FEATURES",
    "binary_output_and_cross_entropy",
    "descend",
    "logistic_kernels",
]

#: Widest rows the kernels handle (256 threads x 48 registers); wider data uses the Array API code.
MAX_FEATURES = 256 * 48

_WIDE_K = (4, 6, 8, 12, 16, 24, 32, 40, 48)  # values per thread when a block of 256 holds a row
_BLOCK = 256
#: Each block sees at least this many groups of rows, so that the partial sums it writes stay
#: small next to the rows it reads (fewer blocks than a full wave on short data).
MIN_ROW_GROUPS = 4
_CTYPES = {"float32": "float", "float64": "double"}

#: The CUDA C++ source of the fused logistic-regression kernels, shipped as package data.
_SOURCE = resources.files("neuralcore").joinpath("kernels.cu").read_text(encoding="utf-8")


def _pick(choices, needed):
    for value in choices:
        if value >= needed:
            return value
    return None


def layout(n_features: int):
    """``(K, R, TEAM)`` for rows of ``n_features`` values, or None when too wide.

    A team of ``TEAM`` threads holds a row, ``K`` values per thread, ``R`` rows
    per team at a time. Narrow rows take small teams (8 lanes up to 128
    features, 16 up to 256, a warp up to 1024), so that the per-row work (the
    reduction, the sigmoid, the cost) is shared by few lanes; wider rows take
    a block of 256 threads.

    Examples
    --------
    >>> layout(1), layout(100), layout(200), layout(500), layout(12288), layout(12289)
    ((1, 4, 8), (13, 1, 8), (13, 1, 16), (16, 1, 32), (48, 1, 256), None)
    """
    if n_features < 1:
        return None
    for team, widest in ((8, 128), (16, 256), (32, 1024)):
        if n_features <= widest:
            k = math.ceil(n_features / team)
            return k, max(1, min(4, 16 // k)), team
    if n_features <= MAX_FEATURES:
        k = _pick(_WIDE_K, math.ceil(n_features / _BLOCK))
        return k, 2 if k <= 12 else 1, _BLOCK
    return None


#: Kernels that failed to compile or launch on this machine, by ``(name, device id)``, with the error: they
#: are not tried again on that GPU (the Array API code runs instead, after one warning); other GPUs still try.
_FAILED: dict = {}
#: ``(name, device id)`` of elementwise kernels that ran once: their later calls skip the checks of a first launch.
_WORKED: set = set()


class KernelFallbackWarning(UserWarning):
    """A compiled kernel could not be used here; the Array API code runs instead (same results, slower)."""


def _give_up(name: str, device_id: int, error: Exception):
    if (name, device_id) not in _FAILED:
        _FAILED[(name, device_id)] = error
        warnings.warn(
            f"neuralcore's CUDA kernel {name} failed on GPU {device_id} ({type(error).__name__}: {error}); using the "
            "Array API code instead (same results, slower). NEURALCORE_KERNELS=off silences this.",
            KernelFallbackWarning,
            stacklevel=4,
        )


def _settle(cupy):
    """Wait for the current device's earlier work, raising any error it left (a sticky error from an earlier
    asynchronous launch, say): called before a kernel's first launch, so that such an error is raised as
    itself instead of being taken for the kernel's failure."""
    cupy.cuda.runtime.deviceSynchronize()


class _PerThread:
    """Launch data (with its scratch buffer of partial sums) cached per thread, for one stream at a time.

    Two threads calling one compiled step each get their own buffer (a shared one would interleave their
    partial sums); within a thread, the buffer is reused by every step on the same stream (stream order keeps
    one step's writes after the previous step's reads), and replaced when the stream, ``X``, ``Y`` or
    ``alpha`` changes."""

    def __init__(self):
        self._local = threading.local()

    def get(self, X, Y, stream, alpha):
        data = getattr(self._local, "data", None)
        if data is not None and data[0] is X and data[1] is Y and data[2] == stream and data[3] == alpha:
            return data[4]
        return None

    def put(self, X, Y, stream, alpha, launch):
        self._local.data = (X, Y, stream, alpha, launch)

    def clear(self):
        self._local.data = None

    @property
    def launched(self) -> bool:
        """Whether a launch succeeded on this thread (until then, a failure falls back)."""
        return getattr(self._local, "launched", False)

    @launched.setter
    def launched(self, value: bool):
        self._local.launched = value


@functools.lru_cache(maxsize=None)
def _functions(ctype: str, k: int, r: int, team: int, device_id: int):
    """The two kernels for one layout, compiled once per process (CuPy also caches them on disk),
    and how many blocks of the first fit on the GPU at once."""
    import cupy

    partials = f"nc_logistic_partials<{ctype},{k},{r},{team}>"
    finish = f"nc_logistic_finish<{ctype}>"
    with cupy.cuda.Device(device_id):
        module = cupy.RawModule(code=_SOURCE, options=("--std=c++17",), name_expressions=(partials, finish))
        partial_kernel, finish_kernel = module.get_function(partials), module.get_function(finish)
        attributes = cupy.cuda.Device(device_id).attributes
        multiprocessors = int(attributes.get("MultiProcessorCount", 1))
        registers = int(attributes.get("MaxRegistersPerMultiprocessor", 65536))
        threads = int(attributes.get("MaxThreadsPerMultiProcessor", 2048))
        try:
            per_thread = -(-int(partial_kernel.num_regs) // 8) * 8  # allocated in steps of 8
        except Exception:  # an older CuPy without the attribute: assume a quarter of the registers
            per_thread = registers // (4 * _BLOCK)
        resident = max(1, min(threads // _BLOCK, registers // max(per_thread * _BLOCK, 1)))
    return partial_kernel, finish_kernel, multiprocessors * resident


class LogisticKernels:
    """Fused loss, gradient and gradient-descent step of binary logistic regression on one GPU.

    Same contract as :func:`neuralcore.logistic.loss_and_grads` and
    :func:`neuralcore.logistic.gd_step`, which the caller passes in as
    ``reference_loss`` and ``reference_step``: a call whose arrays do not suit
    the kernels (layout, dtype, device, shape) runs them instead.

    The training loop calls with the same ``X`` and ``Y`` at every step, and
    with the parameters of the previous step: the checks and the launch
    arguments are then reused, so a step costs two kernel launches and three
    small allocations of host time.
    """

    def __init__(self, dtype_name: str, n_features: int, device_id: int, reference_loss, reference_step):
        self._reference_loss = reference_loss
        self._reference_step = reference_step
        self.dtype = np.dtype(dtype_name)
        self.n_features = n_features
        self.device_id = device_id
        self.k, self.r, self.team = layout(n_features)
        self._ctype = _CTYPES[dtype_name]
        self._scalar = self.dtype.type
        # rows one block takes per iteration of its loop
        self._block_rows = (_BLOCK // self.team) * self.r if self.team <= 32 else self.r
        self._data = _PerThread()  # per thread: (X, Y, stream, alpha, launch arguments) of its last call
        self._produced = (None, None)  # the last parameters these kernels wrote: known to suit

    def _params_suit(self, W, b) -> bool:
        if W is self._produced[0] and b is self._produced[1]:
            return True
        return (
            W.dtype == self.dtype
            and b.dtype == self.dtype
            and W.shape == (self.n_features, 1)
            and W.flags.c_contiguous
            and b.shape == (1,)
            and W.device.id == self.device_id
            and b.device.id == self.device_id
        )

    def _data_suits(self, X, Y) -> bool:
        itemsize = self.dtype.itemsize
        return (
            X.dtype == self.dtype
            and Y.dtype == self.dtype
            and X.ndim == 2
            and X.shape[1] == self.n_features
            and X.shape[0] > 0
            and X.strides[1] == itemsize
            and X.strides[0] % itemsize == 0
            and X.strides[0] >= 0
            and Y.shape == (X.shape[0], 1)
            and Y.strides[0] % itemsize == 0
            and Y.strides[0] >= 0
            and X.device.id == self.device_id
            and Y.device.id == self.device_id
        )

    def _launch_data(self, X, Y, alpha):
        """Launch arguments for ``X`` and ``Y``, or None when they do not suit the kernels.

        Runs with this object's GPU current (see :meth:`_call`)."""
        import cupy

        stream = cupy.cuda.get_current_stream().ptr
        cached = self._data.get(X, Y, stream, alpha)
        if cached is not None:
            return cached
        if not self._data_suits(X, Y):
            return None
        itemsize = self.dtype.itemsize
        n, f = X.shape
        name = f"nc_logistic_partials<{self._ctype},{self.k},{self.r},{self.team}>"
        if (name, self.device_id) in _FAILED:
            return None
        if not self._data.launched:
            # before this thread's first compile and launch: an error left by earlier asynchronous work
            # (a sticky one fails every later call) is raised here as itself, not blamed on the kernel
            _settle(cupy)
        try:
            partial_kernel, finish_kernel, resident_blocks = _functions(
                self._ctype, self.k, self.r, self.team, self.device_id
            )
        except MemoryError:
            raise
        except Exception as error:  # NVRTC missing or failing, an unsupported GPU...
            _give_up(name, self.device_id, error)
            return None
        # One wave of blocks fills the GPU; fewer when each would see under MIN_ROW_GROUPS
        # groups of rows.
        blocks = max(1, min(resident_blocks, -(-n // (self._block_rows * MIN_ROW_GROUPS))))
        # This thread's own buffer, reused by its steps on this stream: stream order keeps one
        # step's writes after the previous step's reads (see _PerThread).
        partials = cupy.empty((blocks, f + 2), dtype=self.dtype)
        launch = (
            partial_kernel,
            (blocks,),
            (X, np.int64(X.strides[0] // itemsize), Y, np.int64(Y.strides[0] // itemsize)),
            (np.int64(n), np.int32(f), partials),
            finish_kernel,
            (-(-f // 32) + 1,),
            (partials, np.int32(blocks), np.int32(f)),
            (self._scalar(1.0 / n), self._scalar(alpha)),
            name,
        )
        self._data.put(X, Y, stream, alpha, launch)
        return launch

    def _run(self, params, launch, learning_rate, apply):
        import cupy

        W, b = params["W"], params["b"]
        partial_kernel, grid, head, tail, finish_kernel, finish_grid, finish_head, scalars, name = launch
        out_w = cupy.empty((self.n_features, 1), dtype=self.dtype)
        out_b = cupy.empty((1,), dtype=self.dtype)
        cost = cupy.empty((), dtype=self.dtype)
        finish_args = finish_head + (W, b) + scalars + (self._scalar(learning_rate), np.int32(apply), out_w, out_b, cost)
        if self._data.launched:
            partial_kernel(grid, (_BLOCK,), head + (W, b) + tail)
            finish_kernel(finish_grid, (32, 8), finish_args)
        else:  # the first launch: a failure here (an unsupported GPU) falls back instead of failing the fit
            try:  # (_launch_data synchronized the device first)
                partial_kernel(grid, (_BLOCK,), head + (W, b) + tail)
                finish_kernel(finish_grid, (32, 8), finish_args)
            except MemoryError:  # out of GPU memory: the Array API code would not fit either
                raise
            except Exception as error:
                _give_up(name, self.device_id, error)
                self._data.clear()
                return None
            self._data.launched = True
        if apply:
            self._produced = (out_w, out_b)
        return cost, {"W": out_w, "b": out_b}

    def _call(self, params, X, Y, alpha, learning_rate, apply):
        """The kernels' result, or None for the caller to run the reference; on this object's GPU
        (a fit on ``cupy:1`` runs while another device is current)."""
        import cupy

        if cupy.cuda.runtime.getDevice() != self.device_id:
            with cupy.cuda.Device(self.device_id):
                return self._call(params, X, Y, alpha, learning_rate, apply)
        if not self._params_suit(params["W"], params["b"]):
            return None
        launch = self._launch_data(X, Y, alpha)
        if launch is None:
            return None
        return self._run(params, launch, learning_rate, apply)

    def loss_and_grads(self, params, X, Y, /, *, alpha: float = 0.0, xp=None):
        """Cost and gradients, as :func:`neuralcore.logistic.loss_and_grads`."""
        result = self._call(params, X, Y, alpha, 0.0, 0)
        if result is None:
            return self._reference_loss(params, X, Y, alpha=alpha, xp=xp)
        return result

    def gd_step(self, params, X, Y, learning_rate: float, /, *, alpha: float = 0.0, xp=None):
        """Cost at ``params`` and the parameters after one gradient-descent step, as
        :func:`neuralcore.logistic.gd_step`."""
        result = self._call(params, X, Y, alpha, learning_rate, 1)
        if result is None:
            return self._reference_step(params, X, Y, learning_rate, alpha=alpha, xp=xp)
        return result


def logistic_kernels(X, reference_loss, reference_step) -> LogisticKernels | None:
    """Kernels for binary logistic regression on CuPy array ``X``, or None when they do not apply
    (a dtype other than float32/float64, rows wider than :data:`MAX_FEATURES`)."""
    dtype_name = np.dtype(X.dtype).name
    if dtype_name not in _CTYPES or X.ndim != 2 or layout(X.shape[1]) is None:
        return None
    if X.shape[1] > 1 and X.strides[1] != X.dtype.itemsize:
        logger.info(
            "X's rows are not contiguous in memory (column-major or a column view): the fused CUDA "
            "kernel reads whole rows, so this fit runs the Array API code; cupy.ascontiguousarray(X) "
            "(one copy of X) gives the kernel"
        )
    return LogisticKernels(dtype_name, X.shape[1], X.device.id, reference_loss, reference_step)


# ------------------------------------------------------------------ elementwise kernels

_ROUNDED_PRODUCT = r"""
template <typename T> __device__ __forceinline__ T nc_mul_rn(T a, T b);
template <> __device__ __forceinline__ float nc_mul_rn<float>(float a, float b) { return __fmul_rn(a, b); }
template <> __device__ __forceinline__ double nc_mul_rn<double>(double a, double b) { return __dmul_rn(a, b); }
"""


@functools.lru_cache(maxsize=None)
def _elementwise(name: str):
    import cupy

    if name == "binary_output_and_loss":
        # a = sigmoid(z) from e = exp(-|z|) (never overflows); the per-sample cross-entropy from the
        # logit, max(z, 0) - z y + log1p(e), divided by m so that one sum gives the mean.
        return cupy.ElementwiseKernel(
            "T z, T y, T inv_m",
            "T a, T loss",
            """
            const T e = exp(z < T(0) ? z : -z);
            const T inv = T(1) / (T(1) + e);
            a = z >= T(0) ? inv : e * inv;
            loss = ((z > T(0) ? z : T(0)) - z * y + log1p(e)) * inv_m;
            """,
            "nc_binary_output_and_loss",
        )
    if name == "descend":
        # p + rate * g with the product rounded on its own (no fused multiply-add): bit for bit
        # what ``p + (-lr * g)`` gives in two launches
        return cupy.ElementwiseKernel(
            "T p, T g, T rate", "T out", "out = p + nc_mul_rn(rate, g);", "nc_descend", preamble=_ROUNDED_PRODUCT
        )
    raise KeyError(name)  # pragma: no cover


def _on_device(x, function, *args):
    import cupy

    here = cupy.cuda.runtime.getDevice()
    if x.device.id == here:
        return function(*args)
    with x.device:
        return function(*args)


def _elementwise_call(name, x, *args):
    """Run elementwise kernel ``name`` on ``x``'s GPU; None (after one warning) if it cannot compile
    or launch there."""
    key = (name, x.device.id)
    if key in _WORKED:
        return _on_device(x, _elementwise(name), *args)
    if key in _FAILED:
        return None
    import cupy

    _on_device(x, _settle, cupy)  # an error of earlier work is raised as itself, not blamed on the kernel
    try:
        result = _on_device(x, _elementwise(name), *args)
    except MemoryError:
        raise
    except Exception as error:  # compiled at the first call: NVRTC missing or failing
        _give_up(name, x.device.id, error)
        return None
    _WORKED.add(key)
    return result


def binary_output_and_cross_entropy(z, y):
    """``(sigmoid(z), mean cross-entropy)`` for one logit column, as
    :func:`neuralcore.losses.output_and_cross_entropy`; None when ``z`` and ``y``
    do not suit (dtype, shape, device), for the caller to use the Array API code."""
    if (
        z.dtype != y.dtype
        or z.dtype.name not in _CTYPES
        or z.ndim != 2
        or z.shape[1] != 1
        or y.shape != z.shape
        or z.device.id != y.device.id
        or z.shape[0] == 0
    ):
        return None
    outputs = _elementwise_call("binary_output_and_loss", z, z, y, z.dtype.type(1.0 / z.shape[0]))
    if outputs is None:
        return None
    A, loss = outputs
    return A, _on_device(z, loss.sum)


def descend(p, g, rate: float):
    """``p + rate * g`` in one launch (``rate`` is minus the learning rate); None when the arrays
    do not suit."""
    if p.dtype != g.dtype or p.dtype.name not in _CTYPES or p.shape != g.shape or p.device.id != g.device.id:
        return None
    return _elementwise_call("descend", p, p, g, p.dtype.type(rate))

"""Timing, machine description and the plain peers neuralcore is compared against.

Every comparison is measured side by side in one process, after a warm-up,
as the median of several repeats, and reported as a ratio: these machines are
noisy, ratios measured together are not.
"""

from __future__ import annotations

import os
import platform
import statistics
import time

import numpy as np
from array_api_compat import is_cupy_array

from neuralcore import device as nc_device


def median_time(fn, *, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds; ``fn`` must synchronize (read a result back)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sync(x) -> float:
    """Bring one number back to the host: waits for an asynchronous device (CuPy, torch CUDA)."""
    return float(nc_device.to_numpy(x).ravel()[0])


def machine() -> dict:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "numpy": np.__version__,
        "blas": None,
        "gpu": None,
    }
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {k: pool.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
            for pool in threadpool_info()
            if pool.get("user_api") == "blas"
        ]
    except ImportError:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = [{"internal_api": config.get("name"), "version": config.get("version"), "num_threads": "?"}]
    usable, reason = nc_device.backend_status("cupy")
    if usable:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        info["gpu"] = f"{props['name'].decode()} ({props['totalGlobalMem'] / 2**30:.0f} GiB), {reason}"
    else:
        info["gpu"] = f"none usable ({reason})"
    try:
        import torch

        info["torch"] = f"{torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        info["torch"] = None
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ------------------------------------------------------------- the textbook loops


def _module_of(X):
    """The array module itself (not a compatibility wrapper): the textbook loops call it directly."""
    if is_cupy_array(X):
        import cupy

        return cupy
    return np


def textbook_logistic(X, Y, iterations, learning_rate):
    """The course's logistic regression in plain NumPy: the same arithmetic as neuralcore, no library.

    Written in neuralcore's (m, n_x) layout (``Z = X @ w + b`` is the course's
    ``w.T X + b`` transposed), so the comparison measures the library's
    overhead, not a memory layout. ``Y`` has shape (m, 1). CuPy arrays run the
    same loop on the GPU (CuPy's functions mirror NumPy's).
    """
    np = _module_of(X)  # numpy, or cupy for the GPU textbook loop
    m, n_x = X.shape
    w, b = np.zeros((n_x, 1), dtype=X.dtype), 0.0
    for i in range(iterations):
        A = 1 / (1 + np.exp(-(X @ w + b)))
        cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
        dZ = A - Y
        w = w - learning_rate * (X.T @ dZ) / m
        b = b - learning_rate * np.sum(dZ) / m
    return float(cost)


def textbook_two_layer(X, Y, W1, W2, iterations, learning_rate):
    """The course's two-layer network with relu hidden units, plain NumPy (or CuPy), (m, n_x) layout; Y (m, 1)."""
    np = _module_of(X)
    m = X.shape[0]
    b1 = np.zeros((1, W1.shape[1]), dtype=X.dtype)
    b2 = np.zeros((1, 1), dtype=X.dtype)
    for i in range(iterations):
        Z1 = X @ W1 + b1
        A1 = np.maximum(Z1, 0)
        A2 = 1 / (1 + np.exp(-(A1 @ W2 + b2)))
        cost = -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m
        dZ2 = A2 - Y
        dW2, db2 = A1.T @ dZ2 / m, np.sum(dZ2, axis=0, keepdims=True) / m
        dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
        dW1, db1 = X.T @ dZ1 / m, np.sum(dZ1, axis=0, keepdims=True) / m
        W1, b1, W2, b2 = W1 - learning_rate * dW1, b1 - learning_rate * db1, W2 - learning_rate * dW2, b2 - learning_rate * db2
    return float(cost)


def torch_logistic(X, y, iterations, learning_rate, device="cpu"):
    """PyTorch eager, same arithmetic as the textbook loop, our (m, n_x) layout, on ``device``."""
    import torch

    Xt, Yt = torch.from_numpy(X).to(device), torch.from_numpy(y.reshape(-1, 1).astype(X.dtype)).to(device)
    m = Xt.shape[0]
    w = torch.zeros((Xt.shape[1], 1), dtype=Xt.dtype, device=device)
    b = torch.zeros(1, dtype=Xt.dtype, device=device)
    with torch.no_grad():
        for i in range(iterations):
            Z = Xt @ w + b
            A = torch.sigmoid(Z)
            cost = torch.nn.functional.binary_cross_entropy_with_logits(Z, Yt)
            dZ = A - Yt
            w = w - learning_rate * (Xt.T @ dZ) / m
            b = b - learning_rate * dZ.mean(0)
    return float(cost)


def torch_two_layer(X, y, W1, W2, iterations, learning_rate, activation="relu", device="cpu"):
    """PyTorch eager two-layer network (manual backward, as the textbook), our layout, on ``device``."""
    import torch

    Xt, Yt = torch.from_numpy(X).to(device), torch.from_numpy(y.reshape(-1, 1).astype(X.dtype)).to(device)
    m = Xt.shape[0]
    W1, W2 = torch.from_numpy(W1.copy()).to(device), torch.from_numpy(W2.copy()).to(device)
    b1 = torch.zeros(W1.shape[1], dtype=Xt.dtype, device=device)
    b2 = torch.zeros(1, dtype=Xt.dtype, device=device)
    with torch.no_grad():
        for i in range(iterations):
            Z1 = Xt @ W1 + b1
            A1 = torch.relu(Z1) if activation == "relu" else torch.tanh(Z1)
            Z2 = A1 @ W2 + b2
            A2 = torch.sigmoid(Z2)
            cost = torch.nn.functional.binary_cross_entropy_with_logits(Z2, Yt)
            dZ2 = A2 - Yt
            dZ1 = (dZ2 @ W2.T) * ((A1 > 0).to(Xt.dtype) if activation == "relu" else 1 - A1 * A1)
            W1 = W1 - learning_rate * (Xt.T @ dZ1) / m
            b1 = b1 - learning_rate * dZ1.mean(0)
            W2 = W2 - learning_rate * (A1.T @ dZ2) / m
            b2 = b2 - learning_rate * dZ2.mean(0)
    return float(cost)


def torch_device_for(backend) -> str | None:
    """The torch device that matches neuralcore's backend: "cuda" next to CuPy, else "cpu"; None without torch."""
    if not nc_device.backend_status("torch")[0]:
        return None
    if backend.name == "cupy":
        import torch

        return "cuda" if torch.cuda.is_available() else None
    return "cpu"


def device_copy_bandwidth(X) -> float | None:
    """Bytes per second of a device-to-device copy of ``X`` (read plus write), on a GPU; None on the host."""
    if nc_device.backend_of(X).name != "cupy":
        return None
    import cupy

    out = cupy.empty_like(X)
    seconds = median_time(lambda: (cupy.copyto(out, X), cupy.cuda.get_current_stream().synchronize()), repeats=10, warmup=2)
    return 2 * X.nbytes / seconds


def textbook_deep(X, Y, Ws, iterations, learning_rate):
    """The course's L-layer network (relu hidden layers, sigmoid output), plain NumPy (or CuPy), (m, n_x) layout."""
    np = _module_of(X)
    m = X.shape[0]
    Ws = list(Ws)
    bs = [np.zeros((1, W.shape[1]), dtype=X.dtype) for W in Ws]
    L = len(Ws)
    for i in range(iterations):
        As, Zs, A = [X], [], X
        for l in range(L - 1):
            Z = A @ Ws[l] + bs[l]
            A = np.maximum(Z, 0)
            Zs.append(Z)
            As.append(A)
        AL = 1 / (1 + np.exp(-(A @ Ws[-1] + bs[-1])))
        cost = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
        dZ = AL - Y
        for l in range(L - 1, -1, -1):
            dW, db = As[l].T @ dZ / m, np.sum(dZ, axis=0, keepdims=True) / m
            if l > 0:
                dZ = (dZ @ Ws[l].T) * (Zs[l - 1] > 0)
            Ws[l], bs[l] = Ws[l] - learning_rate * dW, bs[l] - learning_rate * db
    return float(cost)


def torch_deep(X, y, Ws, iterations, learning_rate, device="cpu"):
    """PyTorch eager L-layer network (relu hidden layers, manual backward as the textbook), on ``device``."""
    import torch

    Xt, Yt = torch.from_numpy(X).to(device), torch.from_numpy(y.reshape(-1, 1).astype(X.dtype)).to(device)
    m = Xt.shape[0]
    Ws = [torch.from_numpy(W.copy()).to(device) for W in Ws]
    bs = [torch.zeros(W.shape[1], dtype=Xt.dtype, device=device) for W in Ws]
    L = len(Ws)
    with torch.no_grad():
        for i in range(iterations):
            As, A = [Xt], Xt
            for l in range(L - 1):
                A = torch.relu(A @ Ws[l] + bs[l])
                As.append(A)
            ZL = A @ Ws[-1] + bs[-1]
            cost = torch.nn.functional.binary_cross_entropy_with_logits(ZL, Yt)
            dZ = torch.sigmoid(ZL) - Yt
            for l in range(L - 1, -1, -1):
                dW, db = As[l].T @ dZ / m, dZ.mean(0)
                if l > 0:
                    dZ = (dZ @ Ws[l].T) * (As[l] > 0).to(Xt.dtype)
                Ws[l], bs[l] = Ws[l] - learning_rate * dW, bs[l] - learning_rate * db
    return float(cost)

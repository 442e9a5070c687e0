"""neuralcore benchmarks: ``python -m benchmarks.run [--quick] [--backend numpy] [--cases small,large,...]``.

Prints one table per case and writes every number, with the machine, to a
JSON file (``--out``, default ``benchmarks/results.json``). Peers run in the
same process, after warm-up, as medians of repeats; results are ratios.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
import time
import tracemalloc
import warnings

import numpy as np

import neuralcore as nc
from neuralcore import device as nc_device
from neuralcore import kernels
from neuralcore import logistic, network, train, two_layer
from neuralcore.optim import gradient_descent

from .common import (
    device_copy_bandwidth,
    machine,
    median_time,
    sync,
    textbook_deep,
    textbook_logistic,
    textbook_two_layer,
    torch_deep,
    torch_device_for,
    torch_logistic,
    torch_two_layer,
)

CASES = ("small", "deep", "large", "compute", "solvers", "memory", "dask", "features")


def _have_torch() -> bool:
    return nc_device.backend_status("torch")[0]


def _table(title, header, rows):
    print(f"\n## {title}\n")
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
    sys.stdout.flush()


def _images(n, f, rng, dtype):
    X = (rng.integers(0, 256, size=(n, f)) / 255.0).astype(dtype)
    y = (X[:, : f // 2].mean(axis=1) + 0.02 * rng.standard_normal(n) > X[:, f // 2 :].mean(axis=1)).astype(np.int64)
    return X, y


# -------------------------------------------------------------------------- small


def case_small(args, rng):
    """Overhead-bound: 209 x 12288 images, the course's iteration counts.

    The data is placed on the backend first (outside the timing); the
    textbook loop runs there too (NumPy, or CuPy on a GPU), and PyTorch eager
    on the matching device (the CPU, or CUDA next to CuPy). PyTorch's timing
    includes moving the host data to its device (about 10 MB: a millisecond or
    two on a GPU, nothing on the CPU).
    """
    iterations_lr, iterations_nn = (200, 250) if args.quick else (2000, 2500)
    backend = nc_device.resolve_backend(args.backend)
    torch_device = torch_device_for(backend)
    textbook = f"{backend.name} textbook"
    rows, results = [], []
    for dtype in ("float64", "float32"):
        X_host, y = _images(209, 12288, rng, dtype)
        W1_host = (rng.standard_normal((12288, 7)) * np.sqrt(2 / 12288)).astype(dtype)
        W2_host = (rng.standard_normal((7, 1)) * np.sqrt(2 / 7)).astype(dtype)
        X = nc_device.to_backend(X_host, backend)
        Y_column = nc_device.to_backend(y.reshape(-1, 1).astype(dtype), backend)
        W1, W2 = nc_device.to_backend(W1_host, backend), nc_device.to_backend(W2_host, backend)
        start_nn = {"W1": W1_host, "b1": np.zeros(7), "W2": W2_host, "b2": np.zeros(1)}
        contenders = {
            "logistic": {
                "neuralcore": lambda: nc.LogisticRegression(max_iter=iterations_lr).fit(X, y).loss_curve_[-1],
                textbook: lambda: textbook_logistic(X, Y_column, iterations_lr, 0.005),
                f"torch eager ({torch_device})": (lambda: torch_logistic(X_host, y, iterations_lr, 0.005, torch_device))
                if torch_device else None,
            },
            "two-layer, 7 relu": {
                "neuralcore": lambda: nc.TwoLayerNet(7, activation="relu", learning_rate=0.0075, max_iter=iterations_nn)
                .fit(X, y, init_params=start_nn).loss_curve_[-1],
                textbook: lambda: textbook_two_layer(X, Y_column, W1, W2, iterations_nn, 0.0075),
                f"torch eager ({torch_device})": (
                    lambda: torch_two_layer(X_host, y, W1_host, W2_host, iterations_nn, 0.0075, device=torch_device)
                ) if torch_device else None,
            },
        }
        for model, impls in contenders.items():
            times = {name: median_time(fn, repeats=args.repeats) for name, fn in impls.items() if fn is not None}
            base = times["neuralcore"]
            iterations = iterations_lr if model == "logistic" else iterations_nn
            for name, seconds in times.items():
                ratio = seconds / base
                rows.append([model, dtype, iterations, name, f"{seconds * 1e3:.0f} ms", f"{ratio:.2f}"])
                results.append({"model": model, "dtype": dtype, "iterations": iterations, "impl": name, "seconds": seconds,
                                "backend": str(backend), "peer_over_neuralcore": ratio})
    _table(f"Small, overhead-bound (209 x 12288), whole fit, {backend}",
           ["model", "dtype", "iterations", "implementation", "time", "time / neuralcore's"], rows)
    return results


# --------------------------------------------------------------------------- deep


def case_deep(args, rng):
    """Deep networks: the course's L-layer cat model (whole fit) and a compute-bound [784, 1024, 1024, 1] step.

    The L-layer model: 209 x 12288 images, layers (20, 7, 5), relu, learning
    rate 0.0075, 2500 iterations (250 with --quick), against the plain
    NumPy (or CuPy) textbook loop and PyTorch eager, from the same initial
    weights. The compute-bound case: one full-batch step on 100000 x 784
    float32 (20000 with --quick), against PyTorch eager with the same threads.
    """
    iterations = 250 if args.quick else 2500
    backend = nc_device.resolve_backend(args.backend)
    torch_device = torch_device_for(backend)
    textbook = f"{backend.name} textbook"
    rows, results = [], []
    for dtype in ("float64", "float32"):
        X_host, y = _images(209, 12288, rng, dtype)
        sizes = [12288, 20, 7, 5, 1]
        Ws_host = [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype) for a, b in zip(sizes, sizes[1:])]
        start = {f"W{l + 1}": W for l, W in enumerate(Ws_host)}
        start.update({f"b{l + 1}": np.zeros(W.shape[1], dtype) for l, W in enumerate(Ws_host)})
        X = nc_device.to_backend(X_host, backend)
        Y_column = nc_device.to_backend(y.reshape(-1, 1).astype(dtype), backend)
        Ws = [nc_device.to_backend(W, backend) for W in Ws_host]
        impls = {
            "neuralcore": lambda: nc.NeuralNet((20, 7, 5), max_iter=iterations).fit(X, y, init_params=start).loss_curve_[-1],
            textbook: lambda: textbook_deep(X, Y_column, Ws, iterations, 0.0075),
        }
        if torch_device:
            impls[f"torch eager ({torch_device})"] = lambda: torch_deep(X_host, y, Ws_host, iterations, 0.0075, torch_device)
        times = {name: median_time(fn, repeats=args.repeats) for name, fn in impls.items()}
        for name, seconds in times.items():
            ratio = seconds / times["neuralcore"]
            rows.append([f"L-layer (20, 7, 5), {iterations} iterations", dtype, name, f"{seconds * 1e3:.0f} ms",
                         f"{ratio:.2f}"])
            results.append({"model": "course L-layer", "dtype": dtype, "iterations": iterations, "impl": name,
                            "seconds": seconds, "backend": str(backend), "peer_over_neuralcore": ratio})
    if torch_device:
        import torch

        torch.set_num_threads(os.cpu_count())
        n = 20_000 if args.quick else 100_000
        X_host = rng.standard_normal((n, 784), dtype=np.float32)
        y = (X_host[:, :10].sum(axis=1) > 0).astype(np.int64)
        X = nc_device.to_backend(X_host, backend)
        Y = nc_device.to_backend(y.reshape(-1, 1).astype(np.float32), backend)
        sizes = [784, 1024, 1024, 1]
        Ws_host = [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
        params = {f"W{l + 1}": nc_device.to_backend(W, backend) for l, W in enumerate(Ws_host)}
        params.update({f"b{l + 1}": nc_device.to_backend(np.zeros(W.shape[1], np.float32), backend)
                       for l, W in enumerate(Ws_host)})
        steps = 2 if args.quick else (20 if backend.name == "cupy" else 3)
        step_functions = train.Steps(functools.partial(network.loss_and_grads, activation="relu"),
                                     functools.partial(network.gd_step, activation="relu"))

        def ours():
            result = train.train(step_functions, params, (X, Y), optimizer=gradient_descent(0.01), max_iter=steps)
            return sync(result.params["b3"])

        t_ours = median_time(ours, repeats=args.repeats) / steps
        t_torch = median_time(lambda: torch_deep(X_host, y, Ws_host, steps, 0.01, torch_device), repeats=args.repeats) / steps
        for name, seconds in (("neuralcore", t_ours), (f"torch eager ({torch_device})", t_torch)):
            rows.append([f"[784, 1024, 1024, 1], {n} x 784, one step", "float32", name, f"{seconds * 1e3:.1f} ms",
                         f"{seconds / t_ours:.2f}"])
        results.append({"model": "compute-bound deep step", "n": n, "backend": str(backend), "neuralcore_seconds": t_ours,
                        "torch_seconds": t_torch, "neuralcore_over_torch": t_ours / t_torch})
    _table(f"Deep networks, {backend}", ["case", "dtype", "implementation", "time", "time / neuralcore's"], rows)
    return results


# -------------------------------------------------------------------------- large


def case_large(args, rng):
    """Memory-bound logistic-regression gradient steps: X read per step against one streaming read.

    neuralcore's step is what ``LogisticRegression(solver="gd")`` runs: on CuPy
    the fused one-pass kernel, on NumPy the Array API functions. The two-pass
    baseline is the textbook step in the backend's own library. On a GPU the
    device-to-device copy bandwidth is measured too.
    """
    shapes = [(100_000, 500), (500_000, 100)] if args.quick else [(400_000, 500), (2_000_000, 100)]
    rows, results = [], []
    backend = nc_device.resolve_backend(args.backend)
    xp = backend.xp
    steps = 50 if backend.name == "cupy" else 5
    bandwidth = None
    for n, f in shapes:
        X_host = rng.standard_normal((n, f), dtype=np.float32)
        y_host = (X_host[:, 0] > 0).astype(np.float32).reshape(-1, 1)
        X = nc_device.to_backend(X_host, backend)
        Y = nc_device.to_backend(y_host, backend)
        w = xp.asarray(rng.standard_normal((f, 1)).astype(np.float32) * 0.01, device=backend.device)
        params = {"W": w, "b": xp.zeros((1,), dtype=xp.float32, device=backend.device)}
        loss, step = logistic.step_functions(X)

        def neuralcore_steps():
            result = train.train(train.Steps(loss, step), params, (X, Y), optimizer=gradient_descent(0.1), max_iter=steps)
            return sync(result.params["b"])

        def two_pass_numpy():
            W, b = params["W"], params["b"]
            for _ in range(steps):
                A = 1 / (1 + xp.exp(-(X @ W + b)))
                dZ = A - Y
                W, b = W - 0.1 * (X.T @ dZ) / n, b - 0.1 * xp.mean(dZ, axis=0)
            return sync(b)

        def one_read():
            for _ in range(steps):
                z = X @ w
            return sync(z)

        t_step = median_time(neuralcore_steps, repeats=args.repeats) / steps
        t_two = median_time(two_pass_numpy, repeats=args.repeats) / steps
        t_read = median_time(one_read, repeats=args.repeats) / steps
        copy = device_copy_bandwidth(X)
        bandwidth = copy if copy is not None else bandwidth
        nbytes = n * f * 4
        for name, seconds in (("neuralcore step", t_step), ("two-pass baseline step", t_two), ("one read of X (X @ w)", t_read)):
            row = [f"{n} x {f}", name, f"{seconds * 1e3:.3f} ms", f"{nbytes / seconds / 1e9:.1f} GB/s",
                   f"{t_read / seconds:.0%}", f"{t_two / seconds:.2f}"]
            if copy is not None:
                row.append(f"{nbytes / seconds / copy:.0%}")
            rows.append(row)
        results.append({"shape": [n, f], "backend": str(backend), "bytes_X": nbytes, "step_seconds": t_step,
                        "two_pass_seconds": t_two, "one_read_seconds": t_read,
                        "bytes_read_per_step": nbytes if backend.name == "cupy" and kernels.enabled() else 2 * nbytes,
                        "roofline_fraction": t_read / t_step, "speedup_over_two_pass": t_two / t_step,
                        "device_copy_bandwidth": copy,
                        "fraction_of_copy_bandwidth": None if copy is None else nbytes / t_step / copy})
        del X, Y, X_host
    header = ["X", "what", "time", "bytes(X) / time", "one-pass roofline", "two-pass / this"]
    title = f"Large, memory-bound: logistic-regression gradient step, float32, {backend}"
    if bandwidth is not None:
        header.append("of copy bandwidth")
        title += f" (device-to-device copy: {bandwidth / 1e9:.0f} GB/s, read + write)"
    _table(title, header, rows)
    return results


# ------------------------------------------------------------------------ compute


def case_compute(args, rng):
    """Compute-bound two-layer iterations against PyTorch eager, same dtype, device and threads."""
    n = 20_000 if args.quick else 100_000
    rows, results = [], []
    backend = nc_device.resolve_backend(args.backend)
    torch_device = torch_device_for(backend)
    if torch_device is None:
        print(f"\n(compute case skipped: no torch for {backend})")
        return results
    import torch

    torch.set_num_threads(os.cpu_count())
    X_host = rng.standard_normal((n, 784), dtype=np.float32)
    y = (X_host[:, :10].sum(axis=1) > 0).astype(np.int64)
    X = nc_device.to_backend(X_host, backend)
    Y = nc_device.to_backend(y.reshape(-1, 1).astype(np.float32), backend)
    steps = 2 if args.quick else (20 if backend.name == "cupy" else 3)
    for hidden in (256, 1024):
        W1 = (rng.standard_normal((784, hidden)) * np.sqrt(1 / 784)).astype(np.float32)
        W2 = (rng.standard_normal((hidden, 1)) * np.sqrt(1 / hidden)).astype(np.float32)
        host = {"W1": W1, "b1": np.zeros(hidden, np.float32), "W2": W2, "b2": np.zeros(1, np.float32)}
        params = {key: nc_device.to_backend(value, backend) for key, value in host.items()}
        loss = lambda p, X_, Y_: two_layer.loss_and_grads(p, X_, Y_, activation="tanh")  # noqa: E731

        def ours():
            return sync(train.train(loss, params, (X, Y), optimizer=gradient_descent(0.1), max_iter=steps).params["b2"])

        t_ours = median_time(ours, repeats=args.repeats) / steps
        t_torch = median_time(lambda: torch_two_layer(X_host, y, W1, W2, steps, 0.1, activation="tanh", device=torch_device),
                              repeats=args.repeats) / steps
        flops = 2 * n * 784 * hidden * 3 + 2 * n * hidden * 3
        for name, seconds in (("neuralcore", t_ours), (f"torch eager ({torch_device})", t_torch)):
            rows.append([f"{n} x 784, {hidden} tanh", name, f"{seconds * 1e3:.2f} ms", f"{flops / seconds / 1e9:.0f} GFLOP/s",
                         f"{seconds / t_ours:.2f}"])
        results.append({"n": n, "hidden": hidden, "backend": str(backend), "neuralcore_seconds": t_ours,
                        "torch_seconds": t_torch, "neuralcore_over_torch": t_ours / t_torch})
    _table(f"Compute-bound: two-layer iteration, float32, {backend}, torch on {torch_device} "
           f"({torch.get_num_threads()} CPU threads)",
           ["case", "implementation", "time / iteration", "throughput", "time / neuralcore's"], rows)
    return results


# ------------------------------------------------------------------------ solvers


def case_solvers(args, rng):
    """Time to a cost within 1e-6 (relative) of the optimum: neuralcore lbfgs/newton against scikit-learn."""
    problems = {}
    try:
        from sklearn.datasets import load_breast_cancer, load_iris

        Xb, yb = load_breast_cancer(return_X_y=True)
        problems["breast-cancer (569 x 30, standardized)"] = ((Xb - Xb.mean(0)) / Xb.std(0), yb)
        Xi, yi = load_iris(return_X_y=True)
        problems["iris (150 x 4, standardized, 3 classes)"] = ((Xi - Xi.mean(0)) / Xi.std(0), yi)
    except ImportError:
        pass
    n = 50_000 if args.quick else 200_000
    Xs = rng.standard_normal((n, 100))
    ys = (Xs @ rng.standard_normal(100) * 0.3 + rng.logistic(size=n) > 0).astype(int)
    problems[f"synthetic ({n} x 100)"] = (Xs, ys)
    rows, results = [], []
    for title, (X, y) in problems.items():
        alpha = 1.0 / X.shape[0]  # C = 1
        optimum = nc.LogisticRegression(solver="newton", alpha=alpha, tol=1e-12, backend="numpy").fit(X, y).loss_curve_[-1]
        candidates = []
        for solver in ("lbfgs", "newton"):
            candidates.append((f"neuralcore {solver}", solver, lambda s=solver, tol=None: _ours(X, y, alpha, s, tol, args.backend)))
        try:
            import sklearn  # noqa: F401

            for solver in ("lbfgs", "newton-cholesky"):
                candidates.append((f"scikit-learn {solver}", solver, lambda s=solver, tol=None: _theirs(X, y, alpha, s, tol)))
        except ImportError:
            pass
        for name, solver, run in candidates:
            best = None
            for tol in (1e-4, 1e-6, 1e-8, 1e-10):
                cost, n_iter = run(tol=tol)
                if abs(cost - optimum) <= 1e-6 * optimum:
                    seconds = median_time(lambda: run(tol=tol), repeats=args.repeats)
                    best = (seconds, n_iter, tol)
                    break
            if best is None:
                rows.append([title, name, "did not reach 1e-6", "", ""])
                continue
            rows.append([title, name, f"{best[0] * 1e3:.1f} ms", best[1], f"{best[2]:g}"])
            results.append({"problem": title, "solver": name, "seconds": best[0], "iterations": best[1], "tol": best[2]})
    _table("Time to solution: cost within 1e-6 of the optimum (L2, C = 1)",
           ["problem", "solver", "time", "iterations", "loosest tol that got there"], rows)
    return results


def _ours(X, y, alpha, solver, tol, backend):
    from .common import sync as _sync

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = nc.LogisticRegression(solver=solver, alpha=alpha, tol=tol, backend=backend).fit(X, y)
    _sync(model.params_["b"])
    from neuralcore.validation import encode_labels

    _, Y = encode_labels(y)
    cost, _ = logistic.loss_and_grads({k: nc_device.to_numpy(v).astype(float) for k, v in model.params_.items()}, X, Y, alpha=alpha)
    return float(cost), model.n_iter_


def _theirs(X, y, alpha, solver, tol):
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=1 / (alpha * X.shape[0]), solver=solver, tol=tol, max_iter=10_000).fit(X, y)
    from neuralcore.validation import encode_labels

    _, Y = encode_labels(y)
    cost, _ = logistic.loss_and_grads({"W": model.coef_.T, "b": model.intercept_}, X, Y, alpha=alpha)
    return float(cost), int(np.max(model.n_iter_))


# ------------------------------------------------------------------------- memory


def case_memory(args, rng):
    """Peak memory a full-batch fit allocates beyond X itself, relative to X's size (NumPy, tracemalloc)."""
    n = 50_000 if args.quick else 200_000
    rows, results = [], []
    for dtype, model in (("float32", "logistic"), ("float64", "logistic"), ("float32", "two-layer, 16 tanh")):
        X = rng.standard_normal((n, 500)).astype(dtype)
        y = (X[:, 0] > 0).astype(np.int64)
        estimator = (nc.LogisticRegression(max_iter=20, learning_rate=0.1, backend="numpy") if model == "logistic"
                     else nc.TwoLayerNet(16, max_iter=20, learning_rate=0.1, random_state=0, backend="numpy"))
        tracemalloc.start()
        tracemalloc.reset_peak()
        estimator.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        same_dtype = all(v.dtype == X.dtype for v in estimator.params_.values())
        rows.append([f"{n} x 500 {dtype}", model, f"{X.nbytes / 2**20:.0f} MiB", f"{peak / 2**20:.1f} MiB",
                     f"{peak / X.nbytes:.1%}", "yes" if same_dtype else "NO"])
        results.append({"shape": [n, 500], "dtype": dtype, "model": model, "bytes_X": X.nbytes, "peak_extra_bytes": peak,
                        "fraction_of_X": peak / X.nbytes, "parameters_in_input_dtype": same_dtype})
    _table("Memory: peak extra allocation during fit (tracemalloc), 20 full-batch iterations",
           ["X", "model", "size of X", "peak extra", "extra / X", "parameters in X's dtype"], rows)
    return results


# --------------------------------------------------------------------------- dask

_OUT_OF_CORE = """
import json, resource, sys, time
import dask, dask.array as da, numpy as np, neuralcore as nc
dask.config.set(scheduler="threads")
n, f, chunk, iterations = (int(v) for v in sys.argv[1:5])
X = da.random.default_rng(0).standard_normal((n, f), chunks=(chunk, f), dtype=np.float32)
y = (np.arange(n) % 2).astype(np.int8)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.perf_counter()
model = nc.LogisticRegression(max_iter=iterations, learning_rate=0.1).fit(X, y)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak_rss": peak, "rss_before_fit": before, "n_iter": model.n_iter_}))
"""


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30


def case_dask(args, rng):
    """Dask: the per-iteration overhead on data that fits in memory, and a fit on data larger than memory."""
    import subprocess

    try:
        import dask
        import dask.array as da
    except ImportError:
        print("\n(dask case skipped: dask is not installed)")
        return []
    rows, results = [], []
    X = rng.standard_normal((20_000, 50))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    Xd = da.from_array(X, chunks=(5_000, 50)).persist()
    iterations = 50 if args.quick else 200
    with dask.config.set(scheduler="threads"):
        t_dask = median_time(lambda: nc.LogisticRegression(max_iter=iterations).fit(Xd, y).loss_curve_[-1], repeats=args.repeats)
    t_numpy = median_time(lambda: nc.LogisticRegression(max_iter=iterations, backend="numpy").fit(X, y).loss_curve_[-1],
                          repeats=args.repeats)
    rows.append(["20000 x 50 float64, 4 chunks (in memory)", f"{iterations} full-batch iterations",
                 f"NumPy {t_numpy * 1e3:.0f} ms, Dask {t_dask * 1e3:.0f} ms", f"{t_dask / t_numpy:.1f}x NumPy"])
    results.append({"case": "in-memory overhead", "iterations": iterations, "numpy_seconds": t_numpy, "dask_seconds": t_dask})

    available = _available_memory()
    f, chunk, n_iter = 100, 250_000, 2
    n = (2 * 2**30 if args.quick else int(1.1 * available)) // (4 * f)
    n = max(chunk, n // chunk * chunk)
    done = subprocess.run([sys.executable, "-c", _OUT_OF_CORE, str(n), str(f), str(chunk), str(n_iter)],
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        rows.append([f"{n} x {f} float32", "out of core", "FAILED", done.stderr.strip().splitlines()[-1]])
    else:
        outcome = json.loads(done.stdout.strip().splitlines()[-1])
        data_bytes, chunk_bytes = n * f * 4, chunk * f * 4
        rows.append([f"{n} x {f} float32 ({data_bytes / 2**30:.1f} GiB, generated chunk by chunk; "
                     f"{available / 2**30:.1f} GiB available)", f"{n_iter} iterations + the finiteness pass",
                     f"{outcome['seconds']:.0f} s", f"peak RSS {outcome['peak_rss'] / 2**30:.2f} GiB = "
                     f"{outcome['peak_rss'] / chunk_bytes:.0f} chunks of {chunk_bytes / 2**20:.0f} MiB"])
        results.append({"case": "out of core", "shape": [n, f], "data_bytes": data_bytes, "available_memory": available,
                        "chunk_bytes": chunk_bytes, **outcome})
    _table("Dask: chunked training", ["data", "run", "time", "result"], rows)
    return results


# ------------------------------------------------------------------------ features


def case_features(args, rng):
    """What sample weights, class weights, warm starts and standardization cost, against the plain fit on the
    same data in the same process (ratios above 1: slower than the plain fit)."""
    backend = nc_device.resolve_backend(args.backend)
    n, f = (20_000, 100) if args.quick else (200_000, 100)
    X = rng.standard_normal((n, f)).astype(np.float32) * rng.uniform(0.5, 20, size=f).astype(np.float32)
    y = (X[:, 0] / 20 + X[:, 1] / 10 - X[:, 2] / 5 > 0).astype(int)
    weights = rng.uniform(0.5, 2.0, size=n)
    Xb = nc_device.to_backend(X, backend)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    Xsb = nc_device.to_backend(Xs.astype(np.float32), backend)
    iterations = 50 if args.quick else 200
    rows, results = [], []

    def timed(make, data, **fit):
        return median_time(lambda: make().fit(data, y, **fit).loss_curve_[-1], repeats=args.repeats)

    models = {
        "logistic, full batch": lambda **kw: nc.LogisticRegression(max_iter=iterations, learning_rate=0.1,
                                                                   backend=backend.name, **kw),
        "two-layer (32 tanh), batches of 1024": lambda **kw: nc.TwoLayerNet(32, max_iter=max(iterations // 10, 2),
                                                                              learning_rate=0.1, batch_size=1024,
                                                                              random_state=0, backend=backend.name, **kw),
    }
    for name, make in models.items():
        plain = timed(make, Xsb)
        variants = {
            "sample_weight": timed(make, Xsb, sample_weight=weights),
            "class_weight='balanced'": timed(lambda: make(class_weight="balanced"), Xsb),
            "standardize=True (raw X)": timed(lambda: make(standardize=True), Xb),
        }
        for variant, seconds in variants.items():
            rows.append([name, variant, f"{plain * 1e3:.0f} ms", f"{seconds * 1e3:.0f} ms", f"{seconds / plain:.2f}"])
            results.append({"model": name, "variant": variant, "plain_seconds": plain, "seconds": seconds,
                            "ratio": seconds / plain})
    # warm starts: 10 fits of max_iter/10 epochs continue exactly where one fit of max_iter would go
    total = iterations
    one = median_time(lambda: nc.LogisticRegression(max_iter=total, learning_rate=0.1, optimizer="adam",
                                                    backend=backend.name).fit(Xsb, y).loss_curve_[-1],
                      repeats=args.repeats)

    def in_ten():
        model = nc.LogisticRegression(max_iter=total // 10, learning_rate=0.1, optimizer="adam", warm_start=True,
                                      backend=backend.name)
        for _ in range(10):
            model.fit(Xsb, y)
        return model.loss_curve_[-1]

    ten = median_time(in_ten, repeats=args.repeats)
    rows.append(["logistic, Adam", f"warm_start: 10 fits of {total // 10}", f"{one * 1e3:.0f} ms (1 fit of {total})",
                 f"{ten * 1e3:.0f} ms", f"{ten / one:.2f}"])
    results.append({"model": "logistic, Adam", "variant": "warm_start x10", "plain_seconds": one, "seconds": ten,
                    "ratio": ten / one})
    _table(f"Features: their cost against the plain fit, {n} x {f} float32, {backend}",
           ["model", "variant", "plain fit", "with the variant", "ratio"], rows)
    return results


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and iteration counts (about a minute)")
    parser.add_argument("--backend", default="numpy", help="neuralcore's backend (default numpy; cupy on a GPU)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per measurement (median); default 3 quick, 5 full")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results.json"))
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (3 if args.quick else 5)
    wanted = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(wanted) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {unknown}; choose from {', '.join(CASES)}")
    info = machine()
    print("# neuralcore benchmarks")
    print(f"\nmachine: {info['cpu']}, {info['cores']} cores, BLAS {info['blas']}, GPU: {info['gpu']}, torch: {info.get('torch')}")
    print(f"command: python -m benchmarks.run {' '.join(argv if argv is not None else sys.argv[1:])}")
    rng = np.random.default_rng(0)
    report = {"machine": info, "quick": args.quick, "backend": args.backend, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
              "cases": {}}
    for case in wanted:
        start = time.perf_counter()
        report["cases"][case] = globals()[f"case_{case}"](args, rng)
        print(f"\n({case}: {time.perf_counter() - start:.0f} s)")
    with open(args.out, "w") as handle:
        json.dump(report, handle, indent=2, default=lambda v: None if isinstance(v, float) and math.isnan(v) else str(v))
    print(f"\nresults written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

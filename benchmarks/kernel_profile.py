"""Host and GPU time of one logistic-regression gradient step on CuPy: ``python -m benchmarks.kernel_profile``.

For each shape and dtype: the fused CUDA step (``neuralcore/_cuda.py``) and the
Array API step (``logistic.gd_step``), timed by ``cupyx.profiler.benchmark``
(host time: launching; GPU time: CUDA events), with the kernel layout and the
bandwidth the GPU time implies; then a whole small fit, split into its steps
and the rest. Needs a CUDA GPU.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv=None) -> int:
    import cupy
    from cupyx.profiler import benchmark

    import neuralcore as nc
    from neuralcore import _cuda, logistic, train
    from neuralcore.optim import gradient_descent

    parser = argparse.ArgumentParser(prog="python -m benchmarks.kernel_profile", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--min-row-groups", type=int, nargs="*", default=[_cuda.MIN_ROW_GROUPS])
    args = parser.parse_args(argv)
    rng = cupy.random.default_rng(0)
    print("| X | dtype | step | min row groups | host us/step | GPU us/step | GB/s from GPU time | layout (K, R, team), resident blocks |")
    print("|---|---|---|---|---|---|---|---|")
    for n, f in ((209, 12288), (400_000, 500), (2_000_000, 100)):
        for dtype in (cupy.float32, cupy.float64):
            X = rng.standard_normal((n, f), dtype=cupy.float64).astype(dtype)
            Y = (X[:, :1] > 0).astype(dtype)
            params = {"W": cupy.zeros((f, 1), dtype=dtype), "b": cupy.zeros((1,), dtype=dtype)}
            k, r, team = _cuda.layout(f)
            resident = _cuda._functions(_cuda._CTYPES[np.dtype(dtype).name], k, r, team, X.device.id)[2]
            for groups in args.min_row_groups:
                _cuda.MIN_ROW_GROUPS = groups
                _, fused = logistic.step_functions(X)
                candidates = [("fused", fused)]
                if groups == args.min_row_groups[0]:
                    candidates.append(("array api", logistic.gd_step))
                for name, step in candidates:
                    def one_step(step=step):
                        return step(params, X, Y, 0.1)

                    result = benchmark(one_step, (), n_repeat=args.repeats, n_warmup=10)
                    host, gpu = result.cpu_times.mean() * 1e6, result.gpu_times.mean() * 1e6
                    print(f"| {n} x {f} | {np.dtype(dtype).name} | {name} | {groups if name == 'fused' else ''} | "
                          f"{host:.1f} | {gpu:.1f} | {X.nbytes / gpu / 1e3:.0f} | {(k, r, team)}, {resident} |")
            del X, Y
    print()
    host_rng = np.random.default_rng(0)
    for dtype, groups in [(d, g) for d in ("float32", "float64") for g in args.min_row_groups]:
        _cuda.MIN_ROW_GROUPS = groups
        X = cupy.asarray((host_rng.integers(0, 256, size=(209, 12288)) / 255.0).astype(dtype))
        y = host_rng.integers(0, 2, 209)
        nc.LogisticRegression(max_iter=10).fit(X, y)  # warm-up: compile, allocate
        start = time.perf_counter()
        model = nc.LogisticRegression(max_iter=2000).fit(X, y)
        fit = time.perf_counter() - start
        Y = cupy.asarray(y.reshape(-1, 1).astype(dtype))
        params = {"W": cupy.zeros((12288, 1), dtype=dtype), "b": cupy.zeros((1,), dtype=dtype)}
        loss, step = logistic.step_functions(X)
        start = time.perf_counter()
        result = train.train(train.Steps(loss, step), params, (X, Y), optimizer=gradient_descent(0.005), max_iter=2000)
        float(result.loss_curve[-1])
        loop = time.perf_counter() - start
        print(f"209 x 12288 {dtype}, min row groups {groups}: fit(max_iter=2000) {fit * 1e3:.1f} ms, of which the training loop alone "
              f"takes {loop * 1e3:.1f} ms ({loop / 2000 * 1e6:.1f} us per iteration); n_iter {model.n_iter_}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env bash
# GPU checks, for a machine with a CUDA GPU where neuralcore's test dependencies and CuPy are
# installed (CI has no GPU and does not run this): the CUDA kernels against the Array API
# reference, the benchmarks on CuPy, and the whole test suite on the CuPy cases of the backend
# fixture. Logs go to $OUT (default: gpu-logs/), JSON results to $JSON_DIR (default: $OUT).
#
#   bash ci/gpu_checks.sh            # everything
#   STAGES="smoke tests" bash ci/gpu_checks.sh
#
# Each stage has its own time limit (seconds, environment variables *_LIMIT) so that a run on a
# rented machine ends on time and still returns the logs of the stages that finished.
set -u
OUT=${OUT:-gpu-logs}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
STAGES=${STAGES:-"smoke kernels profile large tests small deep compute solvers dask_gpu features"}
status=0

stage() {  # stage NAME LIMIT COMMAND...
    local name=$1 limit=$2
    shift 2
    echo "=== $name (limit ${limit}s) ==="
    local start=$SECONDS
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    tail -n "${TAIL:-40}" "$OUT/$name.log"
    echo "=== $name: exit $rc after $((SECONDS - start))s ==="
    [ $rc -eq 0 ] || status=1
}

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv > "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"

for s in $STAGES; do
    case $s in
    smoke)
        stage smoke "${SMOKE_LIMIT:-60}" "$PYTHON" - <<'EOF'
import time
import numpy as np
import cupy
from neuralcore import device, logistic

print(device.backend_status("cupy")[1])
rng = np.random.default_rng(0)
for dtype in ("float64", "float32"):
    for n, f in ((1, 1), (999, 100), (4000, 500), (300, 1025), (209, 12288)):
        X = cupy.asarray(rng.normal(size=(n, f)).astype(dtype))
        Y = cupy.asarray((rng.random((n, 1)) > 0.5).astype(dtype))
        params = {"W": cupy.asarray(rng.normal(size=(f, 1)).astype(dtype) * 0.1), "b": cupy.asarray(np.ones(1, dtype))}
        start = time.perf_counter()
        loss, step = logistic.step_functions(X, alpha=0.1)
        cost, grads = loss(params, X, Y)
        cost = float(cost)
        compile_s = time.perf_counter() - start
        ref_cost, ref = logistic.loss_and_grads(params, X, Y, alpha=0.1)

        def rel(got, want):
            return float(cupy.max(cupy.abs(got - want)) / (cupy.max(cupy.abs(want)) + 1e-30))

        err = max(rel(grads["W"], ref["W"]), rel(grads["b"], ref["b"]))
        step_cost, new = step(params, X, Y, 0.5)
        ref_step_cost, ref_new = logistic.gd_step(params, X, Y, 0.5, alpha=0.1)
        step_err = max(rel(new["W"], ref_new["W"]), rel(new["b"], ref_new["b"]))
        print(f"{dtype} {n}x{f}: cost {cost:.8g} vs {float(ref_cost):.8g}, grad (W, b) rel err {err:.2e}, "
              f"gd_step (W, b) rel err {step_err:.2e}, first call {compile_s:.2f}s")
        bound = 1e-12 if dtype == "float64" else 1e-5
        assert err < bound and step_err < bound, "kernel disagrees"
        for c, r in ((cost, ref_cost), (float(step_cost), ref_step_cost)):
            assert abs(c - float(r)) < bound * 10 * max(1.0, abs(c)), "kernel cost disagrees"

EOF
        ;;
    kernels)
        # every kernel layout in both dtypes against the float64 oracle, views, streams, a failing launch,
        # two threads, the resident-block cap (tests/test_kernels.py TestOnGPU), and the host-side logic;
        # the CuPy cases are required (an unusable CuPy is an error), and a skip here is a failure
        stage kernels "${KERNELS_LIMIT:-420}" env NEURALCORE_TEST_BACKENDS=cupy "$PYTHON" -m pytest -q -rs \
            -p no:cacheprovider tests/test_kernels.py tests/test_cuda_host.py -k "GPU or layout or host"
        if grep -q "skipped" "$OUT/kernels.log"; then echo "kernels: tests were skipped on a GPU"; status=1; fi
        ;;
    profile)
        stage profile "${PROFILE_LIMIT:-90}" "$PYTHON" -m benchmarks.kernel_profile --min-row-groups ${MIN_ROW_GROUPS:-4}
        ;;
    large)
        stage bench_large "${LARGE_LIMIT:-90}" "$PYTHON" -m benchmarks.run --backend cupy --cases large --repeats 5 --out "${JSON_DIR:-$OUT}/large.json"
        ;;
    tests)
        workers=""
        "$PYTHON" -c "import xdist" 2>/dev/null && workers="-n ${WORKERS:-8}"
        stage tests "${TESTS_LIMIT:-240}" env NEURALCORE_TEST_BACKENDS=cupy "$PYTHON" -m pytest -q -p no:cacheprovider $workers --durations=10
        ;;
    small)
        stage bench_small "${SMALL_LIMIT:-120}" "$PYTHON" -m benchmarks.run --backend cupy --cases small --repeats 3 --out "${JSON_DIR:-$OUT}/small.json"
        ;;
    deep)
        # issue 13/15: the course's L-layer cat model and a compute-bound [784, 1024, 1024, 1] step, against
        # the CuPy textbook loop and PyTorch on CUDA
        stage bench_deep "${DEEP_LIMIT:-150}" "$PYTHON" -m benchmarks.run --backend cupy --cases deep --repeats 3 --out "${JSON_DIR:-$OUT}/deep.json"
        ;;
    dask_gpu)
        # issue 15 part B: Dask with CuPy chunks (LocalCUDACluster when dask-cuda is installed, else Dask's
        # threads) against the in-memory CuPy fit: the same numbers, and the throughput of each
        stage dask_gpu "${DASK_GPU_LIMIT:-240}" "$PYTHON" - <<'EOF'
import time
import numpy as np
import cupy
import dask.array as da
import neuralcore as nc

try:
    from dask_cuda import LocalCUDACluster
    from distributed import Client
    client = Client(LocalCUDACluster())
    where = f"LocalCUDACluster ({len(client.scheduler_info()['workers'])} workers)"
except ImportError:
    client, where = None, "Dask threads (dask-cuda is not installed)"
rng = np.random.default_rng(0)
n, f = 2_000_000, 100
X_host = rng.standard_normal((n, f))
y = (X_host @ rng.standard_normal(f) * 0.3 + rng.logistic(size=n) > 0).astype(np.int64)
X_gpu = cupy.asarray(X_host)
X_dask = da.from_array(X_host, chunks=(250_000, f)).map_blocks(cupy.asarray).persist()
for name, make in (("lbfgs", lambda: nc.LogisticRegression(solver="lbfgs", alpha=1e-6)),
                   ("gd, 200 iterations", lambda: nc.LogisticRegression(learning_rate=0.5, max_iter=200))):
    make().fit(X_gpu, y)  # warm-up: kernels compiled
    start = time.perf_counter(); memory = make().fit(X_gpu, y); t_memory = time.perf_counter() - start
    start = time.perf_counter(); chunked = make().fit(X_dask, y); t_dask = time.perf_counter() - start
    W_memory, W_dask = cupy.asnumpy(memory.params_["W"]), np.asarray(chunked.params_["W"])
    err = float(np.max(np.abs(W_memory - W_dask)) / np.max(np.abs(W_memory)))
    print(f"{name} on {where}: in-memory CuPy {t_memory:.3f} s, Dask CuPy chunks {t_dask:.3f} s "
          f"({t_dask / t_memory:.2f}x), parameters rel. diff {err:.2e}, costs {memory.loss_curve_[-1]:.10g} "
          f"vs {chunked.loss_curve_[-1]:.10g}")
    assert err < 1e-6, "Dask on GPU chunks disagrees with the in-memory fit"  # summation order only
    block = chunked.predict_proba(X_dask).to_delayed().ravel()[0].compute()
    assert isinstance(block, cupy.ndarray), type(block)
EOF
        ;;
    compute)
        stage bench_compute "${COMPUTE_LIMIT:-60}" "$PYTHON" -m benchmarks.run --backend cupy --cases compute --repeats 3 --out "${JSON_DIR:-$OUT}/compute.json"
        ;;
    solvers)
        stage bench_solvers "${SOLVERS_LIMIT:-90}" "$PYTHON" -m benchmarks.run --backend cupy --cases solvers --repeats 3 --out "${JSON_DIR:-$OUT}/solvers.json"
        ;;
    features)  # weights (the kernels step aside), standardize and warm starts against the plain fit on CuPy
        stage bench_features "${FEATURES_LIMIT:-120}" "$PYTHON" -m benchmarks.run --backend cupy --cases features --quick --repeats 3 --out "${JSON_DIR:-$OUT}/features.json"
        ;;
    *)
        echo "unknown stage $s" >&2
        status=2
        ;;
    esac
done
exit $status

"""Train on data larger than memory: a Dask array generated (or read) chunk by chunk.

The parameters stay small NumPy arrays; each iteration evaluates every chunk
with the ordinary model code and brings back only the per-chunk sums, so
memory stays bounded by a few chunks whatever the data's size.

    python examples/dask_out_of_core.py [--gib 4] [--iterations 3] [--cluster]

--cluster starts a dask.distributed LocalCluster (2 workers) and trains on it;
on a real cluster, create the Client with the scheduler's address instead.
Needs the dask extra: pip install "neuralcore[dask]".
"""

import argparse
import resource
import time

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as error:  # an optional extra: say which, not a traceback
    raise SystemExit(f'this example needs Dask: pip install "neuralcore[dask]" ({error})') from None

import neuralcore as nc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=4.0, help="size of the generated X in GiB (float32)")
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--cluster", action="store_true", help="run on a local dask.distributed cluster")
    args = parser.parse_args(argv)

    n = int(args.gib * 2**30 / (4 * args.features)) // args.chunk_rows * args.chunk_rows
    # Lazy: nothing is generated until a chunk is needed, and each chunk is dropped after use.
    X = da.random.default_rng(0).standard_normal((n, args.features), chunks=(args.chunk_rows, args.features),
                                                 dtype=np.float32)
    w_true = np.linspace(-1, 1, args.features, dtype=np.float32)
    y = (X @ w_true > 0).astype(np.int8).compute()  # the labels are small: n bytes
    print(f"X: {n} x {args.features} float32 = {X.nbytes / 2**30:.1f} GiB in {X.numblocks[0]} chunks of "
          f"{args.chunk_rows * args.features * 4 / 2**20:.0f} MiB (generated lazily)")

    client = None
    if args.cluster:
        from distributed import Client, LocalCluster

        client = Client(LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None))
        print(f"training on {client}")
    else:
        dask.config.set(scheduler="threads")

    start = time.perf_counter()
    model = nc.LogisticRegression(learning_rate=0.5, max_iter=args.iterations, verbose=2).fit(X, y)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{args.iterations} iterations in {seconds:.0f} s; peak resident memory of this process {peak:.2f} GiB")
    sample = X[:100_000].compute()
    print(f"accuracy on the first 100000 rows: {model.score(sample, y[:100_000]):.1%}")
    if client is not None:
        client.close()


if __name__ == "__main__":
    main()

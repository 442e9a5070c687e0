"""Train on the GPU when there is one, on the CPU otherwise: same code, same result.

backend="auto" picks CuPy when a CUDA device is usable and falls back to NumPy
(logging why). Set NEURALCORE_BACKEND=numpy (or cupy, torch, ...) to force one.

    python examples/gpu_quickstart.py [--samples 20000] [--iterations 1000]
"""

import argparse
import logging
import time

import neuralcore as nc
from neuralcore.datasets import make_planar


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    print(f"usable backends here: {', '.join(nc.available_backends())}")
    X, y = make_planar(n_samples=args.samples, random_state=0)
    net = nc.TwoLayerNet(16, max_iter=args.iterations, random_state=0, backend=args.backend, dtype="float32")
    start = time.perf_counter()
    net.fit(X, y)
    seconds = time.perf_counter() - start
    print(f"trained on {net.backend_} ({nc.device.backend_of(net.params_['W1'])}) in {seconds:.2f} s: "
          f"{args.iterations} iterations, {args.samples} samples, 16 hidden units, float32")
    print(f"train accuracy {net.score(X, y):.1%}, final cost {net.loss_curve_[-1]:.4f}")


if __name__ == "__main__":
    main()

"""The course's hidden-layer-size experiment on the flower data.

Trains a two-layer network with 1, 2, 3, 4, 5, 20 and 50 tanh hidden units
(learning rate 1.2, full-batch gradient descent) and logistic regression, and
prints a table of training accuracies: one or two units underfit like the
linear model; from three or four on, the network learns the petals.

    python examples/planar_hidden_sizes.py [--iterations 5000] [--plot sizes.png]
"""

import argparse
import time

import neuralcore as nc
from neuralcore.datasets import make_planar

SIZES = (1, 2, 3, 4, 5, 20, 50)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5000, help="the course uses 5000")
    parser.add_argument("--backend", default=None)
    parser.add_argument("--plot", help="save the decision boundaries to this PNG (needs matplotlib)")
    args = parser.parse_args(argv)
    if args.plot:  # before minutes of training, not after
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error('--plot needs matplotlib: pip install "neuralcore[plot]"')

    X, y = make_planar(n_samples=400, random_state=1)
    rows = []
    start = time.perf_counter()
    logistic = nc.LogisticRegression(backend=args.backend).fit(X, y)
    rows.append(("logistic regression", logistic.score(X, y), time.perf_counter() - start, logistic))
    for size in SIZES:
        start = time.perf_counter()
        net = nc.TwoLayerNet(size, max_iter=args.iterations, random_state=0, backend=args.backend).fit(X, y)
        rows.append((f"{size} hidden units", net.score(X, y), time.perf_counter() - start, net))

    print(f"flower data, {X.shape[0]} points, {args.iterations} iterations, backend {rows[-1][3].backend_}")
    print(f"{'model':<22}{'train accuracy':>15}{'seconds':>9}")
    for name, accuracy, seconds, _ in rows:
        print(f"{name:<22}{accuracy:>14.2%}{seconds:>9.2f}")

    if args.plot:
        from matplotlib.figure import Figure

        from neuralcore.plot import decision_boundary

        figure = Figure(figsize=(16, 8), layout="constrained")
        for ax, (name, accuracy, _, model) in zip(figure.subplots(2, 4).ravel(), rows):
            decision_boundary(model, X, y, ax=ax, resolution=150)
            ax.set_title(f"{name}: {accuracy:.1%}")
            ax.get_legend().remove()
        figure.savefig(args.plot, dpi=80)
        print(f"decision boundaries saved to {args.plot}")


if __name__ == "__main__":
    main()

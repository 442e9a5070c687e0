"""Compare learning rates: the cost curves of the same model trained with several step sizes.

As in the course's experiment with logistic regression: too small a rate
learns slowly, a larger one faster, and one too large oscillates or diverges.
After the table, the script says which of these it saw, from the costs it
recorded: the rate with the lowest final cost, the smaller ones that learned
more slowly, the larger ones whose cost went up during training or diverged.
By default on the flower data with a two-layer network, where a rate of 50
oscillates; give an HDF5 image file (such as the course's train_catvnoncat.h5)
to use logistic regression on its images instead.

    python examples/learning_rates.py [--out learning_rates.png] [--images train.h5] [--rates 0.01 0.1 1.2 50]

Needs matplotlib (pip install "neuralcore[plot]"); h5py for --images.
"""

import argparse
import sys
from dataclasses import dataclass

import neuralcore as nc
from neuralcore.datasets import make_planar


@dataclass
class Run:
    """One learning rate's training: its costs, and the iteration it diverged at (None if it did not)."""

    rate: float
    costs: list
    accuracy: float | None = None
    diverged_at: int | None = None

    @property
    def rises(self) -> int:
        """How many updates made the training cost go up."""
        return sum(after > before for before, after in zip(self.costs, self.costs[1:]))


def cost_text(cost: float) -> str:
    """A cost for the table: four decimals, or scientific notation when it has blown up."""
    return f"{cost:.4f}" if abs(cost) < 1e4 else f"{cost:.3e}"


def verdicts(runs):
    """One line per learning rate saying what its costs show, computed from them alone."""
    finished = [run for run in runs if run.diverged_at is None]
    best = min(finished, key=lambda run: run.costs[-1]) if finished else None
    lines = []
    for run in runs:
        if run.diverged_at is not None:
            lines.append(f"{run.rate:g}: too large, diverged "
                         f"(the cost became NaN or infinite at iteration {run.diverged_at})")
            continue
        went_up = f"the cost went up at {run.rises} of {len(run.costs) - 1} updates"
        if run is best:
            lines.append(f"{run.rate:g}: the lowest final cost" + (f", although {went_up}" if run.rises else ""))
        elif run.rate < best.rate:
            lines.append(f"{run.rate:g}: too small, learned more slowly (final cost {cost_text(run.costs[-1])})")
        elif run.rises:
            lines.append(f"{run.rate:g}: too large, oscillates: {went_up}, ending at {cost_text(run.costs[-1])}, "
                         f"above its lowest {cost_text(min(run.costs))}")
        else:
            lines.append(f"{run.rate:g}: larger, yet ended with a higher cost ({cost_text(run.costs[-1])})")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="learning_rates.png")
    parser.add_argument("--images", help="an HDF5 file of images and labels (the course's cat data, say)")
    parser.add_argument("--iterations", type=int, default=1500)
    parser.add_argument("--backend", default=None)
    parser.add_argument("--rates", type=float, nargs="+", help="the learning rates to compare (default: see the code)")
    args = parser.parse_args(argv)

    try:
        from matplotlib.figure import Figure
    except ImportError:
        parser.error('this example draws cost curves and needs matplotlib: pip install "neuralcore[plot]"')

    from neuralcore.plot import loss_curve

    if args.images:
        from neuralcore.loaders import flatten_images, load_hdf5

        images, y = load_hdf5(args.images)
        X = flatten_images(images)
        rates = args.rates or (0.01, 0.001, 0.0001)  # the course's
        make = lambda rate: nc.LogisticRegression(learning_rate=rate, max_iter=args.iterations, backend=args.backend)  # noqa: E731
        title = f"logistic regression on {args.images}"
    else:
        X, y = make_planar(n_samples=400, random_state=1)
        rates = args.rates or (0.01, 0.1, 1.2, 50.0)
        make = lambda rate: nc.TwoLayerNet(4, learning_rate=rate, max_iter=args.iterations, random_state=0, backend=args.backend)  # noqa: E731
        title = "two-layer network (4 tanh units) on the flower data"

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = figure.add_subplot()
    print(f"{title}, {args.iterations} iterations")
    print(f"{'learning rate':>14}{'final cost':>12}{'train accuracy':>16}")
    runs = []
    for rate in rates:
        try:
            model = make(rate).fit(X, y)
        except nc.DivergenceError as error:
            runs.append(Run(rate, list(error.loss_curve), diverged_at=error.iteration))
            if error.loss_curve:
                loss_curve(error.loss_curve, ax=ax, label=f"learning rate {rate:g} (diverged)")
            print(f"{rate:>14g}{'diverged':>12}{'':>15}")
            continue
        runs.append(Run(rate, list(model.loss_curve_), model.score(X, y)))
        loss_curve(model, ax=ax, label=f"learning rate {rate:g}")
        print(f"{rate:>14g}{cost_text(model.loss_curve_[-1]):>12}{runs[-1].accuracy:>15.1%}")
    print("what the costs show, by learning rate:")
    for line in verdicts(runs):
        print(f"  {line}")
    ax.set_title(title)
    figure.savefig(args.out, dpi=100)
    print(f"cost curves saved to {args.out}")


if __name__ == "__main__":
    try:
        main()
    except ImportError as error:  # h5py missing: the message names the extra to install
        raise SystemExit(f"{sys.argv[0]}: {error}") from None

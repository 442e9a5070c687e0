"""Compare learning rates: the cost curves of the same model trained with several step sizes.

As in the course's experiment with logistic regression: too small a rate
learns slowly, a larger one faster, and one too large oscillates or diverges.
By default on the flower data with a two-layer network; give an HDF5 image
file (such as the course's train_catvnoncat.h5) to use logistic regression on
its images instead.

    python examples/learning_rates.py [--out learning_rates.png] [--images train.h5]

Needs matplotlib (pip install "neuralcore[plot]"); h5py for --images.
"""

import argparse

import neuralcore as nc
from neuralcore.datasets import make_planar


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="learning_rates.png")
    parser.add_argument("--images", help="an HDF5 file of images and labels (the course's cat data, say)")
    parser.add_argument("--iterations", type=int, default=1500)
    parser.add_argument("--backend", default=None)
    args = parser.parse_args(argv)

    from matplotlib.figure import Figure

    from neuralcore.plot import loss_curve

    if args.images:
        from neuralcore.loaders import flatten_images, load_hdf5

        images, y = load_hdf5(args.images)
        X = flatten_images(images)
        rates = (0.01, 0.001, 0.0001)  # the course's
        make = lambda rate: nc.LogisticRegression(learning_rate=rate, max_iter=args.iterations, backend=args.backend)  # noqa: E731
        title = f"logistic regression on {args.images}"
    else:
        X, y = make_planar(n_samples=400, random_state=1)
        rates = (0.01, 0.1, 1.2, 5.0)
        make = lambda rate: nc.TwoLayerNet(4, learning_rate=rate, max_iter=args.iterations, random_state=0, backend=args.backend)  # noqa: E731
        title = "two-layer network (4 tanh units) on the flower data"

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = figure.add_subplot()
    print(f"{title}, {args.iterations} iterations")
    print(f"{'learning rate':>14}{'final cost':>12}{'train accuracy':>16}")
    for rate in rates:
        model = make(rate).fit(X, y)
        loss_curve(model, ax=ax, label=f"learning rate {rate:g}")
        print(f"{rate:>14g}{model.loss_curve_[-1]:>12.4f}{model.score(X, y):>15.1%}")
    ax.set_title(title)
    figure.savefig(args.out, dpi=100)
    print(f"cost curves saved to {args.out}")


if __name__ == "__main__":
    main()

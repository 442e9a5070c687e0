"""The course's L-layer network on its cat / non-cat images: the table of "Deep Neural Network - Application".

Layers [12288, 20, 7, 5, 1], relu hidden layers, a sigmoid output, learning
rate 0.0075, 2500 iterations of full-batch gradient descent, the course's
initializer (``randn(n_l, n_(l-1)) / sqrt(n_(l-1))`` after ``np.random.seed(1)``):
it prints the course's costs (0.771749 at iteration 0 ... 0.092878 at 2400)
and accuracies (0.9856 on the 209 training images, 0.80 on the 50 test
images), then the two-layer network and logistic regression for comparison.

    python examples/deep_image_classifier.py train_catvnoncat.h5 test_catvnoncat.h5 [--backend auto]

The files come with the course's materials and are not shipped here. Needs
h5py: pip install "neuralcore[io]".
"""

import argparse
import sys
import time

import numpy as np

import neuralcore as nc
from neuralcore.loaders import flatten_images, load_hdf5


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", help="HDF5 file of training images and labels (train_catvnoncat.h5)")
    parser.add_argument("test", help="HDF5 file of test images and labels (test_catvnoncat.h5)")
    parser.add_argument("--backend", default=None, help="auto (default), numpy, cupy, torch, ...")
    parser.add_argument("--iterations", type=int, default=2500)
    parser.add_argument("--hidden-units", default="20,7,5", help="comma-separated layer sizes (default 20,7,5)")
    args = parser.parse_args(argv)

    images, y_train = load_hdf5(args.train)
    test_images, y_test = load_hdf5(args.test)
    X_train, X_test = flatten_images(images), flatten_images(test_images)  # rows scaled to [0, 1]
    hidden = tuple(int(size) for size in args.hidden_units.split(","))
    print(f"train X {X_train.shape}, test X {X_test.shape}; layers {[X_train.shape[1], *hidden, 1]}")

    models = {
        f"L-layer network {hidden} (the course's)": nc.NeuralNet(
            hidden, init="lecun", random_state=np.random.RandomState(1), learning_rate=0.0075,
            max_iter=args.iterations, verbose=2, backend=args.backend,
        ),
        "two-layer network, 7 relu units": nc.TwoLayerNet(
            7, activation="relu", init="lecun", random_state=np.random.RandomState(1), learning_rate=0.0075,
            max_iter=args.iterations, backend=args.backend,
        ),
        "logistic regression": nc.LogisticRegression(learning_rate=0.005, max_iter=2000, backend=args.backend),
    }
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        print(f"{name:42s} train {model.score(X_train, y_train):.4f}  test {model.score(X_test, y_test):.2f}  "
              f"({seconds:.1f} s on {model.backend_}, final cost {model.loss_curve_[-1]:.6f})")


if __name__ == "__main__":
    try:
        main()
    except ImportError as error:  # h5py missing: the message names the extra to install
        raise SystemExit(f"{sys.argv[0]}: {error}") from None

"""Logistic regression and a two-layer network on an HDF5 file of images.

The files hold images of shape (n, height, width, channels), uint8, and 0/1
labels, in datasets named ``<name>_x`` / ``<name>_y`` (or give --x-key and
--y-key). The course's cat / non-cat files (train_catvnoncat.h5 and
test_catvnoncat.h5, 64x64 RGB) have this layout; they come with the course's
materials and are not shipped here.

    python examples/image_classifier.py TRAIN.h5 TEST.h5 [--backend auto]

Needs h5py: pip install "neuralcore[io]".
"""

import argparse
import sys
import time

import neuralcore as nc
from neuralcore.loaders import flatten_images, load_hdf5


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", help="HDF5 file of training images and labels")
    parser.add_argument("test", help="HDF5 file of test images and labels")
    parser.add_argument("--x-key")
    parser.add_argument("--y-key")
    parser.add_argument("--backend", default=None, help="auto (default), numpy, cupy, torch, ...")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--hidden-units", type=int, default=7)
    args = parser.parse_args(argv)

    images, y_train = load_hdf5(args.train, x_key=args.x_key, y_key=args.y_key)
    test_images, y_test = load_hdf5(args.test, x_key=args.x_key, y_key=args.y_key)
    # Flatten each image to a row and scale the pixels to [0, 1], as the course does.
    X_train, X_test = flatten_images(images), flatten_images(test_images)
    print(f"train: {images.shape} -> X {X_train.shape}; test: {test_images.shape} -> X {X_test.shape}")

    models = {
        "logistic regression (lr 0.005)": nc.LogisticRegression(learning_rate=0.005, max_iter=args.iterations, backend=args.backend),
        f"two-layer net, {args.hidden_units} relu units (lr 0.0075)": nc.TwoLayerNet(
            args.hidden_units, activation="relu", init="xavier", learning_rate=0.0075,
            max_iter=args.iterations, random_state=1, backend=args.backend,
        ),
    }
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        print(f"{name:45s} train {model.score(X_train, y_train):6.1%}  test {model.score(X_test, y_test):6.1%}  "
              f"({seconds:.1f} s on {model.backend_}, final cost {model.loss_curve_[-1]:.4f})")


if __name__ == "__main__":
    try:
        main()
    except ImportError as error:  # h5py missing: the message names the extra to install
        raise SystemExit(f"{sys.argv[0]}: {error}") from None

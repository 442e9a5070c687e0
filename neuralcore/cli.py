"""The ``neuralcore`` command: train, predict, evaluate, info, datasets.

Built on the standard library's argparse, so the command works with the core
install alone. Errors print one line, ``neuralcore: error: ...``, never a
traceback. Exit status: 0 success; 1 a user error (a value out of range, a
missing or unreadable file, options that do not go together, an invalid
setting reported by ``info``); 2 a command line argparse rejects (unknown
option, wrong type, not a choice, an empty output path); 130 Ctrl-C; 141 the
reader of standard output left (``| head``), which ends quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import inspect
import io
import json
import os
import platform
import re
import signal
import sys
import threading
import time
import warnings

import numpy as np

from . import __version__
from . import device as nc_device
from . import kernels
from .activations import ACTIVATIONS
from .datasets import BUILTIN
from .exceptions import ConvergenceWarning, DivergenceError, MemoryBudgetError
from .files import atomic_write, check_output_path
from .init import INITIALIZERS
from .losses import cross_entropy
from .optim import OPTIMIZERS
from .persistence import load
from .progress import interactive
from .solvers import SOLVERS
from .frames import store_feature_names
from .validation import is_finite

__all__ = ["main"]

MODELS = {"logistic": "LogisticRegression", "two-layer": "TwoLayerNet", "network": "NeuralNet"}


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    if sys.stdout is None:  # started with standard output closed (`>&-`): Python leaves None there
        sys.stdout = _ClosedOutput()
    parser = _parser()
    try:
        try:
            args = parser.parse_args(argv)
            if args.command is None:
                parser.print_help()
                return 2
        finally:
            sys.stdout.flush()  # --help and --version print, then exit: a closed pipe shows up here
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OSError as exc:  # --help or --version with standard output closed (argparse passes it on before 3.11)
        return _fail(str(exc))
    try:
        with _sigterm_interrupts():
            status = args.run(args) or 0
            sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's last flush
        return status
    except BrokenPipeError:  # `neuralcore ... | head`: the reader left; end quietly, as Unix tools do
        return _quiet_broken_pipe()
    except _Terminated:
        return _fail("terminated", 143, prefix="neuralcore: ")
    except KeyboardInterrupt:
        return _fail("interrupted", 130, prefix="neuralcore: ")
    except MemoryBudgetError as exc:  # refused before any work: its message says what and how much
        return _fail(str(exc))
    except MemoryError as exc:
        return _fail(f"out of memory: {exc}" if str(exc) else "out of memory")
    except UnicodeEncodeError as exc:  # a label or path the output's encoding cannot show (LANG=C, PYTHONIOENCODING)
        return _fail(f"cannot write {exc.object[exc.start:exc.end]!r} in the {exc.encoding!r} encoding of the output; "
                     "set PYTHONIOENCODING=utf-8 (or a UTF-8 locale)")
    except (ValueError, TypeError, OSError, ImportError, RuntimeError, DivergenceError) as exc:
        return _fail(str(exc) or type(exc).__name__)
    except Exception as exc:  # a bug of ours still gets one line, with what to report
        return _fail(f"unexpected {type(exc).__name__}: {exc} (please report this)")


class _ClosedOutput(io.TextIOBase):
    """Standard output when the process started without one: writing is an error, never a silent loss."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text:
            return 0
        raise OSError("cannot write to standard output: it is closed (redirect it to a file or /dev/null instead)")


def _fail(message: str, status: int = 1, prefix: str = "neuralcore: error: ") -> int:
    """Print one line on standard error (whitespace of a multi-line message folded); return ``status``."""
    if sys.stderr is None:  # started with standard error closed (print would fall back to stdout)
        return status
    try:
        print(prefix + " ".join(message.split()), file=sys.stderr, flush=True)
    except (BrokenPipeError, ValueError):  # standard error closed as well: the status is all that is left
        pass
    return status


def _quiet_broken_pipe() -> int:
    """Python's recipe for SIGPIPE: send what is still buffered to /dev/null; exit as a SIGPIPE'd tool (141)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a file descriptor (captured in tests)
        pass
    return 141


DATA_HELP = """\
DATA is a built-in dataset or a data file:
  planar, moons, circles, blobs, xor   built-in, with optional parameters:
                                       planar:n_samples=1000,noise=0.3 (see: neuralcore datasets)
  FILE.csv       a header row naming the columns, numeric features; the labels
                 in the last column or the one named by --target
  FILE.npz       NumPy arrays X and y (or those named by --x-key / --y-key)
  FILE.h5/.hdf5  one <name>_x/<name>_y pair of datasets (or --x-key / --y-key)
  in .npz and .h5, images (n, height, width, channels) are flattened, uint8 pixels scaled by 255"""

MODEL_HELP = """\
MODEL is a model file written by `neuralcore train --out MODEL.npz`: the weights
and what was done to the training data (image flattening and scaling, the
standardization, the CSV columns and label column), repeated on DATA here."""


def _parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="neuralcore", formatter_class=raw,
        description="Train logistic regression and neural networks on the CPU (NumPy) or a GPU (CuPy), "
                    "and use the saved models.",
        epilog="examples:\n"
               "  neuralcore train                              the planar flower, a two-layer network\n"
               "  neuralcore train data.csv --target label --test-fraction 0.25 --out model.npz\n"
               "  neuralcore evaluate model.npz test.csv\n"
               "  neuralcore COMMAND --help                     the options of a command",
    )
    parser.add_argument("--version", action="version", version=f"neuralcore {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train a model and report its accuracy", formatter_class=raw,
        description="Train a model on DATA and report its training accuracy (and test accuracy with --test or\n"
                    "--test-fraction). Features of data files are standardized by default (the mean and standard\n"
                    "deviation of the training rows, learned by the model: its file applies them wherever it is\n"
                    "used, by predict and evaluate or in Python).\n\n"
                    + DATA_HELP,
        epilog="examples:\n"
               "  neuralcore train                                           planar flower, two-layer network\n"
               "  neuralcore train moons:noise=0.3 --model logistic --solver lbfgs\n"
               "  neuralcore train cancer.csv --target target --test-fraction 0.25 --out model.npz --plot cost.png\n"
               "  neuralcore train train.h5 --test test.h5 --model network --hidden-units 20,7,5")
    train.add_argument("data", nargs="?", default="planar", metavar="DATA",
                       help="the training data: a built-in dataset or a .csv/.npz/.h5 file (default: planar)")
    train.add_argument("--test", metavar="DATA", help="data to report test accuracy on (a file or built-in)")
    train.add_argument("--test-fraction", type=float, metavar="F",
                          help="hold out this fraction (0 < F < 1) of DATA's rows, stratified by class and drawn "
                               "with --seed, and report test accuracy on them")
    train.add_argument("--model", choices=sorted(MODELS), default="two-layer",
                       help="logistic (regression), two-layer (one hidden layer) or network (any number of hidden "
                            "layers) (default: two-layer)")
    train.add_argument("--hidden-units", type=_layer_sizes, metavar="N[,N...]",
                       help="two-layer: hidden units (default 4); network: layer sizes from the input up, "
                            "e.g. 20,7,5 (default 20,7,5)")
    train.add_argument("--activation", choices=list(ACTIVATIONS), help="of the hidden layers (default: tanh for "
                                                                        "two-layer, relu for network)")
    train.add_argument("--learning-rate", type=float, metavar="LR",
                       help="default: 1.2 (two-layer), 0.0075 (network), 0.005 (logistic)")
    train.add_argument("--iterations", type=int, metavar="N", help="max_iter: iterations, or epochs with --batch-size "
                                                                    "(default: 10000 two-layer, 2500 network, "
                                                                    "2000 logistic)")
    train.add_argument("--optimizer", default="gd", choices=list(OPTIMIZERS),
                       help="update rule of --solver gd (default: gd, plain gradient descent)")
    train.add_argument("--batch-size", type=int, metavar="N", help="mini-batch size (default: full batch)")
    train.add_argument("--alpha", type=float, default=0.0, help="L2 penalty (default: 0)")
    train.add_argument("--class-weight", choices=["balanced"],
                       help="balanced: weigh each class inversely to its frequency in the training rows, so a "
                            "rare class counts as much as a common one (default: every row weighs 1)")
    train.add_argument("--solver", choices=["gd", *SOLVERS],
                       help="--model logistic only: gd (gradient descent with --optimizer), or lbfgs or newton, "
                            "which find the optimum without a learning rate (default: gd)")
    train.add_argument("--init", choices=list(INITIALIZERS), help="initial weights (default: zeros for logistic, "
                                                                  "normal for two-layer, he for network)")
    train.add_argument("--seed", type=int, default=0, help="random seed: initial weights, mini-batches and the "
                                                           "--test-fraction split (default: 0)")
    _backend_options(train, "$NEURALCORE_BACKEND if set, else auto: a CUDA GPU via CuPy when usable, else numpy")
    train.add_argument("--dtype", choices=["float32", "float64"],
                       help="working precision (default: the data's floating dtype, else the backend's)")
    train.add_argument("--standardize", action=argparse.BooleanOptionalAction,
                       help="center and scale each feature by the mean and standard deviation of the training "
                            "rows (default: on for .csv/.npz/.h5 features, images of float pixels included; off "
                            "for built-in datasets and for images of uint8 pixels, which are scaled to [0, 1])")
    _data_options(train)
    train.add_argument("--out", type=_path, metavar="MODEL.npz", help="save the trained model")
    train.add_argument("--plot", type=_path, metavar="FIGURE.png",
                       help="save the cost curve (with the held-out cost under --test or --test-fraction, and the "
                            "decision boundary for 2 features); the format follows the extension")
    train.add_argument("--json", action="store_true", help="print one JSON summary instead of text")
    train.add_argument("--quiet", action="store_true", help="no progress output")
    train.set_defaults(run=_train)

    predict = commands.add_parser(
        "predict", help="predict labels with a saved model", formatter_class=raw,
        description="Write the label the model predicts for each row of DATA, as CSV (a 'prediction' column,\n"
                    "and a probability column per class with --proba). DATA needs no labels.\n\n"
                    + MODEL_HELP + "\n\n" + DATA_HELP,
        epilog="examples:\n"
               "  neuralcore predict model.npz new.csv                 predictions on standard output\n"
               "  neuralcore predict model.npz new.csv --proba --out predictions.csv")
    predict.add_argument("model", metavar="MODEL", help="a model file written by train --out")
    predict.add_argument("data", metavar="DATA", help="the data to predict: a .csv/.npz/.h5 file or a built-in")
    predict.add_argument("--out", type=_path, metavar="FILE.csv", help="write the predictions here (default: standard output)")
    predict.add_argument("--proba", action="store_true", help="also write the probability of each class")
    _backend_options(predict, "$NEURALCORE_BACKEND if set, else numpy")
    _data_options(predict)
    predict.set_defaults(run=_predict)

    evaluate = commands.add_parser(
        "evaluate", help="accuracy, log loss and confusion matrix of a saved model", formatter_class=raw,
        description="Score a saved model on labelled DATA: accuracy, log loss and the confusion matrix.\n\n"
                    + MODEL_HELP + "\n\n" + DATA_HELP,
        epilog="examples:\n"
               "  neuralcore evaluate model.npz test.csv\n"
               "  neuralcore evaluate model.npz test.h5 --json")
    evaluate.add_argument("model", metavar="MODEL", help="a model file written by train --out")
    evaluate.add_argument("data", metavar="DATA", help="labelled data: a .csv/.npz/.h5 file or a built-in")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    _backend_options(evaluate, "$NEURALCORE_BACKEND if set, else numpy")
    _data_options(evaluate)
    evaluate.set_defaults(run=_evaluate)

    info = commands.add_parser(
        "info", help="backends, devices and versions on this machine", formatter_class=raw,
        description="Which backends and devices are usable here, what 'auto' picks, the settings read from the\n"
                    "environment and the versions; status 1 when a setting is invalid.",
        epilog="examples:\n  neuralcore info\n  neuralcore info --json")
    info.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    info.set_defaults(run=_info)

    datasets = commands.add_parser(
        "datasets", help="list the built-in datasets", formatter_class=raw,
        description="The built-in datasets, usable as DATA by name, with their parameters and defaults.",
        epilog="examples:\n  neuralcore datasets\n  neuralcore train moons:n_samples=500,noise=0.2")
    datasets.set_defaults(run=_datasets)
    return parser


def _path(text: str) -> str:
    """An argparse type: a path to write; an empty one is a malformed command line (status 2)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a file path, got {text!r}")
    return text


def _backend_options(parser, default: str):
    parser.add_argument("--backend", metavar="NAME",
                        help=f"auto, numpy, cupy, cupy:1, torch, torch:cuda, array_api_strict... (default: {default})")


def _data_options(parser):
    group = parser.add_argument_group("data files")
    group.add_argument("--target", metavar="COLUMN", help="CSV: the label column (default: the last; for a saved "
                                                          "model, the one it was trained on)")
    group.add_argument("--x-key", metavar="NAME", help="NPZ: the features array (default X); HDF5: the dataset")
    group.add_argument("--y-key", metavar="NAME", help="NPZ: the labels array (default y); HDF5: the dataset")


# ------------------------------------------------------------------------------ train


def _train(args) -> int:
    from .estimators import LogisticRegression, NeuralNet, TwoLayerNet
    from .loaders import load_data

    # fail before training, not after it
    plot_format = _plot_format(args.plot) if args.plot is not None else None
    _check_outputs({"--out": args.out, "--plot": args.plot}, {"DATA": args.data, "--test": args.test})
    _check_model_options(args)
    if args.test_fraction is not None and args.test is not None:
        raise ValueError("--test and --test-fraction both choose the test data: give one of them")
    if args.test_fraction is not None and not 0 < args.test_fraction < 1:
        raise ValueError(f"--test-fraction must be strictly between 0 and 1, got {args.test_fraction}")
    _check_data_options(args, [args.data] + ([args.test] if args.test else []))
    data = _check_finite(load_data(args.data, target=args.target, x_key=args.x_key, y_key=args.y_key))
    test = None
    if args.test:
        test = load_data(args.test, target=args.target or data.target, x_key=args.x_key, y_key=args.y_key,
                         preprocessing=data.preprocessing, feature_names=data.feature_names, as_trained=True,
                         n_features=data.X.shape[1], text_labels=data.y.dtype.kind in "USO")
        _check_finite(test)
        _check_test_set(data, test)
    elif args.test_fraction is not None:
        data, test = _split(data, args.test_fraction, args.seed)
    work = args.dtype or (data.X.dtype.name if data.X.dtype.name in ("float32", "float64") else None)
    if args.dtype is None and data.X.dtype.kind == "f" and work is None:  # float16 (pixels, say): refused before any output
        raise TypeError(f"{data.source}: the features have dtype {data.X.dtype}, which neuralcore does not train in; "
                        "pass --dtype float32 (or float64)")
    for part in (data, test):
        _check_range(part, work)
    standardize, standardize_note = _standardization(args, data, work)
    placement = nc_device.resolve_backend(args.backend)
    verbose = 0 if (args.quiet or args.json) else (1 if interactive(sys.stderr) and _has_tqdm() else 2)
    common = dict(optimizer=args.optimizer, batch_size=args.batch_size, alpha=args.alpha, random_state=args.seed,
                  backend=args.backend, dtype=args.dtype, verbose=verbose, standardize=standardize,
                  class_weight=args.class_weight)
    if args.learning_rate is not None:
        common["learning_rate"] = args.learning_rate
    if args.iterations is not None:
        common["max_iter"] = args.iterations
    if args.init is not None:
        common["init"] = args.init
    if args.model == "logistic":
        model = LogisticRegression(solver=args.solver or "gd", **common)
    else:
        if args.hidden_units is not None:
            common["hidden_units"] = args.hidden_units[0] if args.model == "two-layer" else args.hidden_units
        if args.activation is not None:
            common["activation"] = args.activation
        model = (TwoLayerNet if args.model == "two-layer" else NeuralNet)(**common)
    _check_model(model)
    say = _Printer(quiet=args.json)
    why = ""
    if (args.backend or _env() or "auto") == "auto":
        usable, reason = nc_device.backend_status("cupy")
        why = " (auto: CUDA GPU via CuPy)" if usable else f" (auto: {reason})"
    say(f"backend: {placement}{why}")
    classes = np.unique(data.y) if data.y is not None else []
    if args.test_fraction is None:
        say(f"data: {data.source}, X {data.X.shape}, {len(classes)} classes {list(map(_plain, classes))[:10]}")
    else:
        say(f"data: {args.data}, X {(data.X.shape[0] + test.X.shape[0], data.X.shape[1])}, {len(classes)} classes "
            f"{list(map(_plain, classes))[:10]}; {data.X.shape[0]} rows to train on, {test.X.shape[0]} held out for "
            f"testing (--test-fraction {args.test_fraction}, stratified, --seed {args.seed})")
    if standardize_note:
        say(standardize_note)
    shown = ["solver"] if args.model == "logistic" else ["hidden_units", "activation"]
    shown += ["learning_rate", "max_iter", "optimizer", "batch_size", "alpha"]
    params = model.get_params()
    say(f"model: {type(model).__name__}({', '.join(f'{k}={params[k]!r}' for k in shown)})")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            model.fit(data.X, data.y)
        except DivergenceError as error:  # its advice in the flags' words; its .params mean nothing here
            raise ValueError(_in_flags(error.summary)) from None
    seconds = time.perf_counter() - start
    for warning in caught:
        print(f"neuralcore: warning: {_in_flags(str(warning.message))}", file=sys.stderr)  # the flags' words
    summary = {
        "backend": model.backend_,
        "device": str(placement),
        "data": {"source": data.source, "n_samples": int(data.X.shape[0]), "n_features": int(data.X.shape[1]),
                 "classes": [_plain(c) for c in model.classes_]},
        "model": {"class": type(model).__name__, **{k: _plain(v) for k, v in model.get_params().items()}},
        "n_iter": model.n_iter_,
        "final_cost": model.loss_curve_[-1],
        "seconds": round(seconds, 4),
        "train_accuracy": model.score(data.X, data.y),
        "standardization": None if model.feature_mean_ is None else {  # what the model learned, on these rows
            "n_features": int(model.feature_mean_.shape[0]), "fitted_on_rows": int(data.X.shape[0]),
            "constant_features": _names(data, _constant_columns(data.X))},
    }
    if args.test_fraction is not None:
        summary["data"]["n_samples"] = int(data.X.shape[0] + test.X.shape[0])
        summary["split"] = {"test_fraction": args.test_fraction, "seed": args.seed, "stratified": True,
                            "n_train": int(data.X.shape[0]), "n_test": int(test.X.shape[0])}
    unit = "epochs" if args.batch_size else "iterations"
    say(f"trained in {seconds:.2f} s ({model.n_iter_} {unit}, final cost {model.loss_curve_[-1]:.6f})")
    say(f"train accuracy: {summary['train_accuracy']:.2%}")
    if test is not None:
        summary["test_accuracy"] = model.score(test.X, test.y)
        say(f"test accuracy: {summary['test_accuracy']:.2%} ({test.source}, {test.X.shape[0]} samples)")
    image = None
    if args.plot:  # drawn before anything is written: a figure that cannot be drawn leaves no model file behind
        from .plot import training_summary

        held_out, note = _held_out_for_plot(model, data, test)
        image = io.BytesIO()
        training_summary(model, data.X, data.y, held_out=held_out, note=note).savefig(image, format=plot_format, dpi=110)
    if args.out:
        model.set_params(verbose=0)  # progress output was this run's choice, not the model's
        metadata = {"preprocessing": data.preprocessing, "feature_names": data.feature_names,
                    "target": args.target or data.target, "trained_on_data": data.source}
        store_feature_names(model, data.feature_names)  # the CSV's columns, as a DataFrame's would be
        try:
            model.save(args.out, metadata=metadata)
        finally:  # the plot below predicts on data.X, an array without column names
            store_feature_names(model, None)
        summary["model_file"] = args.out
        say(f"model saved to {args.out}")
    if args.plot:
        with atomic_write(args.plot, what="plot") as handle:  # exactly the path given: no extension added
            handle.write(image.getvalue())
        summary["plot_file"] = args.plot
        say(f"plot saved to {args.plot}")
    if args.json:
        print(json.dumps(summary, indent=2, default=str, allow_nan=False))  # NaN is not JSON
    return 0


def _split(data, fraction: float, seed: int):
    """``--test-fraction``: the training rows and the held-out rows of ``data`` (see :func:`loaders.stratified_split`)."""
    from .loaders import stratified_split

    train_rows, test_rows = stratified_split(data.y, fraction, seed=seed, name="--test-fraction")
    held_out = f"{data.source} held-out rows"
    return (data._replace(X=data.X[train_rows], y=data.y[train_rows]),
            data._replace(X=data.X[test_rows], y=data.y[test_rows], source=held_out))


def _check_range(data, work):
    """``data`` (None: nothing) fits in the working dtype ``work`` (None: unknown yet): else an error, before any output."""
    if data is None or work is None or np.dtype(work).itemsize >= data.X.dtype.itemsize or data.X.dtype.kind != "f":
        return
    beyond = np.flatnonzero(np.max(np.abs(data.X), axis=0, initial=0) > np.finfo(work).max)
    if beyond.size:
        raise ValueError(f"{data.source}: column {_names(data, beyond[:1])[0]!r} has values beyond the range of {work} "
                         f"(up to {np.finfo(work).max:.3g}), the --dtype {work} asked for: rescale the features or "
                         "use --dtype float64")


def _standardization(args, data, work=None):
    """``--standardize``: whether the model standardizes (``standardize=``), and the line that says what is done
    (the statistics are computed here first, in the working dtype ``work``, so a failure comes before any output)."""
    is_file = not data.source.startswith("built-in ")
    images = bool(data.preprocessing) and data.preprocessing.get("kind") == "images"
    # uint8 pixels are scaled to [0, 1] (the course's preprocessing) and keep it; pixels of any other dtype
    # come unscaled (0-255 floats, say) and are standardized like any other features of a file
    scaled_images = images and bool(data.preprocessing.get("scale"))
    wanted = args.standardize if args.standardize is not None else (is_file and not scaled_images)
    if not wanted:
        if args.standardize is False:
            return False, "features used as they are (--no-standardize)"
        if is_file and scaled_images:
            return False, (f"features used as they are: image pixels, flattened, scaled by "
                           f"1/{data.preprocessing['scale']} (--standardize to standardize them)")
        return False, None  # built-in datasets: as they always were, and nothing said
    if work is not None:
        # only a column whose largest value times the number of rows passes the dtype's largest can overflow
        # (in the sum for the mean, or the deviations); those are checked as fit will compute them
        largest = np.maximum(np.max(data.X, axis=0, initial=0), -np.min(data.X, axis=0, initial=0))
        suspects = np.flatnonzero(largest > np.finfo(work).max / max(data.X.shape[0], 2))
        bad = [column for column in suspects if not _standardizable(data.X[:, column:column + 1].astype(work))]
        if bad:
            raise ValueError(f"{data.source}: the mean or standard deviation of column {_names(data, bad[:1])[0]!r} "
                             f"overflows {work} (values too large to standardize in it): rescale the features, "
                             "use --no-standardize" + ("" if work == "float64" else ", or --dtype float64"))
    constant = _names(data, _constant_columns(data.X))
    note = (f"; {len(constant)} constant feature{'s' if len(constant) != 1 else ''} only centred "
            f"({', '.join(map(str, constant[:5]))}{', ...' if len(constant) > 5 else ''})" if constant else "")
    switch = "--no-standardize to turn off" if args.standardize is None else "--standardize"
    return True, (f"standardized {data.X.shape[1]} features (mean/std of the {data.X.shape[0]} training rows{note}); "
                   f"{switch}")


def _standardizable(X) -> bool:
    """Whether ``standardize=True`` can compute the statistics of host ``X`` (in its dtype)."""
    from .scaling import fit_statistics

    try:
        fit_statistics(X, xp=np)
    except ValueError:
        return False
    return True


def _constant_columns(X) -> np.ndarray:
    """Indices of the columns of ``X`` whose values are all equal: those standardize=True only centres (scale 1)."""
    X = np.asarray(X)
    return np.flatnonzero(np.max(X, axis=0) == np.min(X, axis=0)) if X.shape[0] else np.empty(0, dtype=int)


def _names(data, columns):
    """Column names of ``data`` for these indices (CSV), else the indices."""
    return [data.feature_names[c] if data.feature_names else int(c) for c in columns]


def _held_out_for_plot(model, data, test):
    """``(held-out cost curve, note)`` for ``--plot``: the curve needs held-out data and a training that can be retraced."""
    from .plot import checkpoints, exact_checkpoints, held_out_curve

    if test is None:
        return None, None
    why = exact_checkpoints(model)
    if why is not None:
        return None, f"held-out cost not drawn: {why}"
    iterations, costs = held_out_curve(checkpoints(model, data.X, data.y, n=50), test.X, test.y)
    return (iterations, costs, "held-out cost"), None


def _layer_sizes(text: str) -> tuple:
    """``--hidden-units``: ``N`` or ``N,N,...``, each a positive integer (argparse type)."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas (20,7,5), got {text!r}") from None
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"--hidden-units must be at least 1 for every layer, got {text!r}")
    return sizes


#: The command line's name for each hyperparameter it sets (errors name what the user typed).
FLAGS = {"max_iter": "--iterations", "random_state": "--seed", "learning_rate": "--learning-rate",
         "batch_size": "--batch-size", "hidden_units": "--hidden-units", "alpha": "--alpha", "init": "--init",
         "activation": "--activation", "optimizer": "--optimizer", "solver": "--solver", "dtype": "--dtype",
         "backend": "--backend", "class_weight": "--class-weight"}


def _check_model(model):
    """The estimator's own hyperparameter checks, before any output, with its messages in the flags' names."""
    try:
        model.param_shapes(1, 2)  # validates every hyperparameter; the sizes are placeholders
    except (TypeError, ValueError) as error:
        raise type(error)(_in_flags(str(error))) from None


def _in_flags(message: str) -> str:
    """An estimator's message in the command line's words: each hyperparameter named by its flag."""
    for name, flag in FLAGS.items():
        message = re.sub(rf"(?<![\w-]){name}='?([\w.+-]*)'?", rf"{flag} \1", message)  # solver='gd'
        message = re.sub(rf"(?<![\w-]){name}(?![\w])", flag, message)
    return message


def _check_model_options(args):
    """Options that do not apply to the chosen model or solver are errors, not silently ignored."""
    if args.model == "logistic":
        for flag, value in (("--hidden-units", args.hidden_units), ("--activation", args.activation)):
            if value is not None:
                raise ValueError(f"{flag} applies to --model two-layer or network, not to --model logistic")
        if args.solver not in (None, "gd") and args.learning_rate is not None:
            raise ValueError(f"--learning-rate applies to --solver gd, not to --solver {args.solver}")
    elif args.solver is not None:
        raise ValueError(f"--solver applies to --model logistic, not to --model {args.model}")
    if args.model == "two-layer" and args.hidden_units is not None and len(args.hidden_units) != 1:
        raise ValueError(f"--model two-layer has one hidden layer, got --hidden-units "
                         f"{','.join(map(str, args.hidden_units))}; use --model network for more")


def _check_test_set(data, test):
    """``--test`` data that could not be scored fails before training, not after it."""
    if test.X.shape[1] != data.X.shape[1]:
        raise ValueError(f"--test {test.source} has {test.X.shape[1]} features, the training data {data.X.shape[1]}")
    unseen = set(map(_plain, np.unique(test.y))) - set(map(_plain, np.unique(data.y)))
    if unseen:
        raise ValueError(f"--test {test.source} holds labels {sorted(unseen, key=str)[:10]} that are not in the "
                         f"training data {[_plain(c) for c in np.unique(data.y)][:10]}")


def _check_finite(data, labels: bool = True):
    """``data`` when its features (and ``labels``: its labels) are finite; else the first NaN or infinity, located
    (sample, column), is an error."""
    X = np.asarray(data.X)
    if X.dtype.kind in "fc" and not np.all(np.isfinite(X)):
        sample, column = map(int, np.argwhere(~np.isfinite(X))[0])
        name = repr(data.feature_names[column]) if data.feature_names else f"{column + 1} of {X.shape[1]}"
        raise ValueError(f"{data.source}: sample {sample + 1}, column {name} is {X[sample, column]} (of "
                         f"{int(np.size(X) - np.count_nonzero(np.isfinite(X)))} values that are NaN or infinite); "
                         "remove or impute missing values first")
    y = None if data.y is None or not labels else np.asarray(data.y)
    if y is not None and y.dtype.kind in "fc" and not np.all(np.isfinite(y)):  # before any output, as X's
        sample = int(np.flatnonzero(~np.isfinite(y))[0])
        where = f"column {data.target!r} (the labels)" if data.target else "the labels"
        raise ValueError(f"{data.source}: sample {sample + 1}, {where} is {y[sample]}; a label must be a class, "
                         "not NaN or infinity: remove those samples or give them a label")
    return data


def _check_data_options(args, specs):
    """``--target`` needs a CSV file among ``specs``, ``--x-key``/``--y-key`` an NPZ or HDF5 file."""
    from .loaders import _SUFFIXES

    kinds = {_SUFFIXES.get(os.path.splitext(spec)[1].lower()) for spec in specs}
    for flag, value, wanted, files in (("--target", args.target, {"csv"}, "CSV files"),
                                       ("--x-key", args.x_key, {"npz", "hdf5"}, ".npz and HDF5 files"),
                                       ("--y-key", args.y_key, {"npz", "hdf5"}, ".npz and HDF5 files")):
        if value is not None and not kinds & wanted:
            raise ValueError(f"{flag} applies to {files}, not to {' or '.join(map(repr, specs))}")


# ------------------------------------------------------------------- predict, evaluate


def _load_for(args, labels: str, check_labels: bool = True):
    from .loaders import load_data

    _check_data_options(args, [args.data])
    # NEURALCORE_BACKEND is honoured here as everywhere (and a bad value is an error, not ignored)
    placement = nc_device.resolve_backend(args.backend if args.backend or _env().strip() else "numpy")
    model = load(args.model, backend=placement)
    meta = model.metadata_
    _check_metadata(meta, args.model, model.n_features_in_)
    names = getattr(model, "feature_names_in_", None)  # set by fit on a DataFrame, or by train on a CSV
    data = load_data(args.data, target=args.target or meta.get("target"), x_key=args.x_key, y_key=args.y_key,
                     labels=labels, preprocessing=meta.get("preprocessing"),
                     feature_names=meta.get("feature_names") if names is None else list(names),
                     as_trained="preprocessing" in meta, n_features=model.n_features_in_,  # train --out stores it
                     text_labels=np.asarray(model.classes_).dtype.kind in "USO")
    store_feature_names(model, None)  # load_data selected the CSV columns by these names; its arrays carry none
    _check_finite(data, labels=check_labels)  # a standardized model standardizes DATA itself, with the statistics of its training rows
    _check_decision_values(model, data.X)
    return model, data


def _check_metadata(meta: dict, path: str, n_features: int) -> None:
    """What ``train --out`` stored for predict and evaluate (preprocessing, columns, label column): refused when
    changed into something train never writes, which would be applied to DATA as it stands."""
    def number(value):
        # is_finite: an int beyond float64 (10**400) is not finite, not an OverflowError
        return isinstance(value, (int, float)) and not isinstance(value, bool) and is_finite(value) and value > 0

    preprocessing, names, target = meta.get("preprocessing"), meta.get("feature_names"), meta.get("target")
    problem = None
    if preprocessing is not None:
        shape = preprocessing.get("shape") if isinstance(preprocessing, dict) else None
        if not isinstance(preprocessing, dict) or preprocessing.get("kind") != "images":
            problem = f"preprocessing {preprocessing!r} is not {{'kind': 'images', ...}} or null"
        elif not (isinstance(shape, list) and shape and all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                                            for v in shape) and int(np.prod(shape)) == n_features):
            problem = f"preprocessing shape {shape!r} is not a list of positive sizes whose product is the model's " \
                      f"{n_features} features"
        elif preprocessing.get("scale") is not None and not number(preprocessing["scale"]):
            problem = f"preprocessing scale {preprocessing['scale']!r} is not a positive number or null"
    if names is not None and not (isinstance(names, list) and len(names) == n_features
                                  and all(isinstance(v, str) for v in names)):
        problem = problem or f"feature_names {names!r} is not a list of the model's {n_features} column names or null"
    if target is not None and not isinstance(target, str):
        problem = problem or f"target {target!r} is not a column name or null"
    if problem:
        raise ValueError(f"{path}: the model file's metadata is invalid: {problem} (was the file changed?)")


def _check_decision_values(model, X):
    """Refuse data on which the model's outputs overflow: its labels and probabilities would be noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow warnings: reported below, in one line
        values = nc_device.to_numpy(model.decision_function(X))
    bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
    if bad:
        raise ValueError(f"the model's decision values are not finite ({bad} of {np.size(values)} values overflow) "
                         "on this data: its parameters are too large for it, so no prediction would be meaningful")


def _no_labels(args, model, data) -> str:
    """What ``evaluate`` says about DATA without labels: what was looked for, and what to do."""
    from .loaders import _SUFFIXES

    meta, source = model.metadata_, data.source
    kind = _SUFFIXES.get(os.path.splitext(args.data)[1].lower())
    target = args.target or meta.get("target")
    if kind == "csv":
        with open(args.data, newline="", encoding="utf-8-sig") as handle:  # read before: a readable CSV file
            header = [name.strip() for name in next(csv.reader(handle), [])]
        features = list(data.feature_names or [])  # the columns the model reads
        others = [name for name in header if name not in features]
        if not target and len(others) > 1:  # a model file that does not name its label column
            return (f"{source}: which column holds the labels? Besides the model's features {features} the file has "
                    f"{others}; name it with --target")
        where = ("no label column besides the model's features" if not target else
                 f"its column {target!r} is empty" if target in header else f"no column {target!r}")
        hint = "--target COLUMN"
    else:
        where = f"no array {args.y_key or 'y'!r}" if kind == "npz" else "no labels dataset"
        hint = "--y-key NAME"
    return (f"{source} has no labels ({where}): evaluate needs the true labels to score the model; name them with "
            f"{hint}, or use `neuralcore predict` for the labels of unlabelled data")


def _predict(args) -> int:
    _check_outputs({"--out": args.out}, {"MODEL": args.model, "DATA": args.data})
    # labels are optional for prediction, but a label column or array named by the user must be there
    model, data = _load_for(args, labels="required" if args.target or args.y_key else "optional",
                            check_labels=False)  # present when named, but never used
    labels = model.predict(data.X)
    columns = ["prediction"]
    rows = [[_plain(v)] for v in labels]
    if args.proba:
        proba = model.predict_proba(data.X)
        columns += [f"proba_{_plain(c)}" for c in model.classes_]
        rows = [row + [f"{p:.6g}" for p in proba_row] for row, proba_row in zip(rows, proba)]
    target = atomic_write(args.out, what="predictions file", text=True, newline="") if args.out is not None \
        else contextlib.nullcontext(sys.stdout)
    with target as handle:
        writer = csv.writer(handle, lineterminator="\n")  # the csv module's default is \r\n
        writer.writerow(columns)
        writer.writerows(rows)
    if args.out is not None:
        print(f"{len(rows)} predictions written to {args.out}", file=sys.stderr)
    return 0


def _evaluate(args) -> int:
    model, data = _load_for(args, labels="optional")  # data without labels: the plain-words error below
    if data.y is None:
        raise ValueError(_no_labels(args, model, data))
    unseen = set(map(_plain, np.unique(data.y))) - set(map(_plain, model.classes_))
    if unseen:  # said here, naming the file and its column (the estimator's message names its argument, y)
        where = f"column {data.target!r} (the labels)" if data.target else "the labels"
        raise ValueError(f"{data.source}: {where} holds {sorted(unseen, key=str)[:10]}, which are not among the "
                         f"training classes {[_plain(c) for c in model.classes_][:10]}: it cannot be scored on them")
    predicted = model.predict(data.X)
    accuracy = model.score(data.X, data.y)
    logits = np.asarray(model.decision_function(data.X), dtype=np.float64)
    logits = logits.reshape(-1, 1) if logits.ndim == 1 else logits
    from .validation import encode_labels

    _, targets = encode_labels(np.asarray(data.y), model.classes_)
    log_loss = float(cross_entropy(logits, targets))
    classes = list(model.classes_)
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    for truth, guess in zip(np.searchsorted(model.classes_, data.y), np.searchsorted(model.classes_, predicted)):
        matrix[truth, guess] += 1
    if args.json:
        print(json.dumps({"accuracy": accuracy, "log_loss": log_loss, "n_samples": int(data.X.shape[0]),
                          "classes": [_plain(c) for c in classes], "confusion_matrix": matrix.tolist()},
                         indent=2, allow_nan=False))  # NaN is not JSON
        return 0
    print(f"model: {model!r} (trained on {model.trained_on_})")
    print(f"data: {data.source}, {data.X.shape[0]} samples")
    print(f"accuracy: {accuracy:.2%}")
    print(f"log loss: {log_loss:.6f}")
    print("confusion matrix (rows: true class, columns: predicted):")
    names = [str(_plain(c)) for c in classes]
    width = max(6, *(len(n) for n in names))
    print(" " * (width + 2) + "".join(f"{n:>{width + 2}}" for n in names))
    for name, row in zip(names, matrix):
        print(f"{name:>{width + 2}}" + "".join(f"{v:>{width + 2}}" for v in row))
    return 0


# ------------------------------------------------------------------- info, datasets


def _info(args) -> int:
    import array_api_compat

    rows = []
    for name in nc_device.KNOWN_BACKENDS:
        usable, reason = nc_device.backend_status(name)
        rows.append({"backend": name, "usable": usable, "detail": reason, "devices": nc_device.list_devices(name) if usable else []})
    auto = nc_device.resolve_backend("auto")
    problems = []  # invalid settings are reported with everything else, then make the status 1
    backend_flag = kernels_flag = ""
    if _env().strip():
        try:
            nc_device.resolve_backend(None)
        except (ValueError, RuntimeError) as exc:
            problems.append(str(exc))
            backend_flag = ": NOT USABLE, see below"
    try:
        kernels_on = kernels.enabled()
    except ValueError as exc:
        problems.append(str(exc))
        kernels_on, kernels_flag = False, ": NOT VALID, see below"
    cupy_usable = nc_device.backend_status("cupy")[0]
    kernel_note = ("CUDA kernels for CuPy arrays (fused logistic-regression steps, output and cost, updates)"
                   + ("" if cupy_usable else "; CuPy is not usable here, so none run")) if kernels_on else \
        "off: the Array API code runs everywhere" if not kernels_flag else "none: training refuses to start"
    report = {
        "neuralcore": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "array_api_compat": array_api_compat.__version__,
        "auto": str(auto),
        "environment": {nc_device.ENV_VAR: _env(), kernels.ENV_VAR: os.environ.get(kernels.ENV_VAR, "")},
        "compiled_kernels": {"enabled": kernels_on, "usable": kernels_on and cupy_usable, "detail": kernel_note},
        "backends": rows,
        "problems": problems,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return _report_problems(problems)
    print(f"neuralcore {__version__}  (Python {report['python']}, NumPy {np.__version__}, "
          f"array-api-compat {report['array_api_compat']})")
    print(f"platform: {report['platform']}")
    print(f"backend 'auto' here: {auto}   ({nc_device.ENV_VAR}={_env() or '(unset)'}{backend_flag})")
    print(f"compiled kernels: {kernel_note}   "
          f"({kernels.ENV_VAR}={os.environ.get(kernels.ENV_VAR) or '(unset)'}{kernels_flag})")
    print("backends:")
    for row in rows:
        mark = "yes" if row["usable"] else "no "
        devices = f"  devices: {', '.join(row['devices'])}" if row["devices"] else ""
        print(f"  {row['backend']:<17} {mark}  {row['detail']}{devices}")
    return _report_problems(problems)


def _report_problems(problems: list) -> int:
    sys.stdout.flush()  # the report first, then what is wrong with it
    for problem in problems:
        _fail(problem)
    return 1 if problems else 0


def _datasets(args) -> int:
    print("built-in datasets (use as DATA, with parameters: planar:n_samples=1000,noise=0.3):")
    for name, maker in BUILTIN.items():
        parameters = ", ".join(f"{p.name}={p.default!r}" for p in inspect.signature(maker).parameters.values())
        summary = _plain_text((maker.__doc__ or "").strip().splitlines()[0])
        print(f"  {name:<8} {summary}")
        print(f"  {'':<8} parameters: {parameters}")
    return 0


# ------------------------------------------------------------------- output files


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program stands, so cleanup (temporary files) runs as for Ctrl-C."""


@contextlib.contextmanager
def _sigterm_interrupts():
    """While the command runs, SIGTERM raises :class:`_Terminated` (the main thread only can install it)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def terminate(signum, frame):
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _is_npz_data(path: str) -> bool:
    """Whether ``path`` is a NumPy archive that is no model file (data a model must not replace)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        return False  # not an archive: nothing np.load would read as data
    return "metadata.npy" not in names and any(name.endswith(".npy") for name in names)


def _check_outputs(outputs: dict, inputs: dict) -> None:
    """Each output path writable, none the same file as another output or as an input of the command."""
    from .loaders import _SUFFIXES

    seen = {}
    for option, path in outputs.items():
        if path is None:
            continue
        if path == "":
            raise ValueError(f"{option} is empty: give the file to write")
        target = check_output_path(path, what=f"{option} file")
        for name, source in inputs.items():
            if source and os.path.exists(source) and os.path.exists(target) and os.path.samefile(source, target):
                raise ValueError(f"{option} {path} is the {name} file this command reads: refusing to overwrite it")
        if option == "--out" and "MODEL" not in inputs and os.path.isfile(target):
            # a model written over an existing data file would destroy the data: a slip, never a wish. Judged by
            # the file that would be replaced (a symlink model.npz -> data.csv), and an .npz by its members
            data_format = _SUFFIXES.get(os.path.splitext(target)[1].lower()) or _SUFFIXES.get(
                os.path.splitext(path)[1].lower())
            if data_format in ("csv", "hdf5") or (data_format == "npz" and _is_npz_data(target)):
                raise ValueError(f"--out {path} is an existing {data_format.upper()} data file; a model file is a "
                                 ".npz archive: give another path (e.g. model.npz)")
        if target in seen:
            raise ValueError(f"{option} and {seen[target]} name the same file ({path}): give two different files")
        seen[target] = option


def _plot_format(path: str) -> str:
    """The image format for ``--plot`` from its extension (PNG when it has none); unknown extensions are refused."""
    from .plot import figure_class

    supported = figure_class()().canvas.get_supported_filetypes()
    extension = os.path.splitext(path)[1][1:].lower()
    if not extension:
        return "png"
    if extension not in supported:
        raise ValueError(f"--plot {path}: unknown image format {extension!r}; use one of "
                         f"{', '.join(sorted(supported))} (or no extension for PNG)")
    return extension


# ------------------------------------------------------------------------- helpers


# reST inline markup in docstrings: ``literal``, :role:`target` (:func:`~pkg.name` shows "name"), `interpreted`
_REST_MARKUP = re.compile(r"(?P<role>:[\w.:-]+:)?``?(?P<text>[^`]+?)``?")


def _plain_text(text: str) -> str:
    """A line of a docstring for the terminal: reST inline markup removed."""

    def plain(match):
        inner = match.group("text")
        if match.group("role") and inner.startswith("~"):
            inner = inner[1:].rsplit(".", 1)[-1]
        return inner

    return _REST_MARKUP.sub(plain, text)


class _Printer:
    def __init__(self, quiet: bool):
        self.quiet = quiet

    def __call__(self, text: str):
        if not self.quiet:
            print(text, flush=True)


def _has_tqdm() -> bool:
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def _env() -> str:
    return os.environ.get(nc_device.ENV_VAR, "")


def _plain(value):
    """NumPy scalars to Python values, for JSON and CSV."""
    if isinstance(value, np.generic):
        return value.item()
    return value


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

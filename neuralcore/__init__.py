"""neuralcore: logistic regression and neural networks of any depth, written once
against the Python Array API, trained on NumPy (CPU), CuPy (CUDA GPU) or any
other conforming backend."""

__version__ = "0.1.0"

from . import activations, data, datasets, device, init, kernels, logistic, losses, metrics, network, optim, solvers, train, two_layer
from .device import available_backends, to_backend, to_numpy
from .estimators import LogisticRegression, NeuralNet, TwoLayerNet
from .exceptions import ConvergenceWarning, DataConversionWarning, DivergenceError, MemoryBudgetError, NotFittedError
from .gradcheck import GradcheckResult, gradcheck, gradcheck_estimator
from .persistence import load

__all__ = [
    "ConvergenceWarning",
    "DataConversionWarning",
    "DivergenceError",
    "GradcheckResult",
    "LogisticRegression",
    "MemoryBudgetError",
    "NeuralNet",
    "NotFittedError",
    "TwoLayerNet",
    "activations",
    "data",
    "available_backends",
    "datasets",
    "device",
    "gradcheck",
    "gradcheck_estimator",
    "init",
    "kernels",
    "load",
    "logistic",
    "losses",
    "metrics",
    "network",
    "optim",
    "solvers",
    "to_backend",
    "to_numpy",
    "train",
    "two_layer",
]

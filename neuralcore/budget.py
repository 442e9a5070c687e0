"""Memory a fit needs, estimated before anything is allocated.

A request that needs more memory than the machine has (``hidden_units=10**9``,
Newton's method on two million features, a batch of a billion rows) is refused
on entry with the size it would need, instead of dying in ``MemoryError``
halfway, or swapping the machine to a halt.

:func:`fit_bytes` is a pure function of sizes; :func:`check_fit_memory` reads
them from an estimator and its placed data and compares the total with what
the placement's device can hold (:func:`neuralcore.device.device_memory`).
The estimate counts the arrays the algorithms keep alive at their peak, not
allocator overhead or temporaries of the libraries: it is a lower bound, so a
refusal is certain to be right, while a fit that passes may still be too big
for the memory that is *free*.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .device import device_memory, is_chunked
from .exceptions import MemoryBudgetError

__all__ = ["FitMemory", "MemoryBudgetError", "check_fit_memory", "fit_bytes"]

GiB = 2**30

#: Optimizer state arrays per parameter array (the update rules in :mod:`neuralcore.optim`).
OPTIMIZER_SLOTS = {"gd": 0, "momentum": 1, "nesterov": 1, "rmsprop": 1, "adam": 2}

#: Pairs of vectors L-BFGS keeps (:func:`neuralcore.solvers.lbfgs`'s ``history``).
LBFGS_HISTORY = 10


class FitMemory(NamedTuple):
    """Bytes a fit needs, by part (see :func:`fit_bytes`)."""

    data: int
    parameters: int
    activations: int
    solver: int

    @property
    def total(self) -> int:
        return self.data + self.parameters + self.activations + self.solver


def fit_bytes(
    param_shapes: dict,
    *,
    n_samples: int,
    n_features: int,
    n_outputs: int,
    itemsize: int,
    batch_rows: int | None = None,
    data_in_memory: bool = True,
    data_copies: int = 1,
    optimizer_slots: int = 0,
    solver: str = "gd",
) -> FitMemory:
    """Estimate the bytes a fit keeps alive at its peak.

    Parameters
    ----------
    param_shapes : dict of tuple
        Shape of each parameter array (``{"W1": (f, h), "b1": (h,), ...}``).
    n_samples, n_features, n_outputs : int
        Training data and targets: ``X`` is (n_samples, n_features), ``Y`` (n_samples, n_outputs).
    itemsize : int
        Bytes per number of the working dtype (4 or 8).
    batch_rows : int, optional
        Rows of the largest batch the loop sends through the network (``None``: all).
    data_in_memory : bool
        ``False`` for chunked data: only one batch of ``X`` is in memory at once.
    data_copies : int
        Copies of ``X`` held in memory (one more when a validation split copies it, and one
        more for the standardized copy of ``standardize=True``).
    optimizer_slots : int
        State arrays per parameter (adam: 2).
    solver : {"gd", "lbfgs", "newton"}

    Returns
    -------
    FitMemory
        ``data`` (X, Y and one shuffled batch), ``parameters`` (parameters,
        gradients and the next parameters, plus the optimizer's state),
        ``activations`` (for one batch, three values per unit of every layer:
        the backward pass holds a layer's output, its derivative and the
        back-propagated error at once), ``solver`` (Newton: three
        ``n_params**2`` matrices, the Hessian being assembled or factored and
        a copy; L-BFGS: its history of ``2 * LBFGS_HISTORY`` vectors).

    Examples
    --------
    >>> fit_bytes({"W": (2, 1), "b": (1,)}, n_samples=10, n_features=2, n_outputs=1, itemsize=8)
    FitMemory(data=240, parameters=72, activations=240, solver=0)
    """
    n_params = sum(math.prod(shape) for shape in param_shapes.values())
    rows = n_samples if batch_rows is None else min(batch_rows, n_samples)
    widths = sum(shape[-1] for shape in param_shapes.values() if len(shape) == 2)  # units of every layer
    data_rows = n_samples * data_copies if data_in_memory else rows
    data = (data_rows * n_features + n_samples * n_outputs + (rows * n_features if rows < n_samples else 0)) * itemsize
    parameters = n_params * (3 + optimizer_slots) * itemsize
    activations = 3 * rows * widths * itemsize
    extra = 0
    if solver == "newton":
        extra = (3 * n_params * n_params + rows * n_features) * itemsize
    elif solver == "lbfgs":
        extra = (2 * LBFGS_HISTORY + 4) * n_params * itemsize
    return FitMemory(data, parameters, activations, extra)


def check_fit_memory(model, X, n_outputs: int, placement) -> FitMemory:
    """Refuse, before allocating, a fit of ``model`` on placed ``X`` that needs more memory than ``placement`` has.

    Raises
    ------
    MemoryBudgetError
        Naming the hyperparameter (or data size) that drives the need, the
        GiB needed and the GiB the device has.
    """
    n_samples, n_features = int(X.shape[0]), int(X.shape[1])
    itemsize = 8 if "64" in str(X.dtype) else 4
    chunked = is_chunked(X)
    solver = getattr(model, "solver", "gd")
    batch_size = model.batch_size if solver == "gd" else None
    if chunked and batch_size is None and solver == "gd":
        batch_size = max(X.chunks[0])  # full batch on chunks: one chunk's terms at a time
    if chunked and solver != "gd":
        batch_size = max(X.chunks[0])
    # a validation split copies X; standardize=True trains on a standardized copy of it
    extra_copies = int(getattr(model, "validation_fraction", None) is not None) + int(bool(getattr(model, "standardize", False)))
    optimizer = model.optimizer if isinstance(model.optimizer, str) else "adam"  # an Optimizer object: assume the most
    need = fit_bytes(
        model._param_shapes(n_features, n_outputs),
        n_samples=n_samples,
        n_features=n_features,
        n_outputs=n_outputs,
        itemsize=itemsize,
        batch_rows=batch_size,
        data_in_memory=not chunked,
        data_copies=1 if chunked else 1 + extra_copies,
        optimizer_slots=OPTIMIZER_SLOTS.get(optimizer, 2) if solver == "gd" else 0,
        solver=solver,
    )
    capacity = device_memory(placement)
    if capacity is None or need.total <= capacity:
        return need
    raise MemoryBudgetError(
        f"this fit needs at least {need.total / GiB:.1f} GiB ({_culprit(model, need, n_samples, n_features, solver)}), "
        f"but {placement} has {capacity / GiB:.1f} GiB in all; {_advice(model, need, solver)}"
    )


def _largest(need: FitMemory) -> str:
    return max(need._fields, key=lambda field: getattr(need, field))


def _culprit(model, need: FitMemory, n_samples: int, n_features: int, solver: str) -> str:
    part = _largest(need)
    size = f"{getattr(need, part) / GiB:.1f} GiB"
    hidden = getattr(model, "hidden_units", None)
    if part == "solver":
        what = "its Hessian" if solver == "newton" else "its history"
        return f"solver={solver!r} on {n_features} features: {what} takes {size}"
    if part == "parameters":
        which = f"hidden_units={hidden}" if hidden is not None else f"{n_features} features"
        return f"{which}: parameters, gradients and optimizer state take {size}"
    if part == "activations":
        which = f"batch_size={model.batch_size}" if model.batch_size is not None else (
            f"the full batch of {n_samples} samples")
        units = f" x hidden_units={hidden}" if hidden is not None else ""
        return f"{which}{units}: one batch's activations take {size}"
    return f"the data, {n_samples} samples x {n_features} features, takes {size}"


def _advice(model, need: FitMemory, solver: str) -> str:
    part = _largest(need)
    if part == "solver":
        return "use solver='lbfgs' or 'gd', or fewer features" if solver == "newton" else "use solver='gd'"
    if part == "parameters":
        return "use fewer hidden_units or fewer features" if hasattr(model, "hidden_units") else "use fewer features"
    if part == "activations":
        return ("use fewer hidden_units or " if hasattr(model, "hidden_units") else "use ") + "a smaller batch_size"
    return "train on fewer samples or features, or on a Dask array (chunked data)"

"""Exceptions and warnings raised by neuralcore."""

from __future__ import annotations

__all__ = ["ConvergenceWarning", "DivergenceError", "MemoryBudgetError", "NotFittedError"]


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` (a ValueError and an AttributeError, as in scikit-learn)."""


class DivergenceError(FloatingPointError):
    """Training produced a NaN or infinite cost, or a finite cost that exploded.

    The rule (:func:`neuralcore.train.train`): an epoch's cost diverges when it
    is NaN or infinite, or when it exceeds ``max(100 * start, start + 100)``,
    ``start`` being the cost at the starting parameters (with mini-batches,
    the first batch's cost before any update). Cross-entropy from logits
    starts near ``log(n_classes)``, so a cost above about 100 nats per sample
    means the learning rate threw the parameters out of any sensible region.

    Attributes
    ----------
    iteration : int
        The iteration (epoch with mini-batches) whose cost was not finite or
        exploded, 0-based as in ``loss_curve_``.
    params : dict
        The last parameters known to be good, on the training device: in full
        batch those after ``iteration - 1`` updates (whose cost was the last
        accepted one); with mini-batches those at the start of epoch ``iteration``.
    n_iter : int
        How many iterations (epochs) led to ``params``.
    loss_curve : list of float
        The accepted (finite, within the bound) costs up to, not including, ``iteration``.
    """

    def __init__(self, message: str, *, iteration: int, params: dict, loss_curve: list, n_iter: int | None = None):
        super().__init__(message)
        self.iteration = iteration
        self.params = params
        self.loss_curve = loss_curve
        self.n_iter = max(iteration - 1, 0) if n_iter is None else n_iter

    def __reduce__(self):
        # keyword-only arguments: the default reduction (args only) cannot rebuild the error, and
        # joblib (GridSearchCV(n_jobs=2)) pickles a worker's exception back to the parent
        fields = {"iteration": self.iteration, "params": self.params, "loss_curve": self.loss_curve,
                  "n_iter": self.n_iter}
        return _rebuild_divergence, (str(self), fields, self.__dict__)


def _rebuild_divergence(message, fields, state):
    error = DivergenceError(message, **fields)
    error.__dict__.update(state)
    return error


class MemoryBudgetError(ValueError, MemoryError):
    """A fit would need more memory than its device has in all; raised before anything is allocated.

    A ValueError (the request is at fault, as with any bad hyperparameter) and
    a MemoryError. The message names the hyperparameter or data size that
    drives the need and the GiB needed (see :mod:`neuralcore.budget`).
    """


class ConvergenceWarning(UserWarning):
    """Training reached ``max_iter`` before its stopping rule was met."""

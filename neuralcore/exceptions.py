"""Exceptions and warnings raised by neuralcore."""

from __future__ import annotations

__all__ = ["ConvergenceWarning", "DivergenceError", "NotFittedError"]


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` (a ValueError and an AttributeError, as in scikit-learn)."""


class DivergenceError(FloatingPointError):
    """Training produced a NaN or infinite cost.

    Attributes
    ----------
    iteration : int
        The iteration (epoch with mini-batches) whose cost was not finite,
        0-based as in ``loss_curve_``.
    params : dict
        The last parameters known to be good, on the training device: in full
        batch those after ``iteration - 1`` updates (whose cost was the last
        finite one); with mini-batches those at the start of epoch ``iteration``.
    n_iter : int
        How many iterations (epochs) led to ``params``.
    loss_curve : list of float
        The finite costs up to, not including, ``iteration``.
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


class ConvergenceWarning(UserWarning):
    """Training reached ``max_iter`` before its stopping rule was met."""

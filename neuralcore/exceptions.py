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
        The iteration whose cost was not finite (0-based, as in ``loss_curve_``).
    params : dict
        The last parameters whose cost was finite (those after ``iteration - 1``
        updates), on the training device.
    loss_curve : list of float
        The finite costs up to, not including, ``iteration``.
    """

    def __init__(self, message: str, *, iteration: int, params: dict, loss_curve: list):
        super().__init__(message)
        self.iteration = iteration
        self.params = params
        self.loss_curve = loss_curve


class ConvergenceWarning(UserWarning):
    """Training reached ``max_iter`` before its stopping rule was met."""

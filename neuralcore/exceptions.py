"""Exceptions and warnings raised by neuralcore.

:class:`NotFittedError`, :class:`ConvergenceWarning` and
:class:`DataConversionWarning` are also caught by code written for
scikit-learn's classes of those names (``except
sklearn.exceptions.NotFittedError``, ``warnings.filterwarnings("ignore",
category=sklearn.exceptions.ConvergenceWarning)``, scikit-learn's
``check_is_fitted`` tools), without ``import neuralcore`` importing
scikit-learn (it costs almost a second): every raise and warning goes through
:func:`sklearn_compatible`, which, once scikit-learn's exceptions are imported
(anyone who names one of its classes has imported them), gives a subclass of
both ours and scikit-learn's. ``isinstance(error, neuralcore.NotFittedError)``
holds either way.
"""

from __future__ import annotations

import sys
import threading
import types

__all__ = [
    "ConvergenceWarning",
    "DataConversionWarning",
    "DivergenceError",
    "MemoryBudgetError",
    "NotFittedError",
    "sklearn_compatible",
]


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
    summary : str
        The message without its sentence about ``.params`` (what happened and the advice), for
        interfaces where the parameters cannot be reached (the command line).
    """

    def __init__(self, message: str, *, iteration: int, params: dict, loss_curve: list, n_iter: int | None = None,
                 summary: str | None = None):
        super().__init__(message)
        self.iteration = iteration
        self.params = params
        self.loss_curve = loss_curve
        self.n_iter = max(iteration - 1, 0) if n_iter is None else n_iter
        self.summary = message if summary is None else summary

    def __reduce__(self):
        # keyword-only arguments: the default reduction (args only) cannot rebuild the error, and
        # joblib (GridSearchCV(n_jobs=2)) pickles a worker's exception back to the parent
        fields = {"iteration": self.iteration, "params": self.params, "loss_curve": self.loss_curve,
                  "n_iter": self.n_iter, "summary": self.summary}
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


class DataConversionWarning(UserWarning):
    """An input was converted as scikit-learn does, e.g. labels given as a column ``(n, 1)``, raveled."""


# ------------------------------------------------------------------ scikit-learn's classes

#: Our classes that have a scikit-learn twin, by name (the same name in ``sklearn.exceptions``).
_TWINNED = {cls.__name__: cls for cls in (NotFittedError, ConvergenceWarning, DataConversionWarning)}


def _reduce_twinned(self):
    """Pickle one of our plain twinned classes so that the process that loads it decides: a worker that
    never imported scikit-learn raises ours, and the parent awaiting scikit-learn's class must catch it."""
    if type(self) is not _TWINNED.get(type(self).__name__):  # a twin (or a user's subclass): by its class
        return BaseException.__reduce__(self)
    return _rebuild_twinned, (type(self).__name__, self.args, self.__dict__)


def _rebuild_twinned(name, args, state):
    error = sklearn_compatible(_TWINNED[name])(*args)  # never imports scikit-learn itself
    error.__dict__.update(state)
    return error


for _cls in _TWINNED.values():
    _cls.__reduce__ = _reduce_twinned
del _cls
_twins_lock = threading.Lock()
_twins: types.SimpleNamespace | None = None


def sklearn_compatible(cls: type) -> type:
    """The class to raise or warn for ``cls`` (:class:`NotFittedError`, :class:`ConvergenceWarning`...).

    ``cls`` itself while scikit-learn's exceptions are not imported; once they
    are, a subclass of both ``cls`` and scikit-learn's class of the same name,
    so that ``except``-clauses and warning filters written for either catch it.
    Its name is ``cls``'s; it pickles (GridSearchCV(n_jobs=2) sends a worker's
    error back to the parent) as ``neuralcore.exceptions._sklearn.<name>``. ``cls``
    itself (raised where scikit-learn was never imported) unpickles as the twin
    in a process that has imported scikit-learn's exceptions.

    Examples
    --------
    >>> error = sklearn_compatible(NotFittedError)("call fit first")  # what a raise site raises
    >>> isinstance(error, NotFittedError), error.__class__.__name__
    (True, 'NotFittedError')
    """
    if cls.__name__ not in _TWINNED or "sklearn.exceptions" not in sys.modules:
        return cls
    try:
        return getattr(_sklearn_twins(), cls.__name__)
    except (ImportError, AttributeError):  # pragma: no cover - a scikit-learn still importing, or without the class
        return cls


def _sklearn_twins() -> types.SimpleNamespace:
    """The twin classes, built once (under a lock: pickle finds a class by name and needs the one object)."""
    global _twins
    with _twins_lock:
        if _twins is None:
            import sklearn.exceptions as theirs  # only reached once scikit-learn is imported, or to unpickle

            twins = types.SimpleNamespace()
            for name, ours in _TWINNED.items():
                twin = type(name, (ours, getattr(theirs, name)), {"__module__": __name__, "__doc__": ours.__doc__})
                twin.__qualname__ = f"_sklearn.{name}"  # what pickle records: resolved by __getattr__ below
                setattr(twins, name, twin)
            _twins = twins
        return _twins


def __getattr__(name: str):
    if name == "_sklearn":  # unpickling a twin (perhaps in a process that has not imported scikit-learn yet)
        try:
            return _sklearn_twins()
        except ImportError:  # a process without scikit-learn (a Dask client, a worker): no one awaits its class
            return types.SimpleNamespace(**_TWINNED)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Scores: how many predictions are right, on any backend, from logits or from labels.

One definition of a correct prediction serves the validation scores of the
training loop (on the device, from logits), the Dask chunks (per chunk, summed
on the host) and the estimators' ``score`` (from predicted labels): for one
logit column the positive class is predicted where the logit is strictly
positive (a logit of exactly 0 predicts ``classes_[0]``, as ``predict`` does);
for several, the first largest logit.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from .losses import weight_column
from .weights import relative

__all__ = ["accuracy", "correct_from_logits", "predicted_index"]


def predicted_index(Z, /, *, xp=None):
    """Index of the predicted class for logits ``Z`` of shape ``(n_samples, K)``: int64, shape ``(n_samples,)``.

    Examples
    --------
    >>> predicted_index(np.asarray([[0.0], [0.5], [-1.0]])).tolist()
    [0, 1, 0]
    """
    xp = array_namespace(Z) if xp is None else xp
    if Z.shape[1] == 1:
        return xp.astype(Z[:, 0] > 0, xp.int64)
    return xp.argmax(Z, axis=1)


def correct_from_logits(Z, Y, /, *, xp=None, sample_weight=None):
    """0-d count (in ``Y``'s dtype) of samples whose predicted class is the target of ``Y``.

    ``Y`` holds 0/1 targets (one column) or one-hot rows, as the training targets do.
    With ``sample_weight`` (a column ``(n_samples, 1)`` in ``Y``'s dtype), the
    sum of the weights of the correct samples.

    Examples
    --------
    >>> float(correct_from_logits(np.asarray([[1.0], [0.0]]), np.asarray([[1.0], [1.0]])))
    1.0
    """
    xp = array_namespace(Z, Y) if xp is None else xp
    if Y.shape[1] == 1:
        hits = (Z[:, 0] > 0) == (Y[:, 0] > 0.5)
    else:
        hits = xp.argmax(Z, axis=1) == xp.argmax(Y, axis=1)
    if sample_weight is not None:
        weights = weight_column(sample_weight, Y, xp=xp)
        return xp.sum(xp.astype(hits, Y.dtype) * xp.reshape(weights, (-1,)))
    return xp.sum(xp.astype(hits, Y.dtype))


def accuracy(y_true, y_pred, sample_weight=None) -> float:
    """Fraction of equal labels, on the host; with ``sample_weight``, ``sum(w * correct) / sum(w)``.

    Examples
    --------
    >>> accuracy(np.asarray([0, 1, 1]), np.asarray([0, 1, 0]))
    0.6666666666666666
    >>> accuracy(np.asarray([0, 1, 1]), np.asarray([0, 1, 0]), sample_weight=np.asarray([1.0, 1.0, 2.0]))
    0.5
    """
    if sample_weight is not None:
        # w and c * w score the same: relative weights keep the sums finite (1e308 weights) and above denormals
        weights = relative(np.asarray(sample_weight, dtype=np.float64))
        return float(np.sum(weights * (np.asarray(y_true) == np.asarray(y_pred))) / np.sum(weights))
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))

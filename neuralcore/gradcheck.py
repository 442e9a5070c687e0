"""Gradient checking by central finite differences.

The course's check: perturb each parameter by ``+-eps``, take
``(J(theta + eps) - J(theta - eps)) / (2 eps)`` as the numerical gradient,
and compare it with backpropagation's through
``||g - g_num|| / (||g|| + ||g_num||)``, which should be below about 1e-7 in
float64.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from array_api_compat import array_namespace

from .data import ArrayData
from .device import backend_of, to_backend, to_numpy, to_numpy_dtype
from .init import check_random_state
from .validation import check_labels, check_X, dtype_name, encode_labels

__all__ = ["GradcheckResult", "gradcheck", "gradcheck_estimator"]

_DEFAULTS = {"float64": (1e-6, 1e-7), "float32": (1e-3, 1e-2)}


class GradcheckResult(NamedTuple):
    """Outcome of a gradient check.

    Attributes
    ----------
    relative_error : float
        ``||g - g_num|| / (||g|| + ||g_num||)`` over all parameters.
    passed : bool
        ``relative_error <= tol``, or every difference is at the level of the
        finite differences' own rounding (tiny gradients make the relative
        error meaningless).
    analytic, numerical : dict of ndarray
        Both gradients, as float64 NumPy arrays keyed like the parameters.
    """

    relative_error: float
    passed: bool
    analytic: dict
    numerical: dict


def gradcheck(
    loss_and_grads: Callable,
    params: dict,
    *,
    eps: float | None = None,
    tol: float | None = None,
) -> GradcheckResult:
    """Compare analytic gradients with central finite differences.

    Parameters
    ----------
    loss_and_grads : callable
        ``loss_and_grads(params) -> (cost, grads)``: a 0-d array (or float)
        and a dict of gradients keyed like ``params``.
    params : dict of arrays
        Where to check; any backend. Not modified.
    eps : float, optional
        Perturbation: default 1e-6 in float64, 1e-3 in float32.
    tol : float, optional
        Pass threshold on the relative error: default 1e-7 in float64, 1e-2
        in float32 (float32 checks are coarse; check in float64 when you can).

    Returns
    -------
    GradcheckResult

    Examples
    --------
    >>> import numpy as np
    >>> from neuralcore import logistic
    >>> X = np.random.default_rng(0).normal(size=(5, 3)); Y = np.asarray([[0.], [1.], [1.], [0.], [1.]])
    >>> params = {"W": np.full((3, 1), 0.1), "b": np.zeros(1)}
    >>> gradcheck(lambda p: logistic.loss_and_grads(p, X, Y), params).passed
    True
    """
    first = next(iter(params.values()))
    default_eps, default_tol = _DEFAULTS.get(to_numpy_dtype(first.dtype).name, _DEFAULTS["float32"])
    eps = default_eps if eps is None else eps
    tol = default_tol if tol is None else tol
    _, grads = loss_and_grads(params)
    plus, minus = [], []
    for key, value in params.items():
        placement = backend_of(value)
        size = int(np.prod(value.shape))
        for flat in range(size):
            bump = np.zeros(size)
            bump[flat] = eps
            step = to_backend(bump.reshape(value.shape), placement, dtype=value.dtype)
            plus.append(loss_and_grads({**params, key: value + step})[0])
            minus.append(loss_and_grads({**params, key: value - step})[0])
    # One read-back of all the costs, not two per parameter entry.
    cost_plus, cost_minus = _read_all(plus), _read_all(minus)
    numerical_flat = (cost_plus - cost_minus) / (2 * eps)
    analytic, numerical, offset = {}, {}, 0
    for key, value in params.items():
        size = int(np.prod(value.shape))
        analytic[key] = to_numpy(grads[key]).astype(np.float64).reshape(value.shape)
        numerical[key] = numerical_flat[offset : offset + size].reshape(value.shape)
        offset += size
    g = np.concatenate([analytic[k].ravel() for k in params])
    g_num = np.concatenate([numerical[k].ravel() for k in params])
    denominator = np.linalg.norm(g) + np.linalg.norm(g_num)
    error = float(np.linalg.norm(g - g_num) / denominator) if denominator > 0 else 0.0
    # Rounding in the costs limits a central difference to about eps_machine * |J| / eps.
    dtype_eps = float(np.finfo(to_numpy_dtype(first.dtype)).eps)
    rounding = 10 * dtype_eps * max(1.0, float(np.max(np.abs(cost_plus)))) / eps
    passed = error <= tol or float(np.max(np.abs(g - g_num), initial=0.0)) <= rounding
    return GradcheckResult(error, passed, analytic, numerical)


def _read_all(costs) -> np.ndarray:
    try:
        xp = array_namespace(*costs)
    except TypeError:  # Python floats or NumPy scalars
        return np.asarray([float(c) for c in costs])
    return to_numpy(xp.stack(costs)).astype(np.float64)


def gradcheck_estimator(
    estimator, X, y, *, params: dict | None = None, dtype: str | None = "float64", eps=None, tol=None
) -> GradcheckResult:
    """Gradient check of an estimator's model on data ``X``, ``y``, on its backend.

    Checks at ``params`` if given, else at the fitted ``params_``, else at the
    estimator's initial parameters (drawn with its ``random_state``, then
    nudged away from zero). The estimator's ``alpha`` (L2 penalty) is part of
    the checked cost, and more than two classes check the softmax output. ``dtype`` defaults to float64, where central
    differences are accurate to about 1e-9: float32 rounding alone puts
    errors of order 1e-3 into a finite difference, and more where a relu
    kink lies within ``eps``. Pass ``dtype=None`` to check in the estimator's
    own dtype (for a device without float64).

    Examples
    --------
    >>> from neuralcore import TwoLayerNet
    >>> from neuralcore.datasets import make_planar
    >>> X, y = make_planar(n_samples=40, random_state=0)
    >>> gradcheck_estimator(TwoLayerNet(hidden_units=3, random_state=0, backend="numpy"), X, y).passed
    True
    """
    estimator._check_hyperparameters()
    fitted = params is None and getattr(estimator, "params_", None) is not None
    # at the fitted parameters, the data must be the model's problem: its features, its classes' encoding
    Xb, placement = check_X(X, backend=estimator.backend, dtype=dtype_name(dtype or estimator.dtype),
                            n_features=estimator.n_features_in_ if fitted else None)
    _, Y_host = encode_labels(check_labels(y, n_samples=Xb.shape[0], X=X),
                              classes=estimator.classes_ if fitted else None)
    Y = to_backend(Y_host, placement, dtype=Xb.dtype)
    if fitted:
        params = estimator.params_
    elif params is None:
        params = estimator._init_params(Xb.shape[1], Y.shape[1], check_random_state(estimator.random_state))
        # Zero biases and tiny weights sit where the check is least informative: nudge them.
        rng = np.random.default_rng(0)
        params = {k: v + rng.normal(scale=0.1, size=v.shape) for k, v in params.items()}
    else:  # the caller's: the shapes this estimator gives this data, checked as fit checks init_params
        params = estimator._check_init_params(params, Xb.shape[1], Y.shape[1], name="params")
    params = {k: to_backend(v, placement, dtype=Xb.dtype) for k, v in params.items()}
    loss_and_grads = estimator._steps(ArrayData(Xb, Y)).loss_and_grads  # the estimator's alpha is bound
    return gradcheck(lambda p: loss_and_grads(p, Xb, Y), params, eps=eps, tol=tol)

"""Compiled fast paths: the one door between the Array API code and backend kernels.

Model code calls the functions of this module at the few places where a
backend may have a faster implementation of one of its steps. Each function
returns ``None`` when no kernel serves the call (the backend has none,
``NEURALCORE_KERNELS=off``, or the arrays do not suit: dtype, shape, device),
and the caller then runs its own Array API code, which stays the reference the
kernels are tested against. This is the pattern of array-api-extra's
delegation layer: a thin public function that picks a native fast path.

Today only CuPy has kernels (:mod:`neuralcore._cuda`, with the CUDA C++ source
in ``neuralcore/kernels.cu``, shipped as package data):

- :func:`logistic_steps`: the whole loss, gradient and gradient-descent step of
  binary logistic regression in one pass over ``X``;
- :func:`binary_output_and_cross_entropy`: a sigmoid output and its mean
  cross-entropy in one elementwise pass (every model's output layer);
- :func:`descend`: the plain gradient-descent update of one parameter.

Whether the training loop may hand a step to a fused kernel is said by the
optimizer itself (:attr:`neuralcore.optim.Optimizer.plain_rate`), not by this
module.
"""

from __future__ import annotations

import os

import array_api_compat as aac

__all__ = ["ENV_VAR", "binary_output_and_cross_entropy", "descend", "enabled", "logistic_steps"]

#: Environment variable that turns the compiled kernels off (``off``) or on (``auto``, the default).
ENV_VAR = "NEURALCORE_KERNELS"

_ON = ("", "auto", "on", "1", "true", "yes")
_OFF = ("off", "0", "false", "no", "none")


#: The setting of NEURALCORE_KERNELS as :func:`enabled` last read it (None: not read yet).
_SETTING: bool | None = None


def enabled() -> bool:
    """Whether compiled kernels may replace the Array API code (``NEURALCORE_KERNELS``).

    ``auto`` (the default; also ``on``, ``1``, ``true``, ``yes``, and an empty
    or unset variable) uses them where a backend has them; ``off`` (also ``0``,
    ``false``, ``no``, ``none``) runs the pure Array API code everywhere. Any
    other value is a ValueError. Case and surrounding spaces are ignored.

    Reads the environment: every fit calls this once, up front (a bad value is
    an error before any work), and the per-step kernel calls of that fit use
    the value read then instead of reading the environment at every step.

    Examples
    --------
    >>> enabled() in (True, False)
    True
    """
    global _SETTING
    value = os.environ.get(ENV_VAR, "auto").strip().lower()
    if value in _ON:
        _SETTING = True
    elif value in _OFF:
        _SETTING = False
    else:
        raise ValueError(f"{ENV_VAR}={value!r} is not valid; use 'auto' (the default) or 'off'")
    return _SETTING


def _setting() -> bool:
    """The setting :func:`enabled` last read (reading it the first time): for per-step calls."""
    return enabled() if _SETTING is None else _SETTING


def _native(x):
    """The kernel module for ``x``'s backend, or None where there is none (or kernels are off)."""
    if not aac.is_cupy_array(x) or not _setting():
        return None
    from . import _cuda

    return _cuda


def logistic_steps(X, reference_loss, reference_step):
    """One-pass kernels for binary logistic regression on ``X``'s backend, or None.

    The returned object has ``loss_and_grads`` and ``gd_step`` with the
    signatures of ``reference_loss`` and ``reference_step``
    (:func:`neuralcore.logistic.loss_and_grads`, :func:`neuralcore.logistic.gd_step`),
    which it calls for any input the kernels do not handle. CuPy only, float32
    and float64 rows of up to 12288 features.

    Examples
    --------
    >>> import numpy as np
    >>> logistic_steps(np.zeros((3, 2)), None, None) is None
    True
    """
    native = _native(X)
    return None if native is None else native.logistic_kernels(X, reference_loss, reference_step)


def binary_output_and_cross_entropy(z, y):
    """``(sigmoid(z), mean cross-entropy)`` for one logit column in one pass, or None.

    The reference is :func:`neuralcore.losses.output_and_cross_entropy`.

    Examples
    --------
    >>> import numpy as np
    >>> binary_output_and_cross_entropy(np.zeros((2, 1)), np.ones((2, 1))) is None
    True
    """
    native = _native(z)
    return None if native is None else native.binary_output_and_cross_entropy(z, y)


def descend(p, g, rate: float):
    """``p + rate * g`` in one launch, rounded as the two-step Array API code, or None.

    ``rate`` is minus the learning rate. The reference is
    :func:`neuralcore.optim.descend`'s ``p + (-lr * g)``.

    Examples
    --------
    >>> import numpy as np
    >>> descend(np.ones(2), np.ones(2), -0.5) is None
    True
    """
    native = _native(p)
    return None if native is None else native.descend(p, g, rate)

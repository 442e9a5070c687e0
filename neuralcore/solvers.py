"""Second-order solvers for logistic regression: L-BFGS and Newton (IRLS), on a data source.

Both minimize the same objective as gradient descent, the mean cross-entropy
plus ``alpha / 2 * ||W||^2`` (binary sigmoid or multinomial softmax), written
against the Array API: the parameters are packed into one vector on the
training device, and only scalars (costs, directional derivatives) come back to
the host to steer the line search. With ``alpha > 0`` the optimum is unique
(up to a common shift of the softmax intercepts, which changes nothing) and
equals scikit-learn's ``LogisticRegression(C=1 / (alpha * n_samples))``.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, NamedTuple

from array_api_compat import array_namespace, device

from . import logistic
from .data import as_source
from .device import to_numpy_dtype

__all__ = ["SOLVERS", "SolverResult", "default_tol", "lbfgs", "newton", "solve"]

_ARMIJO = 1e-4  # sufficient-decrease constant of the backtracking line search
_MAX_HALVINGS = 40


class SolverResult(NamedTuple):
    """Parameters, cost per iteration, iterations, whether ``tol`` was met, and why it stopped."""

    params: dict
    loss_curve: list
    n_iter: int
    converged: bool
    message: str


class _Packed:
    """Packs ``{"W": (f, K), "b": (K,)}`` into one vector ``[W.ravel(), b]`` and back."""

    def __init__(self, params: dict, xp):
        self.xp = xp
        self.shape = params["W"].shape
        self.size = self.shape[0] * self.shape[1]

    def pack(self, params):
        return self.xp.concat([self.xp.reshape(params["W"], (-1,)), params["b"]])

    def unpack(self, theta):
        return {"W": self.xp.reshape(theta[: self.size], self.shape), "b": theta[self.size :]}


def _line_search(fg, theta, f, g, direction, xp, step=1.0):
    """Backtracking from ``step`` until the Armijo condition holds; returns the new point or None.

    Near the optimum the cost stops changing in the working precision (float32
    resolves about 1e-7 of it) long before the gradient reaches ``tol``; there
    a step is also accepted when the cost stays within rounding of the old one
    and the gradient shrinks (the approximate Armijo condition of Hager and
    Zhang), so the solvers keep converging on the gradient.
    """
    slope = float(xp.sum(g * direction))
    f_host = float(f)
    rounding = 4 * float(xp.finfo(theta.dtype).eps) * abs(f_host)
    g_size = float(xp.max(xp.abs(g)))
    for _ in range(_MAX_HALVINGS):
        candidate = theta + step * direction
        f_new, g_new = fg(candidate)
        f_new_host = float(f_new)
        if f_new_host < f_host and f_new_host <= f_host + _ARMIJO * step * slope:
            return candidate, f_new, g_new
        if f_new_host <= f_host + rounding and float(xp.max(xp.abs(g_new))) < g_size:
            return candidate, f_new, g_new
        step *= 0.5
    return None


def _steepest_step(g, xp) -> float:
    """A first step along -g that moves no parameter by more than about 1."""
    return min(1.0, 1.0 / max(float(xp.sum(xp.abs(g))), 1e-12))


def _gradient_small(g, xp, tol) -> bool:
    return float(xp.max(xp.abs(g))) <= tol


def _stalled(g, xp, tol) -> str:
    return (
        f"stopped: the line search found no decrease of the cost while the largest gradient component is "
        f"{float(xp.max(xp.abs(g))):.3g} > tol={tol:g} (the working precision is exhausted: standardize the "
        "features, or train in float64)"
    )


def _packed_objective(objective, packer) -> Callable:
    """``theta -> (cost, packed gradient)`` from ``objective(params) -> (cost, grads)``."""

    def value_and_grad(theta):
        cost, grads = objective(packer.unpack(theta))
        return cost, packer.pack(grads)

    return value_and_grad


def lbfgs(loss_and_grads: Callable, params: dict, data, *, max_iter: int, tol: float, history: int = 10) -> SolverResult:
    """Limited-memory BFGS (two-loop recursion) with a backtracking line search.

    Stops when the largest gradient component is at most ``tol`` (converged),
    or, unconverged, when no step decreases the cost any more (the working
    precision is exhausted) or after ``max_iter`` iterations. ``loss_and_grads(params,
    X, Y)`` is evaluated on all of ``data`` (a source of :mod:`neuralcore.data`).
    """
    xp = array_namespace(params["W"])
    packer = _Packed(params, xp)
    fg = _packed_objective(data.objective(loss_and_grads), packer)
    theta = packer.pack(params)
    f, g = fg(theta)
    s_list, y_list, rho_list = [], [], []
    loss_curve, converged, message = [], False, f"reached max_iter={max_iter}"
    for _ in range(max_iter):
        loss_curve.append(float(f))
        if _gradient_small(g, xp, tol):
            converged, message = True, "converged"
            break
        direction = -_two_loop(g, s_list, y_list, rho_list, xp)
        if float(xp.sum(g * direction)) >= 0:  # not a descent direction: forget the curvature pairs
            s_list, y_list, rho_list = [], [], []
            direction = -g
        first_step = 1.0 if s_list else _steepest_step(g, xp)
        found = _line_search(fg, theta, f, g, direction, xp, step=first_step)
        if found is None and s_list:  # the curvature pairs may be stale: start again from steepest descent
            s_list, y_list, rho_list = [], [], []
            found = _line_search(fg, theta, f, g, -g, xp, step=_steepest_step(g, xp))
        if found is None:
            message = _stalled(g, xp, tol)
            break
        theta_new, f, g_new = found
        s, y = theta_new - theta, g_new - g
        sy = float(xp.sum(s * y))
        if sy > 1e-12 * float(xp.sum(y * y)):
            s_list.append(s)
            y_list.append(y)
            rho_list.append(1.0 / sy)
            if len(s_list) > history:
                s_list.pop(0), y_list.pop(0), rho_list.pop(0)
        theta, g = theta_new, g_new
    return SolverResult(packer.unpack(theta), loss_curve, len(loss_curve), converged, message)


def _two_loop(g, s_list, y_list, rho_list, xp):
    q = g
    alphas = []
    for s, y, rho in zip(reversed(s_list), reversed(y_list), reversed(rho_list)):
        a = rho * float(xp.sum(s * q))
        alphas.append(a)
        q = q - a * y
    if s_list:
        s, y = s_list[-1], y_list[-1]
        q = q * (float(xp.sum(s * y)) / float(xp.sum(y * y)))
    for (s, y, rho), a in zip(zip(s_list, y_list, rho_list), reversed(alphas)):
        b = rho * float(xp.sum(y * q))
        q = q + (a - b) * s
    return q


def newton(
    loss_and_grads: Callable, params: dict, data, *, hessian: Callable, max_iter: int, tol: float
) -> SolverResult:
    """Newton's method (iteratively reweighted least squares) with a backtracking line search.

    Each step solves ``H d = -g`` with the full Hessian, of size
    ``(n_features + 1) * K`` squared: meant for moderate ``n_features``.
    ``hessian(params, X)`` is the Hessian's mean over the rows of ``X``
    (:func:`neuralcore.logistic.hessian`), evaluated on all of ``data``.
    """
    xp = array_namespace(params["W"])
    packer = _Packed(params, xp)
    fg = _packed_objective(data.objective(loss_and_grads), packer)
    hessian = data.hessian(hessian)
    theta = packer.pack(params)
    f, g = fg(theta)
    size = theta.shape[0]
    finfo = xp.finfo(theta.dtype)
    loss_curve, converged, message = [], False, f"reached max_iter={max_iter}"
    for _ in range(max_iter):
        loss_curve.append(float(f))
        if _gradient_small(g, xp, tol):
            converged, message = True, "converged"
            break
        H = hessian(packer.unpack(theta))
        # A small ridge, relative to each diagonal entry (so it does not depend on the
        # features' scales), keeps H invertible where it is only semi-definite (the common
        # shift of softmax intercepts, separable directions without L2), and at
        # sqrt(machine epsilon) damps the rounding noise the gradient carries along such
        # directions, which in float32 would otherwise dominate the step.
        diagonal = xp.linalg.diagonal(H)
        ridge = math.sqrt(float(finfo.eps)) * diagonal + float(finfo.smallest_normal)
        H = H + xp.eye(size, dtype=H.dtype, device=device(H)) * xp.reshape(ridge, (1, -1))
        direction = -xp.reshape(xp.linalg.solve(H, xp.reshape(g, (-1, 1))), (-1,))
        if not float(xp.sum(g * direction)) < 0:
            direction = -g
        found = _line_search(fg, theta, f, g, direction, xp)
        if found is None:
            found = _line_search(fg, theta, f, g, -g, xp, step=_steepest_step(g, xp))
        if found is None:
            message = _stalled(g, xp, tol)
            break
        theta, f, g = found
    return SolverResult(packer.unpack(theta), loss_curve, len(loss_curve), converged, message)


#: Second-order solvers of :class:`~neuralcore.LogisticRegression` by name.
SOLVERS = {"lbfgs": lbfgs, "newton": newton}


def default_tol(dtype_name: str) -> float:
    """Gradient tolerance when none is given: float32 gradients carry rounding noise of about 1e-7 per term."""
    return 1e-8 if dtype_name == "float64" else 1e-5


def solve(name: str, params: dict, data, *, alpha: float, max_iter: int, tol: float | None = None) -> SolverResult:
    """Logistic regression by the solver ``name`` (a key of :data:`SOLVERS`) on a data source.

    ``data`` is a source of :mod:`neuralcore.data` or a pair ``(X, Y)``; ``params`` must be on its library
    and device. ``tol`` defaults to :func:`default_tol` of the parameters' dtype.
    """
    if name not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(map(repr, SOLVERS))}, got {name!r}")
    data = as_source(data)
    if hasattr(data, "check_params"):
        data.check_params(params)
    loss = functools.partial(logistic.loss_and_grads, alpha=alpha, xp=data.model_xp)
    if tol is None:
        tol = default_tol(to_numpy_dtype(params["W"].dtype).name)
    if name == "newton":
        hessian = functools.partial(logistic.hessian, alpha=alpha, xp=data.model_xp)
        return newton(loss, params, data, hessian=hessian, max_iter=max_iter, tol=tol)
    return SOLVERS[name](loss, params, data, max_iter=max_iter, tol=tol)

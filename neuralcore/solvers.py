"""Second-order solvers for logistic regression: L-BFGS and Newton (IRLS).

Both minimize the same objective as gradient descent, the mean cross-entropy
plus ``alpha / 2 * ||W||^2`` (binary sigmoid or multinomial softmax), written
against the Array API: the parameters are packed into one vector on the
training device, and only scalars (costs, directional derivatives) come back to
the host to steer the line search. With ``alpha > 0`` the optimum is unique
(up to a common shift of the softmax intercepts, which changes nothing) and
equals scikit-learn's ``LogisticRegression(C=1 / (alpha * n_samples))``.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

from array_api_compat import array_namespace, device

from . import logistic
from .activations import output_activation

__all__ = ["SOLVERS", "SolverResult", "default_tol", "lbfgs", "newton"]

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


def _objective(X, Y, alpha, packer) -> Callable:
    def value_and_grad(theta):
        cost, grads = logistic.loss_and_grads(packer.unpack(theta), X, Y, alpha=alpha, xp=packer.xp)
        return cost, packer.pack(grads)

    return value_and_grad


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
            return candidate, f_new, g_new, step
        if f_new_host <= f_host + rounding and float(xp.max(xp.abs(g_new))) < g_size:
            return candidate, f_new, g_new, step
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


def _from_objective(objective, packer) -> Callable:
    def value_and_grad(theta):
        cost, grads = objective(packer.unpack(theta))
        return cost, packer.pack(grads)

    return value_and_grad


def lbfgs(
    params: dict, X, Y, *, alpha: float, max_iter: int, tol: float, history: int = 10, objective: Callable | None = None
) -> SolverResult:
    """Limited-memory BFGS (two-loop recursion) with a backtracking line search.

    Stops when the largest gradient component is at most ``tol`` (converged),
    or, unconverged, when no step decreases the cost any more (the working
    precision is exhausted) or after ``max_iter`` iterations. ``objective(params)
    -> (cost, grads)`` replaces the in-memory cost (chunked data).
    """
    xp = array_namespace(params["W"])
    packer = _Packed(params, xp)
    fg = _objective(X, Y, alpha, packer) if objective is None else _from_objective(objective, packer)
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
        theta_new, f, g_new, _ = found
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


def _hessian(params: dict, X, alpha: float, xp):
    """Hessian of the objective in the packed order ``[W.ravel() (row-major), b]``."""
    m, n_features = X.shape
    Z = logistic.logits(params, X, xp=xp)
    A = output_activation(Z, xp=xp)
    K = A.shape[1]
    dtype, dev = X.dtype, device(X)
    if K == 1:
        weights = [[A[:, 0] * (1 - A[:, 0])]]
    else:
        eye = xp.eye(K, dtype=dtype, device=dev)
        weights = [[A[:, k] * (eye[k, l] - A[:, l]) for l in range(K)] for k in range(K)]
    # blocks[k][l]: the (f + 1) x (f + 1) block of classes k and l, intercept last
    rows = []
    for k in range(K):
        row = []
        for l in range(K):
            c = weights[k][l]
            XtcX = X.T @ (xp.reshape(c, (-1, 1)) * X) / m
            Xtc = xp.reshape(X.T @ c / m, (n_features, 1))
            row.append((XtcX, Xtc, xp.reshape(xp.sum(c) / m, (1, 1))))
        rows.append(row)
    # Assemble in the packed order: index i * K + k for W[i, k], then f * K + k for b[k].
    WW = xp.stack([xp.stack([rows[k][l][0] for l in range(K)], axis=0) for k in range(K)], axis=0)  # (K, K, f, f)
    WW = xp.reshape(xp.permute_dims(WW, (2, 0, 3, 1)), (n_features * K, n_features * K))
    Wb = xp.stack([xp.stack([rows[k][l][1][:, 0] for l in range(K)], axis=0) for k in range(K)], axis=0)  # (K, K, f)
    Wb = xp.reshape(xp.permute_dims(Wb, (2, 0, 1)), (n_features * K, K))
    bb = xp.stack([xp.stack([rows[k][l][2][0, 0] for l in range(K)]) for k in range(K)])  # (K, K)
    if alpha:
        WW = WW + alpha * xp.eye(n_features * K, dtype=dtype, device=dev)
    top = xp.concat([WW, Wb], axis=1)
    bottom = xp.concat([Wb.T, bb], axis=1)
    return xp.concat([top, bottom], axis=0)


def newton(
    params: dict,
    X,
    Y,
    *,
    alpha: float,
    max_iter: int,
    tol: float,
    objective: Callable | None = None,
    hessian: Callable | None = None,
) -> SolverResult:
    """Newton's method (iteratively reweighted least squares) with a backtracking line search.

    Each step solves ``H d = -g`` with the full Hessian, of size
    ``(n_features + 1) * K`` squared: meant for moderate ``n_features``.
    ``objective(params)`` and ``hessian(params)`` replace the in-memory ones
    (chunked data).
    """
    xp = array_namespace(params["W"])
    packer = _Packed(params, xp)
    fg = _objective(X, Y, alpha, packer) if objective is None else _from_objective(objective, packer)
    hessian = hessian or (lambda p: _hessian(p, X, alpha, xp))
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
        theta, f, g, _ = found
    return SolverResult(packer.unpack(theta), loss_curve, len(loss_curve), converged, message)


#: Second-order solvers of :class:`~neuralcore.LogisticRegression` by name.
SOLVERS = {"lbfgs": lbfgs, "newton": newton}


def default_tol(dtype_name: str) -> float:
    """Gradient tolerance when none is given: float32 gradients carry rounding noise of about 1e-7 per term."""
    return 1e-8 if dtype_name == "float64" else 1e-5

"""Behaviour checked against the course's formulas written out here in NumPy, or against scikit-learn:
where the rest of the suite compares the library with itself, a bug can hide on both sides.

- every optimizer with every non-constant learning-rate schedule, step by step;
- ties at a logit of exactly 0 (``predict``, the in-memory and the Dask validation accuracy);
- the ``tol`` stopping rule on noisy (mini-batch) costs, the stop recomputed from ``loss_curve_``;
- the second-order solvers: parameters equal to scikit-learn's, a line search that never accepts
  an increase of the cost, and L-BFGS's history bound.
"""

import functools
import math

import numpy as np
import pytest

from neuralcore import LogisticRegression, logistic, optim, solvers
from neuralcore.data import ArrayData

# ------------------------------------------------------------------ optimizers x schedules

SCHEDULES = {  # name: (the library's schedule, the formula, step t counted from 0)
    "inverse_time": (lambda: optim.inverse_time_decay(0.2, decay_rate=0.5, decay_steps=2),
                     lambda t: 0.2 / (1 + 0.5 * t / 2)),
    "exponential": (lambda: optim.exponential_decay(0.2, decay_rate=0.3, decay_steps=2),
                    lambda t: 0.2 * 0.3 ** (t / 2)),
    "step": (lambda: optim.step_decay(0.2, drop=0.5, every=2), lambda t: 0.2 * 0.5 ** math.floor(t / 2)),
}


def course_optimizer(name):
    """``(init(W) -> state, update(W, dW, lr, state, t) -> (W, state))`` from the course, ``t`` from 1."""
    beta, rho, beta1, beta2, eps = 0.9, 0.9, 0.9, 0.999, 1e-8

    def gd(W, dW, lr, state, t):
        return W - lr * dW, state

    def momentum(W, dW, lr, v, t):
        v = beta * v + (1 - beta) * dW
        return W - lr * v, v

    def nesterov(W, dW, lr, v, t):
        v = beta * v + (1 - beta) * dW
        return W - lr * (beta * v + (1 - beta) * dW), v

    def rmsprop(W, dW, lr, s, t):
        s = rho * s + (1 - rho) * dW**2
        return W - lr * dW / (np.sqrt(s) + eps), s

    def adam(W, dW, lr, state, t):
        v, s = state
        v = beta1 * v + (1 - beta1) * dW
        s = beta2 * s + (1 - beta2) * dW**2
        v_corrected, s_corrected = v / (1 - beta1**t), s / (1 - beta2**t)
        return W - lr * v_corrected / (np.sqrt(s_corrected) + eps), (v, s)

    init = {"adam": lambda W: (np.zeros_like(W), np.zeros_like(W))}.get(name, np.zeros_like)
    return init, {"gd": gd, "momentum": momentum, "nesterov": nesterov, "rmsprop": rmsprop, "adam": adam}[name]


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov", "rmsprop", "adam"])
def test_optimizer_with_a_schedule_follows_the_course(backend_case, name, schedule):
    """Six updates with a rate that changes at every step or every other: the t-th update (t from 1) uses
    the schedule's value at t - 1, and the optimizer's own state as the course writes it."""
    library_schedule, formula = SCHEDULES[schedule]
    optimizer = optim.get_optimizer(name, library_schedule())
    rng = np.random.default_rng(0)
    host = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    params = {k: backend_case.asarray(v) for k, v in host.items()}
    state = optimizer.init(params)
    init, update = course_optimizer(name)
    expected = dict(host)
    course_state = {k: init(v) for k, v in host.items()}
    for t in range(1, 7):
        grads_host = {k: rng.normal(size=v.shape) * (1 + t) for k, v in host.items()}
        updates, state = optimizer.update({k: backend_case.asarray(v) for k, v in grads_host.items()}, state, params)
        params = optim.apply_updates(params, updates)
        for key in host:
            expected[key], course_state[key] = update(expected[key], grads_host[key], formula(t - 1), course_state[key], t)
            backend_case.assert_on_case(params[key])
            np.testing.assert_allclose(
                backend_case.to_numpy(params[key]), expected[key],
                rtol=1e-9 if backend_case.dtype == "float64" else 2e-5, atol=1e-12 if backend_case.dtype == "float64" else 1e-6,
                err_msg=f"{name} with {schedule} after {t} updates ({key})",
            )


# ------------------------------------------------------------------ ties at a logit of exactly 0


def zero_parameters(model, backend_case):
    xp = backend_case.xp
    model.params_ = {k: xp.zeros_like(v) for k, v in model.params_.items()}
    return model


@pytest.mark.chunked
@pytest.mark.parametrize("labels", [("no", "yes"), (3, 7), (0, 1, 2)])
def test_zero_parameters_predict_the_first_class(backend_case, labels):
    """Every logit 0: all classes are equally likely, and the prediction is ``classes_[0]``, the argmax
    (first maximum) of ``predict_proba``, for two classes (one logit compared with 0) and for three."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = np.asarray(labels, dtype=object if isinstance(labels[0], str) else None)[np.arange(40) % len(labels)]
    model = LogisticRegression(max_iter=2).fit(backend_case.asarray(X), y)
    if backend_case.name == "dask":
        model.params_ = {k: np.zeros_like(v) for k, v in model.params_.items()}
    else:
        zero_parameters(model, backend_case)
    predicted = backend_case.to_numpy(model.predict(backend_case.asarray(X)))
    proba = backend_case.to_numpy(model.predict_proba(backend_case.asarray(X)))
    np.testing.assert_allclose(proba, 1 / len(labels))
    assert list(predicted) == [model.classes_[0]] * 40
    assert list(predicted) == list(model.classes_[np.argmax(proba, axis=1)])
    assert np.all(backend_case.to_numpy(model.decision_function(backend_case.asarray(X))) == 0)


def test_dask_validation_accuracy_at_zero_parameters_equals_in_memory():
    """The first validation score (full batch: at the initial parameters, here all zeros) counts a logit
    of 0 as the first class, in memory and chunk by chunk on Dask alike."""
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), (rng.random(200) > 0.4).astype(int)
    X_val, y_val = rng.normal(size=(80, 3)), (rng.random(80) > 0.3).astype(int)
    zeros = {"W": np.zeros((3, 1)), "b": np.zeros(1)}
    settings = dict(max_iter=2, n_iter_no_change=10, backend="numpy")
    memory = LogisticRegression(**settings).fit(X, y, init_params=zeros, eval_set=(X_val, y_val))
    chunked = LogisticRegression(max_iter=2, n_iter_no_change=10).fit(
        da.from_array(X, chunks=50), y, init_params=zeros, eval_set=(da.from_array(X_val, chunks=20), y_val)
    )
    expected = float(np.mean(y_val == 0))  # every sample predicted as class 0
    assert memory.validation_scores_[0] == pytest.approx(expected, abs=1e-12)
    assert chunked.validation_scores_[0] == pytest.approx(expected, abs=1e-12)


# ------------------------------------------------------------------ stopping on noisy costs


def tol_rule_stop(curve, tol, patience):
    """The ``tol`` rule (scikit-learn's): an epoch counts as no improvement unless its cost is below the
    best cost so far minus ``tol``; stop after ``patience`` such epochs in a row. The index of the epoch
    where it stops, or None."""
    best, count = math.inf, 0
    for index, cost in enumerate(curve):
        count = 0 if cost < best - tol else count + 1
        best = min(best, cost)
        if count >= patience:
            return index
    return None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tol_rule_on_mini_batch_costs(seed):
    """Mini-batch costs go up and down: the rule compares each epoch with the best so far, not with the
    previous epoch (a rise followed by a smaller fall is still no improvement)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 4))
    y = (X @ rng.normal(size=4) + rng.normal(size=300) > 0).astype(int)
    tol, patience = 1e-3, 4
    model = LogisticRegression(
        learning_rate=2.0, batch_size=16, max_iter=400, tol=tol, n_iter_no_change=patience, random_state=seed,
        backend="numpy",
    ).fit(X, y)
    curve = model.loss_curve_
    assert any(b > a for a, b in zip(curve, curve[1:])), "the premise: noisy costs"
    assert model.n_iter_ == len(curve) < 400
    assert tol_rule_stop(curve, tol, patience) == len(curve) - 1


# ------------------------------------------------------------------ solvers


def sklearn_fit(X, y, alpha):
    sk = pytest.importorskip("sklearn.linear_model")
    return sk.LogisticRegression(C=1 / (alpha * X.shape[0]), tol=1e-12, max_iter=10000).fit(X, y)


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
@pytest.mark.parametrize("classes", [2, 3])
def test_parameters_equal_scikit_learns(solver, classes):
    """With ``alpha > 0`` the optimum is unique: the same ``W`` and ``b`` as scikit-learn's ``coef_.T`` and
    ``intercept_`` (three classes: the intercepts up to their common shift, which changes nothing)."""
    rng = np.random.default_rng(classes)
    X = rng.normal(size=(150, 4))
    y = np.argmax(X @ rng.normal(size=(4, classes)) + rng.normal(size=(150, classes)), axis=1)
    alpha = 0.02
    ours = LogisticRegression(solver=solver, alpha=alpha, backend="numpy", dtype="float64").fit(X, y)  # default tol
    theirs = sklearn_fit(X, y, alpha)
    W, b = ours.params_["W"], ours.params_["b"]
    np.testing.assert_allclose(W, theirs.coef_.T, rtol=1e-5, atol=1e-6)
    if classes == 2:
        np.testing.assert_allclose(b, theirs.intercept_, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(b - b.mean(), theirs.intercept_ - theirs.intercept_.mean(), rtol=1e-5, atol=1e-6)


def quadratic(center):
    """``f(t) = sum((t - center)**2)`` and its gradient, as the solvers' objective: (cost, gradient)."""

    def fg(theta):
        return np.sum((theta - center) ** 2), 2 * (theta - center)

    return fg


@pytest.mark.parametrize("step", [1.0, 3.0, 50.0])
def test_line_search_accepts_only_decreases(step):
    """Along a descent direction, from a first step that overshoots (the cost rises there), the accepted
    point has a lower cost; along an ascent direction nothing is accepted."""
    fg = quadratic(np.zeros(3))
    theta = np.asarray([1.0, -2.0, 0.5])
    f, g = fg(theta)
    found = solvers._line_search(fg, theta, f, g, -g, np, step=step)
    assert found is not None
    candidate, f_new, _ = found
    assert f_new < f and f_new == fg(candidate)[0]
    assert solvers._line_search(fg, theta, f, g, g, np, step=step) is None  # every step uphill


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_solver_costs_never_rise(solver, dtype):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 6)) * rng.uniform(0.1, 10, size=6)  # badly scaled: many line-search halvings
    y = np.argmax(X @ rng.normal(size=(6, 3)) + rng.normal(size=(200, 3)), axis=1)
    curve = LogisticRegression(solver=solver, alpha=1e-3, max_iter=200, backend="numpy", dtype=dtype).fit(X, y).loss_curve_
    eps = np.finfo(dtype).eps
    assert len(curve) > 3
    assert all(b <= a + 4 * eps * abs(a) for a, b in zip(curve, curve[1:]))


def test_lbfgs_keeps_at_most_history_pairs(monkeypatch):
    seen = []
    two_loop = solvers._two_loop

    def spy(g, s_list, y_list, rho_list, xp):
        assert len(s_list) == len(y_list) == len(rho_list)
        seen.append(len(s_list))
        return two_loop(g, s_list, y_list, rho_list, xp)

    monkeypatch.setattr(solvers, "_two_loop", spy)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 12)) * rng.uniform(0.2, 5, size=12)
    y = (X @ rng.normal(size=12) + rng.normal(size=300) > 0).astype(float)[:, None]
    params = {"W": np.zeros((12, 1)), "b": np.zeros(1)}
    loss = functools.partial(logistic.loss_and_grads, alpha=1e-4)
    result = solvers.lbfgs(loss, params, ArrayData(X, y), max_iter=60, tol=1e-12, history=3)
    assert result.n_iter > 10
    assert max(seen) == 3  # the bound is reached, and kept

"""Pictures of a training run: the cost curve (with a held-out curve), and for two features the decision boundary.

Needs matplotlib (``pip install "neuralcore[plot]"``). Each function returns a
:class:`matplotlib.figure.Figure` (drawn on ``ax`` when one is given) and never
opens a window: save it with ``fig.savefig("cost.png")``.
"""

from __future__ import annotations

import copy

import numpy as np

from .device import to_numpy

__all__ = ["checkpoints", "decision_boundary", "held_out_curve", "loss_curve", "training_summary"]


def figure_class():
    """matplotlib's Figure class (no pyplot: no window, no global state); ImportError naming the extra without it."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError('plotting needs matplotlib: pip install "neuralcore[plot]"') from None
    except Exception as exc:  # installed but broken (a bad MPLBACKEND, a version mismatch): say it is matplotlib
        raise ImportError(f"plotting needs matplotlib, which failed to import: {type(exc).__name__}: {exc}") from None
    return Figure


def _axes(ax, size=(6, 4)):
    if ax is not None:
        return ax.figure, ax
    figure = figure_class()(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


def loss_curve(model, *, ax=None, label: str | None = None, log_scale: bool = False):
    """The training cost per iteration (or epoch) of a fitted model.

    Parameters
    ----------
    model : fitted estimator, or a sequence of costs
    ax : matplotlib Axes, optional
    label : str, optional
        Legend entry (several curves on one ``ax`` compare runs).
    log_scale : bool or "auto"
        Logarithmic cost axis; ``"auto"``: when the costs span more than a
        factor of 10 (:func:`spans_decades`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    costs = getattr(model, "loss_curve_", model)
    costs = np.asarray(costs, dtype=float)
    if costs.ndim != 1 or costs.size == 0:
        raise ValueError("loss_curve needs a fitted model or a non-empty sequence of costs")
    figure, ax = _axes(ax)
    ax.plot(np.arange(costs.size), costs, label=label)
    unit = "epoch" if getattr(model, "batch_size", None) else "iteration"
    ax.set_xlabel(unit)
    ax.set_ylabel("cost (cross-entropy)")
    if log_scale == "auto":
        log_scale = spans_decades(costs)
    if log_scale:
        ax.set_yscale("log")
    if label is not None:
        ax.legend()
    ax.set_title("Training cost")
    ax.grid(True, alpha=0.3)
    return figure


def decision_boundary(model, X, y, *, ax=None, resolution: int = 300, margin: float = 0.5):
    """The regions a fitted model assigns to each class, with the points ``X`` coloured by ``y``.

    Only for data with two features.

    Parameters
    ----------
    model : fitted estimator
    X : array_like of shape (n_samples, 2)
    y : array_like of shape (n_samples,)
    resolution : int
        Grid points per axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    X = to_numpy(X)
    y = to_numpy(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary draws data with 2 features, got X of shape {X.shape}")
    figure, ax = _axes(ax, size=(6, 5))
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    grid_x, grid_y = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    classes = list(model.classes_)
    region = np.searchsorted(np.asarray(model.classes_), model.predict(grid)).reshape(grid_x.shape)
    colors = ["#3b75af", "#ef8636", "#519e3e", "#c53a32", "#8d69b8", "#84584e"]
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(colors[: len(classes)])
    ax.contourf(grid_x, grid_y, region, levels=np.arange(len(classes) + 1) - 0.5, cmap=cmap, alpha=0.25)
    for index, label in enumerate(classes):
        members = y == label
        ax.scatter(X[members, 0], X[members, 1], s=14, color=colors[index % len(colors)], edgecolor="white",
                   linewidth=0.4, label=str(label))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("feature 0")
    ax.set_ylabel("feature 1")
    ax.legend(title="class", loc="best", fontsize="small")
    ax.set_title(f"{type(model).__name__}: decision boundary")
    return figure


def spans_decades(*curves) -> bool:
    """Whether positive values of ``curves`` together span more than a factor of 10 (a log axis shows them better)."""
    values = np.concatenate([np.asarray(c, dtype=float).ravel() for c in curves]) if curves else np.empty(0)
    values = values[np.isfinite(values) & (values > 0)]
    return values.size > 1 and values.max() > 10 * values.min()


def held_out_curve(checkpoints, X, y):
    """The cost (mean cross-entropy, no penalty) on held-out data at each checkpoint of a training run.

    Parameters
    ----------
    checkpoints : iterable of (int, fitted estimator)
        The iteration (or epoch) count and the model as it was there, such as
        :func:`checkpoints` yields.
    X : array_like of shape (n_samples, n_features)
    y : array_like of shape (n_samples,)
        Held-out data, with labels among the models' ``classes_``.

    Returns
    -------
    iterations : ndarray of int
    costs : ndarray of float

    Examples
    --------
    >>> from neuralcore import LogisticRegression
    >>> model = LogisticRegression(max_iter=10, backend="numpy").fit([[0.0], [1.0]], [0, 1])
    >>> held_out_curve([(10, model)], [[0.0], [1.0]], [0, 1])[0]
    array([10])
    """
    from .losses import cross_entropy
    from .validation import encode_labels

    iterations, costs = [], []
    for iteration, model in checkpoints:
        logits = np.asarray(to_numpy(model.decision_function(X)), dtype=np.float64)
        logits = logits.reshape(-1, 1) if logits.ndim == 1 else logits
        _, targets = encode_labels(np.asarray(to_numpy(y)), model.classes_)
        iterations.append(int(iteration))
        costs.append(float(cross_entropy(logits, targets)))
    return np.asarray(iterations, dtype=int), np.asarray(costs, dtype=float)


def exact_checkpoints(model) -> str | None:
    """None when :func:`checkpoints` can retrace ``model``'s training exactly; else why it cannot."""
    if getattr(model, "solver", "gd") != "gd":
        return f"solver={model.solver!r} is not iterated by gradient descent"
    if model.tol is not None or model.validation_fraction is not None:
        return "early stopping (tol, validation_fraction) would stop each segment on its own"
    draws = model.init != "zeros" or (model.batch_size is not None and model.shuffle)
    seeded = isinstance(model.random_state, (int, np.integer)) and not isinstance(model.random_state, bool)
    if draws and not seeded:
        return "only a seed (an int random_state) draws the same initial weights and batches again"
    if getattr(model, "warm_start", False):
        return "a warm-started model's history may span fits with other settings"
    return None


def checkpoints(model, X, y, *, sample_weight=None, n: int = 50):
    """Retrace a fitted model's training: an iterator of ``(iterations done, model there)``, about ``n`` of them.

    Trains a copy of ``model`` in segments with ``warm_start=True``, each
    continuing the previous one's parameters, optimizer state and shuffling
    generator: the same numbers as one run (``fit`` of 100 then 100 epochs is
    ``fit`` of 200), for every optimizer, schedule and batch size. Stopping
    rules, second-order solvers and unseeded runs cannot be retraced
    (:func:`exact_checkpoints` says why). Checkpoints are spaced
    geometrically, from iteration 1 to ``model.n_iter_``, at most ``n`` of
    them; retracing costs one more training run. ``X``, ``y`` and
    ``sample_weight`` must be what the model was fitted with: each segment's
    costs are checked against the model's ``loss_curve_``.

    Raises
    ------
    ValueError
        At the call: the model is not fitted, or its training cannot be
        retraced exactly. While iterating: the retraced costs differ from ``loss_curve_`` (other data, weights
        not passed, a fit from ``init_params``).
    """
    total = getattr(model, "n_iter_", None)
    if total is None:
        raise ValueError("checkpoints needs a fitted model")
    why = exact_checkpoints(model)
    if why is not None:
        raise ValueError(f"cannot retrace this training exactly: {why}")
    return _retrace(model, X, y, sample_weight, max(1, min(int(n), total)))


def _retrace(model, X, y, sample_weight, n: int):
    """The generator of :func:`checkpoints`, once the model is known to be retraceable (its errors come at the call)."""
    total = model.n_iter_
    # spaced geometrically: the held-out cost changes fastest early on, where overfitting starts
    bounds = np.unique(np.concatenate([[0], np.geomspace(1, total, n).round().astype(int)]))
    segment = type(model)(**{**model.get_params(), "warm_start": True, "verbose": 0})
    for start, stop in zip(bounds[:-1], bounds[1:]):
        segment.set_params(max_iter=int(stop - start)).fit(X, y, sample_weight=sample_weight)
        _check_retraced(segment.loss_curve_, model.loss_curve_)
        # a copy: the next segment's fit replaces the state, and a caller may keep every checkpoint
        yield int(stop), copy.copy(segment)


def _check_retraced(retraced, recorded):
    """A ValueError when a retraced cost curve is not the start of the model's own (a silently other run)."""
    retraced, recorded = np.asarray(retraced, dtype=float), np.asarray(recorded, dtype=float)[:len(retraced)]
    close = np.isclose(retraced, recorded, rtol=1e-5, atol=1e-12)
    if not close.all():
        k = int(np.flatnonzero(~close)[0])
        raise ValueError(f"cannot retrace this training: at iteration {k} the retraced cost is {retraced[k]:.6g}, the "
                         f"model's loss_curve_ says {recorded[k]:.6g}; pass the X, y and sample_weight it was fitted "
                         "with (a model fitted from init_params cannot be retraced)")


def training_summary(model, X=None, y=None, *, held_out=None, note: str | None = None):
    """The cost curve, beside the decision boundary when ``X`` has two features (what ``neuralcore train --plot`` saves).

    Parameters
    ----------
    model : fitted estimator
    X, y : array_like, optional
        The training data (its decision boundary is drawn when it has two features).
    held_out : tuple (iterations, costs, label), optional
        A held-out cost curve (:func:`held_out_curve`) drawn with the training
        cost, so that overfitting shows.
    note : str, optional
        A line under the cost axes (what is not drawn, and why).

    The cost axis is logarithmic where the costs span more than a decade.
    Validation accuracy (``validation_scores_``), when the model recorded it,
    is drawn on a second axis.
    """
    Figure = figure_class()
    two_features = X is not None and np.ndim(X) == 2 and np.shape(X)[1] == 2
    figure = Figure(figsize=(11 if two_features else 6, 4.5), layout="constrained")
    axes = figure.subplots(1, 2 if two_features else 1, squeeze=False)[0]
    ax = axes[0]
    curves = [model.loss_curve_] + ([held_out[1]] if held_out is not None else [])
    extra = held_out is not None or getattr(model, "validation_scores_", None) is not None
    loss_curve(model, ax=ax, label="training cost" if extra else None, log_scale=spans_decades(*curves))
    if held_out is not None:
        iterations, costs, label = held_out
        ax.plot(iterations, costs, marker=".", markersize=3, label=label)
        ax.legend()
        ax.set_title("Training and held-out cost")
    scores = getattr(model, "validation_scores_", None)
    if scores is not None and len(scores):
        twin = ax.twinx()
        twin.plot(np.arange(len(scores)), scores, color="#519e3e", alpha=0.7, label="validation accuracy")
        twin.set_ylabel("validation accuracy")
        twin.legend(loc="center right")
    if note:
        ax.annotate(note, xy=(0.0, -0.2), xycoords="axes fraction", fontsize="small", va="top", wrap=True)
    if two_features:
        decision_boundary(model, X, y, ax=axes[1])
    return figure

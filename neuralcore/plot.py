"""Pictures of a training run: the cost curve and, for two features, the decision boundary.

Needs matplotlib (``pip install "neuralcore[plot]"``). Each function returns a
:class:`matplotlib.figure.Figure` (drawn on ``ax`` when one is given) and never
opens a window: save it with ``fig.savefig("cost.png")``.
"""

from __future__ import annotations

import numpy as np

from .device import to_numpy

__all__ = ["decision_boundary", "loss_curve", "training_summary"]


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
    log_scale : bool
        Logarithmic cost axis.

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


def training_summary(model, X=None, y=None):
    """The cost curve, beside the decision boundary when ``X`` has two features (what ``neuralcore train --plot`` saves)."""
    Figure = figure_class()
    two_features = X is not None and np.ndim(X) == 2 and np.shape(X)[1] == 2
    figure = Figure(figsize=(11 if two_features else 6, 4.5), layout="constrained")
    axes = figure.subplots(1, 2 if two_features else 1, squeeze=False)[0]
    loss_curve(model, ax=axes[0])
    if two_features:
        decision_boundary(model, X, y, ax=axes[1])
    return figure

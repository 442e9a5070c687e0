"""On your own data: the recipe of the README's "On your own data", measured against scikit-learn.

On scikit-learn's bundled breast-cancer (569 x 30, two classes) and wine
(178 x 13, three classes) data, split 75/25 (stratified, seed 0), the script
trains scikit-learn's and neuralcore's models on the same rows and prints the
README's three tables in Markdown: logistic regression (test accuracy, and
the training cost at the optimum: mean cross-entropy + alpha / 2 * sum(W**2),
alpha = 1 / (C * n_samples), computed the same way for both libraries),
networks, and what happens without scaling. tests/test_own_data.py checks
that the README shows exactly what this prints.

    python examples/own_data.py

Needs scikit-learn. neuralcore trains on NumPy (``BACKEND``), in float64
unless a row says otherwise: the README's numbers.
"""

import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import neuralcore as nc

DATASETS = {"breast-cancer": load_breast_cancer, "wine": load_wine}
TEST_FRACTION = 0.25
SEED = 0
BACKEND = "numpy"

# A row the tables cannot fill with a number
DIVERGED = "diverges"
NOT_CONVERGED = "\\*"  # appended to a number: the fit warned that it stopped before converging


def split(name):
    """``X_train, X_test, y_train, y_test`` of a bundled dataset: stratified, seeded, unscaled."""
    X, y = DATASETS[name](return_X_y=True)
    return train_test_split(X, y, test_size=TEST_FRACTION, stratify=y, random_state=SEED)


def standardize(X_train, X_test):
    """Both sets scaled with the mean and standard deviation of the training rows only."""
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant column stays as it is, rather than dividing by zero
    return (X_train - mean) / std, (X_test - mean) / std


def alpha_from_C(C, n_samples):
    """neuralcore's ``alpha`` for scikit-learn's ``C``: the same optimum."""
    return 1.0 / (C * n_samples)


def penalized_cost(model, X, y, alpha):
    """Mean cross-entropy of ``model`` on ``(X, y)`` plus ``alpha / 2 * sum(coef_**2)``, for either library."""
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    rows = np.searchsorted(np.asarray(model.classes_), y)
    cross_entropy = -np.mean(np.log(proba[np.arange(len(y)), rows]))
    return float(cross_entropy + alpha / 2 * np.sum(np.asarray(model.coef_, dtype=np.float64) ** 2))


def neuralcore_logistic(C, n_samples, **params):
    """The recipe's logistic regression: L-BFGS at scikit-learn's ``C``."""
    return nc.LogisticRegression(**{"solver": "lbfgs", "alpha": alpha_from_C(C, n_samples), "backend": BACKEND,
                                    **params})


def neuralcore_network(**params):
    """The recipe's network: one hidden layer of 100 relu units, Adam on mini-batches of 32, stopping when the
    training cost stops improving (scikit-learn's MLPClassifier defaults, but for the batch size)."""
    settings = dict(optimizer="adam", learning_rate=1e-3, batch_size=32, alpha=1e-4, max_iter=1000, tol=1e-4,
                    n_iter_no_change=10, random_state=SEED, backend=BACKEND)
    return nc.NeuralNet((100,), **{**settings, **params})


def fit(model, X_train, y_train):
    """``(model, converged)``: fitted, and whether it finished without a convergence warning (either library's);
    ``(None, False)`` when training diverged."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X_train, y_train)
        except nc.DivergenceError:
            return None, False
    stopped = [w for w in caught if issubclass(w.category, (nc.ConvergenceWarning, SklearnConvergenceWarning))]
    return model, not stopped


def percent(model, converged, X_test, y_test):
    """Test accuracy as the tables show it."""
    if model is None:
        return DIVERGED
    return f"{100 * model.score(X_test, y_test):.2f}%" + ("" if converged else NOT_CONVERGED)


def logistic_rows(name):
    """Rows ``(model, accuracy, cost)`` of the logistic-regression table for one dataset."""
    X_train, X_test, y_train, y_test = split(name)
    X_train, X_test = standardize(X_train, X_test)
    n = len(X_train)

    def row(label, model, C=1.0, X_fit=X_train, X_score=X_test):
        model, converged = fit(model, X_fit, y_train)
        cost = "-" if C is None else f"{penalized_cost(model, X_train, y_train, alpha_from_C(C, n)):.6f}"
        return label, percent(model, converged, X_score, y_test), cost

    rows = []
    for C in (1.0, 0.1):
        rows.append(row(f"scikit-learn `LogisticRegression(C={C:g})`", SklearnLogisticRegression(C=C), C))
        rows.append(row(f"neuralcore `solver=\"lbfgs\"`, `alpha=1/({C:g} * n)`", neuralcore_logistic(C, n), C))
    rows.append(row("the same, C=1, `dtype=\"float32\"`", neuralcore_logistic(1.0, n, dtype="float32"),
                    X_fit=X_train.astype(np.float32), X_score=X_test.astype(np.float32)))
    rows.append(row("neuralcore defaults: `solver=\"gd\"`, 2000 steps of 0.005, `alpha=0`",
                    nc.LogisticRegression(backend=BACKEND), C=None))
    rows.append(row("neuralcore `solver=\"gd\"`, 2000 steps of 1.0, `alpha=1/(1 * n)`",
                    nc.LogisticRegression(learning_rate=1.0, alpha=alpha_from_C(1.0, n), backend=BACKEND)))
    return rows


def network_rows(name):
    """Rows ``(model, accuracy)`` of the network table for one dataset."""
    X_train, X_test, y_train, y_test = split(name)
    X_train, X_test = standardize(X_train, X_test)
    models = (
        ("scikit-learn `MLPClassifier(max_iter=1000)`", MLPClassifier(max_iter=1000, random_state=SEED)),
        ("neuralcore `NeuralNet((100,))`, Adam, batches of 32, `tol=1e-4`", neuralcore_network()),
        ("scikit-learn, `early_stopping=True`", MLPClassifier(max_iter=1000, early_stopping=True, random_state=SEED)),
        ("neuralcore, `validation_fraction=0.1`", neuralcore_network(validation_fraction=0.1)),
    )
    return [(label, percent(*fit(model, X_train, y_train), X_test, y_test)) for label, model in models]


def unscaled_rows(name):
    """Rows ``(model, accuracy)`` trained on the raw features (no scaling)."""
    X_train, X_test, y_train, y_test = split(name)
    n = len(X_train)
    models = (
        ("scikit-learn `LogisticRegression()`", SklearnLogisticRegression()),
        ("neuralcore `solver=\"lbfgs\"`, `alpha=1/n`", neuralcore_logistic(1.0, n)),
        ("neuralcore `LogisticRegression()` (gd, step 0.005)", nc.LogisticRegression(backend=BACKEND)),
        ("scikit-learn `MLPClassifier(max_iter=1000)`", MLPClassifier(max_iter=1000, random_state=SEED)),
        ("neuralcore `NeuralNet((100,))` as above", neuralcore_network()),
    )
    return [(label, percent(*fit(model, X_train, y_train), X_test, y_test)) for label, model in models]


def markdown(header, rows_by_dataset):
    """One Markdown table: a row per model, the datasets' columns side by side."""
    names = list(rows_by_dataset)
    labels = [row[0] for row in rows_by_dataset[names[0]]]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for index, label in enumerate(labels):
        cells = [cell for name in names for cell in rows_by_dataset[name][index][1:]]
        lines.append("| " + " | ".join([label, *cells]) + " |")
    return "\n".join(lines)


def tables():
    """The README's three tables, in Markdown: logistic regression, networks, unscaled features."""
    logistic = markdown(("logistic regression", "breast-cancer test accuracy", "cost at the optimum",
                         "wine test accuracy", "cost at the optimum"),
                        {name: logistic_rows(name) for name in DATASETS})
    networks = markdown(("network", "breast-cancer test accuracy", "wine test accuracy"),
                        {name: network_rows(name) for name in DATASETS})
    unscaled = markdown(("without scaling", "breast-cancer test accuracy", "wine test accuracy"),
                        {name: unscaled_rows(name) for name in DATASETS})
    return logistic, networks, unscaled


def main():
    print("\n\n".join(tables()))


if __name__ == "__main__":
    main()

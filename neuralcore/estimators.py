"""The public classifiers: logistic regression, the two-layer network and deep networks.

Each class holds its hyperparameters (stored verbatim by ``__init__``, as
scikit-learn requires) and says which model functions it trains
(:mod:`neuralcore.logistic`, :mod:`neuralcore.two_layer`,
:mod:`neuralcore.network`); everything else,
the fit transaction, the fitted state, predictions on every backend and on
Dask arrays, is :class:`neuralcore.base.BaseClassifier`'s. The fitted
parameters stay on the training device; ``to(backend)`` moves them.
"""

from __future__ import annotations

import functools
import numbers
import warnings

from . import logistic, network, persistence, two_layer
from .activations import ACTIVATIONS
from .base import BaseClassifier, _same
from .exceptions import ConvergenceWarning, sklearn_compatible
from .solvers import SOLVERS, solve
from .train import Steps, TrainResult
from .validation import check_choice, check_int, check_number

__all__ = ["LogisticRegression", "NeuralNet", "TwoLayerNet"]

_COMMON_DOC = """
    optimizer : {"gd", "momentum", "nesterov", "rmsprop", "adam"} or optim.Optimizer, default "gd"
        Update rule. An :class:`~neuralcore.optim.Optimizer` object is used as
        it is (then ``learning_rate`` and ``optimizer_params`` do not apply).
    optimizer_params : dict, optional
        The named optimizer's other hyperparameters, e.g. ``{"beta": 0.9}``
        (momentum), ``{"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}`` (adam),
        ``{"rho": 0.9, "eps": 1e-8}`` (rmsprop).
    batch_size : int, optional
        ``None`` (default): full batch, the textbook algorithm. An integer:
        mini-batches of that size; the last, smaller batch is used, not dropped.
    shuffle : bool, default True
        With mini-batches, a new order of the samples each epoch, drawn on the
        host from ``random_state`` (the same batches on every backend).
    standardize : bool, default False
        When True, ``fit`` learns each feature's mean and standard deviation
        (population, as scikit-learn's ``StandardScaler``; 1 for a constant
        feature) over the rows given to it, before any ``validation_fraction``
        split, weighted by ``fit``'s ``sample_weight`` (as
        ``StandardScaler.fit(X, sample_weight=)``: an integer weight is the
        row repeated; ``class_weight`` weighs the cost, not these
        statistics), as ``Pipeline(StandardScaler(), model)`` would; it trains on
        ``(X - feature_mean_) / feature_scale_`` (a new array: ``X`` is not
        modified), and every prediction, ``eval_set`` and model file applies
        the same numbers, so raw features go in everywhere. The fitted
        statistics decide: changing ``standardize`` after ``fit`` does not
        change predictions. A warm fit keeps them; ``partial_fit`` cannot
        start with standardize=True (one batch's statistics are not the
        stream's: scale the stream yourself, or ``fit`` once first).
    alpha : float, default 0.0
        L2 penalty ``alpha / 2 * sum(W**2)`` on the weights (not the biases),
        added to the mean cross-entropy. The course's ``lambd`` is ``alpha * m``;
        scikit-learn's ``C`` is ``1 / (alpha * n_samples)``, and with sample
        or class weights ``1 / (alpha * sum(w))`` (the cost is the weighted
        mean ``sum(w_i * loss_i) / sum(w_i)``, ``w_i`` the effective weight
        ``sample_weight[i] * class_weight[y_i]``).
    class_weight : None, "balanced" or dict, default None
        Weight of each class in the cost, multiplying ``fit``'s
        ``sample_weight``: a dict ``{label: weight}`` (labels it does not
        name weigh 1; a label that is not in ``y`` is an error), or
        ``"balanced"``: ``n_samples / (n_classes * count(label))`` over the
        ``y`` given to ``fit``, as scikit-learn's ``compute_class_weight``
        (with ``sample_weight``, counts and ``n_samples`` are sums of sample
        weights, as in scikit-learn >= 1.6).
        Validation scores are weighted the same way.
    tol : float, optional
        ``None`` (default): run ``max_iter`` epochs. A number: stop after
        ``n_iter_no_change`` epochs in which the training cost improved by less
        than ``tol`` (with a validation set: in which the validation accuracy
        did not improve by more than ``tol``). A :class:`ConvergenceWarning`
        says when ``max_iter`` came first.
    n_iter_no_change : int, default 10
        Patience of the stopping rules, in epochs.
    validation_fraction : float, optional
        Hold out this fraction of the training data (stratified, drawn from
        ``random_state``) to measure accuracy each epoch, stop early when it
        stops improving, and keep the best parameters. ``fit(..., eval_set=)``
        gives a validation set instead.
    warm_start : bool, default False
        When True, ``fit`` on a fitted estimator continues training: from
        ``params_``, the optimizer's state (velocities, moments, Adam's step
        counter, a learning-rate schedule's step) and the shuffling
        generator, so that ``fit`` with ``max_iter=100`` twice gives exactly
        what ``max_iter=200`` gives once. ``loss_curve_`` and ``n_iter_``
        then cover the whole history (``best_iteration_`` counts in it;
        ``validation_scores_`` too, aligned with ``loss_curve_``: NaN for
        the epochs of earlier fits that did not validate). ``X`` must have
        ``n_features_in_`` features and ``y`` labels among ``classes_``;
        host data trains where the model is (its backend and device),
        unless ``backend`` names another place.
        Changing ``optimizer`` or ``optimizer_params`` restarts the
        optimizer's state (a ``learning_rate`` change keeps it); a model
        loaded from a file or given to ``restore`` continues from its
        parameters with a fresh optimizer state. A second-order
        ``solver`` starts from ``params_`` without curvature memory. With
        early stopping, each fit stops on its own and draws its own
        ``validation_fraction`` split from the continued generator (pass
        ``eval_set`` to keep one validation set). See also ``partial_fit``.
    backend : str, optional
        Where host data trains: ``"auto"``, ``"numpy"``, ``"cupy"``,
        ``"cupy:1"``, ``"torch:cuda"``... Default: ``NEURALCORE_BACKEND``,
        else ``"auto"``. Arrays of a backend library train where they are.
    dtype : {"float32", "float64"}, optional
        Working dtype. Default: the input's floating dtype, else the
        backend's default floating dtype.
    random_state : int, numpy.random.Generator or None
        Seed for the initial weights, the validation split and the shuffling,
        all drawn on the host: the same seed gives the same run on every backend.
    verbose : int, default 0
        1: a progress bar with the cost (tqdm, on a terminal, for runs over a
        second); 2: the course's ``Cost after iteration i: J`` lines, every
        100 iterations for up to 9999 iterations, every 1000 up to 99999 (10
        to 100 lines; every epoch for fewer than 100 epochs).
"""


@persistence.register
class LogisticRegression(BaseClassifier):
    """Logistic regression (softmax regression for more than two classes).

    The course's algorithm: ``A = sigmoid(X @ W + b)``, cross-entropy cost,
    ``dZ = A - Y``, ``dW = X.T @ dZ / m``, ``db = mean(dZ)``, then
    ``W = W - learning_rate * dW``; or a second-order solver.

    Parameters
    ----------
    solver : {"gd", "lbfgs", "newton"}, default "gd"
        ``"gd"``: the training loop (gradient descent or another
        ``optimizer``, full batch or mini-batches). ``"lbfgs"``: L-BFGS with a
        line search. ``"newton"``: Newton's method (IRLS), for moderate
        ``n_features``. Both second-order solvers minimize the same cost as
        ``"gd"`` to the gradient tolerance ``tol`` (largest gradient
        component; default 1e-8 in float64, 1e-5 in float32), on the
        whole data at once (``optimizer``, ``batch_size`` and validation do
        not apply); use ``alpha > 0`` so that the optimum exists.
    learning_rate : float or schedule, default 0.005
        Step size (the course's value for its cat images), or a schedule from
        :mod:`neuralcore.optim` (``exponential_decay(0.1, 0.5, 1000)``...).
    max_iter : int, default 2000
        Epochs: full-batch updates (the course's iterations), passes over the
        data with mini-batches, iterations of a second-order solver.
    init : {"zeros", "normal", "xavier", "glorot", "he", "lecun"}, default "zeros"
        Initial weights (``"normal"`` draws with standard deviation 0.01).
    %(common)s
    Attributes
    ----------
    params_ : dict
        ``"W"`` of shape (n_features, K) and ``"b"`` of shape (K,), on the
        training device; K = 1 for two classes, else the number of classes.
    loss_curve_ : list of float
        One cost per epoch; in full batch ``loss_curve_[i]`` is the cost at
        the parameters after ``i`` updates.
    n_iter_ : int
        Epochs run.
    validation_scores_ : list of float or None
        Validation accuracy per epoch, when validating.
    best_iteration_ : int or None
        The epoch whose parameters were kept by early stopping.
    classes_ : ndarray of shape (n_classes,)
        The labels; with two, ``classes_[1]`` is the positive class.
    n_features_in_ : int
    backend_ : str
        Name of the backend holding the parameters.
    feature_mean_, feature_scale_ : array of shape (n_features,) or None
        With ``standardize=True``, the statistics applied to every input
        (on the model's backend); None otherwise.
    coef_ : array of shape (K, n_features)
        With ``standardize=True``, the weights of the standardized features
        (``coef_ / feature_scale_`` per raw feature).
    intercept_ : array of shape (K,)
        With ``standardize=True``, for standardized features.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.asarray([[0.0], [1.0], [2.0], [3.0]]); y = np.asarray([0, 0, 1, 1])
    >>> model = LogisticRegression(learning_rate=0.5, max_iter=500, backend="numpy").fit(X, y)
    >>> model.predict(X).tolist()
    [0, 0, 1, 1]
    """

    def __init__(
        self,
        *,
        solver="gd",
        learning_rate=0.005,
        max_iter=2000,
        optimizer="gd",
        optimizer_params=None,
        batch_size=None,
        shuffle=True,
        standardize=False,
        alpha=0.0,
        class_weight=None,
        tol=None,
        n_iter_no_change=10,
        validation_fraction=None,
        warm_start=False,
        init="zeros",
        backend=None,
        dtype=None,
        random_state=None,
        verbose=0,
    ):
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.standardize = standardize
        self.alpha = alpha
        self.class_weight = class_weight
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.init = init
        self.backend = backend
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _check_hyperparameters(self):
        super()._check_hyperparameters()
        check_choice("solver", self.solver, ("gd", *SOLVERS))
        if self.solver != "gd":
            ignored = [
                name
                for name, value, default in (
                    ("batch_size", self.batch_size, None),
                    ("validation_fraction", self.validation_fraction, None),
                    ("optimizer", self.optimizer, "gd"),
                )
                if not _same(value, default)
            ]
            if ignored:
                raise ValueError(f"{', '.join(ignored)} applies to solver='gd', not to solver={self.solver!r}")

    def _check_partial(self):
        if self.solver != "gd":
            raise AttributeError(f"partial_fit trains one epoch of the training loop, which is solver='gd'; this "
                                 f"{type(self).__name__} has solver={self.solver!r} (use fit, or solver='gd')")

    def _fit_params(self, params, data, validation, rng, *, partial=False, optimizer_state=None, first_epoch=0):
        if self.solver == "gd":
            return super()._fit_params(params, data, validation, rng, partial=partial,
                                       optimizer_state=optimizer_state, first_epoch=first_epoch)
        if validation is not None:
            raise ValueError(f"eval_set applies to solver='gd', not to solver={self.solver!r}")
        result = solve(self.solver, params, data, alpha=float(self.alpha), max_iter=self.max_iter, tol=self.tol)
        if not result.converged:
            warnings.warn(f"solver={self.solver!r} did not converge: {result.message}", sklearn_compatible(ConvergenceWarning),
                          stacklevel=3)
        return TrainResult(result.params, result.loss_curve, result.n_iter, None, None)

    def _param_shapes(self, n_features, n_outputs):
        return logistic.param_shapes(n_features, n_outputs)

    def _init_params(self, n_features, n_outputs, rng):
        return logistic.init_params(n_features, rng=rng, init=self.init, n_outputs=n_outputs)

    def _steps(self, data):
        alpha = float(self.alpha)
        if data.kernel_input is None:
            return Steps(functools.partial(logistic.loss_and_grads, alpha=alpha, xp=data.model_xp))
        # compiled one-pass kernels where X's backend has them (CuPy), else the reference functions
        return Steps(*logistic.step_functions(data.kernel_input, n_outputs=data.n_outputs, alpha=alpha, xp=data.xp))

    def _logits(self, params, X, xp):
        return logistic.logits(params, X, xp=xp)

    @property
    def coef_(self):
        """Weights as scikit-learn lays them out, shape (K, n_features), on the model's backend.

        With ``standardize=True`` they weigh the standardized features, ``(X - feature_mean_) / feature_scale_``.
        """
        self._check_fitted()
        return self.params_["W"].T

    @property
    def intercept_(self):
        """Biases, shape (K,), on the model's backend (of the standardized features with ``standardize=True``)."""
        self._check_fitted()
        return self.params_["b"]


@persistence.register
class TwoLayerNet(BaseClassifier):
    """A neural network with one hidden layer, for two or more classes.

    Forward: ``A1 = g(X @ W1 + b1)``, ``A2 = sigmoid(A1 @ W2 + b2)`` (softmax
    for more than two classes); cost: cross-entropy from logits; backward:
    ``dZ2 = A2 - Y`` and the chain rule; update: gradient descent or another
    optimizer, full batch or mini-batches.

    Parameters
    ----------
    hidden_units : int, default 4
        Size of the hidden layer (the course's ``n_h``).
    activation : {"tanh", "relu", "leaky_relu", "sigmoid"}, default "tanh"
        Hidden-layer activation.
    learning_rate : float or schedule, default 1.2
        Step size (the course's value for the flower data), or a schedule.
    max_iter : int, default 10000
        Epochs: full-batch updates (the course's iterations) or passes over
        the data with mini-batches.
    init : {"normal", "zeros", "xavier", "glorot", "he", "lecun"}, default "normal"
        Initial weights; ``"normal"`` draws N(0, 1) times ``init_scale``.
    init_scale : float, default 0.01
        Standard deviation of the ``"normal"`` initializer (the course's 0.01).
    %(common)s
    Attributes
    ----------
    params_ : dict
        ``"W1"`` (n_features, hidden_units), ``"b1"`` (hidden_units,),
        ``"W2"`` (hidden_units, K), ``"b2"`` (K,), on the training device;
        K = 1 for two classes, else the number of classes.
    loss_curve_, n_iter_, validation_scores_, best_iteration_, classes_, n_features_in_, backend_
        As in :class:`LogisticRegression`.
    feature_mean_, feature_scale_ : array of shape (n_features,) or None
        As in :class:`LogisticRegression`.

    Examples
    --------
    >>> from neuralcore.datasets import make_planar
    >>> X, y = make_planar(random_state=1)
    >>> net = TwoLayerNet(hidden_units=4, max_iter=2000, random_state=0, backend="numpy").fit(X, y)
    >>> net.score(X, y) > 0.85
    True
    """

    _PREDICTION_HYPERPARAMETERS = ("hidden_units", "activation")

    def __init__(
        self,
        hidden_units=4,
        *,
        activation="tanh",
        learning_rate=1.2,
        max_iter=10000,
        optimizer="gd",
        optimizer_params=None,
        batch_size=None,
        shuffle=True,
        standardize=False,
        alpha=0.0,
        class_weight=None,
        tol=None,
        n_iter_no_change=10,
        validation_fraction=None,
        warm_start=False,
        init="normal",
        init_scale=0.01,
        backend=None,
        dtype=None,
        random_state=None,
        verbose=0,
    ):
        self.hidden_units = hidden_units
        self.activation = activation
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.standardize = standardize
        self.alpha = alpha
        self.class_weight = class_weight
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.init = init
        self.init_scale = init_scale
        self.backend = backend
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _check_hyperparameters(self):
        super()._check_hyperparameters()
        check_int("hidden_units", self.hidden_units, minimum=1)
        check_choice("activation", self.activation, tuple(ACTIVATIONS))
        check_number("init_scale", self.init_scale, positive=True)

    def _param_shapes(self, n_features, n_outputs):
        return two_layer.param_shapes(n_features, self.hidden_units, n_outputs)

    def _init_params(self, n_features, n_outputs, rng):
        return two_layer.init_params(
            n_features, self.hidden_units, rng=rng, init=self.init, scale=self.init_scale, n_outputs=n_outputs
        )

    def _steps(self, data):
        settings = {"activation": self.activation, "alpha": float(self.alpha), "xp": data.model_xp}
        return Steps(functools.partial(two_layer.loss_and_grads, **settings),
                     functools.partial(two_layer.gd_step, **settings))

    def _logits(self, params, X, xp):
        return two_layer.logits(params, X, activation=self.activation, xp=xp)


@persistence.register
class NeuralNet(BaseClassifier):
    """A neural network with any number of hidden layers (the course's L-layer model).

    Forward: ``A0 = X``, ``Al = g(A(l-1) @ Wl + bl)`` for each hidden layer,
    ``AL = sigmoid(A(L-1) @ WL + bL)`` (softmax for more than two classes);
    cost: cross-entropy from logits; backward: ``dZL = AL - Y`` and the chain
    rule layer by layer (:mod:`neuralcore.network`). ``hidden_units=()`` is
    logistic regression and ``hidden_units=(h,)`` the two-layer network: the
    same numbers as :class:`LogisticRegression` and :class:`TwoLayerNet` for the
    same initial parameters.

    Parameters
    ----------
    hidden_units : int or sequence of int, default (20, 7, 5)
        Sizes of the hidden layers, from the input up (the course's
        ``layers_dims[1:-1]``); an int is one hidden layer.
    activation : {"relu", "tanh", "leaky_relu", "sigmoid"}, default "relu"
        Activation of every hidden layer.
    learning_rate : float or schedule, default 0.0075
        Step size (the course's value for its cat images), or a schedule.
    max_iter : int, default 2500
        Epochs: full-batch updates (the course's iterations) or passes over
        the data with mini-batches.
    init : {"he", "lecun", "xavier", "glorot", "normal", "zeros"}, default "he"
        Initial weights, drawn layer by layer (``W1`` first). ``"he"``
        (variance 2 / fan_in) trains deep relu networks well; ``"lecun"``
        (``randn(n_l, n_(l-1)) / sqrt(n_(l-1))``) is the course's deep
        initializer: with ``random_state=np.random.RandomState(1)`` it draws
        the course's weights exactly.
    init_scale : float, default 0.01
        Standard deviation of the ``"normal"`` initializer.
    %(common)s
    Attributes
    ----------
    params_ : dict
        ``"W1"`` ... ``"WL"`` and ``"b1"`` ... ``"bL"``: ``Wl`` of shape
        (n_(l-1), n_l) (the course's ``W[l]`` transposed) and ``bl`` of shape
        (n_l,), with n_0 = n_features and n_L = K (1 for two classes, else the
        number of classes), on the training device.
    loss_curve_, n_iter_, validation_scores_, best_iteration_, classes_, n_features_in_, backend_
        As in :class:`LogisticRegression`.
    feature_mean_, feature_scale_ : array of shape (n_features,) or None
        As in :class:`LogisticRegression`.

    Examples
    --------
    >>> from neuralcore.datasets import make_moons
    >>> X, y = make_moons(random_state=0)
    >>> net = NeuralNet((8, 8), learning_rate=0.1, max_iter=3000, random_state=0, backend="numpy").fit(X, y)
    >>> sorted(net.params_), net.score(X, y) > 0.95
    (['W1', 'W2', 'W3', 'b1', 'b2', 'b3'], True)
    """

    _PREDICTION_HYPERPARAMETERS = ("hidden_units", "activation")

    def __init__(
        self,
        hidden_units=(20, 7, 5),
        *,
        activation="relu",
        learning_rate=0.0075,
        max_iter=2500,
        optimizer="gd",
        optimizer_params=None,
        batch_size=None,
        shuffle=True,
        standardize=False,
        alpha=0.0,
        class_weight=None,
        tol=None,
        n_iter_no_change=10,
        validation_fraction=None,
        warm_start=False,
        init="he",
        init_scale=0.01,
        backend=None,
        dtype=None,
        random_state=None,
        verbose=0,
    ):
        self.hidden_units = hidden_units
        self.activation = activation
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.standardize = standardize
        self.alpha = alpha
        self.class_weight = class_weight
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.init = init
        self.init_scale = init_scale
        self.backend = backend
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _check_hyperparameters(self):
        super()._check_hyperparameters()
        self._layers()
        check_choice("activation", self.activation, tuple(ACTIVATIONS))
        check_number("init_scale", self.init_scale, positive=True)

    def _canonical(self, name, value):
        if name != "hidden_units":
            return value
        try:
            return _layer_sizes(value)
        except (TypeError, ValueError):
            return value  # not a valid spelling: compared as it is (and refused by fit with a clear message)

    def _layers(self) -> tuple:
        """``hidden_units`` as a tuple of ints (an int is one layer), checked."""
        return _layer_sizes(self.hidden_units)

    def _param_shapes(self, n_features, n_outputs):
        return network.param_shapes(n_features, self._layers(), n_outputs)

    def _init_params(self, n_features, n_outputs, rng):
        return network.init_params(
            n_features, self._layers(), rng=rng, init=self.init, scale=self.init_scale, n_outputs=n_outputs
        )

    def _steps(self, data):
        settings = {"activation": self.activation, "alpha": float(self.alpha), "xp": data.model_xp}
        return Steps(functools.partial(network.loss_and_grads, **settings),
                     functools.partial(network.gd_step, **settings))

    def _logits(self, params, X, xp):
        return network.logits(params, X, activation=self.activation, xp=xp)


def _layer_sizes(units) -> tuple:
    """``hidden_units`` as a tuple of ints (an int is one layer), checked."""
    if isinstance(units, numbers.Integral) and not isinstance(units, bool):
        units = (units,)
    if isinstance(units, (str, bytes)) or not isinstance(units, (tuple, list)):
        raise TypeError(f"hidden_units must be an int or a sequence of ints, got {type(units).__name__}")
    for index, size in enumerate(units):
        check_int(f"hidden_units[{index}]", size, minimum=1)
    return tuple(int(size) for size in units)


# The hyperparameters the estimators share are documented once.
for _estimator in (LogisticRegression, TwoLayerNet, NeuralNet):
    _estimator.__doc__ = _estimator.__doc__ % {"common": _COMMON_DOC.strip("\n").lstrip()}



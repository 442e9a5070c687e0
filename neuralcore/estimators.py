"""scikit-learn-style estimators: thin shells over the pure model functions.

``__init__`` stores hyperparameters verbatim; ``fit`` validates once, places
the data, draws the initial parameters on the host, trains, and stores the
fitted state in trailing-underscore attributes. The fitted parameters stay on
the training device; ``to(backend)`` moves them.
"""

from __future__ import annotations

import functools
import inspect
import numbers

import numpy as np

from . import logistic, two_layer
from .activations import ACTIVATIONS, sigmoid
from .device import backend_of, resolve_backend, to_backend, to_numpy
from .exceptions import DivergenceError, NotFittedError
from .init import INITIALIZERS, check_random_state
from .optim import gradient_descent
from .train import train_full_batch
from .validation import check_labels, check_X, dtype_name, encode_binary

__all__ = ["LogisticRegression", "TwoLayerNet"]


class _BinaryNetwork:
    """Shared machinery; subclasses say which model module they train."""

    # -------------------------------------------------------------- hyperparameters

    @classmethod
    def _param_names(cls) -> list:
        signature = inspect.signature(cls.__init__)
        return sorted(name for name in signature.parameters if name != "self")

    def get_params(self, deep: bool = True) -> dict:
        """Hyperparameters as a dict (scikit-learn's contract)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set hyperparameters by name; returns ``self``."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; valid: {', '.join(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items() if name != "self"
        }
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if defaults.get(k) is not v and defaults.get(k) != v]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _check_hyperparameters(self):
        _check_number("learning_rate", self.learning_rate, positive=True)
        _check_int("max_iter", self.max_iter, minimum=1)
        _check_int("verbose", self.verbose, minimum=0)
        if self.init not in INITIALIZERS:
            raise ValueError(f"init must be one of {', '.join(map(repr, INITIALIZERS))}, got {self.init!r}")
        check_random_state(self.random_state)
        dtype_name(self.dtype)

    # ----------------------------------------------------------------------- fitting

    def fit(self, X, y, *, init_params: dict | None = None):
        """Train on ``X``, ``y`` with full-batch gradient descent.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            NumPy array, nested list, or an array of any supported backend (it
            then trains where it is, on its device).
        y : array_like of shape (n_samples,)
            Two distinct labels of any type; kept in ``classes_``. Host data or
            an array on the same library and device as ``X``.
        init_params : dict, optional
            Starting parameters (NumPy or backend arrays, moved to the training
            backend and cast to the working dtype) instead of the drawn ones.

        Returns
        -------
        self

        Raises
        ------
        DivergenceError
            If the cost becomes NaN or infinite; the estimator then holds the
            last finite parameters (``params_``) and costs (``loss_curve_``).
        """
        self._check_hyperparameters()
        Xb, placement = check_X(X, backend=self.backend, dtype=dtype_name(self.dtype))
        classes, y01 = encode_binary(check_labels(y, n_samples=Xb.shape[0], X=X))
        xp = placement.xp
        Y = to_backend(y01.reshape(-1, 1), placement, dtype=Xb.dtype)
        n_features = Xb.shape[1]
        if init_params is None:
            host_params = self._init_params(n_features, check_random_state(self.random_state))
        else:
            host_params = self._check_init_params(init_params, n_features)
        params = {key: to_backend(value, placement, dtype=Xb.dtype) for key, value in host_params.items()}
        self.classes_ = classes
        self.n_features_in_ = n_features
        self.backend_ = placement.name
        try:
            result = train_full_batch(
                self._loss_and_grads(xp),
                params,
                Xb,
                Y,
                optimizer=gradient_descent(self.learning_rate),
                max_iter=self.max_iter,
                verbose=self.verbose,
            )
        except DivergenceError as error:
            self.params_ = error.params
            self.loss_curve_ = error.loss_curve
            self.n_iter_ = max(error.iteration - 1, 0)
            raise
        self.params_ = result.params
        self.loss_curve_ = result.loss_curve
        self.n_iter_ = result.n_iter
        return self

    def _check_init_params(self, init_params, n_features: int) -> dict:
        expected = self._param_shapes(n_features)
        if not isinstance(init_params, dict):
            raise TypeError(f"init_params must be a dict with keys {sorted(expected)}, got {type(init_params).__name__}")
        if set(init_params) != set(expected):
            raise ValueError(f"init_params must have exactly the keys {sorted(expected)}, got {sorted(init_params)}")
        host = {}
        for key, shape in expected.items():
            value = to_numpy(init_params[key])
            if value.shape != shape:
                raise ValueError(f"init_params[{key!r}] must have shape {shape}, got {value.shape}")
            if value.dtype.kind not in "biuf" or not np.isfinite(value).all():
                raise ValueError(f"init_params[{key!r}] must hold finite real numbers")
            host[key] = value
        return host

    # -------------------------------------------------------------------- prediction

    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, y) before using it"
            )

    def _placement(self):
        return backend_of(next(iter(self.params_.values())))

    def _logits(self, X):
        """Logits of shape (n_samples,) on the model's backend, and whether X was host data."""
        self._check_fitted()
        placement = self._placement()
        work_dtype = dtype_name(next(iter(self.params_.values())).dtype)
        Xb, _ = check_X(X, dtype=work_dtype, model=placement, n_features=self.n_features_in_)
        xp = placement.xp
        z = self._model_logits(self.params_, Xb, xp)
        return xp.reshape(z, (-1,)), xp, backend_of(X).name == "numpy"

    def decision_function(self, X):
        """Logits ``Z`` (the score before the sigmoid) of each sample.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Host data, or an array on the model's backend and device.

        Returns
        -------
        array of shape (n_samples,)
            NumPy for host input, else on the input's backend.
        """
        z, _, host = self._logits(X)
        return to_numpy(z) if host else z

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Returns
        -------
        array of shape (n_samples, 2)
            NumPy for host input, else on the input's backend.
        """
        z, xp, host = self._logits(X)
        p = sigmoid(z, xp=xp)
        proba = xp.stack([1 - p, p], axis=1)
        return to_numpy(proba) if host else proba

    def predict(self, X):
        """Predicted labels (values of ``classes_``): the positive class where its probability exceeds 0.5.

        Returns
        -------
        array of shape (n_samples,)
            NumPy for host input; for backend input, an array on that backend
            when the labels are numeric or boolean (else NumPy).
        """
        z, xp, host = self._logits(X)
        positive = sigmoid(z, xp=xp) > 0.5
        if host or self.classes_.dtype.kind not in "biuf":
            return self.classes_[to_numpy(positive).astype(np.intp)]
        label_dtype = getattr(xp, self.classes_.dtype.name)
        device = backend_of(z).device
        negative_label = xp.asarray(self.classes_[0], dtype=label_dtype, device=device)
        positive_label = xp.asarray(self.classes_[1], dtype=label_dtype, device=device)
        return xp.where(positive, positive_label, negative_label)

    def score(self, X, y) -> float:
        """Accuracy: the fraction of samples whose predicted label equals ``y``.

        Raises a ValueError when ``y`` holds labels the model was not fitted with.
        """
        predicted = to_numpy(self.predict(X))
        labels = check_labels(y, n_samples=predicted.shape[0], X=X)
        unknown = np.setdiff1d(np.unique(labels), self.classes_)
        if unknown.size:
            raise ValueError(
                f"y holds labels {unknown.tolist()} that the model was not fitted with "
                f"(classes_ = {self.classes_.tolist()})"
            )
        return float(np.mean(predicted == labels))

    # ------------------------------------------------------------------- placement

    def to(self, backend):
        """Move the fitted parameters to ``backend`` (e.g. ``"numpy"``, ``"cupy:0"``); returns ``self``."""
        self._check_fitted()
        placement = resolve_backend(backend)
        self.params_ = {key: to_backend(value, placement) for key, value in self.params_.items()}
        self.backend_ = placement.name
        return self

    def __getstate__(self):
        state = self.__dict__.copy()
        if "params_" in state:  # device arrays pickle as NumPy: loadable without a GPU
            state["params_"] = {key: to_numpy(value).copy() for key, value in state["params_"].items()}
            state["backend_"] = "numpy"
        return state


class LogisticRegression(_BinaryNetwork):
    """Binary logistic regression trained by full-batch gradient descent.

    The course's algorithm: ``A = sigmoid(X @ W + b)``, cross-entropy cost,
    ``dZ = A - Y``, ``dW = X.T @ dZ / m``, ``db = mean(dZ)``, then
    ``W = W - learning_rate * dW``.

    Parameters
    ----------
    learning_rate : float, default 0.005
        Gradient-descent step (the course's value for its cat images).
    max_iter : int, default 2000
        Number of gradient-descent iterations (full-batch updates).
    init : {"zeros", "normal", "xavier", "glorot", "he"}, default "zeros"
        Initial weights (``"normal"`` draws with standard deviation 0.01).
    backend : str, optional
        Where host data trains: ``"auto"``, ``"numpy"``, ``"cupy"``,
        ``"cupy:1"``, ``"torch:cuda"``... Default: ``NEURALCORE_BACKEND``,
        else ``"auto"``. Arrays of a backend library train where they are.
    dtype : {"float32", "float64"}, optional
        Working dtype. Default: the input's floating dtype, else the
        backend's default floating dtype.
    random_state : int, numpy.random.Generator or None
        Seed for the initial weights (same seed, same start on every backend).
    verbose : int, default 0
        ``>= 1`` prints ``Cost after iteration i`` every 100 iterations.

    Attributes
    ----------
    params_ : dict
        ``"W"`` of shape (n_features, 1) and ``"b"`` of shape (1,), on the
        training device.
    loss_curve_ : list of float
        ``loss_curve_[i]``: cost at the parameters after ``i`` updates.
    n_iter_ : int
        Number of updates made.
    classes_ : ndarray of shape (2,)
        The two labels; ``classes_[1]`` is the positive class.
    n_features_in_ : int
    backend_ : str
        Name of the backend holding the parameters.
    coef_ : array of shape (1, n_features)
    intercept_ : array of shape (1,)

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
        learning_rate=0.005,
        max_iter=2000,
        init="zeros",
        backend=None,
        dtype=None,
        random_state=None,
        verbose=0,
    ):
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.init = init
        self.backend = backend
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _param_shapes(self, n_features):
        return logistic.param_shapes(n_features)

    def _init_params(self, n_features, rng):
        return logistic.init_params(n_features, rng=rng, init=self.init)

    def _loss_and_grads(self, xp):
        return functools.partial(logistic.loss_and_grads, xp=xp)

    def _model_logits(self, params, X, xp):
        return logistic.logits(params, X, xp=xp)

    @property
    def coef_(self):
        """Weights as scikit-learn lays them out, shape (1, n_features), on the model's backend."""
        self._check_fitted()
        W = self.params_["W"]
        return self._placement().xp.reshape(W, (1, W.shape[0]))

    @property
    def intercept_(self):
        """Bias, shape (1,), on the model's backend."""
        self._check_fitted()
        return self.params_["b"]


class TwoLayerNet(_BinaryNetwork):
    """A neural network with one hidden layer and a sigmoid output, for two classes.

    Forward: ``A1 = g(X @ W1 + b1)``, ``A2 = sigmoid(A1 @ W2 + b2)``; cost:
    cross-entropy from logits; backward: ``dZ2 = A2 - Y`` and the chain rule;
    update: full-batch gradient descent.

    Parameters
    ----------
    hidden_units : int, default 4
        Size of the hidden layer (the course's ``n_h``).
    activation : {"tanh", "relu", "leaky_relu", "sigmoid"}, default "tanh"
        Hidden-layer activation.
    learning_rate : float, default 1.2
        Gradient-descent step (the course's value for the flower data).
    max_iter : int, default 10000
        Number of gradient-descent iterations (the course's value).
    init : {"normal", "zeros", "xavier", "glorot", "he"}, default "normal"
        Initial weights; ``"normal"`` draws N(0, 1) times ``init_scale``.
    init_scale : float, default 0.01
        Standard deviation of the ``"normal"`` initializer (the course's 0.01).
    backend, dtype, random_state, verbose
        As in :class:`LogisticRegression`.

    Attributes
    ----------
    params_ : dict
        ``"W1"`` (n_features, hidden_units), ``"b1"`` (hidden_units,),
        ``"W2"`` (hidden_units, 1), ``"b2"`` (1,), on the training device.
    loss_curve_, n_iter_, classes_, n_features_in_, backend_
        As in :class:`LogisticRegression`.

    Examples
    --------
    >>> from neuralcore.datasets import make_planar
    >>> X, y = make_planar(random_state=1)
    >>> net = TwoLayerNet(hidden_units=4, max_iter=2000, random_state=0, backend="numpy").fit(X, y)
    >>> net.score(X, y) > 0.85
    True
    """

    def __init__(
        self,
        hidden_units=4,
        *,
        activation="tanh",
        learning_rate=1.2,
        max_iter=10000,
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
        self.init = init
        self.init_scale = init_scale
        self.backend = backend
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _check_hyperparameters(self):
        super()._check_hyperparameters()
        _check_int("hidden_units", self.hidden_units, minimum=1)
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}, got {self.activation!r}"
            )
        _check_number("init_scale", self.init_scale, positive=True)

    def _param_shapes(self, n_features):
        return two_layer.param_shapes(n_features, self.hidden_units)

    def _init_params(self, n_features, rng):
        return two_layer.init_params(n_features, self.hidden_units, rng=rng, init=self.init, scale=self.init_scale)

    def _loss_and_grads(self, xp):
        return functools.partial(two_layer.loss_and_grads, activation=self.activation, xp=xp)

    def _model_logits(self, params, X, xp):
        return two_layer.logits(params, X, activation=self.activation, xp=xp)


def _check_number(name, value, *, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not np.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name} must be a {'positive ' if positive else ''}finite number, got {value!r}")


def _check_int(name, value, *, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")

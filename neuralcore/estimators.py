"""scikit-learn-style estimators: thin shells over the pure model functions.

``__init__`` stores hyperparameters verbatim; ``fit`` validates once, places
the data, draws the initial parameters on the host, trains, and stores the
fitted state in trailing-underscore attributes. The fitted parameters stay on
the training device; ``to(backend)`` moves them.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from . import logistic, two_layer
from .activations import ACTIVATIONS, output_activation
from .budget import check_fit_memory
from .device import (
    backend_of,
    get_namespace,
    is_chunked,
    is_host,
    kernels_enabled,
    resolve_backend,
    to_backend,
    to_numpy,
    to_numpy_dtype,
)
from .exceptions import ConvergenceWarning, DivergenceError, NotFittedError
from .init import INITIALIZERS, check_random_state
from .optim import OPTIMIZERS, Optimizer, get_optimizer
from .solvers import SOLVERS, default_tol
from .train import train
from .validation import (
    check_chunked,
    check_choice,
    check_int,
    check_labels,
    check_number,
    check_X,
    dtype_name,
    encode_labels,
    stratified_split,
)

__all__ = ["LogisticRegression", "TwoLayerNet"]

# Label dtypes that every backend can gather on the device (PyTorch lacks unsigned 16/32/64-bit take).
_DEVICE_LABEL_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64")

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
    alpha : float, default 0.0
        L2 penalty ``alpha / 2 * sum(W**2)`` on the weights (not the biases),
        added to the mean cross-entropy. The course's ``lambd`` is ``alpha * m``;
        scikit-learn's ``C`` is ``1 / (alpha * n_samples)``.
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


class _Network:
    """Shared machinery; subclasses say which model module they train."""

    _estimator_type = "classifier"  # scikit-learn < 1.6 reads this

    def __sklearn_tags__(self):
        """scikit-learn >= 1.6: a classifier, so model selection stratifies and scores by accuracy."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags  # only scikit-learn calls this

        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(),
            input_tags=InputTags(),
            array_api_support=True,
        )

    # -------------------------------------------------------------- hyperparameters

    @classmethod
    def _param_names(cls) -> list:
        return sorted(name for name in inspect.signature(cls.__init__).parameters if name != "self")

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
        signature = inspect.signature(type(self).__init__).parameters
        changed = [
            f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, signature[k].default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _check_hyperparameters(self):
        if not callable(self.learning_rate):
            check_number("learning_rate", self.learning_rate, positive=True)
        check_int("max_iter", self.max_iter, minimum=1)
        check_int("verbose", self.verbose, minimum=0)
        check_choice("init", self.init, tuple(INITIALIZERS))
        if not isinstance(self.optimizer, Optimizer):
            check_choice("optimizer", self.optimizer, tuple(OPTIMIZERS))
        if self.optimizer_params is not None and not isinstance(self.optimizer_params, dict):
            raise TypeError(f"optimizer_params must be a dict or None, got {type(self.optimizer_params).__name__}")
        check_int("batch_size", self.batch_size, minimum=1, allow_none=True)
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False, got {self.shuffle!r}")
        check_number("alpha", self.alpha, minimum=0)
        check_number("tol", self.tol, minimum=0, allow_none=True)
        check_int("n_iter_no_change", self.n_iter_no_change, minimum=1)
        if self.validation_fraction is not None:
            check_number("validation_fraction", self.validation_fraction, positive=True, below=1)
        check_random_state(self.random_state)
        dtype_name(self.dtype)

    # ----------------------------------------------------------------------- fitting

    def fit(self, X, y, *, init_params: dict | None = None, eval_set=None):
        """Train on ``X``, ``y``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            NumPy array, nested list, or an array of any supported backend (it
            then trains where it is, on its device).
        y : array_like of shape (n_samples,)
            Labels of any type (two or more distinct values), kept in
            ``classes_``. Host data or an array on the same library and device
            as ``X``. Two classes train a sigmoid output; more, a softmax.
        init_params : dict, optional
            Starting parameters (NumPy or backend arrays, moved to the training
            backend and cast to the working dtype) instead of the drawn ones.
        eval_set : tuple (X_val, y_val), optional
            Validation data for ``validation_scores_`` and early stopping
            (overrides ``validation_fraction``).

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
        kernels_enabled()  # a bad NEURALCORE_KERNELS is an error on every backend, before any work
        Xb, placement = check_X(X, backend=self.backend, dtype=dtype_name(self.dtype))
        # the targets are encoded in the working dtype: one host copy, even for the Dask path's huge data
        classes, Y_host = encode_labels(check_labels(y, n_samples=Xb.shape[0], X=X), dtype=to_numpy_dtype(Xb.dtype))
        xp = placement.xp
        n_features, n_outputs = Xb.shape[1], Y_host.shape[1]
        check_fit_memory(self, Xb, n_outputs, placement)  # before any parameter is drawn
        rng = check_random_state(self.random_state)
        if init_params is None:
            host_params = self._init_params(n_features, n_outputs, rng)
        else:
            host_params = self._check_init_params(init_params, n_features, n_outputs)
        if is_chunked(Xb):
            self._fit_chunked(Xb, Y_host, host_params, classes, rng, eval_set)
            return self
        params = {key: to_backend(value, placement, dtype=Xb.dtype) for key, value in host_params.items()}
        X_val = Y_val = None
        if eval_set is not None:
            X_val, Y_val = self._eval_set(eval_set, classes, placement, Xb.dtype, n_features)
        elif self.validation_fraction is not None:
            y_index = np.argmax(Y_host, axis=1) if n_outputs > 1 else Y_host[:, 0].astype(np.intp)
            train_index, val_index = stratified_split(y_index, self.validation_fraction, rng, classes.tolist())
            to_device = functools.partial(to_backend, backend=placement)
            X_val = xp.take(Xb, to_device(val_index), axis=0)
            Xb = xp.take(Xb, to_device(train_index), axis=0)
            Y_val = to_backend(Y_host[val_index], placement, dtype=Xb.dtype)
            Y_host = Y_host[train_index]
        Y = to_backend(Y_host, placement, dtype=Xb.dtype)
        self.classes_ = classes
        self.n_features_in_ = n_features
        self.backend_ = placement.name
        self.trained_on_ = str(placement)
        self.validation_scores_ = None
        self.best_iteration_ = None
        try:
            self._train(params, Xb, Y, X_val, Y_val, rng, xp)
        except DivergenceError as error:
            self.params_ = error.params
            self.loss_curve_ = error.loss_curve
            self.n_iter_ = error.n_iter
            raise
        return self

    def _train(self, params, X, Y, X_val, Y_val, rng, xp):
        validation = None if X_val is None else _accuracy(self._model_logits, X_val, Y_val, xp)
        loss_and_grads, step = self._step_functions(X, Y, xp)
        result = train(
            loss_and_grads,
            params,
            X,
            Y,
            optimizer=get_optimizer(self.optimizer, self.learning_rate, self.optimizer_params),
            max_iter=self.max_iter,
            batch_size=self.batch_size,
            shuffle=bool(self.shuffle),
            rng=rng,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            validation=validation,
            verbose=self.verbose,
            step=step,
        )
        self.params_ = result.params
        self.loss_curve_ = result.loss_curve
        self.n_iter_ = result.n_iter
        self.validation_scores_ = result.validation_scores
        self.best_iteration_ = result.best_epoch

    def _step_functions(self, X, Y, xp):
        """``(loss_and_grads, gradient-descent step or None)`` for :func:`train`."""
        return functools.partial(self._loss_and_grads(xp), alpha=float(self.alpha)), None

    def _fit_chunked(self, X, Y_host, host_params, classes, rng, eval_set):
        """Dask arrays: host parameters, one graph of per-chunk terms per iteration (see neuralcore.chunked)."""
        from .chunked import ChunkedData

        if self.validation_fraction is not None:
            raise ValueError(
                "validation_fraction is not supported with Dask arrays (splitting one would shuffle every chunk); "
                "pass a validation set as eval_set=(X_val, y_val) instead"
            )
        dtype = to_numpy_dtype(X.dtype)
        params = {key: np.array(value, dtype=dtype) for key, value in host_params.items()}
        data = ChunkedData(X, np.asarray(Y_host, dtype=dtype))  # already in dtype: no copy
        if self.batch_size is not None and any(size != self.batch_size for size in data.sizes[:-1]):
            raise ValueError(
                f"with a Dask array, each mini-batch is one chunk: pass batch_size equal to the chunk size "
                f"({data.sizes[0]}), or rechunk X (X.rechunk({{0: {self.batch_size}}}))"
            )
        self.classes_ = classes
        self.n_features_in_ = int(X.shape[1])
        self.backend_ = "numpy"  # the parameters are small host arrays; predictions on Dask input stay lazy
        self.trained_on_ = "dask"
        self.validation_scores_ = None
        self.best_iteration_ = None
        loss = functools.partial(self._loss_and_grads(np), alpha=float(self.alpha))
        solver = getattr(self, "solver", "gd")
        validation = None
        if eval_set is not None:
            if solver != "gd":
                raise ValueError(f"eval_set applies to solver='gd', not to solver={solver!r}")
            validation = self._chunked_validation(eval_set, classes, dtype, int(X.shape[1]))
        if solver != "gd":
            objective = data.objective(loss)
            extra = {"hessian": data.hessian(float(self.alpha))} if self.solver == "newton" else {}
            tol = self.tol if self.tol is not None else default_tol(dtype.name)
            self._store_solver_result(SOLVERS[self.solver](
                params, None, None, alpha=float(self.alpha), max_iter=self.max_iter, tol=tol, objective=objective, **extra
            ))
            return
        placeholder = np.empty((data.n_samples, 0), dtype=dtype)  # the loop needs only n_samples and a namespace
        mini_batches = self.batch_size is not None
        try:
            result = train(
                loss if mini_batches else data.objective(loss),
                params,
                placeholder,
                placeholder,
                optimizer=get_optimizer(self.optimizer, self.learning_rate, self.optimizer_params),
                max_iter=self.max_iter,
                rng=rng,
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                validation=validation,
                verbose=self.verbose,
                batches=(lambda generator: data.batches(generator, bool(self.shuffle))) if mini_batches else None,
            )
        except DivergenceError as error:
            self.params_, self.loss_curve_, self.n_iter_ = error.params, error.loss_curve, error.n_iter
            raise
        self.params_, self.loss_curve_, self.n_iter_ = result.params, result.loss_curve, result.n_iter
        self.validation_scores_ = result.validation_scores
        self.best_iteration_ = result.best_epoch

    def _chunked_validation(self, eval_set, classes, dtype, n_features):
        """``params -> accuracy`` on ``eval_set`` for a fit on Dask data: a Dask validation set is
        scored chunk by chunk (one graph per epoch), host data (NumPy, lists) directly."""
        from .chunked import ChunkedData

        X_val, y_val = _eval_pair(eval_set)
        if is_chunked(X_val):
            Xv = check_chunked(X_val, n_features=n_features, dtype=dtype.name, name="eval_set X")
        elif is_host(X_val):
            Xv, _ = check_X(X_val, name="eval_set X", backend="numpy", dtype=dtype.name, n_features=n_features)
        else:
            raise ValueError(
                f"eval_set X is a {backend_of(X_val).name} array, but X is a Dask array whose model trains on the "
                "host; pass eval_set X as a Dask array or as host (NumPy) data"
            )
        Yv = _eval_targets(y_val, Xv, X_val, classes, dtype)
        if is_chunked(Xv):
            return ChunkedData(Xv, Yv).accuracy(self._model_logits)
        return _accuracy(self._model_logits, Xv, Yv, get_namespace(Xv)[0])

    def _eval_set(self, eval_set, classes, placement, dtype, n_features):
        X_val, y_val = _eval_pair(eval_set)
        Xv, _ = check_X(
            X_val, name="eval_set X", dtype=dtype_name(dtype), model=placement, n_features=n_features, placed_with="X"
        )
        Yv = _eval_targets(y_val, Xv, X_val, classes, to_numpy_dtype(dtype))
        return Xv, to_backend(Yv, placement, dtype=dtype)

    def _check_init_params(self, init_params, n_features: int, n_outputs: int) -> dict:
        expected = self._param_shapes(n_features, n_outputs)
        if not isinstance(init_params, dict):
            raise TypeError(f"init_params must be a dict with keys {sorted(expected)}, got {type(init_params).__name__}")
        if set(init_params) != set(expected):
            raise ValueError(f"init_params must have exactly the keys {sorted(expected)}, got {sorted(init_params)}")
        host = {}
        for key, shape in expected.items():
            value = np.array(to_numpy(init_params[key]), copy=True)  # never train in (or return) the caller's memory
            if value.shape != shape:
                raise ValueError(f"init_params[{key!r}] must have shape {shape}, got {value.shape}")
            if value.dtype.kind not in "biuf" or not np.isfinite(value).all():
                raise ValueError(f"init_params[{key!r}] must hold finite real numbers")
            host[key] = value
        return host

    # -------------------------------------------------------------------- prediction

    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) before using it")

    def _placement(self):
        return backend_of(next(iter(self.params_.values())))

    def _chunked_output(self, X, kind: str):
        """Lazy predictions for a Dask array: each row chunk through the host model."""
        from .chunked import map_rows
        from .validation import check_chunked

        self._check_fitted()
        params = {key: to_numpy(value) for key, value in self.params_.items()}
        X = check_chunked(X, n_features=self.n_features_in_, dtype=next(iter(params.values())).dtype)
        K = params["W" if "W" in params else "W2"].shape[1]
        host = type(self)._host_copy(self, params)
        if kind == "decision":
            return map_rows(X, host.decision_function, None if K == 1 else K, X.dtype)
        if kind == "proba":
            return map_rows(X, host.predict_proba, max(K, 2), X.dtype)
        return map_rows(X, host.predict, None, self.classes_.dtype)

    @staticmethod
    def _host_copy(model, params):
        clone = type(model)(**model.get_params())
        clone.__dict__.update({k: v for k, v in model.__dict__.items() if k.endswith("_") and k != "params_"})
        clone.params_ = params
        clone.backend_ = "numpy"
        return clone

    def _logits(self, X):
        """Logits ``(n_samples, K)`` on the model's backend, its namespace, and whether X was host data."""
        self._check_fitted()
        placement = self._placement()
        work_dtype = dtype_name(next(iter(self.params_.values())).dtype)
        Xb, _ = check_X(X, dtype=work_dtype, model=placement, n_features=self.n_features_in_)
        return self._model_logits(self.params_, Xb, placement.xp), placement.xp, backend_of(X).name == "numpy"

    def decision_function(self, X):
        """Logits (the scores before the output activation).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Host data, or an array on the model's backend and device.

        Returns
        -------
        array of shape (n_samples,) for two classes, (n_samples, n_classes) for more
            NumPy for host input, else on the input's backend.
        """
        if is_chunked(X):
            return self._chunked_output(X, "decision")
        Z, xp, host = self._logits(X)
        if Z.shape[1] == 1:
            Z = xp.reshape(Z, (-1,))
        return to_numpy(Z) if host else Z

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Returns
        -------
        array of shape (n_samples, n_classes)
            NumPy for host input, else on the input's backend.
        """
        if is_chunked(X):
            return self._chunked_output(X, "proba")
        Z, xp, host = self._logits(X)
        A = output_activation(Z, xp=xp)
        proba = xp.concat([1 - A, A], axis=1) if A.shape[1] == 1 else A
        return to_numpy(proba) if host else proba

    def predict(self, X):
        """Predicted labels (values of ``classes_``): the most probable class
        (for two classes, the positive one where the logit is positive, as in
        ``decision_function``).

        Returns
        -------
        array of shape (n_samples,)
            NumPy for host input; for backend input, an array on that backend
            when the labels are numeric or boolean (else NumPy).
        """
        if is_chunked(X):
            return self._chunked_output(X, "labels")
        Z, xp, host = self._logits(X)
        if Z.shape[1] == 1:
            index = xp.astype(Z[:, 0] > 0, xp.int64)
        else:
            index = xp.argmax(Z, axis=1)
        if host or self.classes_.dtype.name not in _DEVICE_LABEL_DTYPES:
            return self.classes_[to_numpy(index).astype(np.intp)]
        labels = to_backend(self.classes_, backend_of(Z))
        return xp.take(labels, index)

    def score(self, X, y) -> float:
        """Accuracy: the fraction of samples whose predicted label equals ``y``.

        Raises a ValueError when ``y`` holds labels the model was not fitted with.
        """
        predicted = to_numpy(self.predict(X))
        labels = check_labels(y, n_samples=predicted.shape[0], X=X)
        encode_labels(labels, self.classes_)  # labels the model never saw are an error
        return float(np.mean(predicted == labels))

    # ------------------------------------------------------------------- placement

    def to(self, backend):
        """Move the fitted parameters to ``backend`` (e.g. ``"numpy"``, ``"cupy:0"``); returns ``self``."""
        self._check_fitted()
        placement = resolve_backend(backend)
        self.params_ = {key: to_backend(value, placement) for key, value in self.params_.items()}
        self.backend_ = placement.name
        return self

    def save(self, path, *, metadata: dict | None = None) -> str:
        """Write the fitted model to ``path`` (``.npz``: NumPy arrays and JSON, no pickle), atomically.

        ``neuralcore.load(path, backend=...)`` reads it back, on any machine:
        a model trained on a GPU loads without CuPy. ``metadata`` (JSON-
        serializable) comes back as ``metadata_``.
        """
        from .persistence import save  # model files sit above the estimators they describe

        return save(self, path, metadata=metadata)

    def __getstate__(self):
        state = self.__dict__.copy()
        if "params_" in state:  # device arrays pickle as NumPy: loadable without a GPU
            state["params_"] = {key: to_numpy(value).copy() for key, value in state["params_"].items()}
            state["backend_"] = "numpy"
        return state


class LogisticRegression(_Network):
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
    init : {"zeros", "normal", "xavier", "glorot", "he"}, default "zeros"
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
    coef_ : array of shape (K, n_features)
    intercept_ : array of shape (K,)

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
        alpha=0.0,
        tol=None,
        n_iter_no_change=10,
        validation_fraction=None,
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
        self.alpha = alpha
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
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

    def _train(self, params, X, Y, X_val, Y_val, rng, xp):
        if self.solver == "gd":
            return super()._train(params, X, Y, X_val, Y_val, rng, xp)
        if X_val is not None:
            raise ValueError(f"eval_set applies to solver='gd', not to solver={self.solver!r}")
        tol = self.tol if self.tol is not None else default_tol(dtype_name(X.dtype))
        self._store_solver_result(SOLVERS[self.solver](params, X, Y, alpha=float(self.alpha), max_iter=self.max_iter, tol=tol))

    def _store_solver_result(self, result):
        self.params_, self.loss_curve_, self.n_iter_ = result.params, result.loss_curve, result.n_iter
        if not result.converged:
            warnings.warn(f"solver={self.solver!r} did not converge: {result.message}", ConvergenceWarning, stacklevel=4)

    def _param_shapes(self, n_features, n_outputs):
        return logistic.param_shapes(n_features, n_outputs)

    def _init_params(self, n_features, n_outputs, rng):
        return logistic.init_params(n_features, rng=rng, init=self.init, n_outputs=n_outputs)

    def _loss_and_grads(self, xp):
        return functools.partial(logistic.loss_and_grads, xp=xp)

    def _step_functions(self, X, Y, xp):
        # compiled one-pass kernels where the backend has them (CuPy), else the reference functions
        return logistic.step_functions(X, n_outputs=Y.shape[1], alpha=float(self.alpha), xp=xp)

    def _model_logits(self, params, X, xp):
        return logistic.logits(params, X, xp=xp)

    @property
    def coef_(self):
        """Weights as scikit-learn lays them out, shape (K, n_features), on the model's backend."""
        self._check_fitted()
        return self.params_["W"].T

    @property
    def intercept_(self):
        """Biases, shape (K,), on the model's backend."""
        self._check_fitted()
        return self.params_["b"]


class TwoLayerNet(_Network):
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
    init : {"normal", "zeros", "xavier", "glorot", "he"}, default "normal"
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
        optimizer="gd",
        optimizer_params=None,
        batch_size=None,
        shuffle=True,
        alpha=0.0,
        tol=None,
        n_iter_no_change=10,
        validation_fraction=None,
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
        self.alpha = alpha
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
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

    def _loss_and_grads(self, xp):
        return functools.partial(two_layer.loss_and_grads, activation=self.activation, xp=xp)

    def _step_functions(self, X, Y, xp):
        alpha = float(self.alpha)
        return functools.partial(self._loss_and_grads(xp), alpha=alpha), functools.partial(
            two_layer.gd_step, activation=self.activation, alpha=alpha, xp=xp
        )

    def _model_logits(self, params, X, xp):
        return two_layer.logits(params, X, activation=self.activation, xp=xp)


# The hyperparameters both estimators share are documented once.
LogisticRegression.__doc__ = LogisticRegression.__doc__ % {"common": _COMMON_DOC.strip("\n").lstrip()}
TwoLayerNet.__doc__ = TwoLayerNet.__doc__ % {"common": _COMMON_DOC.strip("\n").lstrip()}


def _eval_pair(eval_set):
    if not isinstance(eval_set, (tuple, list)) or len(eval_set) != 2:
        raise TypeError("eval_set must be a pair (X_val, y_val)")
    return eval_set


def _eval_targets(y_val, Xv, X_val, classes, dtype):
    """The validation labels checked against ``Xv`` and encoded with the training ``classes``, on the host."""
    labels = check_labels(y_val, n_samples=Xv.shape[0], X=X_val, name="eval_set y", x_name="eval_set X")
    return encode_labels(labels, classes, name="eval_set y", dtype=dtype)[1]


def _accuracy(logits_fn, X_val, Y_val, xp):
    """``params -> 0-d accuracy on (X_val, Y_val)``, on the device; targets decoded once."""
    if Y_val.shape[1] == 1:
        target = Y_val[:, 0] > 0.5

        def predicted(Z):
            return Z[:, 0] > 0
    else:
        target = xp.argmax(Y_val, axis=1)

        def predicted(Z):
            return xp.argmax(Z, axis=1)

    def accuracy(params):
        return xp.mean(xp.astype(predicted(logits_fn(params, X_val, xp)) == target, Y_val.dtype))

    return accuracy


def _same(a, b) -> bool:
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError):
        return False

"""The estimators' shared contract: scikit-learn's, one fit transaction, one fitted state.

:class:`BaseClassifier` holds what every classifier of neuralcore does the
same way: hyperparameters stored verbatim (``get_params``/``set_params``), a
``fit`` that validates once, places the data, draws the initial parameters on
the host, trains on a data source (:mod:`neuralcore.data`) and then sets the
fitted state **in one place, all at once** (:meth:`BaseClassifier._set_fitted`):
a fit that fails or is interrupted leaves the estimator as it was, never with
new labels beside old parameters. Predictions follow the fitted parameters:
host data comes back as NumPy, backend arrays stay on their backend, Dask
arrays stay lazy.

A subclass says which model it trains with four small methods:
``param_shapes``, ``_init_params``, ``_steps`` and ``_logits`` (and may
override ``_fit_params`` to use another solver). Model files
(:mod:`neuralcore.persistence`) know estimators through a small public
contract: ``get_params``, :meth:`~BaseClassifier.param_shapes`,
:meth:`~BaseClassifier.fitted_state` and :meth:`~BaseClassifier.restore`.
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import numbers

import numpy as np

from . import kernels, persistence
from .activations import output_activation
from .budget import check_fit_memory
from .losses import log_softmax
from .data import sources
from .device import (
    backend_of,
    device_context,
    is_chunked,
    is_host,
    label_array,
    map_row_chunks,
    resolve_backend,
    to_backend,
    to_numpy,
    to_numpy_dtype,
)
from .exceptions import DivergenceError, NotFittedError, sklearn_compatible
from .frames import check_feature_names, feature_names_of
from .init import INITIALIZERS, check_random_state
from .metrics import accuracy, predicted_index
from .optim import OPTIMIZERS, Optimizer, get_optimizer
from .routing import MetadataRequester
from .scaling import check_statistics, fit_statistics, standardize
from .progress import Verbosity
from .train import train
from .weights import check_class_weight, check_sample_weight, class_index, class_weights, effective_weights
from .validation import (
    check_chunked,
    check_choice,
    check_int,
    check_labels,
    check_number,
    check_X,
    dtype_name,
    encode_labels,
)

__all__ = ["FITTED_ATTRIBUTES", "BaseClassifier"]


class _available_if:  # noqa: N801 - used as a decorator
    """A method present only when ``instance.<check>()`` raises no AttributeError (scikit-learn's
    ``available_if``, without importing scikit-learn): otherwise getting it raises that error, so
    ``hasattr`` is False. On the class it is the plain function (documentation, introspection)."""

    def __init__(self, check: str):
        self.check = check

    def __call__(self, method):
        self.method = method
        functools.update_wrapper(self, method)
        return self

    def __get__(self, instance, owner=None):
        if instance is None:
            return self.method
        getattr(instance, self.check)()
        return self.method.__get__(instance, owner)

#: The fitted state, set together by :meth:`BaseClassifier._set_fitted` (and nowhere else).
FITTED_ATTRIBUTES = (
    "params_",
    "classes_",
    "n_features_in_",
    "backend_",
    "trained_on_",
    "loss_curve_",
    "n_iter_",
    "validation_scores_",
    "best_iteration_",
    "feature_names_in_",  # None in the state: the attribute is absent (fitted without column names)
    "_fitted_with",  # the hyperparameters that shape predictions, as they were for this fit
    "_optimizer_state",  # (optimizer settings, optimizer state) a warm fit continues from, or None (fresh)
    "_rng_state",  # the generator a warm fit continues from, or None (drawn from random_state)
    "feature_mean_",  # standardize=True: the statistics every prediction applies first; None when not standardized
    "feature_scale_",
)

#: Fitted attributes that :meth:`BaseClassifier.restore` may be given without (then None: a fresh start).
_OPTIONAL_STATE = ("_optimizer_state", "_rng_state", "feature_mean_", "feature_scale_")


class BaseClassifier(MetadataRequester):
    """Shared machinery of the classifiers; subclasses say which model they train."""

    _estimator_type = "classifier"  # scikit-learn < 1.6 reads this

    #: Hyperparameters that change what the fitted parameters predict (a subclass names them).
    _PREDICTION_HYPERPARAMETERS: tuple = ()

    def __sklearn_tags__(self):
        """scikit-learn >= 1.6: what these classifiers take and do, for model selection and its checks.

        A classifier (model selection stratifies and scores by accuracy) of
        two or more classes, one label per sample, that needs ``y`` and a
        ``fit``; dense 2-D numbers only (no NaN, no scipy sparse, no text);
        Array API input trains where it is; a fixed ``random_state`` gives the
        same model every time.
        """
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags  # only scikit-learn calls this

        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True, one_d_labels=False, two_d_labels=False, multi_output=False,
                                   single_output=True),
            classifier_tags=ClassifierTags(poor_score=False, multi_class=True, multi_label=False),
            input_tags=InputTags(two_d_array=True, sparse=False, allow_nan=False, categorical=False, string=False,
                                 dict=False, positive_only=False, pairwise=False),
            array_api_support=True,
            non_deterministic=False,
            requires_fit=True,
        )

    def __sklearn_is_fitted__(self) -> bool:
        """Whether ``fit`` (or a load) set the fitted state: what scikit-learn's ``check_is_fitted`` asks."""
        return "params_" in self.__dict__

    # -------------------------------------------------------------- hyperparameters

    @classmethod
    def _param_names(cls) -> list:
        parameters = inspect.signature(cls.__init__).parameters
        for name, parameter in parameters.items():  # scikit-learn's rule: get_params reads the names of __init__
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                star = "*" if parameter.kind == parameter.VAR_POSITIONAL else "**"
                raise TypeError(f"{cls.__qualname__}.__init__ takes {star}{name}: an estimator must name every "
                                "hyperparameter in the signature of its __init__ (get_params, clone and model "
                                "files read them from there)")
        return sorted(name for name in parameters if name != "self")

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
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, signature[k].default)]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _repr_html_(self):
        """Jupyter's rich display: scikit-learn's estimator diagram where scikit-learn is installed (imported
        only when a notebook shows a model), else None (the notebook then shows the text ``repr``)."""
        try:
            from sklearn.utils import estimator_html_repr
        except ImportError:
            return None
        return estimator_html_repr(self)

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
        check_class_weight(getattr(self, "class_weight", None))
        if not isinstance(getattr(self, "warm_start", False), (bool, np.bool_)):
            raise TypeError(f"warm_start must be True or False, got {self.warm_start!r}")
        if not isinstance(getattr(self, "standardize", False), (bool, np.bool_)):
            raise TypeError(f"standardize must be True or False, got {self.standardize!r}")

    def param_shapes(self, n_features: int, n_classes: int) -> dict:
        """The shape of each fitted parameter for ``n_features`` inputs and ``n_classes`` labels.

        Checks the hyperparameters first (a TypeError or ValueError names a bad
        one), so a model file's description is validated by the same code as
        ``fit``'s.
        """
        self._check_hyperparameters()
        return self._param_shapes(n_features, 1 if n_classes == 2 else n_classes)

    # ----------------------------------------------------------------------- fitting

    def fit(self, X, y, sample_weight=None, *, init_params: dict | None = None, eval_set=None):
        """Train on ``X``, ``y``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            NumPy array, nested list, or an array of any supported backend (it
            then trains where it is, on its device), or a Dask array.
        y : array_like of shape (n_samples,)
            Labels of any type (two or more distinct values), kept in
            ``classes_``. Host data or an array on the same library and device
            as ``X``. Two classes train a sigmoid output; more, a softmax.
            With ``warm_start=True`` on a fitted estimator, labels among
            ``classes_`` (any of them; a label outside is a ValueError).
        sample_weight : float or array_like of shape (n_samples,), optional
            Weight of each sample (real, finite, >= 0, not all zero): a list,
            NumPy array, pandas Series, an array of ``X``'s library and device,
            or a Dask array when ``X`` is one. A number weighs every sample
            the same. The cost becomes ``sum(w_i * loss_i) / sum(w_i)`` plus
            the penalty, with ``w_i = sample_weight[i] * class_weight[y_i]``:
            an integer weight is the row repeated, weight 0 the row left out
            (in the cost, and in the ``standardize=True`` statistics, which
            ``sample_weight`` weighs as ``StandardScaler.fit(X, sample_weight=)``
            does; ``class_weight`` weighs the cost only).
            Validation rows held out by ``validation_fraction`` keep their
            weights (the validation score is then a weighted accuracy).
        init_params : dict, optional
            Starting parameters (NumPy or backend arrays, moved to the training
            backend and cast to the working dtype) instead of the drawn ones.
            Not with ``warm_start=True`` on a fitted estimator (which starts
            from ``params_``).
        eval_set : tuple (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
            Validation data for ``validation_scores_`` and early stopping
            (overrides ``validation_fraction``). Its accuracy is weighted by
            ``sample_weight_val`` and ``class_weight``, as the training cost is.

        Returns
        -------
        self

        Raises
        ------
        DivergenceError
            If an epoch's cost is NaN or infinite, or exceeds ``max(100 *
            start, start + 100)`` where ``start`` is the cost at the starting
            parameters (see :func:`neuralcore.train.train`); the estimator then
            holds the last accepted parameters (``params_``) and costs
            (``loss_curve_``) of this fit.
        MemoryBudgetError
            Before any work, when the fit would need more memory than the
            device has (``hidden_units=10**9``, Newton on millions of features).

        Any other error, or an interruption (Ctrl-C), leaves the estimator
        exactly as it was before ``fit``.
        """
        return self._fit(X, y, sample_weight=sample_weight, init_params=init_params, eval_set=eval_set)

    @_available_if("_check_partial")
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of training on ``X``, ``y``, continuing from the fitted state.

        Full batch (``batch_size=None``): one update on all of ``X``; with
        ``batch_size``: one pass over its mini-batches. The parameters, the
        optimizer's state and the shuffling generator carry over from one call
        to the next (and from a previous ``fit``), so a stream of batches
        trains as one long run. ``n_iter_`` grows by one and ``loss_curve_``
        by one entry per call. ``validation_fraction``, ``tol`` and
        ``max_iter`` do not apply: there is no early stopping across calls.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : array_like of shape (n_samples,)
            Labels among ``classes`` (a batch may hold only some of them, even one).
        classes : array_like of shape (n_classes,), optional
            Every label the stream will hold (two or more). Required on the
            first call; on later calls it may be left out, or must equal ``classes_``.
        sample_weight : float or array_like of shape (n_samples,), optional
            Weight of each sample of this batch, as in :meth:`fit` (times a
            ``class_weight`` dict; ``class_weight="balanced"`` needs the whole
            data and is refused here, as scikit-learn does).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            ``classes`` missing on the first call or differing from
            ``classes_``; labels outside the classes; a number of features
            other than ``n_features_in_``. A failed call leaves the
            estimator as it was.
        """
        return self._fit(X, y, sample_weight=sample_weight, classes=classes, partial=True)

    def _fit(self, X, y, sample_weight=None, *, classes=None, partial: bool = False, init_params: dict | None = None,
             eval_set=None):
        """``fit`` and ``partial_fit``: validate, place, train, then set the fitted state at once."""
        self._check_hyperparameters()
        kernels.enabled()  # a bad NEURALCORE_KERNELS is an error on every backend, before any work
        warm_start = partial or bool(getattr(self, "warm_start", False))  # a subclass may not have the hyperparameter
        previous = self.__dict__.copy() if warm_start and "params_" in self.__dict__ else None
        if partial:
            self._check_partial()
            if isinstance(getattr(self, "class_weight", None), str):
                raise ValueError("class_weight='balanced' is not supported by partial_fit: the class frequencies "
                                 "of one batch are not those of the stream; pass a dict {label: weight} computed "
                                 "on the whole data (or use fit)")
        if previous is not None:
            try:
                self._check_fitted(previous)  # trained for other hyperparameters: refused, by name
            except ValueError as error:  # "fit again" is no advice while a fit continues the old parameters
                how = "partial_fit continues" if partial else "warm_start=True continues"
                raise ValueError(f"{error} ({how} the fitted parameters; fit with warm_start=False to start from "
                                 "scratch)") from None
            if init_params is not None:
                raise ValueError(f"init_params cannot be given to a fitted {type(self).__name__} with warm_start=True "
                                 "(it continues from params_); set warm_start=False to start from init_params")
        self._check_standardize_continues(previous, partial)
        work_dtype = dtype_name(self.dtype)
        if work_dtype is None and previous is not None:  # a warm fit continues the model as it is, whatever X's
            work_dtype = dtype_name(next(iter(previous["params_"].values())).dtype)  # dtype (as predict does)
        where = self.backend
        if where is None and previous is not None and is_host(X) and not is_chunked(X):
            # host data continues the model where it is (a model moved with to("cupy:1") trains on there), as
            # host data given to predict goes to the model's device; backend= says otherwise explicitly
            where = backend_of(next(iter(previous["params_"].values())))
        Xb, placement = check_X(X, backend=where, dtype=work_dtype, owner=type(self).__name__,
                                n_features=None if previous is None else previous["n_features_in_"])
        feature_names = feature_names_of(X)
        if previous is not None:
            check_feature_names(previous.get("feature_names_in_"), X, owner=type(self).__name__)
            # the model's columns stay those it was fitted with: a bare array (a warning) must not erase them,
            # or a later piece with reordered columns would pass unchecked
            feature_names = previous.get("feature_names_in_")
        if isinstance(eval_set, (tuple, list)) and len(eval_set) in (2, 3):  # validation columns must be X's, in order
            check_feature_names(feature_names, eval_set[0], owner=type(self).__name__, name="eval_set X")
        labels = check_labels(y, n_samples=Xb.shape[0], X=X, stacklevel=4)  # the warning points at fit's caller
        known = previous["classes_"] if previous is not None else None
        if partial:
            known = _partial_classes(classes, known)
        # the targets are encoded in the working dtype: one host copy, even for the Dask path's huge data
        try:
            classes, Y_host = encode_labels(labels, known, dtype=to_numpy_dtype(Xb.dtype))
        except ValueError as error:
            if previous is None or partial:
                raise
            raise ValueError(f"{error} (warm_start=True continues the fitted model and its classes_; "
                             "set warm_start=False to fit from scratch)") from None
        # weights on the host, combined once; None (nothing materialized) without sample or class weights
        row_weights = check_sample_weight(sample_weight, Xb.shape[0], X=X)
        per_class = class_weights(getattr(self, "class_weight", None), classes, class_index(Y_host), row_weights)
        weights = effective_weights(row_weights, per_class, Y_host)
        n_features, n_outputs = int(Xb.shape[1]), Y_host.shape[1]
        check_fit_memory(self, Xb, n_outputs, placement)  # before any parameter is drawn
        if previous is not None:  # a warm fit keeps the statistics its parameters were trained with
            statistics = previous.get("feature_mean_"), previous.get("feature_scale_")
        elif getattr(self, "standardize", False):  # over all the rows given to fit, before any validation split
            with device_context(placement):
                # weighted by sample_weight (as StandardScaler.fit(sample_weight=)): an integer weight is the row
                # repeated for the statistics too; class weights re-weigh the cost, not the data
                statistics = fit_statistics(Xb, sample_weight=row_weights)
        else:
            statistics = None, None
        warm = previous.get("_rng_state") if previous is not None else None
        # a warm fit continues the generator the last fit left (a copy: a failed fit must not advance it)
        rng = copy.deepcopy(warm) if warm is not None else check_random_state(self.random_state)
        if previous is not None:
            host_params = previous["params_"]
        elif init_params is None:
            host_params = self._init_params(n_features, n_outputs, rng)
        else:
            host_params = self._check_init_params(init_params, n_features, n_outputs)
        optimizer_state = self._carried_optimizer_state(previous)
        with device_context(placement):  # all of the fit's work on the data's device (cupy:1...)
            data, validation = sources(
                Xb, Y_host, placement, classes=classes, batch_size=self.batch_size, shuffle=bool(self.shuffle),
                eval_set=None if partial else eval_set, fraction=None if partial else self.validation_fraction,
                rng=rng, sample_weight=weights, class_weight=per_class,
                transform=None if statistics[0] is None else functools.partial(_standardized, statistics),
            )
            fitted = {"classes_": classes, "n_features_in_": n_features, "backend_": data.backend_name,
                      "trained_on_": data.trained_on, "feature_names_in_": feature_names,
                      "_fitted_with": self._prediction_settings(), "feature_mean_": None, "feature_scale_": None}
            if statistics[0] is not None:  # kept where the parameters are, in their dtype
                placed = _onto(data, {"mean": statistics[0], "scale": statistics[1]})
                fitted.update(feature_mean_=placed["mean"], feature_scale_=placed["scale"])
            params = _onto(data, host_params)
            if optimizer_state is not None:
                optimizer_state = _map_arrays(optimizer_state, lambda a: _onto(data, {"a": a})["a"])
            try:
                result = self._fit_params(params, data, validation, rng, partial=partial,
                                          first_epoch=0 if previous is None else len(previous["loss_curve_"]),
                                          optimizer_state=optimizer_state)
            except DivergenceError as error:
                self._set_fitted(params_=error.params, **_history(previous, error.loss_curve, error.n_iter, None, None),
                                 _optimizer_state=None, _rng_state=copy.deepcopy(rng), **fitted)
                raise
        carried = None if result.optimizer_state is None else (self._optimizer_settings(), result.optimizer_state)
        self._set_fitted(params_=result.params, **_history(previous, result.loss_curve, result.n_iter,
                                                           result.validation_scores, result.best_iteration),
                         _optimizer_state=carried, _rng_state=copy.deepcopy(rng), **fitted)
        return self

    def _check_standardize_continues(self, previous, partial: bool):
        """A ValueError when ``standardize`` cannot apply to this warm fit or ``partial_fit`` call."""
        wanted = bool(getattr(self, "standardize", False))
        if previous is None:
            if partial and wanted:
                raise ValueError(f"partial_fit cannot start a {type(self).__name__} with standardize=True: the mean "
                                 "and scale of one batch would be wrong for the whole stream; scale the stream "
                                 "yourself (standardize=False), or fit once first (its statistics are then kept)")
            return
        fitted = previous.get("feature_mean_") is not None
        if wanted != fitted:  # the parameters live in the space of the fitted statistics (or of raw features)
            call = "partial_fit" if partial else "a warm fit (warm_start=True)"
            raise ValueError(f"this {type(self).__name__} was fitted with standardize={fitted}, now standardize="
                             f"{wanted}: {call} continues its parameters, which were trained on "
                             f"{'standardized' if fitted else 'raw'} features; set standardize={fitted}, or fit "
                             "from scratch (warm_start=False)")

    def _check_partial(self):
        """An AttributeError when this estimator's settings cannot train one epoch at a time (a subclass
        says): ``partial_fit`` is then absent, as scikit-learn's ``available_if`` methods are, so
        ``hasattr(model, "partial_fit")`` tells tools (and scikit-learn's checks) whether it applies."""

    def _optimizer_settings(self):
        # what the optimizer state belongs to: changing these restarts it (a learning_rate change does not)
        return copy.deepcopy((self.optimizer, self.optimizer_params))

    def _carried_optimizer_state(self, previous):
        """The optimizer state a warm fit continues from, or None (fresh) when the optimizer changed."""
        carried = None if previous is None else previous.get("_optimizer_state")
        if carried is None:
            return None
        settings, state = carried
        return state if _same(settings, self._optimizer_settings()) else None

    def _fit_params(self, params, data, validation, rng, *, partial=False, optimizer_state=None, first_epoch=0):
        """Train ``params`` on the source ``data``; returns a :class:`~neuralcore.train.TrainResult`.

        ``partial``: one epoch, no stopping rule (``partial_fit``); ``optimizer_state``: the state to
        continue from (None: fresh); ``first_epoch``: the number the printed lines start from (a warm
        fit's continue the history's).
        """
        return train(
            self._steps(data),
            params,
            data,
            optimizer=get_optimizer(self.optimizer, self.learning_rate, self.optimizer_params),
            max_iter=1 if partial else self.max_iter,
            rng=rng,
            tol=None if partial else self.tol,
            n_iter_no_change=self.n_iter_no_change,
            validation=None if validation is None else validation.accuracy(self._logits),
            verbose=Verbosity(self.verbose, first=first_epoch),
            optimizer_state=optimizer_state,
        )

    def _set_fitted(self, **state):
        """Set the whole fitted state at once: the one place that does (fit, load, to)."""
        missing = set(FITTED_ATTRIBUTES) - set(state)
        if missing:  # pragma: no cover - a programming error, not a user's
            raise TypeError(f"fitted state without {sorted(missing)}")
        names = state.pop("feature_names_in_")
        new = {**self.__dict__, **state}
        if names is None:  # fitted without column names: the attribute is absent, as in scikit-learn
            new.pop("feature_names_in_", None)
        else:
            new["feature_names_in_"] = np.asarray(list(names), dtype=object)
        self.__dict__ = new  # one assignment: a reader (another thread) sees the old state or the new one

    def _check_init_params(self, init_params, n_features: int, n_outputs: int, name: str = "init_params") -> dict:
        expected = self._param_shapes(n_features, n_outputs)
        if not isinstance(init_params, dict):
            raise TypeError(f"{name} must be a dict with keys {sorted(expected)}, got {type(init_params).__name__}")
        if set(init_params) != set(expected):
            raise ValueError(f"{name} must have exactly the keys {sorted(expected)}, got {sorted(init_params)}")
        host = {}
        for key, shape in expected.items():
            value = np.array(to_numpy(init_params[key]), copy=True)  # never train in (or return) the caller's memory
            if value.shape != shape:
                raise ValueError(f"{name}[{key!r}] must have shape {shape}, got {value.shape}")
            if value.dtype.kind not in "biuf" or not np.isfinite(value).all():
                raise ValueError(f"{name}[{key!r}] must hold finite real numbers")
            host[key] = value
        return host

    # ----------------------------------------------------------- fitted state contract

    def fitted_state(self) -> dict:
        """The fitted attributes (:data:`FITTED_ATTRIBUTES`) by name; raises NotFittedError before ``fit``."""
        self._check_fitted()
        return {name: getattr(self, name, None) for name in FITTED_ATTRIBUTES}

    def restore(self, **state):
        """Set a complete fitted state (what :meth:`fitted_state` returns); returns ``self``.

        ``_fitted_with`` may be left out: the current hyperparameters are then taken as those the
        parameters were trained with (a model file's). ``_optimizer_state`` and ``_rng_state`` may be
        left out too: a warm fit (``warm_start=True``, ``partial_fit``) then continues from ``params_``
        with a fresh optimizer state and a generator drawn from ``random_state``.

        Raises
        ------
        TypeError
            A key that is not a fitted attribute, or one missing.
        ValueError
            Parameters whose keys or shapes do not fit ``n_features_in_``, ``classes_`` and the
            hyperparameters, or a ``_fitted_with`` other than the current hyperparameters. Nothing is set.
        """
        state.setdefault("_fitted_with", self._prediction_settings())
        for name in _OPTIONAL_STATE:  # a model file's state: a warm fit starts a fresh optimizer and generator
            state.setdefault(name, None)
        unknown, missing = sorted(set(state) - set(FITTED_ATTRIBUTES)), sorted(set(FITTED_ATTRIBUTES) - set(state))
        if unknown or missing:  # an unknown key would be set as an attribute (a hyperparameter, even)
            raise TypeError(f"restore takes the fitted state ({', '.join(FITTED_ATTRIBUTES)}); "
                            f"unknown: {unknown}, missing: {missing}")
        self._check_fitted(state)  # trained for other hyperparameters than this estimator's: refused
        check_statistics(state["feature_mean_"], state["feature_scale_"], state["n_features_in_"])
        params, classes = state["params_"], np.asarray(state["classes_"])
        if not isinstance(params, dict) or classes.ndim != 1:
            raise TypeError(f"params_ must be a dict of arrays and classes_ 1-D, got {type(params).__name__} "
                            f"and shape {classes.shape}")
        expected = self.param_shapes(state["n_features_in_"], classes.shape[0])
        if set(params) != set(expected):
            raise ValueError(f"params_ must have exactly the keys {sorted(expected)}, got {sorted(params)}")
        for key, shape in expected.items():
            if tuple(params[key].shape) != tuple(shape):
                raise ValueError(f"params_[{key!r}] has shape {tuple(params[key].shape)}, but {shape} for "
                                 f"n_features_in_={state['n_features_in_']}, {classes.shape[0]} classes and "
                                 "these hyperparameters")
        self._set_fitted(**state)
        return self

    def _check_fitted(self, state: dict | None = None):
        state = self.__dict__ if state is None else state
        if "params_" not in state:
            raise sklearn_compatible(NotFittedError)(
                f"this {type(self).__name__} is not fitted yet; call fit(X, y) before using it")
        changed = {k: v for k, v in state.get("_fitted_with", {}).items()
                   if not _same(self._canonical(k, getattr(self, k)), self._canonical(k, v))}
        if changed:  # the parameters were trained for other settings: their predictions would be wrong
            settings = ", ".join(f"{k}={v!r} (now {getattr(self, k)!r})" for k, v in changed.items())
            raise ValueError(f"this {type(self).__name__} was fitted with {settings}; its parameters predict only "
                             "with those: set them back, or fit again")

    def _prediction_settings(self) -> dict:
        # a snapshot: a list mutated in place after fit (hidden_units.append) must read as changed
        return copy.deepcopy({name: getattr(self, name) for name in self._PREDICTION_HYPERPARAMETERS})

    def _canonical(self, name: str, value):
        """A hyperparameter's value in the one spelling that compares equal for equal models
        (a subclass says, e.g. ``hidden_units=[3]``, ``(3,)`` and ``3`` are one network)."""
        return value

    # -------------------------------------------------------------------- prediction

    def _output(self, X, kind: str):
        """``"decision"``, ``"proba"`` or ``"labels"`` for ``X``; lazily, chunk by chunk, for a Dask array."""
        # One read of the fitted state (a C-level copy, atomic under the GIL): a fit finishing on another
        # thread meanwhile must not pair this prediction's logits with that fit's classes_.
        state = self.__dict__.copy()
        self._check_fitted(state)
        # ... and the prediction runs on that snapshot, with the settings just checked: a set_params on another
        # thread meanwhile must not send these parameters through another activation
        model = type(self).__new__(type(self))
        model.__dict__.update({**state, **state.get("_fitted_with", {})})
        params, classes = state["params_"], state["classes_"]
        check_feature_names(state.get("feature_names_in_"), X, owner=type(self).__name__)
        if is_chunked(X):
            params = {key: to_numpy(value) for key, value in params.items()}
            X = check_chunked(X, n_features=state["n_features_in_"], dtype=next(iter(params.values())).dtype,
                              owner=type(self).__name__)
            # the chunks are bare arrays: their names were checked above, once
            fitted = {name: state.get(name) for name in FITTED_ATTRIBUTES}
            # what predictions need travels into the graph; what continues training does not
            fitted.update(params_=params, backend_="numpy", feature_names_in_=None, _optimizer_state=None,
                          _rng_state=None, **_host_statistics(state))
            K = 1 if len(classes) == 2 else len(classes)
            columns = {"decision": None if K == 1 else K, "proba": max(K, 2), "log_proba": max(K, 2), "labels": None}[kind]
            dtype = classes.dtype if kind == "labels" else X.dtype
            chunk_output = functools.partial(_chunk_output, type(self), model.get_params(), fitted, kind)
            return map_row_chunks(X, chunk_output, columns, dtype)
        placement = backend_of(next(iter(params.values())))
        with device_context(placement):  # the model's device, whatever device is current
            return model._output_on(X, kind, placement, params, classes, state["n_features_in_"])

    def _output_on(self, X, kind: str, placement, params, classes, n_features):
        work_dtype = dtype_name(next(iter(params.values())).dtype)
        Xb, _ = check_X(X, dtype=work_dtype, model=placement, n_features=n_features, owner=type(self).__name__)
        xp, host = placement.xp, is_host(X)
        if self.__dict__.get("feature_mean_") is not None:  # fitted with standardize=True: whatever it says now
            Xb = standardize(Xb, self.feature_mean_, self.feature_scale_)
        Z = self._logits(params, Xb, xp)
        if kind == "labels":
            index = predicted_index(Z, xp=xp)
            labels = None if host else label_array(classes, placement)
            if labels is None:
                return classes[to_numpy(index).astype(np.intp)]
            return xp.take(labels, index)
        if kind == "decision":
            out = xp.reshape(Z, (-1,)) if Z.shape[1] == 1 else Z
        elif kind == "log_proba":
            # from the logits, not log(predict_proba): exact where a probability underflows to 0
            out = log_softmax(xp.concat([xp.zeros_like(Z), Z], axis=1) if Z.shape[1] == 1 else Z, xp=xp)
        else:
            A = output_activation(Z, xp=xp)
            out = xp.concat([1 - A, A], axis=1) if A.shape[1] == 1 else A
        return to_numpy(out) if host else out

    def decision_function(self, X):
        """Logits (the scores before the output activation).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Host data, an array on the model's backend and device, or a Dask array.

        Returns
        -------
        array of shape (n_samples,) for two classes, (n_samples, n_classes) for more
            NumPy for host input, else on the input's backend (lazy for Dask).
        """
        return self._output(X, "decision")

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Returns
        -------
        array of shape (n_samples, n_classes)
            NumPy for host input, else on the input's backend (lazy for Dask).
        """
        return self._output(X, "proba")

    def predict_log_proba(self, X):
        """Logarithms of the class probabilities, columns ordered as ``classes_``.

        Computed from the logits (a log-softmax), so a probability too small
        to represent still has a finite logarithm (``-800``, not ``-inf``).

        Returns
        -------
        array of shape (n_samples, n_classes)
            NumPy for host input, else on the input's backend (lazy for Dask).
        """
        return self._output(X, "log_proba")

    def predict(self, X):
        """Predicted labels (values of ``classes_``): the most probable class
        (for two classes, the positive one where the logit is strictly
        positive, as in ``decision_function``; a logit of 0 gives ``classes_[0]``).

        Returns
        -------
        array of shape (n_samples,)
            NumPy for host input; for backend input, an array on that backend
            when the labels are numeric or boolean (else NumPy); lazy for Dask.
        """
        return self._output(X, "labels")

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy: the fraction of samples whose predicted label equals ``y``.

        With ``sample_weight`` (a number or array_like of shape (n_samples,),
        checked as ``fit``'s), the weighted accuracy ``sum(w * correct) /
        sum(w)``; ``class_weight`` does not apply (as in scikit-learn).

        Raises a ValueError when ``y`` holds labels the model was not fitted with.
        """
        predicted = to_numpy(self.predict(X))
        labels = check_labels(y, n_samples=predicted.shape[0], X=X, warn_column=False)
        encode_labels(labels, self.classes_)  # labels the model never saw are an error
        weights = check_sample_weight(sample_weight, predicted.shape[0], X=X)
        return accuracy(labels, predicted, sample_weight=weights)

    # ------------------------------------------------------------------- placement

    def to(self, backend):
        """Move the fitted parameters to ``backend`` (e.g. ``"numpy"``, ``"cupy:0"``); returns ``self``."""
        state = self.fitted_state()
        placement = resolve_backend(backend)
        with device_context(placement):
            params = {key: to_backend(value, placement) for key, value in state["params_"].items()}
            carried = state["_optimizer_state"]  # with the parameters: never arrays left on the old device
            if carried is not None:
                carried = (carried[0], _map_arrays(carried[1], lambda a: to_backend(a, placement)))
            statistics = {name: None if state[name] is None else to_backend(state[name], placement)
                          for name in ("feature_mean_", "feature_scale_")}
        return self.restore(**{**state, "params_": params, "backend_": placement.name, "_optimizer_state": carried,
                               **statistics})

    def save(self, path, *, metadata: dict | None = None) -> str:
        """Write the fitted model to ``path`` (``.npz``: NumPy arrays and JSON, no pickle), atomically.

        ``neuralcore.load(path, backend=...)`` reads it back, on any machine:
        a model trained on a GPU loads without CuPy. ``metadata`` (JSON-
        serializable) comes back as ``metadata_``.
        """
        return persistence.save(self, path, metadata=metadata)

    def __copy__(self):
        # copy and deepcopy would otherwise go through __getstate__ (pickle's) and move the copy to NumPy
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        return twin

    def __deepcopy__(self, memo):
        twin = type(self).__new__(type(self))
        memo[id(self)] = twin
        twin.__dict__.update(copy.deepcopy(self.__dict__, memo))  # arrays stay on their backend and device
        return twin

    def __getstate__(self):
        state = self.__dict__.copy()
        if "params_" in state:  # device arrays pickle as NumPy: loadable without a GPU
            state["params_"] = {key: to_numpy(value).copy() for key, value in state["params_"].items()}
            state["backend_"] = "numpy"
            if state.get("_optimizer_state") is not None:  # with the parameters, to NumPy
                settings, carried = state["_optimizer_state"]
                state["_optimizer_state"] = (settings, _map_arrays(carried, lambda a: to_numpy(a).copy()))
            state.update(_host_statistics(state))
        return state


def _partial_classes(classes, known):
    """The classes of a ``partial_fit`` call: ``classes`` on the first call, else ``known`` (which
    ``classes``, when given, must equal)."""
    if classes is None:
        if known is None:
            raise ValueError("classes must be passed on the first call to partial_fit: every label the stream "
                             "will hold, e.g. partial_fit(X, y, classes=[0, 1, 2])")
        return known
    given = np.asarray(to_numpy(classes) if not is_host(classes) else classes)
    if given.ndim != 1:
        raise ValueError(f"classes must be 1-D (every label the stream will hold), got shape {given.shape}")
    given = check_labels(given, n_samples=given.shape[0], name="classes", x_name="classes")
    try:
        given = np.unique(given)
    except TypeError:
        raise TypeError(f"classes mixes label types that cannot be ordered: {sorted({type(v).__name__ for v in given})}") from None
    if known is not None:
        if given.shape != known.shape or not np.array_equal(given, known):
            raise ValueError(f"classes={given.tolist()} differs from classes_={known.tolist()} of the fitted "
                             "estimator; pass the same classes, or none, after the first call to partial_fit")
        return known
    if given.shape[0] < 2:
        raise ValueError(f"classes must hold at least two distinct labels, got {given.tolist()}")
    return given


def _history(previous, loss_curve, n_iter, scores, best_iteration) -> dict:
    """The history attributes of a fit, after those of the fit it continues (``previous``, or None)."""
    if previous is None:
        return {"loss_curve_": list(loss_curve), "n_iter_": n_iter, "validation_scores_": scores,
                "best_iteration_": best_iteration}
    offset = len(previous["loss_curve_"])
    earlier = previous.get("validation_scores_")
    return {
        "loss_curve_": [*previous["loss_curve_"], *loss_curve],
        "n_iter_": int(previous["n_iter_"]) + n_iter,
        # aligned with loss_curve_ (best_iteration_ indexes both): epochs of earlier fits that did not
        # validate read NaN; a fit without validation has none
        "validation_scores_": None if scores is None else [*(earlier or [])[:offset],
                                                            *[math.nan] * (offset - len(earlier or [])), *scores],
        "best_iteration_": None if best_iteration is None else offset + best_iteration,
    }


def _onto(data, params: dict) -> dict:
    """Fitted arrays where ``data`` trains, in its dtype (as they are when they already are)."""
    try:
        data.check_params(params)
    except ValueError:  # on another backend or device: through the host
        params = {key: to_numpy(value) for key, value in params.items()}
    return data.place(params)


def _standardized(statistics, X):
    """``X`` standardized with the fitted ``statistics`` (mean, scale): a source's ``transform``."""
    return standardize(X, *statistics)


def _host_statistics(state: dict) -> dict:
    """The standardization statistics of ``state`` as NumPy copies (None stays None)."""
    return {name: None if state.get(name) is None else to_numpy(state[name]).copy()
            for name in ("feature_mean_", "feature_scale_")}


def _map_arrays(tree, function):
    """``tree`` (an optimizer state: NamedTuples, tuples, lists, dicts) with ``function`` applied to its arrays."""
    if isinstance(tree, dict):
        return {key: _map_arrays(value, function) for key, value in tree.items()}
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(_map_arrays(value, function) for value in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(_map_arrays(value, function) for value in tree)
    if isinstance(tree, numbers.Number) or not (hasattr(tree, "shape") and hasattr(tree, "dtype")):
        return tree
    return function(tree)


def _same(a, b) -> bool:
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError):
        return False


def _chunk_output(cls, hyperparameters: dict, fitted: dict, kind: str, block):
    """One Dask chunk's predictions, computed where the chunk is: the (small) fitted parameters go to
    the chunk's library and device, and the output stays there (NumPy chunks: no copy at all)."""
    placement = backend_of(block)
    params = {key: to_backend(value, placement) for key, value in fitted["params_"].items()}
    statistics = {name: None if fitted[name] is None else to_backend(fitted[name], placement)
                  for name in ("feature_mean_", "feature_scale_")}
    model = cls(**hyperparameters).restore(**{**fitted, "params_": params, "backend_": placement.name, **statistics})
    if block.shape[0] == 0:  # an empty chunk (a filter leaves them): the output of one row of zeros, cut to none
        row = to_backend(np.zeros((1, block.shape[1]), dtype=to_numpy_dtype(block.dtype)), placement)
        return model._output(row, kind)[:0, ...]
    return model._output(block, kind)

"""scikit-learn's metadata routing for estimators that do not inherit from its ``BaseEstimator``.

With ``sklearn.set_config(enable_metadata_routing=True)``, pipelines and model
selection pass ``sample_weight`` (and any other argument of ``fit``,
``partial_fit`` or ``score`` besides ``X`` and ``y``) only to the estimators
that request it: ``model.set_fit_request(sample_weight=True)``,
``set_score_request``, ``set_partial_fit_request``, as for scikit-learn's own
estimators. scikit-learn reads the requests through ``get_metadata_routing``.
What can be requested is read from the methods' signatures (scikit-learn's
rule), so a subclass's extra arguments are routable too. The requests are kept
as a dict (``_metadata_request``, the attribute ``clone`` copies), so
pickling a model never needs scikit-learn; scikit-learn is imported only when
a request is set or read.
"""

from __future__ import annotations

import copy
import inspect

__all__ = ["MetadataRequester"]

#: The methods whose arguments can be requested (scikit-learn's "simple methods" that these estimators have).
ROUTED_METHODS = ("fit", "partial_fit", "score")

_NOT_METADATA = {"self", "X", "y", "Y", "Xt", "yt"}  # scikit-learn's rule: the data is never metadata


class _Requests(dict):
    """``{method: {argument: request}}``; ``clone`` copies it whole (its values are no estimators)."""

    def __sklearn_clone__(self):
        return _Requests(copy.deepcopy(dict(self)))


def _metadata_routing(method: str):
    """scikit-learn's ``sklearn.utils.metadata_routing``, or an ImportError saying that ``method`` needs it."""
    try:
        import sklearn.utils.metadata_routing as routing
    except ImportError as error:
        raise ModuleNotFoundError(
            f"{method}() needs scikit-learn (metadata routing is scikit-learn's, for its pipelines and model "
            f"selection), which cannot be imported here ({error}): pip install scikit-learn", name="sklearn"
        ) from None
    return routing


class MetadataRequester:
    """``set_fit_request``, ``set_partial_fit_request``, ``set_score_request`` and ``get_metadata_routing``."""

    @classmethod
    def _metadata_names(cls, method: str) -> tuple:
        """The arguments of ``method`` a meta-estimator may route to it, in signature order."""
        function = inspect.getattr_static(cls, method, None)
        function = getattr(function, "method", function)  # an _available_if method: the plain function
        if function is None:
            return ()
        parameters = inspect.signature(function).parameters.values()
        return tuple(p.name for p in parameters if p.name not in _NOT_METADATA
                     and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))

    def _set_request(self, method: str, args: tuple, requests: dict):
        routing = _metadata_routing(f"set_{method}_request")  # whoever sets a request has scikit-learn
        import sklearn

        if args:
            raise TypeError(f"set_{method}_request() takes 0 positional argument but {len(args)} were given; "
                            f"name the arguments, e.g. set_{method}_request(sample_weight=True)")
        if not sklearn.get_config().get("enable_metadata_routing", False):
            raise RuntimeError("This method is only available when metadata routing is enabled. You can enable "
                               "it using sklearn.set_config(enable_metadata_routing=True).")
        names = self._metadata_names(method)
        unknown = set(requests) - set(names)
        if unknown:
            raise TypeError(f"Unexpected args: {unknown} in {method}. Accepted arguments are: {set(names)} "
                            f"(the arguments of {type(self).__name__}.{method} besides X and y)")
        requests = {name: alias for name, alias in requests.items() if alias is not routing.UNCHANGED}
        check = getattr(routing.MetadataRequest(owner=type(self).__name__), method)
        for name, alias in requests.items():  # scikit-learn's own check (True, False, None or an identifier)
            check.add_request(param=name, alias=alias)
        stored = _Requests(copy.deepcopy(dict(self.__dict__.get("_metadata_request") or {})))
        stored.setdefault(method, {}).update(requests)
        self._metadata_request = stored  # one assignment, after every check: a refused request sets nothing
        return self

    def set_fit_request(self, *args, **requests):
        """Request the arguments of ``fit`` a meta-estimator should pass (metadata routing only).

        Parameters
        ----------
        **requests : {True, False, None} or str
            ``sample_weight=True`` (pass it), ``False`` (do not), ``None``
            (an error if given: the default), or a name (an alias: the
            meta-estimator's argument of that name is passed as this one).

        Returns
        -------
        self

        Examples
        --------
        >>> import sklearn
        >>> from neuralcore import LogisticRegression
        >>> with sklearn.config_context(enable_metadata_routing=True):
        ...     model = LogisticRegression().set_fit_request(sample_weight=True)
        ...     model.get_metadata_routing().fit.requests["sample_weight"]
        True
        """
        return self._set_request("fit", args, requests)

    def set_partial_fit_request(self, *args, **requests):
        """Request the arguments of ``partial_fit`` (``classes``, ``sample_weight``), as :meth:`set_fit_request`."""
        return self._set_request("partial_fit", args, requests)

    def set_score_request(self, *args, **requests):
        """Request the arguments of ``score`` (``sample_weight``), as :meth:`set_fit_request`."""
        return self._set_request("score", args, requests)

    def get_metadata_routing(self):
        """The requests, as scikit-learn's ``MetadataRequest`` (what its routing reads).

        Every routable argument not requested is ``None``: scikit-learn then
        refuses it when given, asking for ``set_<method>_request``.
        """
        routing = _metadata_routing("get_metadata_routing").MetadataRequest(owner=type(self).__name__)
        stored = self.__dict__.get("_metadata_request") or {}
        for method in ROUTED_METHODS:
            for name in self._metadata_names(method):
                getattr(routing, method).add_request(param=name, alias=stored.get(method, {}).get(name))
        return routing

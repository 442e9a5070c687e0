"""Bad inputs at every public entry point, on every backend of the ``backend_case`` fixture.

Each entry point (``fit``, ``predict``, ``predict_proba``, ``decision_function``,
``score``, ``save`` of both estimators, and ``neuralcore.load``) is given bad
data either as an array of the case's library and device (``where="device"``)
or as host NumPy data with ``backend=backend_case.spec`` (``where="host"``).
Every test checks the exception type and that the message names the problem.
Inputs must never be modified, and read-only NumPy inputs are accepted.
"""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import DataConversionWarning, LogisticRegression, NotFittedError, TwoLayerNet
from neuralcore import device as nc_device

RNG = np.random.default_rng(2024)
X_HOST = RNG.normal(size=(12, 3))
Y_HOST = np.asarray([0, 1] * 6)
Y3_HOST = np.asarray([0, 1, 2] * 4)

ESTIMATORS = pytest.mark.parametrize("Estimator", [LogisticRegression, TwoLayerNet], ids=["logistic", "two_layer"])
WHERE = pytest.mark.parametrize("where", ["device", "host"])
METHODS = ("predict", "predict_proba", "decision_function", "score")

HAVE_STRICT = nc_device.backend_status("array_api_strict")[0]
HAVE_TORCH = nc_device.backend_status("torch")[0]
UNUSABLE_BACKENDS = [name for name in nc_device.KNOWN_BACKENDS if not nc_device.backend_status(name)[0]]

needs_strict = pytest.mark.skipif(not HAVE_STRICT, reason="array_api_strict is not installed")
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed")


# ----------------------------------------------------------------------------- helpers


def place(case, host, where, dtype=None):
    """``host`` as an array of the case (``where="device"``) or as host NumPy data."""
    host = np.asarray(host)
    return case.asarray(host, dtype=dtype) if where == "device" else host


def make(Estimator, case, where, **kwargs):
    """A small, fast estimator; host data goes to the case's backend in its dtype."""
    kwargs.setdefault("max_iter", 3)
    kwargs.setdefault("random_state", 0)
    if where == "host":
        kwargs.setdefault("backend", case.spec)
        kwargs.setdefault("dtype", case.dtype)
    if Estimator is TwoLayerNet:
        kwargs.setdefault("hidden_units", 3)
    return Estimator(**kwargs)


def fitted(Estimator, case, where="device", y=Y_HOST, **kwargs):
    model = make(Estimator, case, where, **kwargs)
    return model.fit(place(case, X_HOST, where), place(case, y, where))


def call(model, method, X, y):
    return model.score(X, y) if method == "score" else getattr(model, method)(X)


def other_placement(case) -> str:
    return case.other_spec


def default_float(case) -> str:
    return case.default_float


def dtype_of(x) -> str:
    return nc_device.to_numpy_dtype(x.dtype).name


def param_shapes(model, n_features, n_outputs) -> dict:
    """The README's parameter shapes, for ``init_params``."""
    if isinstance(model, LogisticRegression):
        return {"W": (n_features, n_outputs), "b": (n_outputs,)}
    h = model.hidden_units
    return {"W1": (n_features, h), "b1": (h,), "W2": (h, n_outputs), "b2": (n_outputs,)}


def y_for(n):
    return np.asarray([0, 1] * (n // 2) + [0] * (n % 2))


# ------------------------------------------------------------------------- bad X in fit

_IMAGE_HINT = r"images\? flatten them first: X\.reshape\(12, -1\)"

BAD_X = [
    pytest.param(np.ones(12), ValueError,
                 r"X must be 2-D of shape \(n_samples, n_features\), got shape \(12,\).*X\.reshape\(-1, 1\)", id="1d"),
    pytest.param(np.ones((12, 2, 2)), ValueError, r"got shape \(12, 2, 2\) \(" + _IMAGE_HINT, id="3d"),
    pytest.param(np.ones((12, 4, 4, 3)), ValueError, r"got shape \(12, 4, 4, 3\) \(" + _IMAGE_HINT, id="4d-images"),
    pytest.param(np.ones((0, 3)), ValueError, r"X has 0 sample\(s\) \(shape=\(0, 3\)\) while a minimum of 1 is required; pass at least one row", id="zero-samples"),
    pytest.param(np.ones((12, 0)), ValueError, r"X has 0 feature\(s\) \(shape=\(12, 0\)\) while a minimum of 1 is required; pass at least one column", id="zero-features"),
    pytest.param(np.where(np.eye(12, 3) > 0, np.nan, X_HOST), ValueError, "X contains NaN or infinite values", id="nan"),
    pytest.param(np.where(np.eye(12, 3) > 0, np.inf, X_HOST), ValueError, "X contains NaN or infinite values", id="inf"),
    pytest.param(np.where(np.eye(12, 3) > 0, -np.inf, X_HOST), ValueError, "X contains NaN or infinite values", id="-inf"),
    pytest.param(X_HOST.astype(np.complex128), ValueError,
                 "X has complex dtype .*complex128.*: Complex data not supported; neuralcore needs real numbers",
                 id="complex"),
]


@ESTIMATORS
@WHERE
@pytest.mark.parametrize(("X", "error", "message"), BAD_X)
def test_fit_bad_X(backend_case, Estimator, where, X, error, message):
    y = y_for(X.shape[0])
    model = make(Estimator, backend_case, where)
    with pytest.raises(error, match=message):
        model.fit(place(backend_case, X, where), place(backend_case, y, where))
    assert not hasattr(model, "params_")


OBJECT_WITH_TEXT = X_HOST.astype(object)  # object arrays of numbers work, as in scikit-learn; text in one does not
OBJECT_WITH_TEXT[0, 0] = "a"

HOST_ONLY_X = [
    pytest.param(OBJECT_WITH_TEXT, r"X holds str 'a' at \(0, 0\); neuralcore needs numbers", id="object"),
    pytest.param(X_HOST.astype(str), r"X has non-numeric dtype <U\d+; neuralcore needs a numeric array", id="string"),
    pytest.param([["a", "b", "c"]] * 12, r"X has non-numeric dtype <U1", id="string-list"),
    pytest.param(X_HOST.astype(np.float16), r"X has dtype float16, which neuralcore does not train in; pass dtype='float32'",
                 id="float16"),
]


@ESTIMATORS
@pytest.mark.parametrize(("X", "message"), HOST_ONLY_X)
def test_fit_non_numeric_host_X_is_a_type_error(backend_case, Estimator, X, message):
    # Object, string and float16 data have no array on every backend: given as host data, to every backend.
    model = make(Estimator, backend_case, "host", dtype=None)
    with pytest.raises(TypeError, match=message):
        model.fit(X, Y_HOST)


def test_fit_ragged_X_names_the_problem(backend_case):
    with pytest.raises(ValueError, match="X could not be read as a rectangular array"):
        make(LogisticRegression, backend_case, "host").fit([[1.0, 2.0], [3.0]], [0, 1])


@needs_torch
def test_fit_float16_tensor_needs_dtype():
    import torch

    X16 = torch.tensor(X_HOST, dtype=torch.float16)
    with pytest.raises(TypeError, match=r"X has dtype torch\.float16, which neuralcore does not train in; pass dtype='float32'"):
        LogisticRegression(max_iter=2).fit(X16, Y_HOST)
    model = LogisticRegression(max_iter=2, dtype="float32").fit(X16, Y_HOST)
    assert dtype_of(model.params_["W"]) == "float32"


# ------------------------------------------------------------- accepted conversions of X


@ESTIMATORS
@WHERE
@pytest.mark.parametrize("kind", ["bool", "int"])
@pytest.mark.parametrize("explicit_dtype", [False, True], ids=["default-dtype", "case-dtype"])
def test_bool_and_integer_X_are_converted(backend_case, Estimator, where, kind, explicit_dtype):
    X = X_HOST > 0 if kind == "bool" else np.round(X_HOST * 10).astype(np.int64)
    dtype = backend_case.dtype if explicit_dtype else None
    model = make(Estimator, backend_case, where, dtype=dtype)
    model.fit(place(backend_case, X, where), place(backend_case, Y_HOST, where))
    expected = dtype or default_float(backend_case)
    for value in model.params_.values():
        assert dtype_of(value) == expected
        assert str(nc_device.backend_of(value)) == str(backend_case.backend)
    assert all(np.isfinite(model.loss_curve_))
    labels = nc_device.to_numpy(model.predict(place(backend_case, X, where)))
    assert labels.shape == (12,) and set(labels.tolist()) <= {0, 1}
    assert model.predict_proba(place(backend_case, X, where)).shape == (12, 2)


# ------------------------------------------------------------------------- bad y in fit

BAD_Y = [
    pytest.param(X_HOST, np.ones((12, 2)), ValueError, r"y must be 1-D of shape \(n_samples,\), got shape \(12, 2\)", id="2d"),
    pytest.param(X_HOST, Y_HOST.reshape(1, -1), ValueError, r"y must be 1-D of shape \(n_samples,\), got shape \(1, 12\)",
                 id="row"),
    pytest.param(X_HOST, Y_HOST[:11], ValueError, "X has 12 samples but y has 11; they must match", id="too-short"),
    pytest.param(X_HOST[:11], Y_HOST, ValueError, "X has 11 samples but y has 12; they must match", id="too-long"),
    pytest.param(X_HOST, np.where(np.arange(12) == 3, np.nan, Y_HOST), ValueError, "y contains NaN or infinite values",
                 id="nan"),
    pytest.param(X_HOST, np.where(np.arange(12) == 3, np.inf, Y_HOST), ValueError, "y contains NaN or infinite values",
                 id="inf"),
    pytest.param(X_HOST, np.zeros(12, dtype=np.int64), ValueError,
                 r"y has only one class \(0\); classification needs at least two distinct labels", id="one-class"),
    pytest.param(X_HOST, np.linspace(0.0, 1.0, 12), ValueError,
                 r"y holds non-integer numbers such as .*not continuous values", id="continuous-float"),
    pytest.param(np.ones((120, 3)), np.arange(120) * 3, ValueError,
                 "y has 120 distinct values for 120 samples: it looks like a continuous target", id="continuous-int"),
    pytest.param(X_HOST, Y_HOST.astype(np.complex128), ValueError,
                 "y has complex dtype complex128: Complex data not supported", id="complex"),
]


@ESTIMATORS
@WHERE
@pytest.mark.parametrize(("X", "y", "error", "message"), BAD_Y)
def test_fit_bad_y(backend_case, Estimator, where, X, y, error, message):
    model = make(Estimator, backend_case, where)
    with pytest.raises(error, match=message):
        model.fit(place(backend_case, X, where), place(backend_case, y, where))
    assert not hasattr(model, "params_")


@ESTIMATORS
@WHERE
def test_fit_y_column_vector_is_accepted(backend_case, Estimator, where):
    with pytest.warns(DataConversionWarning, match="A column-vector y was passed when a 1d array was expected"):
        model = fitted(Estimator, backend_case, where, y=Y_HOST.reshape(-1, 1))
    assert model.classes_.tolist() == [0, 1]
    reference = fitted(Estimator, backend_case, where, y=Y_HOST)
    for key, value in model.params_.items():
        np.testing.assert_array_equal(backend_case.to_numpy(value), backend_case.to_numpy(reference.params_[key]))
    X = place(backend_case, X_HOST, where)
    assert model.score(X, place(backend_case, Y_HOST.reshape(-1, 1), where)) == model.score(X, Y_HOST)


# ------------------------------------------------------- two libraries or devices in fit


@needs_strict
@ESTIMATORS
def test_fit_y_on_another_library_or_device(backend_case, Estimator):
    other = other_placement(backend_case)
    X = backend_case.asarray(X_HOST)
    y = nc_device.to_backend(Y_HOST, other)
    message = r"X is (host data|a \w+ array on \S+) but y is a array_api_strict array on array_api_strict:\w+; pass both"
    with pytest.raises(ValueError, match=message):
        make(Estimator, backend_case, "device").fit(X, y)


@needs_strict
@ESTIMATORS
def test_fit_device_X_with_explicit_other_backend(backend_case, Estimator):
    other = other_placement(backend_case)
    X = nc_device.to_backend(X_HOST, other)
    model = make(Estimator, backend_case, "host")  # backend=backend_case.spec, which is not where X is
    with pytest.raises(ValueError, match=rf"X is a array_api_strict array on {other.split(':')[0]}:\w+, "
                                         rf"but backend={re.escape(repr(backend_case.spec))} was requested"):
        model.fit(X, Y_HOST)


MIXED_PAIRS = [
    pytest.param("array_api_strict:device1", "array_api_strict",
                 "X is a array_api_strict array on array_api_strict:device1 but y is a array_api_strict array on "
                 "array_api_strict:CPU_DEVICE; pass both on one library and device", id="strict-device1-vs-default",
                 marks=needs_strict),
    pytest.param("torch", "array_api_strict",
                 "X is a torch array on torch:cpu but y is a array_api_strict array on array_api_strict:CPU_DEVICE",
                 id="torch-vs-strict", marks=[needs_strict, needs_torch]),
    pytest.param("array_api_strict", "torch",
                 "X is a array_api_strict array on array_api_strict:CPU_DEVICE but y is a torch array on torch:cpu",
                 id="strict-vs-torch", marks=[needs_strict, needs_torch]),
    pytest.param("numpy", "array_api_strict:device1",
                 "X is host data but y is a array_api_strict array on array_api_strict:device1", id="host-vs-device",
                 marks=needs_strict),
]


@ESTIMATORS
@pytest.mark.parametrize(("x_spec", "y_spec", "message"), MIXED_PAIRS)
def test_fit_mixed_libraries_and_devices(Estimator, x_spec, y_spec, message):
    X = nc_device.to_backend(X_HOST, x_spec)
    y = nc_device.to_backend(Y_HOST, y_spec)
    with pytest.raises(ValueError, match=re.escape(message)):
        Estimator(max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match=re.escape(message)):  # the same rule at score
        Estimator(max_iter=2).fit(X, Y_HOST).score(X, y)


@needs_strict
@ESTIMATORS
def test_fit_eval_set_on_another_device_is_refused(backend_case, Estimator):
    other = other_placement(backend_case)
    X, y = backend_case.asarray(X_HOST), backend_case.asarray(Y_HOST)
    X_val = nc_device.to_backend(X_HOST[:6], other)
    with pytest.raises(ValueError, match=r"eval_set X is a array_api_strict array on array_api_strict:\w+, "
                                         r"but X trains on"):
        make(Estimator, backend_case, "device").fit(X, y, eval_set=(X_val, Y_HOST[:6]))


@needs_strict
def test_fit_eval_set_on_another_device_does_not_suggest_moving_an_unfitted_model():
    model = LogisticRegression(max_iter=2, backend="numpy")
    X_val = nc_device.to_backend(X_HOST[:6], "array_api_strict")
    with pytest.raises(ValueError, match="eval_set X") as info:
        model.fit(X_HOST, Y_HOST, eval_set=(X_val, Y_HOST[:6]))
    assert ".to(" not in str(info.value)


@needs_strict
@pytest.mark.parametrize("x_val_spec", ["array_api_strict:device1", "numpy"])
def test_fit_eval_set_y_on_another_device_names_eval_set_X(x_val_spec):
    X_val = nc_device.to_backend(X_HOST[:6], x_val_spec)
    y_val = nc_device.to_backend(Y_HOST[:6], "array_api_strict")
    X = nc_device.to_backend(X_HOST, x_val_spec)
    with pytest.raises(ValueError, match=r"^eval_set X is .* but eval_set y is a array_api_strict array"):
        LogisticRegression(max_iter=2).fit(X, Y_HOST, eval_set=(X_val, y_val))


# ---------------------------------------------------- bad X at predict / proba / decision / score

BAD_X_PREDICT = BAD_X + [
    pytest.param(X_HOST[:, :2], ValueError, r"X has 2 features, but \w+ is expecting 3 features as input \(the number it was fitted with\)", id="2-features"),
    pytest.param(np.hstack([X_HOST, X_HOST]), ValueError, r"X has 6 features, but \w+ is expecting 3 features as input",
                 id="6-features"),
]


@ESTIMATORS
@WHERE
@pytest.mark.parametrize(("X", "error", "message"), BAD_X_PREDICT)
def test_predict_family_bad_X(backend_case, Estimator, where, X, error, message):
    model = fitted(Estimator, backend_case, where)
    before = {k: backend_case.to_numpy(v).copy() for k, v in model.params_.items()}
    Xb, yb = place(backend_case, X, where), place(backend_case, y_for(X.shape[0]), where)
    for method in METHODS:
        with pytest.raises(error, match=message):
            call(model, method, Xb, yb)
    for key, value in model.params_.items():  # a refused call leaves the model as it was
        np.testing.assert_array_equal(backend_case.to_numpy(value), before[key])


def _runtime_warnings(records):
    return [f"{w.category.__name__}: {w.message}" for w in records if issubclass(w.category, RuntimeWarning)]


@ESTIMATORS
@WHERE
@pytest.mark.parametrize("entry", ["fit-inf-and-minus-inf", "predict-inf-and-minus-inf", "predict-large-finite"])
def test_finiteness_check_emits_no_runtime_warning(backend_case, Estimator, where, entry, request):
    # +inf and -inf together, or finite values whose total overflows the dtype: the finiteness test must give the
    # right answer (refuse / accept) silently, without NumPy's overflow or invalid-value RuntimeWarning.
    model = fitted(Estimator, backend_case, init="zeros")
    dtype = backend_case.dtype
    if entry.endswith("large-finite"):
        X_host = np.full((4, 3), 0.5 * float(np.finfo(dtype).max), dtype=dtype)
    else:
        X_host = np.where(np.eye(12, 3) > 0, np.inf, -np.inf).astype(dtype)
    X = place(backend_case, X_host, where)
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        if entry == "fit-inf-and-minus-inf":
            with pytest.raises(ValueError, match="X contains NaN or infinite values"):
                make(Estimator, backend_case, where).fit(X, place(backend_case, Y_HOST, where))
        elif entry == "predict-inf-and-minus-inf":
            for method in METHODS:
                with pytest.raises(ValueError, match="X contains NaN or infinite values"):
                    call(model, method, X, place(backend_case, Y_HOST, where))
        else:
            assert np.isfinite(nc_device.to_numpy(model.decision_function(X))).all()
            assert nc_device.to_numpy(model.predict(X)).shape == (4,)
            assert nc_device.to_numpy(model.predict_proba(X)).shape == (4, 2)
    assert _runtime_warnings(records) == []


@ESTIMATORS
@pytest.mark.parametrize(("X", "message"), HOST_ONLY_X[:3])
def test_predict_family_non_numeric_X(backend_case, Estimator, X, message):
    model = fitted(Estimator, backend_case)
    for method in METHODS:
        with pytest.raises(TypeError, match=message):
            call(model, method, X, Y_HOST)


@ESTIMATORS
@WHERE
@pytest.mark.parametrize("kind", ["bool", "int"])
def test_predict_family_accepts_bool_and_integer_X(backend_case, Estimator, where, kind):
    model = fitted(Estimator, backend_case)
    X = X_HOST > 0 if kind == "bool" else np.round(X_HOST).astype(np.int32)
    Xb = place(backend_case, X, where)
    assert nc_device.to_numpy(model.predict(Xb)).shape == (12,)
    assert nc_device.to_numpy(model.predict_proba(Xb)).shape == (12, 2)
    assert dtype_of(model.decision_function(Xb)) == backend_case.dtype
    assert 0.0 <= model.score(Xb, Y_HOST) <= 1.0


@needs_strict
@ESTIMATORS
@pytest.mark.parametrize("method", METHODS)
def test_predict_family_X_on_another_backend_suggests_to(backend_case, Estimator, method):
    model = fitted(Estimator, backend_case)
    other = other_placement(backend_case)
    X_other = nc_device.to_backend(X_HOST, other, dtype=backend_case.dtype)
    with pytest.raises(ValueError, match=r"X is a array_api_strict array on (array_api_strict:\w+), but the model's "
                                         r"parameters are on \S+; move the model with \.to\('[^']+'\)") as info:
        call(model, method, X_other, Y_HOST)
    suggested = re.search(r"\.to\('([^']+)'\)", str(info.value)).group(1)
    assert str(nc_device.resolve_backend(suggested)) == str(nc_device.resolve_backend(other))
    result = call(model.to(suggested), method, X_other, Y_HOST)  # the advice works
    if method != "score":
        assert str(nc_device.backend_of(result)) == str(nc_device.resolve_backend(other))


# ------------------------------------------------------------------------- bad y at score

BAD_Y_SCORE = [
    pytest.param(np.asarray([0, 7] * 6), ValueError,
                 r"y holds labels \[7\] that are not among the training classes \[0, 1\]", id="unseen-int"),
    pytest.param(np.asarray(["0", "1"] * 6), ValueError,
                 r"y holds labels \['0', '1'\] that are not among the training classes \[0, 1\]", id="unseen-str"),
    pytest.param(np.ones((12, 2)), ValueError, r"y must be 1-D of shape \(n_samples,\), got shape \(12, 2\)", id="2d"),
    pytest.param(Y_HOST[:10], ValueError, "X has 12 samples but y has 10; they must match", id="too-short"),
    pytest.param(np.where(np.arange(12) == 0, np.nan, Y_HOST), ValueError, "y contains NaN or infinite values", id="nan"),
    pytest.param(np.linspace(0.0, 1.0, 12), ValueError, "y holds non-integer numbers", id="continuous"),
]


@ESTIMATORS
@WHERE
@pytest.mark.parametrize(("y", "error", "message"), BAD_Y_SCORE)
def test_score_bad_y(backend_case, Estimator, where, y, error, message):
    model = fitted(Estimator, backend_case, where)
    X = place(backend_case, X_HOST, where)
    y_placed = y if y.dtype.kind == "U" else place(backend_case, y, where)
    with pytest.raises(error, match=message):
        model.score(X, y_placed)


@ESTIMATORS
def test_score_unseen_label_multiclass(backend_case, Estimator):
    model = fitted(Estimator, backend_case, y=Y3_HOST)
    with pytest.raises(ValueError, match=r"y holds labels \[3\] that are not among the training classes \[0, 1, 2\]"):
        model.score(backend_case.asarray(X_HOST), backend_case.asarray(np.asarray([0, 1, 2, 3] * 3)))


@needs_strict
@ESTIMATORS
def test_score_y_on_another_device(backend_case, Estimator):
    model = fitted(Estimator, backend_case)
    y_other = nc_device.to_backend(Y_HOST, other_placement(backend_case))
    with pytest.raises(ValueError, match=r"X is (host data|a \w+ array on \S+) but y is a array_api_strict array"):
        model.score(backend_case.asarray(X_HOST), y_other)


# ---------------------------------------------------------------------------- not fitted


@ESTIMATORS
@pytest.mark.parametrize("method", [*METHODS, "save"])
def test_not_fitted(backend_case, Estimator, method, tmp_path):
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    model = make(Estimator, backend_case, "device")
    X, y = backend_case.asarray(X_HOST), backend_case.asarray(Y_HOST)
    message = rf"this {Estimator.__name__} is not fitted yet; call fit\(X, y\)"
    for expected in (NotFittedError, ValueError, AttributeError):
        with pytest.raises(expected, match=message):
            if method == "save":
                model.save(tmp_path / "m.npz")
            else:
                call(model, method, X, y)
    assert not os.listdir(tmp_path)


# ----------------------------------------------------------------------- hyperparameters

COMMON_BAD_HYPERPARAMETERS = [
    ({"learning_rate": 0}, ValueError, "learning_rate must be a positive finite number, got 0"),
    ({"learning_rate": -0.5}, ValueError, r"learning_rate must be a positive finite number, got -0\.5"),
    ({"learning_rate": float("nan")}, ValueError, "learning_rate must be finite, got nan"),
    ({"learning_rate": float("inf")}, ValueError, "learning_rate must be finite, got inf"),
    ({"max_iter": 0}, ValueError, "max_iter must be at least 1, got 0"),
    ({"max_iter": -5}, ValueError, "max_iter must be at least 1, got -5"),
    ({"max_iter": 2.5}, TypeError, r"max_iter must be an integer, got float 2\.5"),
    ({"optimizer": "sgd"}, ValueError, "optimizer must be one of 'gd', 'momentum', 'nesterov', 'rmsprop', 'adam', got 'sgd'"),
    ({"init": "uniform"}, ValueError, "init must be one of 'zeros', 'normal', 'xavier', 'glorot', 'he', 'lecun', got 'uniform'"),
    ({"backend": "tpu"}, ValueError, r"unknown backend 'tpu' \(from backend='tpu'\); valid names: auto, numpy, cupy, torch, "
                                     r"array_api_strict, jax, dask"),
    ({"backend": "array_api_strict:device9"}, ValueError,
     r"array_api_strict has no device 'device9'; it has \[.*'device1'.*\]"),
    ({"backend": "numpy:gpu"}, ValueError, "backend 'numpy' has only the 'cpu' device, got 'gpu'"),
    ({"backend": 3}, TypeError, "backend must be a string such as 'numpy'"),
    ({"dtype": "int32"}, TypeError, "dtype must be 'float32' or 'float64', got 'int32'"),
    ({"dtype": "float16"}, TypeError, "dtype must be 'float32' or 'float64', got 'float16'"),
    ({"dtype": np.int64}, TypeError, "dtype must be 'float32' or 'float64'"),
    ({"dtype": (None,)}, TypeError, r"dtype must be .float32. or .float64., got \(None,\)"),  # np.dtype((None,)) is a SyntaxError
    ({"dtype": [None]}, TypeError, r"dtype must be .float32. or .float64., got \[None\]"),
]
HYPERPARAMETER_CASES = [
    *[pytest.param(LogisticRegression, *case, id=f"logistic-{next(iter(case[0].items()))}") for case in COMMON_BAD_HYPERPARAMETERS],
    *[pytest.param(TwoLayerNet, *case, id=f"two_layer-{next(iter(case[0].items()))}") for case in COMMON_BAD_HYPERPARAMETERS],
    pytest.param(LogisticRegression, {"solver": "sag"}, ValueError, "solver must be one of 'gd', 'lbfgs', 'newton', got 'sag'",
                 id="logistic-solver"),
    pytest.param(TwoLayerNet, {"hidden_units": 0}, ValueError, "hidden_units must be at least 1, got 0", id="two_layer-hidden-0"),
    pytest.param(TwoLayerNet, {"hidden_units": -3}, ValueError, "hidden_units must be at least 1, got -3",
                 id="two_layer-hidden-neg"),
    pytest.param(TwoLayerNet, {"hidden_units": 2.5}, TypeError, r"hidden_units must be an integer, got float 2\.5",
                 id="two_layer-hidden-float"),
    pytest.param(TwoLayerNet, {"activation": "gelu"}, ValueError,
                 "activation must be one of 'sigmoid', 'tanh', 'relu', 'leaky_relu', got 'gelu'", id="two_layer-activation"),
]


@WHERE
@pytest.mark.parametrize(("Estimator", "kwargs", "error", "message"), HYPERPARAMETER_CASES)
def test_bad_hyperparameters(backend_case, where, Estimator, kwargs, error, message):
    (name, value), = kwargs.items()
    params = {"max_iter": 3, **({"backend": backend_case.spec} if where == "host" else {}), name: value}
    model = Estimator(**params)
    with pytest.raises(error, match=message):
        model.fit(place(backend_case, X_HOST, where), place(backend_case, Y_HOST, where))
    assert not hasattr(model, "params_")
    assert model.get_params()[name] is value  # stored verbatim, never "fixed"


@pytest.mark.skipif(not UNUSABLE_BACKENDS, reason="every known backend is usable here")
@pytest.mark.parametrize("name", UNUSABLE_BACKENDS or ["none"])
@ESTIMATORS
def test_unusable_backend_says_why(Estimator, name):
    with pytest.raises(nc_device.BackendUnavailableError, match=rf"backend '{name}' \(from backend='{name}'\) is not usable: "):
        Estimator(max_iter=2, backend=name).fit(X_HOST, Y_HOST)


# --------------------------------------------------------------------------- save / load


@ESTIMATORS
def test_save_bad_destinations(backend_case, Estimator, tmp_path):
    model = fitted(Estimator, backend_case)
    missing = tmp_path / "no" / "such" / "m.npz"
    with pytest.raises(FileNotFoundError, match=r"cannot write model file .*m\.npz: folder .*such does not exist"):
        model.save(missing)
    with pytest.raises(TypeError, match="metadata must be JSON-serializable"):
        model.save(tmp_path / "m.npz", metadata={"when": object()})
    with pytest.raises(TypeError, match=r"metadata must be JSON-serializable \(no NaN\)"):
        model.save(tmp_path / "m.npz", metadata={"score": float("nan")})
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(OSError, match="[Ii]s a directory"):
        model.save(folder)
    assert sorted(os.listdir(tmp_path)) == ["a-folder"]  # no temporary file, no half model left behind
    assert not os.listdir(folder)


@ESTIMATORS
def test_load_bad_files(backend_case, Estimator, tmp_path):
    spec = backend_case.spec
    with pytest.raises(FileNotFoundError, match="no such model file"):
        nc.load(tmp_path / "none.npz", backend=spec)
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="text.npz is not a neuralcore model file"):
        nc.load(text, backend=spec)
    with pytest.raises(ValueError, match="is not a neuralcore model file"):
        nc.load(tmp_path, backend=spec)
    np.savez(tmp_path / "data.npz", X=X_HOST, y=Y_HOST)
    with pytest.raises(ValueError, match=r"data.npz is not a neuralcore model file \(no metadata\)"):
        nc.load(tmp_path / "data.npz", backend=spec)
    good = tmp_path / "good.npz"
    fitted(Estimator, backend_case).save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(ValueError, match="truncated.npz is not a neuralcore model file"):
        nc.load(truncated, backend=spec)
    loaded = nc.load(good, backend=spec)  # the good file loads on this backend
    for value in loaded.params_.values():
        backend_case.assert_on_case(value)


@pytest.mark.parametrize("content", [b"hello", np.random.default_rng(0).bytes(3000)], ids=["text", "random-bytes"])
def test_load_garbage_does_not_suggest_unpickling(tmp_path, content):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="is not a neuralcore model file") as info:
        nc.load(path)
    assert "pickle" not in str(info.value)


@pytest.mark.parametrize(
    ("backend", "error", "message"),
    [
        ("tpu", ValueError, r"unknown backend 'tpu' \(from backend='tpu'\); valid names: auto, numpy, cupy, torch"),
        ("array_api_strict:device9", ValueError, r"array_api_strict has no device 'device9'; it has \["),
        ("numpy:gpu", ValueError, "backend 'numpy' has only the 'cpu' device"),
        (3, TypeError, "backend must be a string"),
    ],
)
def test_load_bad_backend(backend_case, tmp_path, backend, error, message):
    if backend == "array_api_strict:device9" and not HAVE_STRICT:
        pytest.skip("array_api_strict is not installed")
    path = fitted(LogisticRegression, backend_case).save(tmp_path / "m.npz")
    with pytest.raises(error, match=message):
        nc.load(path, backend=backend)


# -------------------------------------------------- inputs never mutated; read-only accepted

MUTATION_VARIANTS = [
    pytest.param(LogisticRegression, {}, True, Y_HOST, id="logistic-gd-eval_set"),
    pytest.param(LogisticRegression, {"solver": "lbfgs", "alpha": 0.1}, False, Y3_HOST, id="logistic-lbfgs-3class"),
    pytest.param(LogisticRegression, {"solver": "newton", "alpha": 0.1}, False, Y_HOST, id="logistic-newton"),
    pytest.param(LogisticRegression, {"batch_size": 5, "optimizer": "momentum", "validation_fraction": 0.25}, False, Y_HOST,
                 id="logistic-minibatch-validation_fraction"),
    pytest.param(TwoLayerNet, {}, True, Y3_HOST, id="two_layer-gd-eval_set-3class"),
    pytest.param(TwoLayerNet, {"batch_size": 5, "optimizer": "adam", "learning_rate": 0.01}, True, Y_HOST,
                 id="two_layer-adam-minibatch-eval_set"),
]


def _read_only(array):
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return array


@WHERE
@pytest.mark.parametrize(("Estimator", "kwargs", "use_eval_set", "y"), MUTATION_VARIANTS)
def test_inputs_are_never_mutated_and_read_only_inputs_are_accepted(
    backend_case, where, Estimator, kwargs, use_eval_set, y, tmp_path
):
    model = make(Estimator, backend_case, where, **kwargs)
    n_outputs = 1 if len(np.unique(y)) == 2 else len(np.unique(y))
    start = {key: RNG.normal(size=shape) * 0.1 for key, shape in param_shapes(model, 3, n_outputs).items()}
    host = {"X": X_HOST, "y": y, "X_val": X_HOST[:6], "y_val": y[:6], "X_int": np.round(X_HOST * 4).astype(np.int64),
            **{f"init.{k}": v for k, v in start.items()}}
    if where == "host":  # read-only NumPy everywhere
        given = {name: _read_only(value) for name, value in host.items()}
    else:
        given = {name: backend_case.asarray(value) for name, value in host.items()}
    snapshot = {name: backend_case.to_numpy(value).copy() for name, value in given.items()}

    init_params = {k: given[f"init.{k}"] for k in start}
    eval_set = (given["X_val"], given["y_val"]) if use_eval_set else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.ConvergenceWarning)
        model.fit(given["X"], given["y"], init_params=init_params, eval_set=eval_set)
    for X in (given["X"], given["X_int"], given["X_val"]):
        model.predict(X)
        model.predict_proba(X)
        model.decision_function(X)
    model.score(given["X"], given["y"])
    model.score(given["X_val"], given["y_val"])
    path = model.save(tmp_path / "m.npz", metadata={"note": "mutation test"})
    loaded = nc.load(path, backend=backend_case.spec)
    np.testing.assert_array_equal(nc_device.to_numpy(loaded.predict(given["X"])), nc_device.to_numpy(model.predict(given["X"])))

    for name, value in given.items():
        np.testing.assert_array_equal(backend_case.to_numpy(value), snapshot[name], err_msg=f"{name} was modified")
        if where == "host":
            assert not value.flags.writeable
    # the fitted parameters are the model's own memory, not the caller's init_params
    for key, value in model.params_.items():
        assert value is not init_params[key]

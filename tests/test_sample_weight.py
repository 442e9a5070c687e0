"""Sample and class weights (issue 14, part 1): the weighted cost ``sum(w * loss) / sum(w) + penalty``.

An integer weight is the row repeated, weight 0 the row left out, weights ``w`` and ``3 w`` the
same fit; ``class_weight="balanced"`` reaches scikit-learn's optimum; the scores are weighted
accuracies; Dask and every backend give the NumPy numbers; bad weights are clear errors.
"""

import copy
import warnings

import numpy as np
import pytest

import neuralcore as nc
from neuralcore import network
from neuralcore.data import ArrayData, sources
from neuralcore.device import resolve_backend, to_numpy
from neuralcore.validation import stratified_split

RNG = np.random.default_rng(7)
X = RNG.normal(size=(24, 3))
Y2 = (X[:, 0] + 0.5 * X[:, 1] + 0.7 * RNG.normal(size=24) > 0).astype(int)
Y3 = np.argmax(X + 0.7 * RNG.normal(size=X.shape), axis=1)
COUNTS = RNG.integers(0, 4, size=24)  # integer weights, zeros included
COUNTS[:2] = (0, 3)

ESTIMATORS = {
    "logistic-gd": lambda **kw: nc.LogisticRegression(learning_rate=0.5, max_iter=25, alpha=0.01, **kw),
    "logistic-lbfgs": lambda **kw: nc.LogisticRegression(solver="lbfgs", alpha=0.05, max_iter=200, **kw),
    "logistic-newton": lambda **kw: nc.LogisticRegression(solver="newton", alpha=0.05, max_iter=50, **kw),
    "two_layer": lambda **kw: nc.TwoLayerNet(3, learning_rate=0.5, max_iter=25, alpha=0.01, random_state=0, **kw),
    "neural_net": lambda **kw: nc.NeuralNet((4, 3), activation="tanh", learning_rate=0.3, max_iter=25,
                                            init="xavier", random_state=0, **kw),
}


def fitted(make, case, X_host, y, sample_weight=None, **kw):
    model = make(backend=case.spec, dtype=case.dtype, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.ConvergenceWarning)  # a short run: the numbers are what we compare
        return model.fit(case.asarray(X_host), y, sample_weight)


def assert_same_fit(a, b, rtol, atol):
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol, atol=atol)
    for key in a.params_:
        ours, theirs = to_numpy(a.params_[key]), to_numpy(b.params_[key])
        if key == "b" and ours.shape[0] > 1:  # softmax intercepts: a common shift changes nothing
            ours, theirs = ours - ours.mean(), theirs - theirs.mean()
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=key)


def tolerance(case):
    return (1e-10, 1e-10) if case.dtype == "float64" else (2e-4, 2e-5)


def weighted_cost(coef, intercept, X, y_index, weights, alpha):
    """``sum(w * loss) / sum(w) + alpha / 2 * ||coef||**2``, in float64 NumPy (``coef`` (K, f), binary K = 1)."""
    Z = X @ coef.T + intercept
    if Z.shape[1] == 1:
        z = Z[:, 0]
        loss = np.logaddexp(0, z) - z * y_index
    else:
        shifted = Z - Z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_p[np.arange(len(y_index)), y_index]
    return np.sum(weights * loss) / np.sum(weights) + alpha / 2 * np.sum(coef**2)


@pytest.mark.parametrize("y", [Y2, Y3], ids=["binary", "3-class"])
@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
class TestWeightsAreRepetitions:
    def test_integer_weights_equal_repeated_rows(self, make, y, backend_case):
        weighted = fitted(make, backend_case, X, y, COUNTS)
        repeated = fitted(make, backend_case, np.repeat(X, COUNTS, axis=0), np.repeat(y, COUNTS))
        assert_same_fit(weighted, repeated, *tolerance(backend_case))

    def test_scaled_weights_give_the_same_fit(self, make, y, backend_case):
        weights = COUNTS + np.random.default_rng(4).uniform(0, 1, size=COUNTS.shape)
        rtol, atol = tolerance(backend_case)
        assert_same_fit(fitted(make, backend_case, X, y, weights), fitted(make, backend_case, X, y, 3 * weights),
                        rtol=rtol / 10, atol=atol / 10)


class TestZeroWeight:
    @pytest.mark.parametrize("make", [ESTIMATORS["logistic-gd"], ESTIMATORS["neural_net"]], ids=["logistic", "net"])
    def test_weight_zero_drops_the_row(self, make, backend_case):
        weights = np.ones(len(X))
        weights[[3, 10, 11]] = 0
        keep = weights > 0
        assert_same_fit(fitted(make, backend_case, X, Y3, weights),
                        fitted(make, backend_case, X[keep], Y3[keep]), *tolerance(backend_case))

    def test_a_weight_per_class_is_class_weight(self, backend_case):
        # class_weight multiplies sample_weight: {0: 2, 2: 0.5} on y is the sample weights 2 and 0.5 by label
        per_label = np.where(Y3 == 0, 2.0, np.where(Y3 == 2, 0.5, 1.0))
        make = ESTIMATORS["logistic-gd"]
        by_class = fitted(make, backend_case, X, Y3, COUNTS, class_weight={0: 2, 2: 0.5})
        by_sample = fitted(make, backend_case, X, Y3, COUNTS * per_label)
        assert_same_fit(by_class, by_sample, *tolerance(backend_case))


class TestMiniBatches:
    @pytest.mark.parametrize("make", [
        lambda **kw: nc.LogisticRegression(learning_rate=0.3, max_iter=6, batch_size=5, random_state=1, **kw),
        lambda **kw: nc.NeuralNet((4,), learning_rate=0.02, max_iter=6, batch_size=7, optimizer="adam",
                                  random_state=0, **kw),
    ], ids=["logistic-gd", "net-adam"])
    def test_unit_weights_train_as_no_weights(self, make, backend_case):
        # unit weights take the weighted path, whose arithmetic differs by rounding only
        plain = fitted(make, backend_case, X, Y3)
        ones = fitted(make, backend_case, X, Y3, np.ones(len(X)))
        rtol, atol = (1e-12, 1e-12) if backend_case.dtype == "float64" else (1e-5, 1e-6)
        assert_same_fit(plain, ones, rtol, atol)

    @pytest.mark.parametrize("shuffle", [True, False])
    def test_weighted_batches_compose_to_the_weighted_cost(self, shuffle, backend_case):
        # one epoch of batches of 5 at a learning rate of 0: the loss curve is the weighted mean of the losses
        weights = COUNTS + 0.5
        rng = np.random.default_rng(2)
        start = {"W": rng.normal(size=(3, 3)), "b": rng.normal(size=3)}
        model = nc.LogisticRegression(learning_rate=1e-300, max_iter=1, batch_size=5, shuffle=shuffle,
                                      random_state=0, backend=backend_case.spec, dtype=backend_case.dtype)
        model.fit(backend_case.asarray(X), Y3, weights, init_params=start)
        expected = weighted_cost(start["W"].T, start["b"], X, Y3, weights, 0.0)
        assert expected != pytest.approx(weighted_cost(start["W"].T, start["b"], X, Y3, np.ones(len(X)), 0.0))
        assert model.loss_curve_[0] == pytest.approx(expected, rel=backend_case.rtol)


@pytest.mark.chunked
class TestEveryBackendAgreesWithNumpy:
    """Dask (chunked) and every backend: the weighted fit of a float64 NumPy reference."""

    @pytest.mark.parametrize("make", [
        ESTIMATORS["logistic-gd"], ESTIMATORS["logistic-newton"], ESTIMATORS["two_layer"],
        lambda **kw: nc.NeuralNet((4,), learning_rate=0.1, max_iter=5, batch_size=6, shuffle=False,
                                  random_state=0, **kw),
    ], ids=["logistic-gd", "logistic-newton", "two_layer", "net-minibatch"])
    def test_weighted_fit_equals_numpy(self, make, backend_case):
        weights = COUNTS + 0.25
        case = backend_case
        ours = fitted(make, case, X, Y3, weights, class_weight="balanced")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nc.ConvergenceWarning)
            reference = make(backend="numpy", dtype="float64", class_weight="balanced").fit(X, Y3, weights)
        if case.dtype == "float64":
            assert_same_fit(ours, reference, 1e-10, 1e-10)
        else:  # a solver may stop an iteration earlier or later in float32: the same minimum
            ours.loss_curve_, reference.loss_curve_ = ours.loss_curve_[-1:], reference.loss_curve_[-1:]
            assert_same_fit(ours, reference, 1e-4, 1e-4)

    def test_weighted_validation_score(self, backend_case):
        X_val, y_val = X[:10] + 0.3, Y3[:10]
        w_val = np.arange(1.0, 11.0)
        model = nc.LogisticRegression(learning_rate=0.5, max_iter=8, class_weight={1: 3.0},
                                      backend=backend_case.spec, dtype=backend_case.dtype)
        model.fit(backend_case.asarray(X), Y3, eval_set=(backend_case.asarray(X_val), y_val, w_val))
        # the score of the kept parameters, weighted by sample and class weights
        expected = model.score(X_val, y_val, sample_weight=w_val * np.where(y_val == 1, 3.0, 1.0))
        assert model.validation_scores_[model.best_iteration_] == pytest.approx(expected, rel=backend_case.rtol)
        unweighted = model.score(X_val, y_val)
        assert expected != pytest.approx(unweighted)  # the weights matter in this example


class TestBalancedMatchesScikitLearn:
    @pytest.mark.parametrize("y", [Y2, Y3], ids=["binary", "3-class"])
    def test_balanced_lbfgs_reaches_sklearn_optimum(self, y, backend_case):
        sklearn = pytest.importorskip("sklearn.linear_model")
        Xs = np.vstack([X, X[y == 0][:6] + 0.1])  # unbalanced classes
        ys = np.concatenate([y, y[y == 0][:6]])
        weights = np.linspace(0.5, 2.0, len(ys))
        if _sklearn_version() < (1, 6):
            weights = np.ones(len(ys))  # older scikit-learn balances on unweighted counts
        C = 2.0
        classes, index = np.unique(ys, return_inverse=True)
        counts = np.bincount(index, weights=weights)  # balanced on the weighted counts, as scikit-learn >= 1.6
        effective = weights * (weights.sum() / (len(classes) * counts))[index]
        alpha = 1 / (C * effective.sum())  # = 1 / (C * sum(weights))
        ours = nc.LogisticRegression(solver="lbfgs", alpha=alpha, class_weight="balanced", max_iter=1000,
                                     backend=backend_case.spec, dtype=backend_case.dtype)
        ours.fit(backend_case.asarray(Xs), ys, weights)
        theirs = sklearn.LogisticRegression(C=C, class_weight="balanced", tol=1e-12, max_iter=100000)
        theirs.fit(Xs, ys, sample_weight=weights)
        coef, intercept = to_numpy(ours.coef_).astype(np.float64), to_numpy(ours.intercept_).astype(np.float64)
        ours_cost = weighted_cost(coef, intercept, Xs, index, effective, alpha)
        sk_coef, sk_intercept = theirs.coef_, theirs.intercept_
        sklearn_cost = weighted_cost(sk_coef, sk_intercept, Xs, index, effective, alpha)
        assert abs(ours_cost - sklearn_cost) < (1e-6 if backend_case.dtype == "float64" else 1e-5)
        # and ours is the minimum of what our loss_curve_ reports
        assert ours.loss_curve_[-1] == pytest.approx(ours_cost, rel=backend_case.rtol * 10)


class TestScore:
    def test_weighted_accuracy_by_hand(self, backend_case):
        model = nc.LogisticRegression(learning_rate=0.5, max_iter=5, backend=backend_case.spec,
                                      dtype=backend_case.dtype).fit(backend_case.asarray(X), Y3)
        correct = to_numpy(model.predict(backend_case.asarray(X))) == Y3
        assert 0 < correct.mean() < 1
        weights = np.arange(len(X), dtype=float)
        expected = sum(w for w, c in zip(weights, correct) if c) / weights.sum()
        assert model.score(backend_case.asarray(X), Y3, sample_weight=weights) == pytest.approx(expected, rel=1e-12)
        assert model.score(backend_case.asarray(X), Y3, sample_weight=weights) != pytest.approx(correct.mean())
        assert model.score(backend_case.asarray(X), Y3, 2.0) == pytest.approx(correct.mean(), rel=1e-12)


class TestSources:
    def test_validation_fraction_keeps_the_rows_weights(self, backend_case):
        placement = resolve_backend(backend_case.spec)
        Xb = backend_case.asarray(X)
        classes = np.unique(Y3)
        Y_host = np.eye(3, dtype=backend_case.dtype)[Y3]
        weights = COUNTS + 0.5
        data, validation = sources(Xb, Y_host, placement, classes=classes, batch_size=None, shuffle=True,
                                   eval_set=None, fraction=0.3, rng=np.random.default_rng(3), sample_weight=weights)
        train_index, val_index = stratified_split(Y3, 0.3, np.random.default_rng(3), classes.tolist())
        np.testing.assert_allclose(to_numpy(data.sample_weight)[:, 0],
                                   weights[train_index] * len(train_index) / weights[train_index].sum(),
                                   rtol=backend_case.rtol)
        rng = np.random.default_rng(5)
        params = {"W": backend_case.asarray(rng.normal(size=(3, 3))), "b": backend_case.asarray(np.zeros(3))}
        logits = lambda p, A, xp: A @ p["W"] + p["b"]  # noqa: E731
        predicted = np.argmax(X[val_index] @ to_numpy(params["W"]), axis=1)
        correct = predicted == Y3[val_index]
        expected = np.sum(weights[val_index] * correct) / np.sum(weights[val_index])
        assert 0 < expected < 1 and expected != pytest.approx(correct.mean())
        assert float(validation.accuracy(logits)(params)) == pytest.approx(expected, rel=backend_case.rtol)

    def test_weighted_sources_offer_no_kernel_input(self, backend_case):
        Xb, Yb = backend_case.asarray(X), backend_case.asarray(np.eye(3)[Y3])
        assert ArrayData(Xb, Yb).kernel_input is Xb
        weighted = ArrayData(Xb, Yb, sample_weight=COUNTS)
        assert weighted.kernel_input is None
        backend_case.assert_on_case(weighted.sample_weight)
        assert tuple(weighted.sample_weight.shape) == (len(X), 1)

    def test_without_weights_no_weights_are_made(self, backend_case):
        data, _ = sources(backend_case.asarray(X), np.eye(3)[Y3].astype(backend_case.dtype),
                          resolve_backend(backend_case.spec), classes=np.unique(Y3), batch_size=None, shuffle=True,
                          eval_set=None, fraction=None, rng=np.random.default_rng(0))
        assert data.sample_weight is None and data.kernel_input is not None


class TestGradients:
    @pytest.mark.parametrize("K", [1, 3])
    def test_weighted_gradients_by_finite_differences(self, K):
        rng = np.random.default_rng(1)
        params = network.init_params(3, (4,), rng=rng, init="xavier", n_outputs=K)
        Y = np.eye(K)[rng.integers(0, K, size=10)] if K > 1 else rng.integers(0, 2, size=(10, 1)).astype(float)
        Xs, w = rng.normal(size=(10, 3)), rng.uniform(0, 3, size=(10, 1))
        kw = {"activation": "tanh", "alpha": 0.1, "sample_weight": w}
        _, grads = network.loss_and_grads(params, Xs, Y, **kw)
        for key, value in params.items():
            numeric = np.zeros_like(value)
            for index in np.ndindex(value.shape):
                for sign in (1, -1):
                    shifted = {**params, key: value.copy()}
                    shifted[key][index] += sign * 1e-6
                    numeric[index] += sign * float(network.loss_and_grads(shifted, Xs, Y, **kw)[0]) / 2e-6
            np.testing.assert_allclose(grads[key], numeric, rtol=1e-6, atol=1e-8, err_msg=key)


BAD_SAMPLE_WEIGHTS = [
    (np.ones(5), ValueError, "X has 24 samples but sample_weight has 5"),
    (np.ones((24, 2)), ValueError, "sample_weight must be a number or 1-D"),
    (-np.ones(24), ValueError, "sample_weight must be >= 0"),
    (np.r_[np.nan, np.ones(23)], ValueError, "sample_weight contains NaN"),
    (np.r_[np.inf, np.ones(23)], ValueError, "sample_weight contains NaN or infinite"),
    (np.zeros(24), ValueError, "sample_weight is zero for every sample"),
    (0.0, ValueError, "sample_weight given as one number must be finite and > 0"),
    (-2, ValueError, "sample_weight given as one number"),
    ("heavy", TypeError, "sample_weight must be a number or a 1-D array-like"),
    (["a"] * 24, TypeError, "sample_weight must hold real numbers"),
    (np.ones(24) * 1j, TypeError, "sample_weight must hold real numbers"),
    ({"a": 1}, TypeError, "sample_weight must be a number or a 1-D array-like"),
]

BAD_CLASS_WEIGHTS = [
    ("balance", TypeError, "class_weight must be None, 'balanced' or a dict"),
    ([1.0, 2.0, 3.0], TypeError, "class_weight must be None, 'balanced' or a dict"),
    ({7: 1.0}, ValueError, "class_weight names the label 7, which is not one of the classes"),
    ({"0": 1.0}, ValueError, "class_weight names the label '0'"),
    ({0: -1.0}, ValueError, "class_weight[0] must be finite and >= 0"),
    ({0: np.nan}, ValueError, "class_weight[0] must be finite"),
    ({0: "2"}, TypeError, "class_weight[0] must be a real number"),
    ({0: 0, 1: 0, 2: 0}, ValueError, "every sample has weight 0 once sample_weight and class_weight are combined"),
]


class TestBadWeights:
    @pytest.mark.parametrize("weights, error, message", BAD_SAMPLE_WEIGHTS)
    def test_bad_sample_weight_is_a_clear_error_and_the_model_is_untouched(self, weights, error, message):
        model = nc.LogisticRegression(max_iter=3, backend="numpy").fit(X, Y3)
        before = copy.deepcopy(model.__dict__)
        with pytest.raises(error, match=_escaped(message)):
            model.fit(X + 1, Y2, weights)
        assert_same_dict(model.__dict__, before)

    @pytest.mark.parametrize("class_weight, error, message", BAD_CLASS_WEIGHTS)
    def test_bad_class_weight_is_a_clear_error_and_the_model_is_untouched(self, class_weight, error, message):
        model = nc.LogisticRegression(max_iter=3, backend="numpy").fit(X, Y3)
        before = copy.deepcopy(model.__dict__)
        model.set_params(class_weight=class_weight)
        with pytest.raises(error, match=_escaped(message)):
            model.fit(X + 1, Y3)
        model.set_params(class_weight=None)
        assert_same_dict(model.__dict__, before)

    @pytest.mark.chunked
    def test_sample_weight_on_another_backend(self, backend_case):
        weights = backend_case.elsewhere(np.ones(len(X)))
        Xb = X if backend_case.name == "numpy" else backend_case.asarray(X)
        model = nc.LogisticRegression(max_iter=2, backend=backend_case.spec, dtype=backend_case.dtype)
        if backend_case.name == "numpy":
            with pytest.raises(ValueError, match="X is host data but sample_weight is a array_api_strict array"):
                model.fit(Xb, Y3, weights)
        else:  # weights on X's own backend and device are welcome
            model.fit(Xb, Y3, weights)
            assert model.n_iter_ == 2

    @pytest.mark.chunked
    def test_weights_of_x_backend_and_pandas(self, backend_case):
        pd = pytest.importorskip("pandas")
        make = ESTIMATORS["logistic-gd"]
        reference = fitted(make, backend_case, X, Y3, COUNTS.tolist())
        for weights in (backend_case.elsewhere(COUNTS.astype(float)), pd.Series(COUNTS), COUNTS.astype(np.int8)):
            if backend_case.name == "numpy" and not isinstance(weights, (pd.Series, np.ndarray)):
                continue  # host X takes host weights only (tested above)
            assert_same_fit(fitted(make, backend_case, X, Y3, weights), reference, 0, 0)

    def test_eval_set_weights_are_checked(self):
        model = nc.LogisticRegression(max_iter=2, backend="numpy")
        with pytest.raises(ValueError, match="eval_set X has 4 samples but eval_set sample_weight has 3"):
            model.fit(X, Y3, eval_set=(X[:4], Y3[:4], [1, 2, 3]))
        with pytest.raises(TypeError, match="eval_set must be a pair .* or a triple"):
            model.fit(X, Y3, eval_set=(X[:4], Y3[:4], None, None))
        assert not hasattr(model, "params_")

    def test_validation_part_of_weight_zero(self):
        weights = np.where(Y3 == 0, 1.0, 0.0)
        model = nc.LogisticRegression(max_iter=2, backend="numpy", validation_fraction=0.3, random_state=0,
                                      class_weight={0: 0.0, 1: 1.0, 2: 1.0})
        with pytest.raises(ValueError, match="every sample has weight 0"):
            model.fit(X, Y3, weights)
        assert not hasattr(model, "params_")

    def test_inputs_are_not_mutated(self, backend_case):
        weights = COUNTS.astype(backend_case.dtype)
        Xb, copy_X = backend_case.asarray(X), X.copy()
        class_weight = {0: 2.0, 1: 0.5}
        model = nc.NeuralNet((3,), max_iter=3, batch_size=5, class_weight=class_weight, random_state=0,
                              backend=backend_case.spec, dtype=backend_case.dtype)
        model.fit(Xb, Y3, weights, eval_set=(Xb, Y3, weights))
        model.score(Xb, Y3, weights)
        np.testing.assert_array_equal(weights, COUNTS.astype(backend_case.dtype))
        np.testing.assert_array_equal(to_numpy(Xb), copy_X.astype(backend_case.dtype))
        assert class_weight == {0: 2.0, 1: 0.5} and model.class_weight is class_weight


class TestHyperparameter:
    @pytest.mark.parametrize("cls", [nc.LogisticRegression, nc.TwoLayerNet, nc.NeuralNet])
    @pytest.mark.parametrize("class_weight", [
        "balanced", {0: 2, 2: 0.5}, {1: 1.5}, {True: 2.0}, {"b": 0.25, "a": 3}, {1.0: 2.0},
    ], ids=["balanced", "int-keys", "one", "bool", "str", "float-key"])
    def test_save_load_clone_repr_keep_class_weight(self, cls, class_weight, tmp_path):
        y = {str: np.asarray(["a", "b"] * 12), bool: np.asarray([True, False] * 12)}.get(
            type(next(iter(class_weight))) if isinstance(class_weight, dict) else None, Y3)
        model = cls(class_weight=class_weight, max_iter=2, backend="numpy").fit(X, y)
        assert model.get_params()["class_weight"] is class_weight  # stored verbatim
        assert f"class_weight={class_weight!r}" in repr(model)
        sklearn_base = pytest.importorskip("sklearn.base")
        assert sklearn_base.clone(model).class_weight == class_weight
        loaded = nc.load(model.save(tmp_path / "model.npz"))
        assert loaded.class_weight == class_weight
        if isinstance(class_weight, dict):
            assert [(type(k), k) for k in loaded.class_weight] == [(type(k), k) for k in class_weight]
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))

    def test_class_weight_follows_alpha_in_the_signature(self):
        import inspect

        for cls in (nc.LogisticRegression, nc.TwoLayerNet, nc.NeuralNet):
            names = list(inspect.signature(cls).parameters)
            assert names[names.index("alpha") + 1] == "class_weight"
        names = list(inspect.signature(nc.LogisticRegression.fit).parameters)
        assert names[:4] == ["self", "X", "y", "sample_weight"]


def _sklearn_version():
    import sklearn

    return tuple(int(part) for part in sklearn.__version__.split(".")[:2])


def _escaped(message):
    import re

    return re.escape(message)


def assert_same_dict(after, before):
    assert sorted(after) == sorted(before)
    for key, value in before.items():
        assert_same_value(after[key], value, key)


def assert_same_value(after, before, where):
    if isinstance(before, np.random.Generator):
        assert after.bit_generator.state == before.bit_generator.state, where
    elif isinstance(before, dict):
        assert sorted(after, key=repr) == sorted(before, key=repr), where
        for key in before:
            assert_same_value(after[key], before[key], f"{where}[{key!r}]")
    elif isinstance(before, (tuple, list)):
        assert type(after) is type(before) and len(after) == len(before), where
        for index, (a, b) in enumerate(zip(after, before)):
            assert_same_value(a, b, f"{where}[{index}]")
    elif hasattr(before, "shape") and hasattr(before, "dtype"):
        np.testing.assert_array_equal(to_numpy(after), to_numpy(before), err_msg=where)
    else:
        assert after == before, where


class TestContinuedTraining:
    def test_partial_fit_weights_equal_repeated_rows(self, backend_case):
        make = lambda: nc.NeuralNet((4,), activation="tanh", learning_rate=0.3, init="xavier",  # noqa: E731
                                    random_state=0, backend=backend_case.spec, dtype=backend_case.dtype)
        weighted, repeated = make(), make()
        for part in (slice(0, 12), slice(12, 24)):
            counts = COUNTS[part]
            weighted.partial_fit(backend_case.asarray(X[part]), Y3[part], classes=[0, 1, 2], sample_weight=counts)
            repeated.partial_fit(backend_case.asarray(np.repeat(X[part], counts, axis=0)),
                                 np.repeat(Y3[part], counts), classes=[0, 1, 2])
        assert weighted.n_iter_ == 2
        assert_same_fit(weighted, repeated, *tolerance(backend_case))

    def test_partial_fit_takes_a_class_weight_dict_not_balanced(self):
        model = nc.LogisticRegression(class_weight={0: 2.0}, backend="numpy")
        reference = nc.LogisticRegression(backend="numpy")
        model.partial_fit(X, Y3, classes=[0, 1, 2])
        reference.partial_fit(X, Y3, classes=[0, 1, 2], sample_weight=np.where(Y3 == 0, 2.0, 1.0))
        assert_same_fit(model, reference, 1e-12, 1e-12)
        balanced = nc.LogisticRegression(class_weight="balanced", backend="numpy")
        with pytest.raises(ValueError, match="class_weight='balanced' is not supported by partial_fit"):
            balanced.partial_fit(X, Y3, classes=[0, 1, 2])
        assert not hasattr(balanced, "params_")

    def test_warm_start_with_weights_continues_the_weighted_run(self, backend_case):
        settings = dict(learning_rate=0.1, optimizer="adam", batch_size=8, class_weight="balanced", random_state=0,
                        backend=backend_case.spec, dtype=backend_case.dtype)
        once = nc.TwoLayerNet(3, max_iter=6, **settings).fit(backend_case.asarray(X), Y3, COUNTS)
        twice = nc.TwoLayerNet(3, max_iter=3, warm_start=True, **settings)
        twice.fit(backend_case.asarray(X), Y3, COUNTS).fit(backend_case.asarray(X), Y3, COUNTS)
        assert_same_fit(once, twice, 0, 0)

import io
import warnings

import numpy as np
import pytest

from neuralcore.data import ArrayData
from neuralcore.progress import Verbosity
from neuralcore import ConvergenceWarning, DivergenceError, LogisticRegression, logistic, train
from neuralcore.optim import gradient_descent

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 2))
Y = (X[:, :1] + 0.5 * RNG.normal(size=(40, 1)) > 0).astype(np.float64)


def loss_and_grads(params, X, Y):
    return logistic.loss_and_grads(params, X, Y)


def zeros():
    return {"W": np.zeros((2, 1)), "b": np.zeros(1)}


def start(case):
    return {key: case.asarray(value) for key, value in zeros().items()}


def reference_gd(X, Y, learning_rate, steps, batch_size=None, permutations=None):
    """Plain NumPy (mini-batch) gradient descent for logistic regression; the oracle."""
    W, b = np.zeros((X.shape[1], 1)), np.zeros(1)
    epoch_costs = []
    for epoch in range(steps):
        order = permutations[epoch] if permutations is not None else np.arange(len(X))
        size = batch_size or len(X)
        total = 0.0
        for begin in range(0, len(X), size):
            index = order[begin : begin + size]
            Xb, Yb = X[index], Y[index]
            Z = Xb @ W + b
            A = 1 / (1 + np.exp(-Z))
            total += np.sum(np.logaddexp(0, Z) - Z * Yb)
            dZ = A - Yb
            W, b = W - learning_rate * Xb.T @ dZ / len(Xb), b - learning_rate * dZ.mean(axis=0)
        epoch_costs.append(total / len(X))
    return W, b, epoch_costs


class TestFullBatch:
    @pytest.mark.parametrize("max_iter", [1, 255, 256, 257, 600])
    def test_one_cost_per_iteration_across_readback_blocks(self, backend_case, max_iter):
        result = train.train(loss_and_grads, start(backend_case), (backend_case.asarray(X), backend_case.asarray(Y)), optimizer=gradient_descent(0.5), max_iter=max_iter)
        assert len(result.loss_curve) == max_iter and result.n_iter == max_iter
        assert all(isinstance(c, float) for c in result.loss_curve)
        W_ref, _, costs_ref = reference_gd(X, Y, 0.5, max_iter)
        rtol = 1e-10 if backend_case.dtype == "float64" else 1e-4
        np.testing.assert_allclose(result.loss_curve, costs_ref, rtol=rtol)
        np.testing.assert_allclose(backend_case.to_numpy(result.params["W"]), W_ref, rtol=rtol)
        for value in result.params.values():
            backend_case.assert_on_case(value)
        assert result.validation_scores is None

    def test_starting_parameters_not_modified(self, backend_case):
        params = start(backend_case)
        train.train(loss_and_grads, params, (backend_case.asarray(X), backend_case.asarray(Y)), optimizer=gradient_descent(0.5), max_iter=5)
        assert not backend_case.to_numpy(params["W"]).any()

    def test_reference_budget_bounds_the_block(self, monkeypatch):
        monkeypatch.setattr(train, "REFERENCE_BUDGET", 3 * 8 * 3)  # three epochs of W (2x1) + b (1)
        assert train._block_length(zeros(), 256) == 3
        result = train.train(loss_and_grads, zeros(), (X, Y), optimizer=gradient_descent(0.5), max_iter=10)
        assert len(result.loss_curve) == 10


class TestMiniBatch:
    @pytest.mark.parametrize("batch_size", [7, 16, 40, 64])
    def test_matches_reference_with_host_shuffling(self, backend_case, batch_size):
        epochs = 6
        rng = np.random.default_rng(11)
        permutations = [rng.permutation(len(X)) for _ in range(epochs)]
        W_ref, _, costs_ref = reference_gd(X, Y, 0.3, epochs, batch_size=batch_size, permutations=permutations if batch_size < len(X) else None)
        result = train.train(loss_and_grads, start(backend_case), ArrayData(backend_case.asarray(X), backend_case.asarray(Y), batch_size=batch_size), optimizer=gradient_descent(0.3), max_iter=epochs, rng=np.random.default_rng(11))
        rtol = 1e-10 if backend_case.dtype == "float64" else 1e-4
        assert len(result.loss_curve) == epochs
        if batch_size >= len(X):  # full batch: the cost is measured before the update
            costs_ref = reference_gd(X, Y, 0.3, epochs)[2]
        np.testing.assert_allclose(result.loss_curve, costs_ref, rtol=rtol)
        np.testing.assert_allclose(backend_case.to_numpy(result.params["W"]), W_ref, rtol=rtol)

    def test_last_smaller_batch_is_used(self):
        sizes = []

        def recording(params, Xb, Yb):
            sizes.append(Xb.shape[0])
            return loss_and_grads(params, Xb, Yb)

        train.train(recording, zeros(), ArrayData(X, Y, batch_size=16, shuffle=False), optimizer=gradient_descent(0.1), max_iter=2)
        assert sizes == [16, 16, 8, 16, 16, 8]

    def test_no_shuffle_keeps_order(self):
        seen = []

        def recording(params, Xb, Yb):
            seen.append(np.asarray(Xb)[0, 0])
            return loss_and_grads(params, Xb, Yb)

        train.train(recording, zeros(), ArrayData(X, Y, batch_size=10, shuffle=False), optimizer=gradient_descent(0.1), max_iter=1)
        assert seen == [X[0, 0], X[10, 0], X[20, 0], X[30, 0]]


class TestStoppingRules:
    def test_tol_stops_and_keeps_the_last_parameters(self):
        result = train.train(loss_and_grads, zeros(), (X, Y), optimizer=gradient_descent(0.5), max_iter=5000, tol=1e-4, n_iter_no_change=5)
        assert result.n_iter < 5000
        costs = result.loss_curve
        # each of the last n_iter_no_change epochs failed to beat the best before it by tol
        for i in range(len(costs) - 5, len(costs)):
            assert costs[i] > min(costs[:i]) - 1e-4
        # and the epoch before them did beat it
        i = len(costs) - 6
        assert costs[i] <= min(costs[:i]) - 1e-4
        W_ref, _, _ = reference_gd(X, Y, 0.5, result.n_iter)
        np.testing.assert_allclose(result.params["W"], W_ref, rtol=1e-12)

    def test_convergence_warning_when_max_iter_comes_first(self):
        with pytest.warns(ConvergenceWarning, match="max_iter=20 before the cost stopped improving by tol=1e-12"):
            train.train(loss_and_grads, zeros(), (X, Y), optimizer=gradient_descent(0.5), max_iter=20, tol=1e-12)

    def test_no_warning_without_tol(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            train.train(loss_and_grads, zeros(), (X, Y), optimizer=gradient_descent(0.5), max_iter=20)

    def test_early_stopping_restores_the_best_parameters(self, backend_case):
        X_val = backend_case.asarray(X[:10] + 0.8)
        Y_val = backend_case.asarray(Y[:10])
        scores_seen = []

        def validation(params):
            Z = logistic.logits(params, X_val)
            score = backend_case.xp.mean(backend_case.xp.astype((Z[:, 0] > 0) == (Y_val[:, 0] > 0.5), Y_val.dtype))
            scores_seen.append(score)
            return score

        result = train.train(loss_and_grads, start(backend_case), (backend_case.asarray(X), backend_case.asarray(Y)), optimizer=gradient_descent(0.5), max_iter=400, validation=validation, n_iter_no_change=15)
        scores = result.validation_scores
        assert len(scores) == result.n_iter == len(result.loss_curve)
        best = result.best_iteration
        assert scores[best] == max(scores) and scores.index(max(scores)) == best
        assert result.n_iter == best + 16
        # full batch: the score of epoch e describes the parameters after e updates
        W_ref, _, _ = reference_gd(X, Y, 0.5, best)
        rtol = 1e-10 if backend_case.dtype == "float64" else 1e-4
        np.testing.assert_allclose(backend_case.to_numpy(result.params["W"]), W_ref, rtol=rtol, atol=1e-7)


class TestProgress:
    def test_verbose_2_prints_like_the_course(self):
        stream = io.StringIO()
        result = train.train(loss_and_grads, zeros(), (X, Y), optimizer=gradient_descent(0.5), max_iter=2500, verbose=Verbosity(2, stream=stream))
        lines = stream.getvalue().splitlines()
        assert lines == [f"Cost after iteration {i}: {result.loss_curve[i]:f}" for i in range(0, 2500, 100)]
        assert lines[0] == "Cost after iteration 0: 0.693147"

    def test_print_every(self):
        stream = io.StringIO()
        train.train(loss_and_grads, zeros(), (X, Y), optimizer=gradient_descent(0.5), max_iter=30, verbose=Verbosity(2, print_every=7, stream=stream))
        assert [int(line.split()[3][:-1]) for line in stream.getvalue().splitlines()] == [0, 7, 14, 21, 28]

    def test_verbose_2_mini_batch_prints_epochs(self):
        stream = io.StringIO()
        train.train(loss_and_grads, zeros(), ArrayData(X, Y, batch_size=8), optimizer=gradient_descent(0.5), max_iter=3, verbose=Verbosity(2, stream=stream))
        assert [line.split(":")[0] for line in stream.getvalue().splitlines()] == [f"Cost after epoch {i}" for i in range(3)]

    def test_estimator_verbose_2(self, capsys):
        LogisticRegression(max_iter=101, verbose=2, backend="numpy").fit(X, Y[:, 0])
        assert capsys.readouterr().out.splitlines()[-1].startswith("Cost after iteration 100: ")

    def test_verbose_1_is_quiet_when_not_on_a_terminal(self, capsys):
        LogisticRegression(max_iter=300, verbose=1, backend="numpy").fit(X, Y[:, 0])
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err == ""

    def test_verbose_1_draws_a_bar_on_a_terminal(self, monkeypatch):
        tqdm = pytest.importorskip("tqdm")

        class Terminal(io.StringIO):
            def isatty(self):
                return True

        screen = Terminal()
        monkeypatch.setattr("sys.stderr", screen)
        import neuralcore.progress as progress

        bar = progress.Progress(1000, verbose=1, print_every=100, full_batch=True)
        assert isinstance(bar.bar, tqdm.tqdm)  # tqdm's bar, not a fallback that prints the same numbers
        bar.bar.delay = 0  # draw at once instead of after a second
        for i in range(1000):
            bar.advance()
        bar.report(0, [0.5])
        bar.bar.refresh()
        bar.close()
        assert "1000/1000" in screen.getvalue() and "cost=0.500000" in screen.getvalue()

    def test_silent_by_default(self, capsys):
        LogisticRegression(max_iter=101, backend="numpy").fit(X, Y[:, 0])
        assert capsys.readouterr().out == ""


class TestDivergence:
    def test_non_finite_start(self):
        def broken(params, X, Y):
            cost, grads = loss_and_grads(params, X, Y)
            return cost * np.inf, grads

        with pytest.raises(DivergenceError, match="cost at the starting parameters is not finite") as info:
            train.train(broken, zeros(), (X, Y), optimizer=gradient_descent(0.1), max_iter=3)
        assert info.value.iteration == 0 and not info.value.params["W"].any()

    @pytest.mark.parametrize("bad_at", [1, 255, 256, 257, 300])
    def test_located_exactly_across_blocks(self, bad_at):
        calls = {"n": 0}

        def flaky(params, X, Y):
            cost, grads = loss_and_grads(params, X, Y)
            calls["n"] += 1
            return (cost * np.nan if calls["n"] == bad_at + 1 else cost), grads

        with pytest.raises(DivergenceError, match=f"at iteration {bad_at} ") as info:
            train.train(flaky, zeros(), (X, Y), optimizer=gradient_descent(0.1), max_iter=400)
        W_ref, _, _ = reference_gd(X, Y, 0.1, bad_at - 1)
        np.testing.assert_allclose(info.value.params["W"], W_ref, rtol=1e-12)
        assert len(info.value.loss_curve) == bad_at

    def test_mini_batch_keeps_the_parameters_at_the_start_of_the_epoch(self):
        calls = {"n": 0}

        def flaky(params, X, Y):
            cost, grads = loss_and_grads(params, X, Y)
            calls["n"] += 1
            return (cost * np.nan if calls["n"] == 9 else cost), grads  # batch 1 of epoch 2 (4 batches an epoch)

        with pytest.raises(DivergenceError, match="at iteration 2 ") as info:
            train.train(flaky, zeros(), ArrayData(X, Y, batch_size=10, shuffle=False), optimizer=gradient_descent(0.1), max_iter=5)
        W_ref, _, _ = reference_gd(X, Y, 0.1, 2, batch_size=10)
        np.testing.assert_allclose(info.value.params["W"], W_ref, rtol=1e-12)

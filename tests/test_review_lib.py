"""Review of the library code (session 4): the fixes found in the final review, each pinned by a test."""

import numpy as np
import pytest

from neuralcore.weights import check_sample_weight


class TestCheckSampleWeight:
    @pytest.mark.parametrize("values, shown", [
        ([1.0, "a", 2.0], "str 'a' at index 1"),
        ([1, 2, {3}], r"set \{3\} at index 2"),
    ])
    def test_a_value_that_is_no_number_is_named_with_its_index(self, values, shown):
        # an object array holding one bad entry: the message names that entry, not the first (good) one
        with pytest.raises(TypeError, match=f"sample_weight must hold real numbers, got {shown}"):
            check_sample_weight(np.asarray(values, dtype=object), 3)


class TestCheckpoints:
    def test_a_model_that_cannot_be_retraced_is_refused_at_the_call(self):
        # checkpoints() is documented to raise for an unfitted or unretraceable model: at the call, not at the
        # first next() of a generator the caller may never have reached (or reaches far from the cause)
        from neuralcore import LogisticRegression
        from neuralcore.plot import checkpoints

        X, y = np.asarray([[0.0], [1.0], [2.0], [3.0]]), np.asarray([0, 0, 1, 1])
        with pytest.raises(ValueError, match="needs a fitted model"):
            checkpoints(LogisticRegression(), X, y)
        fitted = LogisticRegression(solver="lbfgs", backend="numpy").fit(X, y)
        with pytest.raises(ValueError, match="cannot retrace this training exactly: solver='lbfgs'"):
            checkpoints(fitted, X, y)


def test_divergence_summary_leaves_out_the_params_sentence_for_every_kind():
    # the command line shows error.summary: no variant may leak "this error's .params" (it used to cut the message
    # at one variant's wording only)
    import pickle

    from neuralcore.train import _divergence

    cases = [dict(index=3, cost=float("nan")), dict(index=3, cost=1e9, limit=10.0), dict(index=0, full_batch=False),
             dict(index=2, final=True), dict(index=0)]
    for case in cases:
        error = _divergence(params={}, loss_curve=[0.5, 0.4], n_iter=1, start_cost=0.7, **case)
        assert ".params" not in error.summary and str(error).startswith(error.summary), case
        assert pickle.loads(pickle.dumps(error)).summary == error.summary


def test_one_stratified_split_rule_for_the_command_line_and_validation_fraction():
    # loaders.stratified_split (--test-fraction) is the library's split with each class clamped to at least one
    # row on each side; without the clamp a class too small for the fraction is an error, as validation_fraction's
    from neuralcore.loaders import stratified_split as cli_split
    from neuralcore.validation import stratified_split

    y = np.array([0] * 9 + [1] * 3 + [2] * 2)
    train, test = cli_split(y, 0.1, seed=4)
    assert [int(np.sum(y[test] == k)) for k in range(3)] == [1, 1, 1]  # round(0.1 * 3) = 0, clamped to 1
    expected = stratified_split(y, 0.1, np.random.default_rng(4), clamp=True)
    np.testing.assert_array_equal(train, expected[0])
    np.testing.assert_array_equal(test, expected[1])
    with pytest.raises(ValueError, match="each needs at least one"):
        stratified_split(y, 0.1, np.random.default_rng(4))

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

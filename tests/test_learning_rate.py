"""The learning-rate schedule: a factor in [0, 1] of the step alone, never rising, 1 at the start."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from semantic_inpaint.training.learning_rate import learning_rate_factor


@given(steps=st.integers(1, 100_000), data=st.data())
def test_cosine_starts_at_one_never_rises_and_stays_above_zero(steps: int, data: st.DataObject) -> None:
    step = data.draw(st.integers(0, steps - 1))
    later = data.draw(st.integers(step, steps - 1))
    factor = learning_rate_factor("cosine", step, steps)
    assert learning_rate_factor("cosine", 0, steps) == 1.0
    assert 0 < factor <= 1
    assert learning_rate_factor("cosine", later, steps) <= factor
    assert learning_rate_factor("constant", step, steps) == 1.0


def test_the_last_step_of_a_long_cosine_run_is_nearly_still() -> None:
    assert learning_rate_factor("cosine", 1999, 2000) == pytest.approx(0, abs=1e-5)
    assert learning_rate_factor("cosine", 1000, 2000) == pytest.approx(0.5)


@pytest.mark.parametrize("step", [-1, 10])
def test_a_step_outside_the_run_is_refused(step: int) -> None:
    with pytest.raises(ValueError, match=rf"step: expected 0 <= step < steps=10, received {step}"):
        learning_rate_factor("cosine", step, 10)

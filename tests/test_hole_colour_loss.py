"""The hole-colour terms: they see mean colours (the hole's; the raw output's hole and ring) and
nothing else, and they train."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint.config import RunConfig
from semantic_inpaint.hole_colour_loss import hole_colour_l2, known_ring, raw_colour_l2
from semantic_inpaint.poisson_blend import poisson_blend
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_run


def random_holes(seed: int, batch: int, side: int) -> torch.Tensor:
    """``(batch, 1, side, side)`` rectangles at random places, the first image without a hole."""
    generator = torch.Generator().manual_seed(seed)
    hole = torch.zeros(batch, 1, side, side)
    for index in range(1, batch):
        top, left = torch.randint(0, side // 2, (2,), generator=generator).tolist()
        height, width = torch.randint(1, side // 2 + 1, (2,), generator=generator).tolist()
        hole[index, :, top : top + height, left : left + width] = 1
    return hole


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), offset=st.floats(-1, 1), batch=st.integers(2, 5))
def test_the_term_is_the_squared_mean_shift_of_the_hole_and_blind_to_detail_and_known_pixels(
    seed: int, offset: float, batch: int
) -> None:
    torch.manual_seed(seed)
    target = torch.rand(batch, 3, 16, 16) * 2 - 1
    hole = random_holes(seed, batch, 16)
    detail = torch.randn(batch, 3, 16, 16) * hole
    area = hole.sum(dim=(2, 3), keepdim=True).clamp_min(1)
    detail = (detail - detail.sum(dim=(2, 3), keepdim=True) / area) * hole  # zero mean in every hole
    assert float(hole_colour_l2(target + detail, target, hole)) < 1e-10
    assert float(hole_colour_l2(target + torch.randn_like(target) * (1 - hole), target, hole)) == 0.0
    shifted = float(hole_colour_l2(target + offset * hole, target, hole))
    expected = offset**2 * (batch - 1) / batch  # the image without a hole counts as no error
    assert shifted == pytest.approx(expected, abs=1e-6)


def test_its_gradient_moves_each_holes_colour_as_a_whole_and_nothing_outside() -> None:
    torch.manual_seed(0)
    target = torch.rand(3, 3, 16, 16) * 2 - 1
    hole = random_holes(1, 3, 16)
    prediction = (target + 0.3 * torch.randn_like(target)).requires_grad_(True)
    hole_colour_l2(prediction, target, hole).backward()
    gradient = prediction.grad
    assert gradient is not None and torch.isfinite(gradient).all()
    assert gradient[0].abs().sum() == 0  # no hole: no gradient, and no NaN from an empty mean
    assert (gradient * (1 - hole)).abs().sum() == 0
    for index in (1, 2):
        inside = gradient[index][:, hole[index, 0] > 0]  # (3, pixels of the hole)
        assert inside.abs().sum() > 0
        torch.testing.assert_close(inside, inside[:, :1].expand_as(inside))  # one value per channel


def test_a_run_logs_the_term_only_when_it_is_asked_for(tmp_path: Path) -> None:
    paper = Trainer(tiny_run(tmp_path / "paper", steps=1, recalibration_batches=0)).fit(progress=False)
    assert "hole_colour" not in paper
    config = tiny_run(tmp_path / "colour", steps=2, recalibration_batches=0).model_dump()
    config["model"] |= {"hole_colour_weight": 1.0, "blend_in_training": True}
    config["model"]["control"] = {"swap_share": 0.5, "consistency_weight": 1.0}
    record = Trainer(RunConfig.model_validate(config)).fit(progress=False)
    assert record["step"] == 2 and record["hole_colour"] > 0


def test_the_term_alone_removes_a_colour_cast_from_a_trained_offset() -> None:
    torch.manual_seed(0)
    target = torch.rand(8, 3, 16, 16) * 2 - 1
    hole = random_holes(2, 8, 16)
    cast = torch.tensor([0.2, -0.1, 0.05]).view(1, 3, 1, 1)
    correction = torch.zeros(1, 3, 1, 1, requires_grad=True)
    optimizer = torch.optim.SGD([correction], lr=1.0)
    for _ in range(200):
        optimizer.zero_grad()
        hole_colour_l2(target + cast + correction, target, hole).backward()
        optimizer.step()
    torch.testing.assert_close(correction.detach(), -cast, atol=1e-3, rtol=0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), hole_shift=st.floats(-1, 1), ring_shift=st.floats(-1, 1))
def test_the_raw_term_holds_the_hole_and_its_ring_and_ignores_the_rest(
    seed: int, hole_shift: float, ring_shift: float
) -> None:
    torch.manual_seed(seed)
    target = torch.rand(4, 3, 16, 16) * 2 - 1
    hole = random_holes(seed, 4, 16)
    ring = known_ring(hole)
    assert not (ring * hole).any() and torch.equal(ring + hole, (ring + hole).clamp(0, 1))
    far = 1 - hole - ring
    assert float(raw_colour_l2(target + torch.randn_like(target) * far, target, hole)) == 0.0
    shifted = raw_colour_l2(target + hole_shift * hole + ring_shift * ring, target, hole)
    expected = (hole_shift**2 + ring_shift**2) * 3 / 4  # the first image has neither hole nor ring
    assert float(shifted) == pytest.approx(expected, abs=1e-6)


def test_a_shift_shared_by_fill_and_ring_survives_the_blend_but_not_the_raw_term() -> None:
    """Why the raw term exists: the blended fill is blind to a shift of the whole output."""
    torch.manual_seed(0)
    target = torch.rand(2, 3, 16, 16) * 2 - 1
    hole = torch.zeros(2, 1, 16, 16)
    hole[..., 4:12, 4:12] = 1
    shifted = target + 0.3
    in_hole = poisson_blend(shifted, target, hole) * hole
    torch.testing.assert_close(in_hole, poisson_blend(target, target, hole) * hole, atol=1e-4, rtol=0)
    assert float(raw_colour_l2(shifted, target, hole)) == pytest.approx(2 * 0.09, abs=1e-6)


def test_the_raw_term_needs_the_blend_and_a_run_logs_it(tmp_path: Path) -> None:
    config = tiny_run(tmp_path / "raw", steps=2, recalibration_batches=0).model_dump()
    config["model"] |= {"raw_colour_weight": 1.0}
    with pytest.raises(ValueError, match="raw_colour_weight: used only with blend_in_training true"):
        RunConfig.model_validate(config)
    config["model"] |= {"blend_in_training": True}
    record = Trainer(RunConfig.model_validate(config)).fit(progress=False)
    assert record["step"] == 2 and record["raw_colour"] > 0 and "hole_colour" not in record

"""GL's local discriminator: it judges the square around each hole, and trains with the model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint.config import ModelConfig, RunConfig
from semantic_inpaint.hole_crops import hole_centres, hole_crops
from semantic_inpaint.registry import get_registry
from semantic_inpaint.training import Trainer
from semantic_inpaint.training.trainer import with_new_option_defaults
from tests.conftest import tiny_model, tiny_run


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(4, 32),
    top=st.integers(0, 31),
    left=st.integers(0, 31),
    height=st.integers(1, 12),
    width=st.integers(1, 12),
)
def test_the_crop_is_the_square_around_the_hole_inside_the_image(
    size: int, top: int, left: int, height: int, width: int
) -> None:
    images = torch.rand(2, 3, 32, 32, requires_grad=True)
    mask = torch.zeros(2, 1, 32, 32)
    mask[0, :, top : top + height, left : left + width] = 1
    crops = hole_crops(images, mask, size)
    assert crops.shape == (2, 3, size, size)
    bottom, right = min(top + height, 32), min(left + width, 32)
    if max(bottom - top, right - left) <= size:  # the whole hole fits: the crop holds all of it
        hole_crop = hole_crops(mask, mask, size)
        assert hole_crop[0].sum() == mask[0].sum()
    # a crop is the image's own pixels: find it by its top-left corner
    centre_y, centre_x = hole_centres(mask)
    y0 = int((centre_y[0] - size / 2).round().clamp(0, 32 - size))
    x0 = int((centre_x[0] - size / 2).round().clamp(0, 32 - size))
    assert torch.equal(crops[0], images[0, :, y0 : y0 + size, x0 : x0 + size])
    crops.sum().backward()
    assert images.grad is not None and images.grad[0].sum() == 3 * size * size


def test_a_crop_larger_than_the_image_is_named() -> None:
    with pytest.raises(ValueError, match=r"size: expected a crop side in \[1, 16\], received 20"):
        hole_crops(torch.zeros(1, 3, 16, 16), torch.zeros(1, 1, 16, 16), 20)
    with pytest.raises(ValueError, match="local_size: expected at most the resolution"):
        ModelConfig.model_validate({**tiny_model(), "local_discriminator": {"name": "conv"}, "local_size": 64})


def test_a_model_with_a_local_discriminator_trains_it(tmp_path: Path) -> None:
    config = tiny_run(tmp_path / "run", steps=2, recalibration_batches=0).model_dump()
    config["model"]["local_discriminator"] = {"name": "conv", "options": {"width": 8, "condition_stride": 8}}
    trainer = Trainer(RunConfig.model_validate(config))
    local = trainer.model.local_discriminator
    before = [p.detach().clone() for p in local.parameters()]
    record = trainer.fit(progress=False)
    assert record["adv_local"] > 0 and trainer.model.local_size == 16
    assert any(not torch.equal(a, b) for a, b in zip(before, local.parameters(), strict=True))  # it learnt


def test_a_resume_fills_the_local_discriminators_later_options_like_every_other_components() -> None:
    config = ModelConfig.model_validate({**tiny_model(), "local_discriminator": {"name": "conv", "options": {}}})
    filled = with_new_option_defaults(config, get_registry())
    fields = get_registry().get("discriminator", "conv").options_model.model_fields
    optional = {name for name, field in fields.items() if not field.is_required()}
    assert optional and set(filled.local_discriminator.options) == optional

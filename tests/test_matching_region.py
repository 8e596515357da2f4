"""A matching discriminator that judges the hole's square: only the pixels a fill can change."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from semantic_inpaint.config import ModelConfig, RunConfig
from semantic_inpaint.model import BoostedGAN
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_model, tiny_run


def hole_region_run(output_dir: Path, steps: int) -> RunConfig:
    """The tiny run with both conditions judged on the 16 px square around each hole."""
    config = tiny_run(output_dir, steps=steps, recalibration_batches=0).model_dump()
    for condition in config["model"]["conditions"]:
        condition["matching_region"] = "hole"
    return RunConfig.model_validate(config)


def test_the_matching_logits_see_the_holes_square_and_nothing_else(tmp_path: Path) -> None:
    trainer = Trainer(hole_region_run(tmp_path / "run", steps=1))
    trainer.model.eval()
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    mask = torch.zeros(2, 1, 32, 32)
    mask[0, :, 4:12, 6:14] = 1  # near a corner: its square is moved inside the image
    mask[1, :, 12:20, 12:20] = 1
    signals = {"attribute": torch.rand(2, 6), "segmentation": torch.rand(2, 10, 32, 32).softmax(1)}
    outside = torch.ones(2, 1, 32, 32)
    outside[0, :, 0:16, 2:18] = 0  # the 16 px squares centred on the two holes
    outside[1, :, 8:24, 8:24] = 0

    def judge(images: torch.Tensor, signals: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        with torch.no_grad():
            return trainer._judge(images, mask, signals, training=False)

    realness, matching = judge(images, signals)
    changed_outside = images * (1 - outside) + torch.rand_like(images) * outside
    maps_outside = {
        **signals,
        "segmentation": signals["segmentation"].flip(1) * outside + signals["segmentation"] * (1 - outside),
    }
    realness_out, matching_out = judge(changed_outside, maps_outside)
    _, matching_in = judge(images.flip(-1), signals)
    assert not torch.allclose(realness, realness_out)  # the global discriminator sees the whole image
    for name in signals:
        assert torch.allclose(matching[name], matching_out[name]), name
        assert not torch.allclose(matching[name], matching_in[name]), name


def test_a_model_whose_conditions_judge_the_holes_trains_them(tmp_path: Path) -> None:
    trainer = Trainer(hole_region_run(tmp_path / "run", steps=2))
    discriminators = [condition.discriminator for condition in trainer.model.conditions.values()]
    before = [[p.detach().clone() for p in d.parameters()] for d in discriminators]
    record = trainer.fit(progress=False)
    assert record["adv_attribute"] > 0 and record["adv_segmentation"] > 0
    for old, discriminator in zip(before, discriminators, strict=True):
        assert any(not torch.equal(a, b) for a, b in zip(old, discriminator.parameters(), strict=True))
    assert trainer.model.config.conditions[0].matching_region == "hole"  # what the checkpoint records


def test_a_shared_trunk_cannot_judge_the_holes() -> None:
    config = tiny_model()
    config["discriminator"] = {"name": "shared_trunk", "options": {"width": 8}}
    config["conditions"][0]["matching_region"] = "hole"
    with pytest.raises(ValueError, match=r"conditions\[0\].matching_region: .* expected 'image', received 'hole'"):
        BoostedGAN(ModelConfig.model_validate(config))

"""The perceptual term: any frozen embedder's features, offline, with gradients to the fill only."""

from __future__ import annotations

from pathlib import Path

import torch

from semantic_inpaint.config import RunConfig
from semantic_inpaint.registry import get_registry
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_run

SHIPPED = {"name": "attribute", "options": {"weights": "shipped:celebahq64-attribute"}}


def test_the_shipped_embedder_is_a_perceptual_network_that_stays_frozen() -> None:
    loss = get_registry().build("reconstruction_loss", "perceptual", {"embedder": SHIPPED, "feature_weight": 1.0})
    before = {k: v.clone() for k, v in loss.network.state_dict().items()}
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(2, 3, 64, 64, generator=generator) * 2 - 1
    mask = torch.zeros(2, 1, 64, 64)
    mask[..., 16:48, 16:48] = 1
    near = (target + 0.05 * torch.randn(2, 3, 64, 64, generator=generator)).clamp(-1, 1).requires_grad_(True)
    far = torch.rand(2, 3, 64, 64, generator=generator) * 2 - 1
    assert float(loss(target, target, mask)) == 0
    near_loss = loss(near, target, mask)
    assert 0 < near_loss < loss(far, target, mask)
    near_loss.backward()
    assert near.grad is not None and near.grad.abs().sum() > 0
    assert all(torch.equal(before[k], v) for k, v in loss.network.state_dict().items())
    pixels_only = get_registry().build("reconstruction_loss", "hole_l1")
    assert loss(far, target, mask) > pixels_only(far, target, mask)  # the feature term adds to the pixels


def test_a_model_trains_with_the_perceptual_term(tmp_path: Path) -> None:
    config = tiny_run(tmp_path / "run", steps=2, recalibration_batches=0).model_dump()
    tiny = {"name": "attribute", "options": {"num_attributes": 4, "width": 4}}
    config["model"]["reconstruction"] = {"name": "perceptual", "options": {"embedder": tiny}}
    record = Trainer(RunConfig.model_validate(config)).fit(progress=False)
    assert record["step"] == 2 and record["reconstruction"] > 0

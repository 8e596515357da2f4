"""Discriminator feature matching: zero for the original, a gradient for the fill, trains."""

from __future__ import annotations

from pathlib import Path

import torch

from semantic_inpaint.config import RunConfig
from semantic_inpaint.convolution_features import convolution_features
from semantic_inpaint.feature_matching import feature_matching_loss
from semantic_inpaint.models import PatchDiscriminator
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_run


def test_features_of_every_convolution_and_a_gradient_for_the_fill_only() -> None:
    torch.manual_seed(0)
    discriminator = PatchDiscriminator(resolution=32, width=4).eval()  # spectral norm: no power step per call
    real = torch.rand(2, 3, 32, 32) * 2 - 1
    fake = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_(True)
    convolutions = sum(isinstance(m, torch.nn.Conv2d) for m in discriminator.modules())
    assert len(convolution_features(discriminator, real)) == convolutions > 1
    assert float(feature_matching_loss(discriminator, real, real)) == 0
    loss = feature_matching_loss(discriminator, real, fake)
    loss.backward()
    assert loss > 0 and fake.grad is not None and fake.grad.abs().sum() > 0


def test_a_model_trains_with_feature_matching(tmp_path: Path) -> None:
    config = tiny_run(tmp_path / "run", steps=2, recalibration_batches=0).model_dump()
    config["model"]["feature_matching"] = 10.0
    record = Trainer(RunConfig.model_validate(config)).fit(progress=False)
    assert record["step"] == 2 and record["feature_matching"] > 0

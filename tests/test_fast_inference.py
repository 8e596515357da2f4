"""The Inpainter runs a fast copy of the model (BatchNorm folded, channels-last, optionally
compiled) that gives the model's own outputs and leaves the model as it was."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from semantic_inpaint import Inpainter
from semantic_inpaint.config import ModelConfig
from semantic_inpaint.folding import fold_batchnorm
from semantic_inpaint.model import BoostedGAN
from tests.conftest import tiny_model


def trained_looking_model() -> BoostedGAN:
    """A tiny full model whose BatchNorm statistics and affine parameters are not the initial ones."""
    torch.manual_seed(0)
    model = BoostedGAN(ModelConfig.model_validate(tiny_model()))
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.2, 0.2)
    return model.eval()


def holes(batch: int, side: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    image = torch.rand(batch, 3, side, side, generator=torch.Generator().manual_seed(batch)) * 2 - 1
    mask = torch.zeros(batch, 1, side, side)
    mask[..., 8:20, 10:26] = 1
    return image, mask


@pytest.mark.parametrize("batch", [1, 5])
def test_the_fast_copy_gives_the_models_outputs_and_leaves_the_model_alone(batch: int) -> None:
    model = trained_looking_model()
    norms = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    inpainter = Inpainter(model, blend="none")  # the network alone: what the graph promises
    assert sum(isinstance(m, nn.BatchNorm2d) for m in inpainter.graph.modules()) == 0
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == norms
    image, mask = holes(batch)
    with torch.no_grad():
        torch.testing.assert_close(inpainter.inpaint_tensor(image, mask), model.inpaint(image, mask), atol=1e-5, rtol=0)


def test_folding_refuses_a_module_in_training_mode() -> None:
    with pytest.raises(ValueError, match="module: expected eval mode"):
        fold_batchnorm(nn.Sequential(nn.Conv2d(3, 3, 3), nn.BatchNorm2d(3)))


def test_a_compiled_inpainter_gives_the_same_fill() -> None:
    model = trained_looking_model()
    image, mask = holes(2)
    eager = Inpainter(model).inpaint_tensor(image, mask)
    compiled = Inpainter(model, compile=True)
    assert compiled.compiled
    torch.testing.assert_close(compiled.inpaint_tensor(image, mask), eager, atol=1e-5, rtol=0)

"""Shapes, value ranges and input errors of every network, with and without conditions."""

from __future__ import annotations

import pytest
import torch

from semantic_inpaint.config import ModelConfig
from semantic_inpaint.core import SemanticEmbedder, SignalSpec
from semantic_inpaint.model import BoostedGAN
from semantic_inpaint.models import ConvDiscriminator, DilatedGenerator
from semantic_inpaint.registry import get_registry
from tests.conftest import tiny_model

CONDITION_SETS = [(), ("attribute",), ("segmentation",), ("attribute", "segmentation")]


def images(batch: int = 2, size: int = 32) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1


@pytest.mark.parametrize("conditions", CONDITION_SETS, ids=lambda c: "+".join(c) or "none")
@pytest.mark.parametrize("resolution", [32, 64])
def test_model_output_shape_and_range(conditions: tuple[str, ...], resolution: int, device: torch.device) -> None:
    model = BoostedGAN(ModelConfig.model_validate(tiny_model(resolution, conditions))).to(device)
    image = images(2, resolution).to(device)
    mask = torch.zeros(2, 1, resolution, resolution, device=device)
    mask[..., 8:20, 8:20] = 1
    raw = model.generate(image, mask)
    assert raw.shape == image.shape
    assert raw.min() >= -1 and raw.max() <= 1
    logits = model.discriminator(raw)
    assert logits.shape == (2,)
    signals = model.embed(image)
    for name, condition in model.conditions.items():
        assert condition.discriminator(raw, signals[name]).shape == (2,)


@pytest.mark.parametrize("name", sorted(get_registry().components("embedder")))
def test_every_registered_embedder_honours_the_contract(name: str) -> None:
    options = {
        "attribute": {"num_attributes": 4, "width": 4},
        "segmentation": {"num_classes": 3, "width": 4, "depth": 2},
    }
    embedder = get_registry().build("embedder", name, options.get(name, {}))
    assert isinstance(embedder, SemanticEmbedder)
    signal = embedder(images(3))
    if embedder.kind == "vector":
        assert signal.shape == (3, embedder.channels)
        assert signal.min() >= 0 and signal.max() <= 1
    else:
        assert signal.shape == (3, embedder.channels, 32, 32)
        torch.testing.assert_close(signal.sum(dim=1), torch.ones(3, 32, 32))
    wrong = embedder.mismatched(signal, torch.Generator().manual_seed(0))
    assert wrong.shape == signal.shape
    assert not torch.equal(wrong, signal), "a mismatched signal must come from another sample"


def test_generator_rejects_bad_inputs_with_clear_messages() -> None:
    generator = DilatedGenerator(resolution=32, width=4, signals=(SignalSpec("a", "vector", 3),))
    image, mask, signal = images(), torch.zeros(2, 1, 32, 32), {"a": torch.rand(2, 3)}
    with pytest.raises(ValueError, match=r"image: expected shape \(B, 3, H, W\), received \(3, 32, 32\)"):
        generator(image[0], mask, signal)
    with pytest.raises(ValueError, match=r"image: expected values in \[-1, 1\], received values in \[0, 255\]"):
        generator(torch.full_like(image, 255).index_fill(0, torch.tensor([0]), 0), mask, signal)
    with pytest.raises(ValueError, match=r"mask: expected a binary mask .* such as \[0.5"):
        generator(image, torch.full_like(mask, 0.5), signal)
    with pytest.raises(
        ValueError,
        match=r"mask: expected batch and size to match the image \(2, 1, 32, 32\), received \(2, 1, 16, 16\)",
    ):
        generator(image, torch.zeros(2, 1, 16, 16), signal)
    with pytest.raises(ValueError, match=r"conditions: expected signals for \['a'\], received \[\]"):
        generator(image, mask, {})
    with pytest.raises(
        ValueError, match=r"conditions\['a'\]: expected a vector signal of shape \(2, 3\), received \(2, 5\)"
    ):
        generator(image, mask, {"a": torch.rand(2, 5)})
    with pytest.raises(ValueError, match=r"image: expected height and width to be multiples of 16, received 24x24"):
        generator(images(2, 24), torch.zeros(2, 1, 24, 24), signal)
    with pytest.raises(TypeError, match=r"image: expected a torch.Tensor, received ndarray"):
        generator(image.numpy(), mask, signal)


def test_discriminator_rejects_missing_or_unexpected_conditions() -> None:
    matching = ConvDiscriminator(resolution=32, width=4, signal=SignalSpec("s", "map", 3))
    with pytest.raises(ValueError, match=r"condition: this discriminator expects a map signal, received None"):
        matching(images())
    with pytest.raises(ValueError, match=r"condition: expected a map signal of shape \(2, 3, 'H', 'W'\)"):
        matching(images(), torch.rand(2, 4, 32, 32))
    global_discriminator = ConvDiscriminator(resolution=32, width=4)
    with pytest.raises(ValueError, match=r"condition: this discriminator expects no condition, received tensor"):
        global_discriminator(images(), torch.rand(2, 3))
    with pytest.raises(ValueError, match=r"image: expected size 32x32, received 64x64"):
        global_discriminator(images(2, 64))


def test_paper_bottleneck_and_discriminator_sizes_at_256_px() -> None:
    generator = DilatedGenerator(resolution=256, width=4, signals=(SignalSpec("a", "vector", 18),))
    features = generator.encoder(torch.zeros(1, 4, 256, 256))
    assert features.shape[-2:] == (16, 16)  # M1 = 16
    assert generator.middle[0][0].in_channels == 4 * 4 + 18  # vector replicated at M1
    assert [layer[0].dilation[0] for layer in generator.middle[:4]] == [2, 4, 8, 16]
    discriminator = ConvDiscriminator(resolution=256, width=4, signal=SignalSpec("a", "vector", 18))
    assert discriminator.trunk(torch.zeros(1, 3, 256, 256)).shape[-2:] == (4, 4)  # M2 = 4


def test_embedders_are_frozen_inside_the_model() -> None:
    model = BoostedGAN(ModelConfig.model_validate(tiny_model()))
    model.train()
    for condition in model.conditions.values():
        assert not condition.embedder.training
        assert not any(p.requires_grad for p in condition.embedder.parameters())
    embedder_ids = {id(p) for c in model.conditions.values() for p in c.embedder.parameters()}
    trained = model.generator_parameters() + model.discriminator_parameters()
    assert not embedder_ids & {id(p) for p in trained}


def test_mismatched_needs_two_samples() -> None:
    embedder = get_registry().build("embedder", "attribute", {"num_attributes": 3, "width": 4})
    with pytest.raises(
        ValueError, match="mismatched signals need a batch of at least 2 samples, received batch size 1"
    ):
        embedder.mismatched(torch.rand(1, 3))

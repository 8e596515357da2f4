"""The SN-PatchGAN and projection discriminators: shapes, conditioning, and a training run each."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils import parametrize

from semantic_inpaint.config import RunConfig
from semantic_inpaint.core import SignalSpec
from semantic_inpaint.registry import get_registry
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_run

VECTOR, MAP = SignalSpec("attribute", "vector", 6), SignalSpec("segmentation", "map", 10)


def build(name: str, signal: SignalSpec | None, resolution: int = 32):
    return get_registry().build("discriminator", name, {"width": 8}, resolution=resolution, signal=signal)


def condition(signal: SignalSpec | None, batch: int, generator: torch.Generator) -> torch.Tensor | None:
    if signal is None:
        return None
    if signal.kind == "vector":
        return torch.rand(batch, signal.channels, generator=generator)
    return torch.softmax(torch.randn(batch, signal.channels, 32, 32, generator=generator), dim=1)


@pytest.mark.parametrize("signal", [None, VECTOR, MAP], ids=["global", "vector", "map"])
@pytest.mark.parametrize("name", ["patch", "projection"])
def test_logits_depend_on_the_image_and_on_the_signal(name: str, signal: SignalSpec | None) -> None:
    torch.manual_seed(0)
    discriminator = build(name, signal).eval()
    generator = torch.Generator().manual_seed(1)
    image = torch.rand(3, 3, 32, 32, generator=generator) * 2 - 1
    given_signal = condition(signal, 3, generator)
    logits = discriminator(image, given_signal)
    assert logits.shape == ((3,) if name == "projection" else (3, 2, 2))
    assert not torch.equal(discriminator(image.flip(-1), given_signal), logits)
    if signal is not None:
        assert not torch.equal(discriminator(image, condition(signal, 3, generator)), logits)
    assert any(parametrize.is_parametrized(module) for module in discriminator.modules())  # spectral norm


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), a=st.floats(-2, 2), b=st.floats(-2, 2))
def test_the_projection_term_is_linear_in_a_vector_signal(seed: int, a: float, b: float) -> None:
    torch.manual_seed(seed)
    discriminator = build("projection", VECTOR).eval()
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(2, 3, 32, 32, generator=generator) * 2 - 1
    first, second = torch.rand(2, 6, generator=generator), torch.rand(2, 6, generator=generator)
    zero = discriminator(image, torch.zeros(2, 6))
    combined = discriminator(image, a * first + b * second) - zero
    separate = a * (discriminator(image, first) - zero) + b * (discriminator(image, second) - zero)
    torch.testing.assert_close(combined, separate, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["patch", "projection"])
def test_a_boosted_gan_trains_with_each_discriminator(name: str, tmp_path: Path) -> None:
    config = tiny_run(tmp_path / "run", steps=2).model_dump()
    config["model"]["discriminator"] = {"name": name, "options": {"width": 8}}
    Trainer(RunConfig.model_validate(config)).fit(progress=False)
    assert (tmp_path / "run" / "checkpoints" / "last.pt").exists()

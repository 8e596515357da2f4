"""Every registered generator honours the contract a user relies on: any of them takes the
same signals by concatenation or modulation, ignores the hole's content, learns, and trains
inside the full model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from semantic_inpaint.config import RunConfig
from semantic_inpaint.models.contextual_attention import ContextualAttention
from semantic_inpaint.models.partial_conv import PartialConv2d
from semantic_inpaint.registry import get_registry
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_run
from tests.test_conditioning_operators import SIGNALS, inputs

#: tiny options per generator (32 px, a few channels)
TINY = {
    "dilated": {"width": 8, "dilations": [2, 4]},
    "global_local": {"width": 8, "dilations": [2, 4]},
    "unet": {"width": 8},
    "partial_conv": {"width": 8},
    "context_encoder": {"width": 8},
    "gated": {"width": 8, "dilations": [2, 4], "contextual_attention": True},
}


def build(name: str, **options: object) -> nn.Module:
    return get_registry().build("generator", name, {**TINY[name], **options}, resolution=32, signals=SIGNALS)


def test_every_generator_of_table_one_is_registered() -> None:
    assert set(TINY) <= set(get_registry().components("generator"))


@pytest.mark.parametrize("name", sorted(TINY))
def test_output_shape_range_and_hole_content_ignored(name: str) -> None:
    torch.manual_seed(0)
    generator = build(name).eval()
    image, mask, conditions = inputs()
    with torch.no_grad():
        out = generator(image, mask, conditions)
        scrambled = generator(torch.where(mask.bool(), torch.rand_like(image), image), mask, conditions)
    assert out.shape == image.shape
    assert out.abs().max() <= 1
    torch.testing.assert_close(scrambled, out)  # the generator never sees the hole's pixels


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize(("vectors", "maps"), [("concat", "concat"), ("film", "spade")])
def test_each_signal_steers_every_generator(name: str, vectors: str, maps: str) -> None:
    torch.manual_seed(0)
    # training mode: BatchNorm normalises with the batch's statistics, as an untrained network's
    # running statistics would shrink the input's influence to rounding error
    generator = build(name, vector_conditioning=vectors, map_conditioning=maps).train()
    if generator.modulations is not None:  # as after training: the modulation is no longer zero
        for module in generator.modulations.modules():
            if isinstance(module, nn.Linear | nn.Conv2d):
                nn.init.normal_(module.weight, std=0.1)
    image, mask, conditions = inputs()
    with torch.no_grad():
        reference = generator(image, mask, conditions)
        for signal in conditions:
            changed = {**conditions, signal: conditions[signal].flip(0)}
            assert not torch.allclose(generator(image, mask, changed), reference, atol=1e-6), signal


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_generator_learns_to_fill_a_batch(name: str) -> None:
    torch.manual_seed(0)
    generator = build(name)
    image, mask, conditions = inputs()
    optimiser = torch.optim.Adam(generator.parameters(), lr=2e-3)
    losses = []
    for _ in range(25):
        loss = ((generator(image, mask, conditions) - image) ** 2 * mask).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses


@pytest.mark.parametrize("name", ["unet", "partial_conv", "gated", "context_encoder", "global_local"])
def test_every_generator_trains_inside_the_boosted_gan(tmp_path: Path, name: str) -> None:
    config = tiny_run(tmp_path / name, steps=2).model_dump()
    config["model"]["generator"] = {"name": name, "options": TINY[name]}
    record = Trainer(RunConfig.model_validate(config)).fit(progress=False)
    assert record["step"] == 2 and torch.isfinite(torch.tensor(record["loss_g"]))


@pytest.mark.parametrize("skip_gate", ["none", "known"])
def test_gated_unet_skips_pass_nothing_from_cells_inside_the_hole(skip_gate: str) -> None:
    generator = build("unet", skip_gate=skip_gate).eval()
    image, mask, conditions = inputs()  # a 16 px hole at 8..24: whole cells at every level
    received = []
    for up in generator.up:  # each decoder block's input: the upsampled features, then the skip
        up.register_forward_hook(lambda module, args, output: received.append(args[0]))
    with torch.no_grad():
        generator(image, mask, conditions)
    assert len(received) == len(generator.up)
    for up, features in zip(generator.up, received, strict=True):
        skip = features[:, -up[0].out_channels :]
        inside = (nn.functional.adaptive_avg_pool2d(mask, skip.shape[-2:]) == 1).expand_as(skip)
        assert inside.any()
        assert (skip[inside] == 0).all() == (skip_gate == "known")
        assert (skip[~inside] != 0).any()  # the known surroundings still pass


def test_the_context_encoder_names_its_fixed_size() -> None:
    generator = build("context_encoder")
    conditions = {"attribute": torch.rand(1, 5), "segmentation": torch.rand(1, 4, 64, 64)}
    with pytest.raises(ValueError, match="expected 32x32"):
        generator(torch.zeros(1, 3, 64, 64), torch.zeros(1, 1, 64, 64), conditions)


def test_partial_convolution_with_every_pixel_known_is_a_convolution() -> None:
    torch.manual_seed(0)
    conv = PartialConv2d(3, 4, 3, padding=1)
    features = torch.rand(2, 3, 8, 8)
    out, valid = conv(features, torch.ones(2, 1, 8, 8))
    # border windows see padding: renormalised by the share of real pixels; interior ones are plain conv
    torch.testing.assert_close(
        out[..., 1:-1, 1:-1], nn.functional.conv2d(features, conv.weight, conv.bias, padding=1)[..., 1:-1, 1:-1]
    )
    assert valid.all()


def test_partial_convolution_outputs_nothing_where_it_saw_nothing() -> None:
    conv = PartialConv2d(1, 1, 3, padding=1)
    valid = torch.ones(1, 1, 9, 9)
    valid[..., 2:7, 2:7] = 0
    out, updated = conv(torch.rand(1, 1, 9, 9), valid)
    assert (out[..., 3:6, 3:6] == 0).all() and (updated[..., 3:6, 3:6] == 0).all()
    assert updated.sum() > valid.sum()  # the hole shrank by one pixel on each side


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), value=st.floats(-2, 2))
def test_contextual_attention_copies_only_known_patches(seed: int, value: float) -> None:
    generator = torch.Generator().manual_seed(seed)
    known = torch.ones(1, 1, 12, 12)
    known[..., 4:8, 4:8] = 0
    # the known region holds one constant feature; the hole holds noise: the output is the constant
    noise = torch.randn(1, 4, 12, 12, generator=generator)
    features = torch.where(known.bool(), torch.full((1, 4, 12, 12), value), noise)
    out = ContextualAttention()(features, known)
    torch.testing.assert_close(out[..., 4:8, 4:8], torch.full((1, 4, 4, 4), value), atol=1e-5, rtol=1e-5)


def test_contextual_attention_with_nothing_known_borrows_nothing() -> None:
    out = ContextualAttention()(torch.rand(2, 4, 6, 6), torch.zeros(2, 1, 6, 6))
    assert torch.equal(out, torch.zeros_like(out))

"""Residual detail: the known context's fine detail added to a fill made below the photo's scale."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint import Inpainter
from semantic_inpaint.residual_detail import residual_detail


def grain(size: int, seed: int = 0) -> torch.Tensor:
    """``(1, 3, size, size)``: a smooth gradient with a fine random grain on top, in ``[-1, 1]``."""
    generator = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(-0.5, 0.5, size)
    smooth = (ramp[None, :] + ramp[:, None]).expand(1, 3, size, size) / 2
    return (smooth + 0.2 * torch.randn(1, 3, size, size, generator=generator)).clamp(-1, 1)


def square_hole(size: int, top: int, side: int) -> torch.Tensor:
    hole = torch.zeros(1, 1, size, size)
    hole[..., top : top + side, top : top + side] = 1
    return hole


def laplacian_variance(image: torch.Tensor, where: torch.Tensor) -> float:
    grey = image.mean(1, keepdim=True)
    kernel = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])[None, None]
    laplacian = torch.nn.functional.conv2d(grey, kernel, padding=1)
    return float(laplacian[where > 0].var())


def test_a_smooth_fill_gains_the_grain_of_its_surroundings_and_nothing_outside_the_hole_changes() -> None:
    image, hole = grain(96), square_hole(96, 32, 32)
    smooth = torch.nn.functional.avg_pool2d(image, 9, stride=1, padding=4, count_include_pad=False)
    detailed = residual_detail(image, hole, smooth, scale=(3.0, 3.0))
    inside, ring = square_hole(96, 33, 30), square_hole(96, 24, 48) - square_hole(96, 32, 32)
    assert laplacian_variance(smooth, inside) < 0.1 * laplacian_variance(image, ring)
    assert laplacian_variance(detailed, inside) > 0.5 * laplacian_variance(image, ring)
    assert torch.equal(detailed[hole.expand_as(image) == 0], smooth[hole.expand_as(image) == 0])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), top=st.integers(8, 56), side=st.integers(4, 32), scale=st.floats(1.2, 6.0))
def test_the_photos_own_hole_pixels_are_never_read(seed: int, top: int, side: int, scale: float) -> None:
    image, hole = grain(96, seed), square_hole(96, top, side)
    fill = grain(96, seed + 1) * 0.2
    other = torch.where(hole > 0, -image, image)  # the same photo, its hidden pixels replaced
    first = residual_detail(image, hole, fill, (scale, scale))
    assert torch.equal(first, residual_detail(other, hole, fill, (scale, scale)))
    assert torch.isfinite(first).all()


def test_a_flat_context_or_a_model_at_the_photos_scale_adds_nothing() -> None:
    hole = square_hole(64, 16, 24)
    fill = grain(64) * 0.1
    assert torch.equal(residual_detail(grain(64), hole, fill, (1.0, 1.0)), fill)
    flat = torch.full((1, 3, 64, 64), 0.3)
    assert torch.allclose(residual_detail(flat, hole, fill, (3.0, 3.0)), fill, atol=1e-5)
    everything = torch.ones(1, 1, 64, 64)  # no known pixel to take detail from
    assert torch.equal(residual_detail(grain(64), everything, fill, (3.0, 3.0)), fill)


@pytest.fixture(scope="module")
def inpainter() -> Inpainter:
    return Inpainter.from_pretrained("celebahq64-full", device="cpu")


@pytest.mark.parametrize("strategy", ["resize", "crop"])
def test_inpaint_with_residual_detail_keeps_known_pixels_and_adds_detail(inpainter: Inpainter, strategy: str) -> None:
    photo = ((grain(256)[0].permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)
    mask = np.zeros((256, 256), np.uint8)
    mask[100:148, 90:138] = 255
    plain = inpainter.inpaint(photo, mask, strategy=strategy)
    detailed = inpainter.inpaint(photo, mask, strategy=strategy, detail="residual")
    known = mask == 0
    assert np.array_equal(detailed[known], photo[known])
    inside = np.zeros_like(known)
    inside[101:147, 91:137] = True
    grey = detailed.astype(np.float64).mean(-1), plain.astype(np.float64).mean(-1)
    assert np.var(np.diff(grey[0], axis=1)[inside[:, 1:]]) > 2 * np.var(np.diff(grey[1], axis=1)[inside[:, 1:]])


def test_detail_is_checked_and_needs_a_photo(inpainter: Inpainter) -> None:
    photo, mask = np.zeros((80, 80, 3), np.uint8), np.zeros((80, 80), np.uint8)
    with pytest.raises(ValueError, match="detail: expected 'none' or 'residual', received 'sharp'"):
        inpainter.inpaint(photo, mask, detail="sharp")
    with pytest.raises(ValueError, match="detail: 'residual' works on photos"):
        inpainter.inpaint(torch.zeros(1, 3, 64, 64), torch.zeros(1, 1, 64, 64), detail="residual")

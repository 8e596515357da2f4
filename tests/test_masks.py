"""Properties of the mask generators and of compositing."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint.core import composite
from semantic_inpaint.lama_masks import LamaMasks
from semantic_inpaint.masks import CenteredSquare, FreeFormStrokes, RandomRectangles, draw_segments, load_mask
from semantic_inpaint.registry import get_registry

resolutions = st.sampled_from([16, 32, 48, 64])
seeds = st.integers(0, 2**31 - 1)
batches = st.integers(1, 6)


def generators(resolution: int) -> list:
    lama = [LamaMasks(resolution, preset=preset) for preset in ("thin", "medium", "thick", "large_boxes")]
    return [RandomRectangles(resolution), CenteredSquare(resolution), FreeFormStrokes(resolution), *lama]


@settings(max_examples=30, deadline=None)
@given(resolution=resolutions, seed=seeds, batch=batches)
def test_masks_are_binary_shaped_and_reproducible(resolution: int, seed: int, batch: int) -> None:
    for masks in generators(resolution):
        first = masks(batch, generator=torch.Generator().manual_seed(seed))
        again = masks(batch, generator=torch.Generator().manual_seed(seed))
        assert first.shape == (batch, 1, resolution, resolution)
        assert first.dtype == torch.float32
        assert set(first.unique().tolist()) <= {0.0, 1.0}
        assert torch.equal(first, again)
        assert first.sum() > 0, f"{type(masks).__name__} made an empty hole"


@settings(max_examples=40, deadline=None)
@given(resolution=resolutions, seed=seeds, batch=batches, low=st.floats(0.1, 0.5), extra=st.floats(0, 0.4))
def test_rectangle_sides_stay_within_bounds(resolution: int, seed: int, batch: int, low: float, extra: float) -> None:
    masks = RandomRectangles(resolution, min_fraction=low, max_fraction=low + extra)
    hole = masks(batch, generator=torch.Generator().manual_seed(seed)).bool()[:, 0]
    heights = hole.any(dim=2).sum(dim=1)
    widths = hole.any(dim=1).sum(dim=1)
    assert ((heights >= masks.min_side) & (heights <= masks.max_side)).all()
    assert ((widths >= masks.min_side) & (widths <= masks.max_side)).all()
    assert (hole.sum(dim=(1, 2)) == heights * widths).all()  # one solid rectangle


@settings(max_examples=40, deadline=None)
@given(resolution=resolutions, seed=seeds, batch=batches, spread=st.floats(0, 0.5))
def test_centred_rectangles_have_their_centre_within_the_spread(
    resolution: int, seed: int, batch: int, spread: float
) -> None:
    masks = RandomRectangles(resolution, centred_share=1.0, centre_spread=spread)
    hole = masks(batch, generator=torch.Generator().manual_seed(seed)).bool()[:, 0]
    index = torch.arange(resolution, dtype=torch.float32)
    for axis in (1, 2):  # rows, then columns
        covered = hole.any(dim=axis).float()  # (B, S): the rectangle's extent along the other axis
        first = (covered * index).masked_fill(covered == 0, resolution).amin(dim=1)
        last = (covered * index).amax(dim=1)
        centre = (first + last + 1) / 2
        side = last - first + 1
        farthest = spread * resolution + 0.5  # rounding to whole pixels moves a centre by half a pixel
        kept_inside = (first == 0) | (last == resolution - 1)  # a rectangle pushed back into the image
        assert (((centre - resolution / 2).abs() <= farthest) | kept_inside).all()
        assert ((side >= masks.min_side) & (side <= masks.max_side)).all()


def test_centred_share_is_the_share_of_centred_rectangles_and_zero_keeps_the_papers_masks() -> None:
    seed = torch.Generator().manual_seed
    paper = RandomRectangles(64)(4000, generator=seed(3))
    assert torch.equal(RandomRectangles(64, centred_share=0.0)(4000, generator=seed(3)), paper)
    half = RandomRectangles(64, centred_share=0.5, centre_spread=0.0)(4000, generator=seed(3))
    # centred rectangles always cover the image's middle pixels; the paper's do in about 0.67 of images
    assert share_covering_the_middle(half) == pytest.approx(0.5 + 0.5 * share_covering_the_middle(paper), abs=0.03)


def share_covering_the_middle(masks: torch.Tensor) -> float:
    """The share of ``(B, 1, 64, 64)`` masks whose hole covers one of the four middle pixels."""
    return masks[:, 0, 31:33, 31:33].amax(dim=(1, 2)).mean().item()


def test_centred_share_outside_zero_to_one_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="centred_share"):
        get_registry().build("mask_generator", "rectangles", {"centred_share": 1.5}, resolution=64)


def test_paper_rectangle_sides_at_256_are_80_to_160() -> None:
    masks = RandomRectangles(256)
    assert (masks.min_side, masks.max_side) == (80, 160)


def test_centered_square_is_the_paper_evaluation_mask() -> None:
    hole = CenteredSquare(256)(1)[0, 0]
    assert hole.sum() == 128 * 128
    assert hole[64:192, 64:192].all()


@pytest.mark.parametrize("masks", generators(32), ids=lambda m: f"{type(m).__name__}-{getattr(m, 'preset', '')}")
def test_masks_are_generated_on_the_requested_device(masks, device: torch.device) -> None:
    hole = masks(3, device=device)
    assert hole.device.type == device.type


@settings(max_examples=30, deadline=None)
@given(seed=seeds, batch=batches)
def test_composite_leaves_known_pixels_bit_identical(seed: int, batch: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, 32, 32, generator=generator) * 2 - 1
    prediction = torch.rand(batch, 3, 32, 32, generator=generator) * 2 - 1
    mask = FreeFormStrokes(32)(batch, generator=generator)
    result = composite(prediction, image, mask)
    known = (mask == 0).expand_as(image)
    assert torch.equal(result[known], image[known])
    assert torch.equal(result[~known], prediction[~known])


def test_load_mask_reads_white_as_hole_and_refuses_grey(tmp_path) -> None:
    from PIL import Image

    array = torch.zeros(8, 8, dtype=torch.uint8)
    array[2:4, 2:6] = 255
    Image.fromarray(array.numpy()).save(tmp_path / "mask.png")
    hole = load_mask(tmp_path / "mask.png")
    assert hole.shape == (1, 1, 8, 8) and hole.sum() == 8
    array[0, 0] = 128
    Image.fromarray(array.numpy()).save(tmp_path / "grey.png")
    with pytest.raises(ValueError, match=r"mask: expected a binary image.*received values \[0, 128, 255\]"):
        load_mask(tmp_path / "grey.png")


def test_lama_families_grow_from_thin_to_thick_and_keep_their_share_at_any_resolution() -> None:
    coverage = {}
    for resolution in (64, 128):
        for preset in ("thin", "medium", "thick"):
            masks = get_registry().build("mask_generator", "lama", {"preset": preset}, resolution=resolution)
            coverage[preset, resolution] = masks(128, generator=torch.Generator().manual_seed(0)).mean().item()
    for resolution in (64, 128):
        assert coverage["thin", resolution] < coverage["medium", resolution] < coverage["thick", resolution]
    for preset in ("thin", "medium", "thick"):
        assert coverage[preset, 64] == pytest.approx(coverage[preset, 128], rel=0.15)


@settings(max_examples=20, deadline=None)
@given(seed=seeds, batch=batches)
def test_large_boxes_keep_their_margin_and_sides(seed: int, batch: int) -> None:
    hole = LamaMasks(256, preset="large_boxes")(batch, generator=torch.Generator().manual_seed(seed))[:, 0].bool()
    assert not hole[:, :10].any() and not hole[:, -10:].any()
    assert not hole[:, :, :10].any() and not hole[:, :, -10:].any()
    assert (hole.any(dim=2).sum(dim=1) >= 30).all()  # every image has a box at least 30 px wide


@settings(max_examples=30, deadline=None)
@given(seed=seeds, size=st.sampled_from([16, 40, 64]), length=st.floats(1, 30), width=st.floats(0.5, 12))
def test_windowed_strokes_equal_testing_every_pixel(seed: int, size: int, length: float, width: float) -> None:
    generator = torch.Generator().manual_seed(seed)
    start = torch.rand(3, 2, 4, 2, generator=generator) * (size - 1)
    angle = torch.rand(3, 2, 4, generator=generator) * 2 * torch.pi
    end = (start + torch.stack([angle.cos(), angle.sin()], -1) * length).clamp(0, size - 1)
    radius = torch.rand(3, 2, 4, generator=generator) * width / 2
    active = torch.rand(3, 2, 4, generator=generator) < 0.7
    windowed = draw_segments(start, end, radius, active, size, window=math.ceil(length + width) + 2)
    everywhere = draw_segments(start, end, radius, active, size, window=size)
    assert torch.equal(windowed, everywhere)

"""Poisson blending: a colour offset disappears, the fill's detail stays, known pixels and
out-of-hole values are untouched, the Inpainter blends by default, and the training blend
matches it and passes a seam's cost back to the known ring."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint.inference import Inpainter
from semantic_inpaint.poisson_blend import blend_for_training, laplacian, poisson_blend
from semantic_inpaint.registry import get_registry


def box_hole(batch: int, size: int, top: int, left: int, height: int, width: int) -> torch.Tensor:
    hole = torch.zeros(batch, 1, size, size)
    hole[..., top : top + height, left : left + width] = 1
    return hole


@settings(max_examples=25, deadline=None)
@given(
    offset=st.lists(st.floats(-0.5, 0.5), min_size=3, max_size=3),
    top=st.integers(0, 10),
    left=st.integers(0, 10),
    height=st.integers(1, 14),
    width=st.integers(1, 14),
    seed=st.integers(0, 1000),
)
def test_a_constant_colour_offset_is_removed_and_nothing_outside_the_hole_changes(
    offset: list[float], top: int, left: int, height: int, width: int, seed: int
) -> None:
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(2, 3, 24, 24, generator=generator) * 1.0 - 0.5
    hole = box_hole(2, 24, top, left, height, width)
    fill = image + torch.tensor(offset).view(1, 3, 1, 1)
    blended = poisson_blend(fill, image, hole)
    assert torch.equal(blended * (1 - hole), fill * (1 - hole))  # bit-identical outside the hole
    torch.testing.assert_close(blended * hole, image * hole, atol=1e-4, rtol=0)


def test_the_fill_detail_is_kept_the_correction_is_harmonic() -> None:
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 32, 32, generator=generator) * 2 - 1
    hole = box_hole(1, 32, 8, 6, 16, 20)
    fill = (torch.rand(1, 3, 32, 32, generator=generator) - 0.5) * 0.4 + 0.1  # textured, offset
    blended = poisson_blend(fill, image, hole)
    interior = box_hole(1, 32, 9, 7, 14, 18)  # the hole's pixels whose four neighbours are hole pixels too
    residual = laplacian(blended - fill) * interior
    assert residual.abs().amax() < 1e-4
    assert (blended - fill).abs().amax() > 0.05  # it did correct something


def test_a_hole_over_the_whole_image_or_no_hole_leaves_the_fill_as_it_is() -> None:
    image, fill = torch.zeros(1, 3, 8, 8), torch.rand(1, 3, 8, 8)
    assert torch.equal(poisson_blend(fill, image, torch.ones(1, 1, 8, 8)), fill)
    assert torch.equal(poisson_blend(fill, image, torch.zeros(1, 1, 8, 8)), fill)


def test_the_inpainter_blends_by_default_and_keeps_the_known_pixels(device: torch.device) -> None:
    torch.manual_seed(0)
    blended = Inpainter.from_pretrained("celebahq64-none", device=device)
    plain = Inpainter.from_pretrained("celebahq64-none", device=device, blend="none")
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    hole = box_hole(2, 64, 16, 16, 32, 32)
    with_blend, without = blended.inpaint(image, hole), plain.inpaint(image, hole)
    known = (1 - hole).bool().expand_as(image)
    assert torch.equal(with_blend[known], image[known]) and torch.equal(without[known], image[known])
    ring = box_hole(2, 64, 15, 15, 34, 34) - hole  # the known pixels around the hole
    inner_ring = hole - box_hole(2, 64, 17, 17, 30, 30)  # the hole's outermost pixels

    def seam(filled: torch.Tensor) -> float:
        """The mean colour step across the hole's edge, per image and channel."""
        outside = (filled * ring).sum((2, 3)) / ring.sum((2, 3))
        inside = (filled * inner_ring).sum((2, 3)) / inner_ring.sum((2, 3))
        return (outside - inside).abs().mean().item()

    assert seam(with_blend) < 0.5 * seam(without)


def test_an_unknown_blend_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"blend: expected one of \['poisson', 'none'\], received 'soft'"):
        Inpainter.from_pretrained("celebahq64-none", device="cpu", blend="soft")


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 1000))
def test_the_training_blend_reaches_the_converged_blend_on_training_masks(seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    holes = get_registry().build("mask_generator", "rectangles", {}, resolution=64)(8, generator=generator)
    image = torch.rand(8, 3, 64, 64, generator=generator) * 2 - 1
    fill = (image + 0.3 * torch.randn(8, 3, 64, 64, generator=generator)).clamp(-1, 1)
    converged = poisson_blend(fill, image, holes, tolerance=1e-7, max_iterations=2000)
    blended = blend_for_training(fill, image, holes)
    torch.testing.assert_close(blended, converged, atol=5e-3, rtol=0)
    colour_shift = ((blended - converged) * holes).sum(dim=(0, 2, 3)) / holes.sum()
    assert float(colour_shift.abs().amax()) < 1e-4  # what a seam is made of: the hole's mean colour


def test_the_training_blend_passes_a_hole_loss_back_to_the_known_ring_and_no_further() -> None:
    image = torch.rand(2, 3, 24, 24) - 0.5  # fill and correction stay clear of the clamp to [-1, 1]
    hole = box_hole(2, 24, 6, 8, 10, 9)
    fill = (torch.rand(2, 3, 24, 24) - 0.5).requires_grad_(True)
    blended = blend_for_training(fill, image, hole)
    ((blended - image) ** 2 * hole).sum().backward()
    ring = box_hole(2, 24, 5, 7, 12, 11) - hole  # the known pixels touching the hole (and its corners)
    corners = torch.zeros(2, 1, 24, 24)
    corners[..., [5, 5, 16, 16], [7, 17, 7, 17]] = 1
    edge = (ring - corners).bool().expand_as(fill)
    assert float(fill.grad[edge].abs().amin()) > 0  # a colour step at the seam costs
    far = (1 - ring - hole).bool().expand_as(fill)
    assert float(fill.grad[far].abs().amax()) == 0  # known pixels away from the hole are the image's
    assert float(fill.grad[hole.bool().expand_as(fill)].abs().amin()) > 0

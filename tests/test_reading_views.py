"""Random views for the consistency term: each view is the image moved a little, and a term read
through them pulls toward a change a person sees, hardly toward a pixel-level texture."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor

from semantic_inpaint.core import SemanticEmbedder
from semantic_inpaint.training.control import consistency_loss
from semantic_inpaint.training.reading_views import ReadingViews


@settings(max_examples=20, deadline=None)
@given(count=st.integers(1, 4), batch=st.integers(1, 3), seed=st.integers(0, 1000))
def test_views_are_view_major_and_without_settings_exact_copies(count: int, batch: int, seed: int) -> None:
    torch.manual_seed(seed)
    # smooth pictures, as faces are: blurred pixel noise would be no closer to itself than to other noise
    image = torch.nn.functional.interpolate(torch.rand(batch, 3, 4, 4) * 2 - 1, size=16, mode="bilinear")
    copies = ReadingViews(count, shift=0.0, blur=0.0, noise=0.0)(image)
    assert torch.equal(copies, image.repeat(count, 1, 1, 1))
    views = ReadingViews(count, shift=0.1, blur=1.0, noise=0.05)(image)
    assert views.shape == (count * batch, 3, 16, 16)
    # a view is its image moved a little, not another image
    for view in range(count):
        own = views[view * batch : (view + 1) * batch]
        assert (own - image).abs().mean() < (own - image.roll(1, 0)).abs().mean() or batch == 1


def test_no_view_is_refused() -> None:
    with pytest.raises(ValueError, match="count: expected at least 1 view, received 0"):
        ReadingViews(0, shift=0.1, blur=1.0, noise=0.0)


class LinearReader(SemanticEmbedder):
    """Reads one attribute as ``sigmoid(<pattern, image>)``: a pattern-matching classifier."""

    kind = "vector"
    channels = 1

    def __init__(self, pattern: Tensor) -> None:
        super().__init__("linear", 1)
        self.pattern = pattern

    def logits(self, image: Tensor) -> Tensor:
        return (image * self.pattern).sum(dim=(1, 2, 3))[:, None]

    def activate(self, logits: Tensor) -> Tensor:
        return logits.sigmoid()

    def pretrain_loss(self, image: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError


def pull_along(pattern: Tensor, views: ReadingViews | None) -> float:
    """How much the consistency term, asked for 1 by a reader of ``pattern``, pushes the fill along it."""
    fill = torch.zeros(8, 3, 32, 32, requires_grad=True)
    hole = torch.ones(8, 1, 32, 32)
    reader = {"attribute": LinearReader(pattern)}
    asked = {"attribute": torch.ones(8, 1)}
    term = consistency_loss(reader, fill, asked, asked, hole, views=views)
    (gradient,) = torch.autograd.grad(term, fill)
    return float(-(gradient * pattern).sum() / pattern.norm())


def test_a_term_read_through_views_hardly_pulls_toward_a_pixel_texture_but_still_toward_a_smooth_change() -> None:
    torch.manual_seed(0)
    rows, columns = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    checker = ((rows + columns) % 2 * 2 - 1).float().expand(3, 32, 32) / 32  # a one-pixel texture
    smooth = (rows.float() / 31 - 0.5).expand(3, 32, 32) / 32  # darker at the top, lighter below
    views = ReadingViews(4, shift=0.0625, blur=1.0, noise=0.05)
    texture_kept = pull_along(checker, views) / pull_along(checker, None)
    smooth_kept = pull_along(smooth, views) / pull_along(smooth, None)
    assert texture_kept < 0.5 < 0.8 < smooth_kept, (texture_kept, smooth_kept)

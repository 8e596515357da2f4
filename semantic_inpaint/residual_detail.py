"""Detail at the photo's scale for a fill the model made at a lower resolution.

A model fills a window at its own resolution; brought back to a large photo's scale, that fill
is smooth while the photo around it has grain, hair and skin texture. Following contextual
residual aggregation (Yi et al., CVPR 2020), the detail is taken from the known context: the
*residual* of the photo (the photo minus a low-pass of itself) is copied into the hole patch
by patch. Each hole patch takes the residual of a known patch whose content at the model's
scale (colour and shape) is nearest to the fill's there: where the paper learns an attention,
this draws at random among the nearest few that match almost as well as the best (Efros &
Leung 1999), so that one flat colour does not stamp one patch all over the hole. Patches
overlap by half and are blended under a Hann window, so no patch edge shows; the blend divides
by the root of the summed squared weights rather than by their sum (variance-preserving
blending, Heitz & Neyret 2018), since averaging unrelated patches would wash their contrast
out.

The fill's own low frequencies are kept as the model made them: only detail finer than one
of the model's pixels, and no coarser than :data:`FINEST_BAND_PIXELS` photo pixels, is added.
So a fill from a thumbnail (``resize`` of a large photo) gains grain, not eyes copied from
elsewhere. Known patches whose low-pass would feel the hole are no source, so the photo's own
pixels under the hole are never read.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from semantic_inpaint.core import composite

#: a patch is this many times the finest band a side (two cells, overlapping by one)
BANDS_PER_PATCH = 4
#: hole patches matched at once (bounds the memory of the distances to every source patch)
TARGETS_PER_CHUNK = 1024
#: a hole patch takes one of this many nearest known patches, at random among those within
#: ``MATCH_TOLERANCE`` of the best (Efros & Leung 1999): one flat colour does not stamp one patch everywhere
CANDIDATES = 16
MATCH_TOLERANCE = 0.1
#: the finest band copied, in photo pixels: texture and grain live there; coarser structure
#: (an eye, a nostril, a strand of hair at a thumbnail's scale) is the model's to make, not to be copied
FINEST_BAND_PIXELS = 4.0
#: each cell's low-pass content is described by this many samples a side (the patch's by twice as many)
SAMPLES_PER_CELL = 2


def residual_detail(image: Tensor, hole: Tensor, fill: Tensor, scale: tuple[float, float]) -> Tensor:
    """The fill with the known context's high-frequency residual transferred into the hole.

    Args:
        image: ``(1, 3, H, W)`` in ``[-1, 1]``: the photo around the hole (its hole pixels are
            never read).
        hole: ``(1, 1, H, W)`` in ``{0, 1}``, 1 = missing.
        fill: ``(1, 3, H, W)`` in ``[-1, 1]``: the model's fill brought to the photo's scale.
        scale: ``(rows, columns)``: photo pixels per model pixel along each axis; where both
            are at most 1 the model already worked at the photo's scale and ``fill`` comes back.

    Returns:
        ``(1, 3, H, W)``: ``fill`` outside the hole; inside, ``fill`` plus the residual of the
        nearest known patches (values may leave ``[-1, 1]`` slightly; the caller clamps).

    Examples:
        >>> image = torch.rand(1, 3, 96, 96) * 2 - 1
        >>> hole = torch.zeros(1, 1, 96, 96); hole[..., 32:64, 32:64] = 1
        >>> fill = torch.zeros(1, 3, 96, 96)
        >>> detailed = residual_detail(image, hole, fill, scale=(3.0, 3.0))
        >>> bool(torch.equal(detailed[..., :32, :], fill[..., :32, :])), float(detailed[..., 32:64, 32:64].std()) > 0.1
        (True, True)
    """
    if max(scale) <= 1:
        return fill
    height, width = fill.shape[-2:]
    band = tuple(min(factor, FINEST_BAND_PIXELS) for factor in scale)
    cell = max(2, math.ceil(BANDS_PER_PATCH / 2 * max(band)))
    padding = (0, (-width) % cell + cell, 0, (-height) % cell + cell)  # at least one cell: edge patches fit
    known = composite(fill, image, hole).float()  # hole pixels come from the fill alone
    photo = F.pad(known, padding, mode="replicate")
    reach = math.ceil(2 * max(band))  # a source's residual must not feel the fill through the low-pass
    near_hole = F.max_pool2d(hole.float(), 2 * reach + 1, stride=1, padding=reach)
    source = F.pad(1 - near_hole, padding, value=0.0)  # nor is the padding a source of detail
    target = F.pad(hole.float(), padding, value=0.0)
    rows, columns = photo.shape[-2] // cell, photo.shape[-1] // cell
    model_scale = _low_pass(photo, scale)
    samples = F.adaptive_avg_pool2d(model_scale, (SAMPLES_PER_CELL * rows, SAMPLES_PER_CELL * columns))
    descriptors = F.unfold(samples, 2 * SAMPLES_PER_CELL, stride=SAMPLES_PER_CELL)[0].T  # (patches, 3·16)
    patch = 2 * cell
    is_source = F.unfold(source, patch, stride=cell)[0].amin(0) == 1  # (patches,)
    is_target = F.unfold(target, patch, stride=cell)[0].amax(0) > 0
    if not is_source.any() or not is_target.any():
        return fill
    sources = descriptors[is_source]
    generator = torch.Generator(device=fill.device).manual_seed(0)  # the same photo gets the same detail
    nearest = torch.cat(
        [_near_source(chunk, sources, generator) for chunk in descriptors[is_target].split(TARGETS_PER_CHUNK)]
    )
    band_pass = model_scale if band == tuple(scale) else _low_pass(photo, band)  # the same unless capped
    residuals = F.unfold(photo - band_pass, patch, stride=cell)[0]  # (3·patch², patches)
    hann = torch.sin(torch.pi * (torch.arange(patch, device=fill.device) + 0.5) / patch) ** 2
    weights = (hann[:, None] * hann[None, :]).flatten().repeat(3)[:, None]  # (3·patch², 1)
    chosen = torch.zeros_like(residuals)
    chosen[:, is_target] = residuals[:, is_source][:, nearest] * weights
    size = photo.shape[-2:]
    detail = F.fold(chosen[None], size, patch, stride=cell)
    energy = F.fold(weights.square().expand_as(residuals)[None], size, patch, stride=cell)
    detail = (detail / energy.clamp_min(1e-12).sqrt())[..., :height, :width]
    return torch.where(hole > 0, fill + detail.to(fill.dtype), fill)


def _low_pass(photo: Tensor, scale: tuple[float, float]) -> Tensor:
    """``(1, C, H, W)`` → the same size, with no detail finer than ``scale`` pixels (``(rows, columns)``):
    shrunk by ``scale`` with antialiasing and enlarged back, bilinearly."""
    size = (max(1, round(photo.shape[-2] / scale[0])), max(1, round(photo.shape[-1] / scale[1])))
    shrunk = F.interpolate(photo, size=size, mode="bilinear", antialias=True, align_corners=False)
    return F.interpolate(shrunk, size=photo.shape[-2:], mode="bilinear", align_corners=False)


def _near_source(targets: Tensor, sources: Tensor, generator: torch.Generator) -> Tensor:
    """``(T,)`` indices into ``sources`` ``(S, D)``: for each of ``targets`` ``(T, D)``, one of its
    nearest, drawn with ``generator`` among those within ``MATCH_TOLERANCE`` of the best."""
    distances, candidates = torch.cdist(targets, sources).topk(min(CANDIDATES, len(sources)), largest=False)
    good = distances <= distances[:, :1] * (1 + MATCH_TOLERANCE) + 1e-3
    choice = torch.multinomial(good.float(), 1, generator=generator)
    return candidates.gather(1, choice)[:, 0]

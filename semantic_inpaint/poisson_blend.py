"""Poisson blending: the fill meets the known pixels at the hole's edge with no seam.

A generator's fill can be right in its detail and slightly off in its colour everywhere (a
little too blue, a little too dark): the eye sees that as a square seam around the hole.
Seamless cloning (Pérez, Gangnet and Blake 2003; Iizuka et al. 2017 post-process their fills
this way) keeps the fill's gradients and lets its values meet the surrounding pixels: the
result is ``fill + c``, where the correction ``c`` is harmonic inside the hole (``Δc = 0``) and
equals ``image − fill`` on the known pixels bordering it. A constant colour offset is removed
exactly; the fill's own detail is untouched.

The linear system (the grid Laplacian restricted to the hole's pixels, symmetric positive
definite wherever the hole touches a known pixel) is solved by conjugate gradients, for every
image and channel at once, inside the hole's bounding box only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from semantic_inpaint.hole_windows import hole_bounds

#: the five-point Laplacian; with replicated borders an image edge is a zero-flux boundary
FIVE_POINT_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
#: iterations between two convergence checks (each check is one host-device sync)
CHECK_EVERY = 8


def laplacian(values: Tensor) -> Tensor:
    """The five-point Laplacian of ``(B, C, H, W)`` values, replicated at the borders.

    Two operations (a pad and a grouped convolution) rather than kornia's ``filter2d``: the
    solver calls it once per step, and an exported graph holds every step.
    """
    channels = values.shape[1]
    kernel = FIVE_POINT_LAPLACIAN.to(values).expand(channels, 1, 3, 3)
    return F.conv2d(F.pad(values, (1, 1, 1, 1), mode="replicate"), kernel, groups=channels)


def poisson_blend(
    fill: Tensor, image: Tensor, hole: Tensor, *, tolerance: float = 1e-4, max_iterations: int | None = None
) -> Tensor:
    """``fill`` with its values matched to ``image`` around the hole and its gradients kept.

    Args:
        fill: ``(B, C, H, W)`` in ``[-1, 1]``, the generator's output (only its hole pixels matter).
        image: ``(B, C, H, W)`` in ``[-1, 1]``, whose pixels outside the hole are known.
        hole: ``(B, 1, H, W)`` in ``{0, 1}``, 1 where pixels are missing.
        tolerance: stop when every residual is this fraction of its right-hand side's norm.
        max_iterations: at most this many conjugate-gradient steps (default: four times the
            longer side of the hole's bounding box, plenty for the five-point Laplacian).

    Returns:
        ``(B, C, H, W)`` in ``[-1, 1]``: ``fill`` outside the hole (bit-identical), the blended
        fill inside it. A hole that covers a whole image leaves that image's fill as it is.

    Examples:
        A fill that is right but 0.2 too bright comes back exactly right in the hole:

        >>> image = torch.linspace(-1, 1, 64).view(1, 1, 8, 8).expand(1, 3, 8, 8)
        >>> hole = torch.zeros(1, 1, 8, 8); hole[..., 2:6, 2:6] = 1
        >>> blended = poisson_blend(image + 0.2, image, hole)
        >>> bool(((blended - image) * hole).abs().amax() < 1e-4)
        True
    """
    bounds = hole_bounds(hole)
    if bounds is None:
        return fill
    top, bottom, left, right = max(bounds[0] - 1, 0), bounds[1] + 1, max(bounds[2] - 1, 0), bounds[3] + 1
    box = (..., slice(top, bottom), slice(left, right))
    iterations = max_iterations or 4 * max(bottom - top, right - left)
    blended = fill.clone()
    blended[box] = blend_in_window(fill[box], image[box], hole[box], iterations, tolerance)
    return blended


def blend_in_window(
    fill: Tensor, image: Tensor, hole: Tensor, iterations: int, tolerance: float | None = None
) -> Tensor:
    """:func:`poisson_blend` on a window as it is (no cropping to the hole): with
    ``tolerance=None`` exactly ``iterations`` steps and no host-device sync, so that a traced or
    exported graph (:class:`~semantic_inpaint.inference_graph.InpaintingGraph`) can hold it.

    Shape: as :func:`poisson_blend`.
    """
    inside = hole.to(torch.float32)
    difference = (image - fill).to(torch.float32) * (1 - inside)
    correction = _solve_in_hole(difference, inside, tolerance, iterations)
    return torch.where(inside > 0, (fill + correction.to(fill.dtype)).clamp(-1, 1), fill)


def blend_for_training(fill: Tensor, image: Tensor, hole: Tensor) -> Tensor:
    """:func:`poisson_blend` as a differentiable step of training: the whole image is the window
    and the solver takes exactly as many steps as the image's longer side, with no convergence
    check (no host-device sync, a fixed cost per step), so the losses can judge the fill a user
    gets. Its gradient reaches the hole's pixels directly and the known pixels that touch the hole
    through the correction they set: a colour step between the fill and the generator's own
    known-pixel ring costs, not only a fill that is off in the hole.

    Shape: as :func:`poisson_blend`. A side's worth of steps brings a training rectangle's fill
    within 5e-3 of the converged blend everywhere and its mean colour within 1e-4
    (``tests/test_poisson_blend.py``).
    """
    return blend_in_window(fill, image, hole, max(fill.shape[-2:]))


def _solve_in_hole(known: Tensor, inside: Tensor, tolerance: float | None, iterations: int) -> Tensor:
    """``x`` on the hole's pixels with ``Δ(known + x) = 0`` there: conjugate gradients on
    ``A x = b``, ``A x = −Δ(x·hole)·hole`` and ``b = Δ(known)·hole``, per image and channel;
    at most ``iterations`` steps, fewer once every residual is under ``tolerance`` (if given)."""

    def operator(values: Tensor) -> Tensor:
        return -laplacian(values * inside) * inside

    target = laplacian(known) * inside
    solution = torch.zeros_like(known)
    residual = target.clone()
    direction = residual.clone()
    squared = residual.square().sum(dim=(2, 3), keepdim=True)
    stop = None if tolerance is None else tolerance**2 * squared
    for iteration in range(iterations):
        if stop is not None and iteration % CHECK_EVERY == 0 and bool((squared <= stop).all()):
            break
        applied = operator(direction)
        step = squared / (direction * applied).sum(dim=(2, 3), keepdim=True).clamp_min(1e-30)
        solution = solution + step * direction
        residual = residual - step * applied
        squared_next = residual.square().sum(dim=(2, 3), keepdim=True)
        direction = residual + squared_next / squared.clamp_min(1e-30) * direction
        squared = squared_next
    return solution

"""The hole's mean colour as a training term: what a seam shows, held on its own.

A fill can be sharp and well shaped yet a few hundredths too dark or too blue as a whole; a
person sees that as a square seam. The paper's whole-image L2 pulls on the hole's mean colour
only in proportion to the hole's share of the image, and the adversarial terms do not pull on it
at all, so a long run can drift (``docs/control-recipes.md``). This term asks each fill's mean
colour, per channel, to be the original's, and leaves everything but that mean free.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def hole_colour_l2(prediction: Tensor, target: Tensor, hole: Tensor) -> Tensor:
    """Mean over images and channels of the squared difference between the mean of
    ``prediction`` and of ``target`` inside each image's hole.

    Images without a hole count as zero error (and still count in the mean), so the term
    needs no host-device synchronisation.

    Shape: ``prediction``, ``target`` ``(B, C, H, W)`` in ``[-1, 1]``; ``hole`` ``(B, 1, H, W)``
    in ``{0, 1}``, 1 where pixels are missing; a scalar.

    Examples:
        >>> import torch
        >>> hole = torch.zeros(1, 1, 4, 4); hole[..., :2, :2] = 1
        >>> checker = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(1, 3, 2, 2)  # mean 0 in the hole
        >>> float(hole_colour_l2(checker, torch.zeros(1, 3, 4, 4), hole))
        0.0
        >>> float(hole_colour_l2(torch.full((1, 3, 4, 4), 0.5), torch.zeros(1, 3, 4, 4), hole))
        0.25
    """
    hole = hole.to(prediction.dtype)
    area = hole.sum(dim=(2, 3)).clamp_min(1.0)
    mean_error = ((prediction - target) * hole).sum(dim=(2, 3)) / area
    return mean_error.square().mean()


def known_ring(hole: Tensor) -> Tensor:
    """The known pixels that touch the hole (8-neighbourhood): ``(B, 1, H, W)`` in ``{0, 1}``
    from a ``(B, 1, H, W)`` hole in ``{0, 1}``.

    Examples:
        >>> import torch
        >>> hole = torch.zeros(1, 1, 5, 5); hole[..., 2, 2] = 1
        >>> int(known_ring(hole).sum()), float(known_ring(hole)[0, 0, 2, 2])
        (8, 0.0)
    """
    return F.max_pool2d(hole, 3, stride=1, padding=1) - hole


def raw_colour_l2(output: Tensor, target: Tensor, hole: Tensor) -> Tensor:
    """:func:`hole_colour_l2` of the generator's output before the blend, inside the hole plus
    the same on the hole's known ring: both mean colours held to the original's.

    Poisson blending moves the fill by the ring's error, so it cancels any shift that the fill
    and its ring share: a loss on the blended fill leaves both free to drift together, and what
    the blend leaves of their difference depends on the hole's shape. Holding the two means
    anchors the output itself, leaving the blend nothing to correct.

    Shape: ``output``, ``target`` ``(B, C, H, W)`` in ``[-1, 1]``; ``hole`` ``(B, 1, H, W)`` in
    ``{0, 1}``; a scalar.

    Examples:
        >>> import torch
        >>> hole = torch.zeros(1, 1, 6, 6); hole[..., 2:4, 2:4] = 1
        >>> float(raw_colour_l2(torch.full((1, 3, 6, 6), 0.5), torch.zeros(1, 3, 6, 6), hole))  # a shared shift
        0.5
    """
    return hole_colour_l2(output, target, hole) + hole_colour_l2(output, target, known_ring(hole.to(output.dtype)))

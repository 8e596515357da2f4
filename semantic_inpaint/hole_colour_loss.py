"""The hole's mean colour as a training term: what a seam shows, held on its own.

A fill can be sharp and well shaped yet a few hundredths too dark or too blue as a whole; a
person sees that as a square seam. The paper's whole-image L2 pulls on the hole's mean colour
only in proportion to the hole's share of the image, and the adversarial terms do not pull on it
at all, so a long run can drift (``docs/control-recipes.md``). This term asks each fill's mean
colour, per channel, to be the original's, and leaves everything but that mean free.
"""

from __future__ import annotations

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

"""The crop around each sample's hole that GL's local discriminator judges (Iizuka et al. 2017).

Each crop is a ``size × size`` square centred on the sample's hole (its bounding box), moved
to lie inside the image. Computed with tensor operations only, on the images' device, so a
training step that uses it needs no host-device synchronisation.
"""

from __future__ import annotations

import torch
from torch import Tensor


def hole_centres(mask: Tensor) -> tuple[Tensor, Tensor]:
    """Centre ``(y, x)`` of each hole's bounding box, ``(B,)`` each, in pixels (the image's
    centre for a sample without a hole).

    Examples:
        >>> mask = torch.zeros(2, 1, 8, 8); mask[0, 0, 1:3, 4:8] = 1
        >>> hole_centres(mask)
        (tensor([2., 4.]), tensor([6., 4.]))
    """
    height, width = mask.shape[-2:]

    def centre(occupied: Tensor, length: int) -> Tensor:
        first = occupied.float().argmax(dim=1)
        last = length - occupied.float().flip(1).argmax(dim=1)
        return torch.where(occupied.any(dim=1), (first + last).float() / 2, torch.full_like(first, length / 2).float())

    rows, columns = mask.amax(dim=(1, 3)) > 0, mask.amax(dim=(1, 2)) > 0
    return centre(rows, height), centre(columns, width)


def hole_crops(images: Tensor, mask: Tensor, size: int) -> Tensor:
    """``(B, C, size, size)``: the square of side ``size`` centred on each sample's hole, inside the image.

    Args:
        images: ``(B, C, H, W)``, any values (gradients flow through).
        mask: ``(B, 1, H, W)`` in ``{0, 1}``, 1 = hole.
        size: side of the crops, at most ``min(H, W)``.

    Examples:
        >>> images = torch.arange(64.).reshape(1, 1, 8, 8); mask = torch.zeros(1, 1, 8, 8)
        >>> mask[..., 0:2, 6:8] = 1  # a hole in the top-right corner: the crop is moved inside
        >>> hole_crops(images, mask, 4)[0, 0]
        tensor([[ 4.,  5.,  6.,  7.],
                [12., 13., 14., 15.],
                [20., 21., 22., 23.],
                [28., 29., 30., 31.]])
    """
    height, width = images.shape[-2:]
    if not 1 <= size <= min(height, width):
        raise ValueError(f"size: expected a crop side in [1, {min(height, width)}], received {size}")
    centre_y, centre_x = hole_centres(mask)
    top = (centre_y - size / 2).round().clamp(0, height - size).long()
    left = (centre_x - size / 2).round().clamp(0, width - size).long()
    offsets = torch.arange(size, device=images.device)
    rows = (top[:, None] + offsets)[:, None, :, None].expand(-1, images.shape[1], -1, width)
    band = images.gather(2, rows)  # (B, C, size, W)
    columns = (left[:, None] + offsets)[:, None, None, :].expand(-1, images.shape[1], size, -1)
    return band.gather(3, columns)

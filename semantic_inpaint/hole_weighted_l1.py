"""Hole/valid-weighted L1 (Liu et al. 2018, partial convolutions; LaMa's default too).

``L = mean(|z - y| · (w_hole·m + w_valid·(1 - m)))`` over pixels and channels: the error in
the hole counts ``hole_weight / valid_weight`` times as much as the error where the pixels
were known (which compositing throws away at inference).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from torch import Tensor

from semantic_inpaint.losses import ReconstructionLoss


class HoleWeightedL1(ReconstructionLoss):
    """Mean absolute error, weighted by where the pixel is.

    Args:
        hole_weight: weight of a missing pixel's error (PConv: 6).
        valid_weight: weight of a known pixel's error (PConv: 1).

    Shape:
        - prediction, target: ``(B, 3, H, W)`` in ``[-1, 1]``
        - mask: ``(B, 1, H, W)`` in ``{0, 1}``, 1 = missing
        - output: a scalar

    Examples:
        >>> import torch
        >>> mask = torch.zeros(1, 1, 2, 2); mask[..., 0, 0] = 1  # one of four pixels missing
        >>> HoleWeightedL1()(torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2), mask)  # (6 + 3·1) / 4
        tensor(2.2500)
    """

    def __init__(
        self,
        hole_weight: Annotated[float, Field(ge=0, le=1000)] = 6.0,
        valid_weight: Annotated[float, Field(ge=0, le=1000)] = 1.0,
    ) -> None:
        self.hole_weight, self.valid_weight = hole_weight, valid_weight

    def __call__(self, prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        weight = self.valid_weight + (self.hole_weight - self.valid_weight) * mask.to(prediction.dtype)
        return ((prediction - target).abs() * weight).mean()

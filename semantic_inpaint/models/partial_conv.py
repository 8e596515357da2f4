"""Partial convolution (Liu et al. 2018): a convolution over the known pixels only.

Each window's output is renormalised by the share of known pixels under it,
``W·(X⊙M) · sum(1)/sum(M) + b``, and is zero where the window saw no known pixel; the mask
passed on is "the window saw at least one known pixel", so the hole shrinks layer by layer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class PartialConv2d(nn.Conv2d):
    """``Conv2d`` that sees only the valid (known) pixels and updates the mask.

    Shape:
        - features: ``(B, C_in, H, W)``; valid: ``(B, 1, H, W)`` in ``{0, 1}``, 1 = known
        - output: ``(B, C_out, H', W')`` and the updated valid mask ``(B, 1, H', W')``

    Examples:
        >>> conv = PartialConv2d(3, 4, 3, padding=1)
        >>> valid = torch.ones(1, 1, 8, 8); valid[..., 2:6, 2:6] = 0
        >>> out, updated = conv(torch.rand(1, 3, 8, 8), valid)
        >>> out.shape, int(updated.sum()) > int(valid.sum())  # the hole shrank
        (torch.Size([1, 4, 8, 8]), True)
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer("window", torch.ones(1, 1, *self.kernel_size), persistent=False)
        self.window_size = float(self.kernel_size[0] * self.kernel_size[1])

    def forward(self, features: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        with torch.no_grad():
            seen = F.conv2d(
                valid.to(features.dtype), self.window.to(features.dtype), None, self.stride, self.padding, self.dilation
            )
            updated = (seen > 0).to(features.dtype)
            ratio = self.window_size / seen.clamp(min=1) * updated
        out = F.conv2d(features * valid, self.weight, None, self.stride, self.padding, self.dilation)
        out = out * ratio
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1) * updated
        return out, updated

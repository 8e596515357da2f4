"""Contextual attention (Yu et al. 2018): fill the hole with patches copied from the known region.

Every position's 3×3 feature patch is compared (cosine similarity, scaled by ``softmax_scale``)
with every *known* 3×3 patch of the same feature map; the softmax of the similarities weights
the known patches, which are pasted back overlapping (averaged). Vectorised over the batch:
an attention matrix of ``(h·w)²`` per image, so it belongs at a coarse level (stride 4).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ContextualAttention(nn.Module):
    """Borrow features for the hole from similar known patches.

    Args:
        patch_size: side of the compared and pasted patches.
        softmax_scale: sharpness of the attention (DeepFill's 10).

    Shape:
        - features: ``(B, C, h, w)``; known: ``(B, 1, h, w)`` in ``{0, 1}``, 1 = known pixel
        - output: ``(B, C, h, w)``

    Examples:
        >>> attention = ContextualAttention()
        >>> features = torch.rand(2, 8, 6, 6); known = torch.ones(2, 1, 6, 6); known[..., 2:4, 2:4] = 0
        >>> attention(features, known).shape
        torch.Size([2, 8, 6, 6])
    """

    def __init__(self, patch_size: int = 3, softmax_scale: float = 10.0) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.softmax_scale = softmax_scale

    def forward(self, features: Tensor, known: Tensor) -> Tensor:
        size, pad = self.patch_size, self.patch_size // 2
        height, width = features.shape[-2:]
        patches = F.unfold(features, size, padding=pad)  # (B, C·k², L): one patch per position
        normalised = F.normalize(patches, dim=1)
        similarity = torch.einsum("bkq,bkp->bqp", normalised, normalised)  # (B, L query, L source)
        # a source patch may be copied only if every pixel under it is known
        source_known = F.unfold(known.to(features.dtype), size, padding=pad).amin(dim=1) > 0.5  # (B, L)
        similarity = similarity.masked_fill(~source_known[:, None, :], float("-inf"))
        attention = torch.softmax(similarity * self.softmax_scale, dim=-1)
        attention = torch.nan_to_num(attention)  # no known patch at all: borrow nothing
        pasted = torch.einsum("bqp,bkp->bkq", attention, patches)  # (B, C·k², L)
        overlap = F.fold(torch.ones_like(pasted[:, :1].expand(-1, size * size, -1)), (height, width), size, padding=pad)
        return F.fold(pasted, (height, width), size, padding=pad) / overlap.clamp(min=1)

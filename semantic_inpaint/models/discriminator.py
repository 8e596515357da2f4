"""The reference discriminator, global or matching (attribute / segmentation).

One trunk of stride-2 convolutions down to M2×M2 (``condition_stride`` 64 at 256 px gives
the paper's M2 = 4) and a fully connected head. A *map* signal is concatenated with the
image at the input; a *vector* signal is replicated to M2×M2 and concatenated with the
trunk's features, then fused by a 1×1 convolution before the head.
"""

from __future__ import annotations

from typing import Annotated

import torch
from einops import rearrange
from pydantic import Field
from torch import Tensor, nn

from semantic_inpaint.core import ConditionalDiscriminator, SignalSpec
from semantic_inpaint.models.blocks import (
    conv_norm_act,
    replicate_vector,
    scaled_width,
    strided_convolutions,
    trunk_levels,
)
from semantic_inpaint.validation import check_square


class ConvDiscriminator(ConditionalDiscriminator):
    """Convolutional discriminator with an optional matching condition.

    Args:
        resolution: input size in pixels.
        signal: the condition it matches, or ``None`` for the global discriminator.
        width: channels of the first layer (doubling per level up to ``8 * width``); default
            scaled with the resolution (:func:`~semantic_inpaint.models.blocks.scaled_width`).
        condition_stride: total downsampling; M2 = resolution / condition_stride (at least 1).

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]`` with ``H = W = resolution``
        - condition: ``(B, N)`` vector or ``(B, C, H, W)`` map, or ``None``
        - output: ``(B,)`` logits

    Examples:
        >>> import torch
        >>> d = ConvDiscriminator(resolution=32, width=8)
        >>> d(torch.zeros(4, 3, 32, 32)).shape
        torch.Size([4])
    """

    def __init__(
        self,
        *,
        resolution: int,
        signal: SignalSpec | None = None,
        width: Annotated[int, Field(ge=4, le=512)] | None = None,
        condition_stride: Annotated[int, Field(ge=2, le=256)] = 64,
    ) -> None:
        super().__init__(signal)
        width = width or scaled_width(resolution)
        self.width = width
        levels, self.feature_size = trunk_levels(resolution, condition_stride)
        self.resolution = resolution
        in_channels = 3 + (signal.channels if signal is not None and signal.kind == "map" else 0)
        self.trunk, previous = strided_convolutions(in_channels, width, range(levels))
        self.fuse: nn.Module = nn.Identity()
        if signal is not None and signal.kind == "vector":
            self.fuse = conv_norm_act(
                previous + signal.channels,
                previous,
                1,
                norm="none",
                activation=nn.LeakyReLU(0.2, inplace=True),
            )
        self.head = nn.Linear(previous * self.feature_size**2, 1)

    def score(self, image: Tensor, condition: Tensor | None) -> Tensor:
        check_square(image, self.resolution)
        if self.signal is not None and self.signal.kind == "map":
            image = torch.cat([image, condition.to(image.dtype)], dim=1)
        return self._head(self.trunk(image), condition)

    def score_pairs(self, image: Tensor, condition: Tensor | None, pairing: Tensor) -> Tensor:
        """A vector signal joins after the trunk: the trunk runs once per image, not per pair."""
        if self.signal is None or self.signal.kind == "map":
            return super().score_pairs(image, condition, pairing)
        check_square(image, self.resolution)
        return self._head(self.trunk(image)[pairing], condition)

    def _head(self, features: Tensor, condition: Tensor | None) -> Tensor:
        """Logits ``(B,)`` from the trunk's features ``(B, C, M2, M2)`` (and a vector signal)."""
        if self.signal is not None and self.signal.kind == "vector":
            vector = replicate_vector(condition.to(features.dtype), *features.shape[-2:])
            features = self.fuse(torch.cat([features, vector], dim=1))
        return self.head(rearrange(features, "b c h w -> b (c h w)")).squeeze(1)

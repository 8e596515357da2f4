"""The PConv U-Net (Liu et al. 2018): partial convolutions with mask updates and skips.

Encoder: partial convolutions of stride 2 (kernels 7, 5, 5, 3, ...; BatchNorm after all but
the first, ReLU), one level per halving down to a 4×4 bottleneck (at most 7 levels, as the
paper's 512 px network). Decoder: nearest upsampling of features and mask, concatenation with
the encoder's features and mask at that level, a partial convolution, LeakyReLU(0.2); the
last level concatenates the network input and ends in 3 channels. The output goes through
``tanh`` so it lies in [-1, 1] like every generator of the library.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from semantic_inpaint.core import InpaintGenerator, SignalSpec
from semantic_inpaint.models.blocks import level_widths, log2_exact, scaled_width
from semantic_inpaint.models.partial_conv import PartialConv2d
from semantic_inpaint.models.signal_routing import MapConditioning, SignalRouting, VectorConditioning


class PartialConvBlock(nn.Module):
    """Partial convolution → optional BatchNorm → activation, carrying the valid mask."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, stride: int, batch_norm: bool, activation: nn.Module
    ) -> None:
        super().__init__()
        self.conv = PartialConv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2)
        self.norm = nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity()
        self.activation = activation
        self.out_channels = out_channels

    def forward(self, features: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
        features, valid = self.conv(features, valid)
        return self.activation(self.norm(features)), valid


class PartialConvGenerator(InpaintGenerator):
    """PConv U-Net with mask updates (Liu et al. 2018), conditioned on maps and vectors.

    Args:
        resolution: training size in pixels (a power of two, at least 8).
        signals: the semantic signals it is conditioned on (maps at the input, vectors at
            the bottleneck, or modulating every decoder level).
        width: channels of the first level (the paper's 64 at 256 px), doubling to ``8 * width``.
        vector_conditioning: ``"concat"`` (vectors replicated at the bottleneck) or ``"film"``.
        map_conditioning: ``"concat"`` (maps at the input) or ``"spade"``.

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]``, mask ``(B, 1, H, W)`` in ``{0, 1}`` (1 = missing)
        - output: ``(B, 3, H, W)`` in ``[-1, 1]``

    Examples:
        >>> g = PartialConvGenerator(resolution=32, width=8)
        >>> g(torch.zeros(1, 3, 32, 32), torch.ones(1, 1, 32, 32)).shape
        torch.Size([1, 3, 32, 32])
    """

    def __init__(
        self,
        *,
        resolution: int,
        signals: tuple[SignalSpec, ...] = (),
        width: Annotated[int, Field(ge=4, le=512)] | None = None,
        vector_conditioning: VectorConditioning = "concat",
        map_conditioning: MapConditioning = "concat",
    ) -> None:
        super().__init__(signals)
        width = width or scaled_width(resolution)
        levels = min(7, log2_exact(resolution, "resolution") - 2)
        if levels < 1:
            raise ValueError(f"resolution: expected a power of two of at least 8, received {resolution}")
        self.size_multiple = 2**levels
        self.routing = SignalRouting(signals, vector_conditioning, map_conditioning)
        channels = level_widths(width, levels)
        kernels = [7, 5, 5] + [3] * max(0, levels - 3)
        encoder, previous = [], self.routing.input_channels
        for level, (out, kernel) in enumerate(zip(channels, kernels, strict=False)):
            encoder.append(PartialConvBlock(previous, out, kernel, 2, level > 0, nn.ReLU(inplace=True)))
            previous = out
        self.encoder = nn.ModuleList(encoder)
        # decoder level i concatenates the features the encoder's level i received; the last ends in RGB
        skips = [self.routing.input_channels, *channels[:-1]]
        decoder, previous = [], channels[-1] + self.routing.bottleneck_channels
        for level in reversed(range(levels)):
            if level > 0:
                block = PartialConvBlock(previous + skips[level], skips[level], 3, 1, True, nn.LeakyReLU(0.2, True))
            else:
                block = PartialConvBlock(previous + skips[level], 3, 3, 1, False, nn.Identity())
            decoder.append(block)
            previous = block.out_channels
        self.decoder = nn.ModuleList(decoder)
        self.modulations = self.routing.modulations([block.out_channels for block in self.decoder[:-1]])

    def predict(self, masked_image: Tensor, mask: Tensor, conditions: Mapping[str, Tensor]) -> Tensor:
        features = self.routing.network_input(masked_image, mask, conditions)
        valid = 1 - mask
        skips = []
        for block in self.encoder:
            skips.append((features, valid))
            features, valid = block(features, valid)
        features = self.routing.join_bottleneck(features, conditions)
        modulate = self.routing.modulator(self.modulations, conditions)
        for index, block in enumerate(self.decoder):
            skip, skip_valid = skips.pop()
            features = torch.cat([F.interpolate(features, scale_factor=2.0, mode="nearest"), skip], dim=1)
            valid = torch.maximum(F.interpolate(valid, scale_factor=2.0, mode="nearest"), skip_valid)
            features, valid = block(features, valid)
            if index < len(self.decoder) - 1:
                features = modulate(features)
        return torch.tanh(features)

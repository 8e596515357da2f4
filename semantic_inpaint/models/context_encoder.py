"""The Context Encoder (Pathak et al. 2016): conv encoder, channel-wise fully connected
bottleneck, transposed-conv decoder.

Encoder: 4×4 convolutions of stride 2 (LeakyReLU 0.2, BatchNorm after the first) down to a
4×4 grid. Bottleneck: a fully connected layer *per channel* over the 16 positions (so every
position sees the whole image at a fraction of a dense layer's weights), then a 1×1
convolution that mixes the channels. Decoder: 4×4 transposed convolutions of stride 2 (ReLU,
BatchNorm) back to full size, ``tanh``. The paper's decoder produced only the central hole;
here it produces the whole image like every generator of the library (the composite keeps
the known pixels), so any mask works.

The channel-wise layer ties the network to the 4×4 grid: inputs must be exactly the training
resolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import torch
from einops import rearrange
from pydantic import Field
from torch import Tensor, nn

from semantic_inpaint.core import InpaintGenerator, SignalSpec
from semantic_inpaint.models.blocks import level_widths, log2_exact, scaled_width
from semantic_inpaint.models.signal_routing import MapConditioning, SignalRouting, VectorConditioning

GRID = 4  # the bottleneck is GRID × GRID positions


class ChannelwiseFullyConnected(nn.Module):
    """A dense layer over the positions of each channel separately (no mixing across channels).

    Shape: ``(B, C, h, w)`` → ``(B, C, h, w)``, with ``h·w = positions``.
    """

    def __init__(self, channels: int, positions: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels, positions, positions) / positions**0.5)
        self.bias = nn.Parameter(torch.zeros(channels, positions))

    def forward(self, features: Tensor) -> Tensor:
        height = features.shape[-2]
        flat = rearrange(features, "b c h w -> b c (h w)")
        mixed = torch.einsum("bcp,cpq->bcq", flat, self.weight.to(flat.dtype)) + self.bias.to(flat.dtype)
        return rearrange(mixed, "b c (h w) -> b c h w", h=height)


class ContextEncoderGenerator(InpaintGenerator):
    """Context Encoder generator (Pathak et al. 2016), conditioned on maps and vectors.

    Args:
        resolution: training size in pixels (a power of two, at least 16); inputs must have it.
        signals: the semantic signals (maps at the input; vectors concatenated at the 4×4
            bottleneck, or modulating every decoder block).
        width: channels of the first layer (the paper's 64), doubling to at most ``8 * width``.
        vector_conditioning: ``"concat"`` (vectors replicated at the bottleneck) or ``"film"``.
        map_conditioning: ``"concat"`` (maps at the input) or ``"spade"``.

    Shape:
        - image: ``(B, 3, resolution, resolution)`` in ``[-1, 1]``, mask ``(B, 1, ...)`` in ``{0, 1}``
        - output: ``(B, 3, resolution, resolution)`` in ``[-1, 1]``

    Examples:
        >>> g = ContextEncoderGenerator(resolution=32, width=8)
        >>> g(torch.zeros(2, 3, 32, 32), torch.ones(2, 1, 32, 32)).shape
        torch.Size([2, 3, 32, 32])
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
        levels = log2_exact(resolution, "resolution") - log2_exact(GRID, "grid")
        if levels < 2:
            raise ValueError(f"resolution: expected a power of two of at least 16, received {resolution}")
        self.resolution = resolution
        self.size_multiple = resolution
        self.routing = SignalRouting(signals, vector_conditioning, map_conditioning)
        channels = level_widths(width, levels)
        encoder: list[nn.Module] = []
        previous = self.routing.input_channels
        for level, out in enumerate(channels):
            encoder += [nn.Conv2d(previous, out, 4, stride=2, padding=1, bias=level == 0)]
            encoder += [nn.BatchNorm2d(out)] if level > 0 else []
            encoder += [nn.LeakyReLU(0.2, inplace=True)]
            previous = out
        self.encoder = nn.Sequential(*encoder)
        bottleneck = channels[-1] + self.routing.bottleneck_channels
        self.channelwise = ChannelwiseFullyConnected(bottleneck, GRID * GRID)
        self.mix = nn.Sequential(
            nn.Conv2d(bottleneck, channels[-1], 1, bias=False), nn.BatchNorm2d(channels[-1]), nn.ReLU(inplace=True)
        )
        self.decoder = nn.ModuleList(
            nn.Sequential(
                nn.ConvTranspose2d(channels[level], channels[level - 1], 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(channels[level - 1]),
                nn.ReLU(inplace=True),
            )
            for level in reversed(range(1, levels))
        )
        self.head = nn.Sequential(nn.ConvTranspose2d(channels[0], 3, 4, stride=2, padding=1), nn.Tanh())
        self.modulations = self.routing.modulations([block[0].out_channels for block in self.decoder])

    def predict(self, masked_image: Tensor, mask: Tensor, conditions: Mapping[str, Tensor]) -> Tensor:
        if masked_image.shape[-2:] != (self.resolution, self.resolution):
            raise ValueError(
                f"image: expected {self.resolution}x{self.resolution} (the context encoder's channel-wise layer is "
                f"tied to its training size), received {masked_image.shape[-2]}x{masked_image.shape[-1]}"
            )
        features = self.encoder(self.routing.network_input(masked_image, mask, conditions))
        features = self.mix(self.channelwise(self.routing.join_bottleneck(features, conditions)))
        modulate = self.routing.modulator(self.modulations, conditions)
        for block in self.decoder:
            features = modulate(block(features))
        return self.head(features)

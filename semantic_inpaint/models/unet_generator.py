"""A fast U-Net inpainting backbone: skip connections and a residual dilated bottleneck.

The library's modern fast backbone. Why a U-Net rather than a LaMa-style FFC ResNet: the
reference generator's two weaknesses at small budgets are its missing skip path (known pixels
must squeeze through the bottleneck to reach the decoder) and its 4×4 bottleneck at 64 px
(dilations 8 and 16 see mostly padding). Skips fix the first; a stride-8 bottleneck with
dilations (1, 2, 4) fixes the second. It needs no FFT, so it runs as fast on a CPU as on a GPU
(per FLOP) and exports to ONNX and TorchScript like every other part of the library.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Annotated, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from semantic_inpaint.core import InpaintGenerator, SignalSpec
from semantic_inpaint.models.blocks import Normalization, conv_norm_act, level_widths, log2_exact, scaled_width
from semantic_inpaint.models.signal_routing import MapConditioning, SignalRouting, VectorConditioning


class ResidualBlock(nn.Module):
    """``x + conv(conv(x))`` with a dilated first convolution, ``(B, C, h, w)`` → same."""

    def __init__(self, channels: int, dilation: int, norm: Normalization) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_norm_act(channels, channels, 3, dilation=dilation, norm=norm),
            conv_norm_act(channels, channels, 3, norm=norm, activation=nn.Identity()),
        )
        self.activation = nn.ReLU(inplace=True)
        self.out_channels = channels

    def forward(self, features: Tensor) -> Tensor:
        return self.activation(features + self.body(features))


class UNetGenerator(InpaintGenerator):
    """Encoder with skips → residual dilated bottleneck → decoder that concatenates the skips.

    Args:
        resolution: training size in pixels (a multiple of ``bottleneck_stride``).
        signals: the semantic signals it is conditioned on (empty: plain inpainter).
        width: channels of the first level (doubling per level, at most ``8 * width``);
            default scaled with the resolution (16 at 64 px, 64 at 256 px).
        bottleneck_stride: total downsampling (8: an 8×8 bottleneck at 64 px).
        dilations: dilation of each residual bottleneck block.
        norm: ``"batch"``, ``"group"`` or ``"none"`` (see :func:`~semantic_inpaint.models.blocks.conv_norm_act`).
        vector_conditioning: ``"concat"`` (replicated at the bottleneck) or ``"film"``
            (:class:`~semantic_inpaint.models.signal_routing.SignalRouting`); modulation acts on every
            bottleneck and decoder block.
        map_conditioning: ``"concat"`` (at the input) or ``"spade"``.
        skip_gate: ``"none"``: each skip passes the encoder's features as they are; ``"known"``:
            each is scaled by the share of known pixels in its cell, so a cell wholly inside the
            hole passes nothing and the decoder fills it from the (modulated) bottleneck alone.

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]``, mask ``(B, 1, H, W)`` in ``{0, 1}`` (1 = missing)
        - conditions: ``{name: (B, N)}`` for vectors, ``{name: (B, C, H, W)}`` for maps
        - output: ``(B, 3, H, W)`` in ``[-1, 1]``

    Examples:
        >>> g = UNetGenerator(resolution=32, width=8, signals=(SignalSpec("a", "vector", 5),))
        >>> g(torch.zeros(2, 3, 32, 32), torch.zeros(2, 1, 32, 32), {"a": torch.rand(2, 5)}).shape
        torch.Size([2, 3, 32, 32])
    """

    def __init__(
        self,
        *,
        resolution: int,
        signals: tuple[SignalSpec, ...] = (),
        width: Annotated[int, Field(ge=4, le=512)] | None = None,
        bottleneck_stride: Annotated[int, Field(ge=2, le=64)] = 8,
        dilations: tuple[Annotated[int, Field(ge=1, le=64)], ...] = (1, 2, 4),
        norm: Normalization = "batch",
        vector_conditioning: VectorConditioning = "concat",
        map_conditioning: MapConditioning = "concat",
        skip_gate: Literal["none", "known"] = "none",
    ) -> None:
        super().__init__(signals)
        width = width or scaled_width(resolution)
        levels = log2_exact(bottleneck_stride, "bottleneck_stride")
        if resolution % bottleneck_stride:
            raise ValueError(
                f"resolution: expected a multiple of bottleneck_stride={bottleneck_stride}, received {resolution}"
            )
        self.size_multiple = bottleneck_stride
        self.skip_gate = skip_gate
        block = partial(conv_norm_act, norm=norm)
        self.routing = SignalRouting(signals, vector_conditioning, map_conditioning)
        channels = level_widths(width, levels + 1)  # per level, full size first

        self.stem = block(self.routing.input_channels, channels[0], 5)
        self.down = nn.ModuleList(
            nn.Sequential(block(channels[i], channels[i + 1], 3, stride=2), block(channels[i + 1], channels[i + 1]))
            for i in range(levels)
        )
        bottleneck = channels[-1]
        self.join = block(bottleneck + self.routing.bottleneck_channels, bottleneck, 1)
        self.middle = nn.ModuleList(ResidualBlock(bottleneck, d, norm) for d in dilations)
        self.up = nn.ModuleList(
            block(channels[i + 1] + channels[i], channels[i]) for i in reversed(range(levels))
        )  # coarsest first
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.head = nn.Sequential(nn.Conv2d(channels[0], 3, 3, padding=1), nn.Tanh())
        modulated = [b.out_channels for b in self.middle] + [b[0].out_channels for b in self.up]
        self.modulations = self.routing.modulations(modulated)

    def predict(self, masked_image: Tensor, mask: Tensor, conditions: Mapping[str, Tensor]) -> Tensor:
        features = self.stem(self.routing.network_input(masked_image, mask, conditions))
        skips = [features]
        for down in self.down:
            features = down(features)
            skips.append(features)
        features = self.join(self.routing.join_bottleneck(skips.pop(), conditions))
        modulate = self.routing.modulator(self.modulations, conditions)
        for residual in self.middle:
            features = modulate(residual(features))
        for up in self.up:
            features = modulate(up(torch.cat([self.upsample(features), self.gated(skips.pop(), mask)], dim=1)))
        return self.head(features)

    def gated(self, skip: Tensor, mask: Tensor) -> Tensor:
        """``skip`` ``(B, C, h, w)`` as the decoder receives it: unchanged, or scaled by each cell's
        share of known pixels (``mask`` ``(B, 1, H, W)``, 1 = missing) with ``skip_gate="known"``."""
        if self.skip_gate == "none":
            return skip
        return skip * F.adaptive_avg_pool2d(1 - mask, skip.shape[-2:]).to(skip.dtype)

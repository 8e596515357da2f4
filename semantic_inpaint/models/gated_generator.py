"""DeepFill v2 (Yu et al. 2019): a coarse-to-fine generator of gated convolutions.

A coarse network (gated encoder to stride 4, dilated gated convolutions 2, 4, 8, 16, gated
decoder) produces a first fill; the refinement network sees the image completed with it and
refines it through a dilated branch and, optionally, a contextual-attention branch that
copies features from similar known patches (Yu et al. 2018). Both stages see the signals:
maps with their input, vectors joined at their bottleneck (or modulating every decoder block).

One difference from the paper: the library trains a generator through its final output
only, so the coarse fill is learned end to end through the refinement network instead of
by a separate reconstruction loss of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from semantic_inpaint.core import InpaintGenerator, SignalSpec
from semantic_inpaint.models.blocks import scaled_width
from semantic_inpaint.models.contextual_attention import ContextualAttention
from semantic_inpaint.models.gated_conv import GatedConv2d
from semantic_inpaint.models.signal_routing import MapConditioning, SignalRouting, VectorConditioning


def gated_encoder(in_channels: int, width: int) -> nn.Sequential:
    """DeepFill's encoder: ``(B, in, H, W)`` → ``(B, 4·width, H/4, W/4)``."""
    return nn.Sequential(
        GatedConv2d(in_channels, width, 5),
        GatedConv2d(width, 2 * width, 3, stride=2),
        GatedConv2d(2 * width, 2 * width),
        GatedConv2d(2 * width, 4 * width, 3, stride=2),
        GatedConv2d(4 * width, 4 * width),
        GatedConv2d(4 * width, 4 * width),
    )


class GatedDecoder(nn.Module):
    """DeepFill's decoder: ``(B, 4·width, H/4, W/4)`` → ``(B, 3, H, W)`` in ``[-1, 1]``;
    every gated block before the output layer can be modulated by the signals."""

    def __init__(self, width: int) -> None:
        super().__init__()
        half = max(width // 2, 4)
        self.blocks = nn.ModuleList(
            [
                GatedConv2d(4 * width, 4 * width),
                GatedConv2d(4 * width, 4 * width),
                GatedConv2d(4 * width, 2 * width),  # after the first upsampling
                GatedConv2d(2 * width, 2 * width),
                GatedConv2d(2 * width, width),  # after the second upsampling
                GatedConv2d(width, half),
            ]
        )
        self.upsample_before = {2, 4}
        self.output = GatedConv2d(half, 3, 3, activation=nn.Identity())

    def forward(self, features: Tensor, modulate: Callable[[Tensor], Tensor]) -> Tensor:
        for index, block in enumerate(self.blocks):
            if index in self.upsample_before:
                features = F.interpolate(features, scale_factor=2.0, mode="nearest")
            features = modulate(block(features))
        return torch.tanh(self.output(features))


class GatedGenerator(InpaintGenerator):
    """Coarse-to-fine gated-convolution generator (DeepFill v2), conditioned on maps and vectors.

    Args:
        resolution: training size in pixels (a multiple of 4).
        signals: the semantic signals it is conditioned on.
        width: channels of the first layer (DeepFill's 48 at 256 px; default scaled with the resolution).
        dilations: of the gated convolutions at the bottleneck of both stages.
        contextual_attention: add the refinement stage's contextual-attention branch.
        vector_conditioning: ``"concat"`` (vectors replicated at the bottleneck) or ``"film"``.
        map_conditioning: ``"concat"`` (maps at the input) or ``"spade"``.

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]``, mask ``(B, 1, H, W)`` in ``{0, 1}`` (1 = missing)
        - output: ``(B, 3, H, W)`` in ``[-1, 1]``, the refined fill

    Examples:
        >>> g = GatedGenerator(resolution=32, width=8, contextual_attention=True)
        >>> g(torch.zeros(1, 3, 32, 32), torch.ones(1, 1, 32, 32)).shape
        torch.Size([1, 3, 32, 32])
    """

    def __init__(
        self,
        *,
        resolution: int,
        signals: tuple[SignalSpec, ...] = (),
        width: Annotated[int, Field(ge=4, le=512)] | None = None,
        dilations: tuple[Annotated[int, Field(ge=1, le=64)], ...] = (2, 4, 8, 16),
        contextual_attention: bool = False,
        vector_conditioning: VectorConditioning = "concat",
        map_conditioning: MapConditioning = "concat",
    ) -> None:
        super().__init__(signals)
        if resolution % 4:
            raise ValueError(f"resolution: expected a multiple of 4, received {resolution}")
        width = width or scaled_width(resolution)
        self.size_multiple = 4
        self.routing = SignalRouting(signals, vector_conditioning, map_conditioning)
        bottleneck = 4 * width

        def dilated_bottleneck() -> nn.Sequential:
            return nn.Sequential(
                GatedConv2d(bottleneck + self.routing.bottleneck_channels, bottleneck),
                *(GatedConv2d(bottleneck, bottleneck, 3, dilation=d) for d in dilations),
            )

        self.coarse_encoder = gated_encoder(self.routing.input_channels, width)
        self.coarse_middle = dilated_bottleneck()
        self.coarse_decoder = GatedDecoder(width)
        self.refine_encoder = gated_encoder(self.routing.input_channels, width)
        self.refine_middle = dilated_bottleneck()
        self.attention_encoder = gated_encoder(self.routing.input_channels, width) if contextual_attention else None
        self.attention = ContextualAttention() if contextual_attention else None
        self.attention_out = (
            nn.Sequential(GatedConv2d(bottleneck, bottleneck), GatedConv2d(bottleneck, bottleneck))
            if contextual_attention
            else None
        )
        self.merge = GatedConv2d((2 if contextual_attention else 1) * bottleneck, bottleneck)
        self.refine_decoder = GatedDecoder(width)
        modulated = [b.out_channels for b in [*self.coarse_decoder.blocks, *self.refine_decoder.blocks]]
        self.modulations = self.routing.modulations(modulated)

    def predict(self, masked_image: Tensor, mask: Tensor, conditions: Mapping[str, Tensor]) -> Tensor:
        modulate = self.routing.modulator(self.modulations, conditions)
        features = self.coarse_encoder(self.routing.network_input(masked_image, mask, conditions))
        features = self.coarse_middle(self.routing.join_bottleneck(features, conditions))
        coarse = self.coarse_decoder(features, modulate)

        completed = masked_image + coarse * mask
        refine_input = self.routing.network_input(completed, mask, conditions)
        features = self.refine_encoder(refine_input)
        branches = [self.refine_middle(self.routing.join_bottleneck(features, conditions))]
        if self.attention is not None:
            attended = self.attention_encoder(refine_input)
            known = 1 - F.max_pool2d(mask, 4)  # a coarse position is known only if all its pixels are
            branches.append(self.attention_out(self.attention(attended, known)))
        return self.refine_decoder(self.merge(torch.cat(branches, dim=1)), modulate)

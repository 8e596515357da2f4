"""The reference inpainting generator: a GL-style encoder–decoder with dilated convolutions.

Iizuka et al. (2017) as used by the boosted GAN: the masked image, its mask and every *map*
signal are concatenated at the input; the encoder downsamples by ``bottleneck_stride``
(16 at 256 px gives the paper's M1 = 16); every *vector* signal is replicated to M1×M1 and
concatenated with the bottleneck features; dilated convolutions (2, 4, 8, 16) widen the
receptive field; a nearest-upsampling decoder returns to full size.

How each kind of signal enters is a switch: ``vector_conditioning="film"`` modulates every
bottleneck and decoder block with the vectors instead of concatenating them once at the
bottleneck, ``map_conditioning="spade"`` modulates them with the maps (resized to each
block) instead of concatenating them at the input (:mod:`semantic_inpaint.models.modulation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Annotated

from pydantic import Field
from torch import Tensor, nn

from semantic_inpaint.core import InpaintGenerator, SignalSpec
from semantic_inpaint.models.blocks import Normalization, log2_exact, scaled_width
from semantic_inpaint.models.blocks import conv_norm_act as conv_block
from semantic_inpaint.models.signal_routing import MapConditioning, SignalRouting, VectorConditioning


class DilatedGenerator(InpaintGenerator):
    """Encoder → dilated bottleneck → decoder, conditioned on maps (input) and vectors (M1).

    Args:
        resolution: training size in pixels (must be a multiple of ``bottleneck_stride``).
        signals: the semantic signals it is conditioned on (empty: plain GL inpainter).
        width: channels of the first layer; the bottleneck has ``4 * width``; default
            scaled with the resolution (:func:`~semantic_inpaint.models.blocks.scaled_width`:
            16 at 64 px, 32 at 128 px, the paper's 64 at 256 px).
        bottleneck_stride: total downsampling; M1 = resolution / bottleneck_stride.
        dilations: dilation rates of the bottleneck convolutions.
        norm: ``"batch"`` (BatchNorm after each convolution, as GL), ``"group"`` (GroupNorm:
            no train/eval difference, nothing to recalibrate) or ``"none"``.
        vector_conditioning: ``"concat"`` (the paper: replicated at the bottleneck) or
            ``"film"`` (a scale and shift per channel at every bottleneck and decoder block).
        map_conditioning: ``"concat"`` (the paper: at the input) or ``"spade"`` (a scale and
            shift per channel and position at every bottleneck and decoder block).

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]``, mask ``(B, 1, H, W)`` in ``{0, 1}``
        - conditions: ``{name: (B, N)}`` for vectors, ``{name: (B, C, H, W)}`` for maps
        - output: ``(B, 3, H, W)`` in ``[-1, 1]``

    Examples:
        >>> import torch
        >>> from semantic_inpaint.core import SignalSpec
        >>> g = DilatedGenerator(resolution=32, width=8, signals=(SignalSpec("a", "vector", 5),))
        >>> x = torch.zeros(2, 3, 32, 32); m = torch.zeros(2, 1, 32, 32)
        >>> g(x, m, {"a": torch.rand(2, 5)}).shape
        torch.Size([2, 3, 32, 32])
    """

    def __init__(
        self,
        *,
        resolution: int,
        signals: tuple[SignalSpec, ...] = (),
        width: Annotated[int, Field(ge=4, le=512)] | None = None,
        bottleneck_stride: Annotated[int, Field(ge=2, le=64)] = 16,
        dilations: tuple[Annotated[int, Field(ge=1, le=64)], ...] = (2, 4, 8, 16),
        norm: Normalization = "batch",
        vector_conditioning: VectorConditioning = "concat",
        map_conditioning: MapConditioning = "concat",
    ) -> None:
        super().__init__(signals)
        width = width or scaled_width(resolution)
        self.width = width
        levels = log2_exact(bottleneck_stride, "bottleneck_stride")
        if resolution % bottleneck_stride:
            raise ValueError(
                f"resolution: expected a multiple of bottleneck_stride={bottleneck_stride}, received {resolution}"
            )
        self.size_multiple = bottleneck_stride
        conv_norm_act = partial(conv_block, norm=norm)
        self.routing = SignalRouting(signals, vector_conditioning, map_conditioning)

        encoder_channels = [width * min(2 ** (level + 1), 4) for level in range(levels)]
        bottleneck = 4 * width
        encoder: list[nn.Module] = [conv_norm_act(self.routing.input_channels, width, 5)]
        previous = width
        for channels in encoder_channels:
            encoder.append(conv_norm_act(previous, channels, 3, stride=2))
            previous = channels
        encoder.append(conv_norm_act(previous, bottleneck, 3))
        self.encoder = nn.Sequential(*encoder)

        middle: list[nn.Module] = []
        previous = bottleneck + self.routing.bottleneck_channels
        for dilation in dilations:
            middle.append(conv_norm_act(previous, bottleneck, 3, dilation=dilation))
            previous = bottleneck
        middle.append(conv_norm_act(previous, bottleneck, 3))
        self.middle = nn.Sequential(*middle)

        decoder: list[nn.Module] = []
        previous = bottleneck
        for channels in reversed([width, *encoder_channels[:-1]]):
            decoder += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                conv_norm_act(previous, channels),
            ]
            previous = channels
        decoder += [
            conv_norm_act(previous, max(width // 2, 4)),
            nn.Conv2d(max(width // 2, 4), 3, 3, padding=1),
            nn.Tanh(),
        ]
        self.decoder = nn.Sequential(*decoder)
        # one modulation per bottleneck and decoder block, where a signal is not concatenated
        blocks = [*middle, *(layer for layer in decoder if isinstance(layer, nn.Sequential))]
        self.modulations = self.routing.modulations([block[0].out_channels for block in blocks])

    def predict(self, masked_image: Tensor, mask: Tensor, conditions: Mapping[str, Tensor]) -> Tensor:
        features = self.encoder(self.routing.network_input(masked_image, mask, conditions))
        features = self.routing.join_bottleneck(features, conditions)
        if self.modulations is None:
            return self.decoder(self.middle(features))
        modulate = self.routing.modulator(self.modulations, conditions)
        for layer in [*self.middle, *self.decoder]:
            features = layer(features)
            if isinstance(layer, nn.Sequential):  # a conv block: modulated by the signals
                features = modulate(features)
        return features

"""SN-PatchGAN (Yu et al. 2019, DeepFill v2): a spectrally normalised conv stack that scores patches.

Six 5×5 stride-2 convolutions (fewer for small images) end at a map of logits, one per
overlapping patch; the GAN loss is applied to every patch (the losses average over all of
them). A *map* signal and a replicated *vector* signal are concatenated with the image at the
input, so a matching discriminator judges each patch against the signal around it.
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from semantic_inpaint.core import ConditionalDiscriminator, SignalSpec
from semantic_inpaint.models.blocks import replicate_vector, scaled_width
from semantic_inpaint.validation import check_square


class PatchDiscriminator(ConditionalDiscriminator):
    """Patch discriminator with spectral normalisation and an optional matching condition.

    Args:
        resolution: input size in pixels.
        signal: the condition it matches, or ``None`` for the global discriminator.
        width: channels of the first layer (doubling up to ``4 * width``); default scaled
            with the resolution.
        layers: stride-2 convolutions (DeepFill v2: 6 at 256 px), at most ``log2(resolution) - 1``
            so that the last map is at least 2 × 2.

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]``, ``H = W = resolution``
        - condition: ``(B, N)`` vector or ``(B, C, H, W)`` map, or ``None``
        - output: ``(B, h, w)`` logits, one per patch (``h = w = resolution / 2**layers``)

    Examples:
        >>> import torch
        >>> PatchDiscriminator(resolution=64, width=8)(torch.zeros(2, 3, 64, 64)).shape
        torch.Size([2, 2, 2])
    """

    def __init__(
        self,
        *,
        resolution: int,
        signal: SignalSpec | None = None,
        width: Annotated[int, Field(ge=4, le=512)] | None = None,
        layers: Annotated[int, Field(ge=1, le=8)] = 6,
    ) -> None:
        super().__init__(signal)
        width = width or scaled_width(resolution)
        self.width = width
        self.resolution = resolution
        layers = min(layers, max(1, resolution.bit_length() - 2))
        previous = 3 + (signal.channels if signal is not None else 0)
        stack: list[nn.Module] = []
        for level in range(layers):
            channels = width * min(2**level, 4)
            stack += [spectral_norm(nn.Conv2d(previous, channels, 5, stride=2, padding=2)), nn.LeakyReLU(0.2)]
            previous = channels
        stack.append(spectral_norm(nn.Conv2d(previous, 1, 3, padding=1)))
        self.network = nn.Sequential(*stack)

    def score(self, image: Tensor, condition: Tensor | None) -> Tensor:
        height, width = image.shape[-2:]
        check_square(image, self.resolution)
        signal = self.signal
        if signal is not None and condition is not None:
            if signal.kind == "vector":
                condition = replicate_vector(condition, height, width)
            image = torch.cat([image, condition.to(image.dtype)], dim=1)
        return self.network(image)[:, 0]

"""Projection discriminator (Miyato & Koyama 2018): the condition enters as an inner product.

``D(x, y) = ψ(φ(x)) + ⟨V y, φ(x)⟩``: a conv trunk φ, an unconditional head ψ, and the
signal projected into the feature space and matched against the features. For a *vector*
signal, ``φ(x)`` is summed over space; for a *map* signal, the map is area-resized to the
features' size, projected by a 1 × 1 convolution and matched at every position. Compared
with concatenation, the signal cannot be ignored by the trunk: it only ever meets the
features through the product.
"""

from __future__ import annotations

from typing import Annotated

import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from semantic_inpaint.core import ConditionalDiscriminator, SignalSpec
from semantic_inpaint.models.blocks import level_width, log2_exact, scaled_width
from semantic_inpaint.validation import check_square


class ProjectionDiscriminator(ConditionalDiscriminator):
    """Conditional discriminator with a projection head (spectrally normalised).

    Args:
        resolution: input size in pixels (a power of two).
        signal: the condition it matches, or ``None`` for the global discriminator (then
            ``D(x) = ψ(φ(x))``).
        width: channels of the first layer (doubling up to ``8 * width``); default scaled
            with the resolution.
        feature_size: side of the trunk's last feature map (a power of two ≤ resolution / 2).

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]``, ``H = W = resolution``
        - condition: ``(B, N)`` vector or ``(B, C, H, W)`` map, or ``None``
        - output: ``(B,)`` logits

    Examples:
        >>> import torch
        >>> spec = SignalSpec("attribute", "vector", 5)
        >>> discriminator = ProjectionDiscriminator(resolution=32, width=8, signal=spec)
        >>> discriminator(torch.zeros(2, 3, 32, 32), torch.rand(2, 5)).shape
        torch.Size([2])
    """

    def __init__(
        self,
        *,
        resolution: int,
        signal: SignalSpec | None = None,
        width: Annotated[int, Field(ge=4, le=512)] | None = None,
        feature_size: Annotated[int, Field(ge=1, le=64)] = 4,
    ) -> None:
        super().__init__(signal)
        width = width or scaled_width(resolution)
        self.width = width
        self.resolution = resolution
        levels = log2_exact(resolution, "resolution") - log2_exact(min(feature_size, resolution // 2), "feature_size")
        trunk: list[nn.Module] = []
        previous = 3
        for level in range(levels):
            channels = level_width(width, level)
            trunk += [spectral_norm(nn.Conv2d(previous, channels, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            previous = channels
        self.trunk = nn.Sequential(*trunk)
        self.head = spectral_norm(nn.Linear(previous, 1))
        self.projection: nn.Module | None = None
        if signal is not None:
            layer = nn.Linear if signal.kind == "vector" else lambda i, o, bias: nn.Conv2d(i, o, 1, bias=bias)
            self.projection = spectral_norm(layer(signal.channels, previous, bias=False))

    def score(self, image: Tensor, condition: Tensor | None) -> Tensor:
        check_square(image, self.resolution)
        return self._head(self.trunk(image), condition)

    def score_pairs(self, image: Tensor, condition: Tensor | None, pairing: Tensor) -> Tensor:
        """The signal only meets the features: the trunk runs once per image, not per pair."""
        check_square(image, self.resolution)
        return self._head(self.trunk(image)[pairing], condition)

    def _head(self, features: Tensor, condition: Tensor | None) -> Tensor:
        """Logits ``(B,)`` from the trunk's features ``(B, F, h, w)`` and the signal."""
        logits = self.head(features.sum(dim=(2, 3)))[:, 0]
        if self.signal is None or condition is None or self.projection is None:
            return logits
        condition = condition.to(features.dtype)
        if self.signal.kind == "vector":
            return logits + (self.projection(condition) * features.sum(dim=(2, 3))).sum(dim=1)
        resized = F.adaptive_avg_pool2d(condition, features.shape[-2:])
        return logits + (self.projection(resized) * features).sum(dim=(1, 2, 3))

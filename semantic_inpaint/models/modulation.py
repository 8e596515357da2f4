"""Feature modulation by semantic signals: FiLM from vectors, SPADE-style from maps.

``h ↦ h·(1 + γ) + β`` where ``(γ, β)`` come from a linear map of the vector signals (FiLM,
Perez et al. 2018: one scale and shift per channel) and from a small convolutional network of
the map signals resized to the features (SPADE, Park et al. 2019: per channel *and* position).
The last layer of each starts at zero, so an untrained modulation is the identity and
training decides how much the signals steer each layer.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class FeatureModulation(nn.Module):
    """Scale and shift features by vector and map signals.

    Args:
        channels: channels of the modulated features.
        vector_channels: total channels of the vector signals (0: no FiLM).
        map_channels: total channels of the map signals (0: no SPADE).
        hidden: channels of the SPADE network's hidden layer.

    Shape:
        - features: ``(B, channels, h, w)``
        - vector: ``(B, vector_channels)`` or ``None``
        - maps: ``(B, map_channels, H, W)`` (any size: area-resized to ``h × w``) or ``None``
        - output: like ``features``

    Examples:
        >>> import torch
        >>> modulation = FeatureModulation(8, vector_channels=3, map_channels=2)
        >>> features = torch.rand(2, 8, 4, 4)
        >>> torch.equal(modulation(features, torch.rand(2, 3), torch.rand(2, 2, 16, 16)), features)  # identity at init
        True
    """

    def __init__(self, channels: int, vector_channels: int = 0, map_channels: int = 0, hidden: int = 32) -> None:
        super().__init__()
        self.film = nn.Linear(vector_channels, 2 * channels) if vector_channels else None
        self.spade = (
            nn.Sequential(
                nn.Conv2d(map_channels, hidden, 3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(hidden, 2 * channels, 3, padding=1),
            )
            if map_channels
            else None
        )
        for last in (self.film, self.spade[-1] if self.spade is not None else None):
            if last is not None:
                nn.init.zeros_(last.weight)
                nn.init.zeros_(last.bias)

    def forward(self, features: Tensor, vector: Tensor | None, maps: Tensor | None) -> Tensor:
        scale_shift = features.new_zeros(())
        if self.film is not None and vector is not None:
            scale_shift = scale_shift + self.film(vector.to(features.dtype))[:, :, None, None]
        if self.spade is not None and maps is not None:
            resized = F.adaptive_avg_pool2d(maps.to(features.dtype), features.shape[-2:])
            scale_shift = scale_shift + self.spade(resized)
        if scale_shift.ndim == 0:
            return features
        scale, shift = scale_shift.chunk(2, dim=1)
        return features * (1 + scale) + shift

"""A perceptual reconstruction term whose feature network is any frozen embedder.

LaMa-style: the hole-weighted L1 of :mod:`semantic_inpaint.hole_weighted_l1` plus the mean L1
distance between the features that a frozen network computes from the fill and from the
original, at every convolution of that network. The network is any registered embedder with
its weights (e.g. ``weights: shipped:celebahq64-attribute``, or a file the user pretrained),
so the term works offline and needs no ImageNet download.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from torch import Tensor

from semantic_inpaint.config import ComponentConfig
from semantic_inpaint.convolution_features import feature_distance
from semantic_inpaint.hole_weighted_l1 import HoleWeightedL1


class PerceptualLoss(HoleWeightedL1):
    """Hole-weighted L1 + ``feature_weight`` · mean L1 distance of a frozen embedder's conv features.

    Args:
        embedder: the feature network, as in a condition: ``{"name": ..., "options": {"weights": ...}}``.
        feature_weight: weight of the feature term.
        hole_weight: weight of a missing pixel's error in the pixel term (see :class:`HoleWeightedL1`).
        valid_weight: weight of a known pixel's error in the pixel term.

    Shape:
        - prediction, target: ``(B, 3, H, W)`` in ``[-1, 1]``; mask ``(B, 1, H, W)`` in ``{0, 1}``
        - output: a scalar (gradients reach ``prediction`` only)

    Examples:
        >>> import torch
        >>> loss = PerceptualLoss({"name": "attribute", "options": {"num_attributes": 4, "width": 4}})
        >>> image, mask = torch.rand(1, 3, 32, 32) * 2 - 1, torch.ones(1, 1, 32, 32)
        >>> float(loss(image, image, mask))
        0.0
    """

    def __init__(
        self,
        embedder: dict[str, Any],
        feature_weight: Annotated[float, Field(ge=0, le=1000)] = 1.0,
        hole_weight: Annotated[float, Field(ge=0, le=1000)] = 6.0,
        valid_weight: Annotated[float, Field(ge=0, le=1000)] = 1.0,
    ) -> None:
        from semantic_inpaint.model import build_embedder  # the model module builds on this one's registry
        from semantic_inpaint.registry import get_registry

        super().__init__(hole_weight, valid_weight)
        self.feature_weight = feature_weight
        network, _ = build_embedder(get_registry(), ComponentConfig.model_validate(embedder), True)
        self.network = network.eval().requires_grad_(False)

    def __call__(self, prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        self.network.to(prediction.device)
        pixels = super().__call__(prediction, target, mask)
        features = feature_distance(self.network, prediction, target.to(prediction.dtype), self.network.logits)
        return pixels + self.feature_weight * features

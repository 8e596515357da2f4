"""Fréchet Inception Distance: torchmetrics' implementation, Inception-v3 weights from a local file.

The features are torchvision's ImageNet Inception-v3 pool features (2048-d). Its numbers are
comparable between methods scored here, not with FIDs computed with the TensorFlow Inception
graph that most papers use (a different set of weights).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance

from semantic_inpaint.offline_weights import load_state_dict, local_weights_file
from semantic_inpaint.validation import check_image

#: Inception-v3's input side
INCEPTION_SIZE = 299


class InceptionFeatures(nn.Module):
    """Inception-v3's 2048-d pool features, always in eval mode.

    Args:
        weights: torchvision's ImageNet Inception-v3 state dict (``inception_v3_google-0cc3c7bd.pth``),
            a local file; nothing is downloaded.

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]`` (resized to 299 × 299 bilinearly, with antialiasing)
        - output: ``(B, 2048)``
    """

    num_features = 2048

    def __init__(self, weights: str | Path) -> None:
        super().__init__()
        file = local_weights_file(weights, "weights", "inception_v3")
        # Google's weights take inputs in [-1, 1]: no ImageNet normalisation (transform_input=False)
        network = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
        network.load_state_dict(load_state_dict(file))
        network.fc = nn.Identity()
        self.network = network.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> InceptionFeatures:
        """A feature network for a metric never leaves eval mode."""
        return super().train(False)

    @torch.no_grad()
    def forward(self, image: Tensor) -> Tensor:
        check_image(image, "image")
        resized = F.interpolate(image.float(), size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", antialias=True)
        return self.network(resized)


class _GivenFeatures(nn.Module):
    """Hands torchmetrics features that were already extracted (each image's features once)."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


def frechet_distance(reference: Tensor, generated: Tensor) -> float:
    """The FID between two feature sets, by torchmetrics.

    Args:
        reference: ``(N, F)`` features of the real images (at least 2).
        generated: ``(M, F)`` features of the generated images (at least 2).

    Examples:
        >>> features = torch.randn(500, 4, generator=torch.Generator().manual_seed(0))
        >>> abs(frechet_distance(features, features)) < 1e-6
        True
        >>> frechet_distance(features, features + 1) > 3.9  # the means are 1 apart in each of 4 dims
        True
    """
    if reference.ndim != 2 or generated.ndim != 2 or reference.shape[1] != generated.shape[1]:
        raise ValueError(
            "generated: expected (N, F) features like the reference's "
            f"{tuple(reference.shape)}, received {tuple(generated.shape)}"
        )
    metric = FrechetInceptionDistance(feature=_GivenFeatures(reference.shape[1]))
    metric.update(reference.double(), real=True)
    metric.update(generated.double(), real=False)
    return float(metric.compute())

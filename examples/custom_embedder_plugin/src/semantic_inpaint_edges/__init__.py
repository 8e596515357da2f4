"""An edge-map semantic signal for semantic-inpaint.

The signal is the Sobel gradient magnitude of the grey image, squashed to ``[0, 1]``:
where the structure of the picture is. As a *map* it is concatenated with the generator's
input and with its matching discriminator's input image, like the segmentation signal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar

import kornia
import torch
from pydantic import Field
from torch import Tensor

from semantic_inpaint import SemanticEmbedder, hookimpl


class EdgeEmbedder(SemanticEmbedder):
    """Sobel edges: ``(B, 3, H, W)`` in ``[-1, 1]`` → ``(B, 1, H, W)`` in ``[0, 1]``.

    It is computed, not learned: it has no weights and needs no pretraining.

    Args:
        sharpness: gain before the ``tanh`` squashing; larger marks fainter edges.
        weights: accepted for the embedder contract; must be ``None``.

    Examples:
        >>> edges = EdgeEmbedder()
        >>> image = torch.zeros(1, 3, 8, 8); image[..., 4:] = 1
        >>> signal = edges(image)
        >>> signal.shape, bool(signal[0, 0, 4, 4] > 0.5), bool(signal[0, 0, 4, 0] < 0.01)
        (torch.Size([1, 1, 8, 8]), True, True)
    """

    kind: ClassVar = "map"
    target_key: ClassVar = "image"

    def __init__(self, *, sharpness: Annotated[float, Field(gt=0, le=100)] = 4.0, weights: Path | None = None) -> None:
        if weights is not None:
            raise ValueError(f"weights: the edges embedder has no weights, received {weights}")
        super().__init__("edges", 1, {"sharpness": sharpness})
        self.sharpness = sharpness

    def logits(self, image: Tensor) -> Tensor:
        grey = kornia.color.rgb_to_grayscale((image + 1) / 2)
        return kornia.filters.sobel(grey) * self.sharpness

    def activate(self, logits: Tensor) -> Tensor:
        return torch.tanh(logits)

    def pretrain_loss(self, image: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError("the edges embedder is computed with kornia, not learned: it needs no pretraining")


@hookimpl
def register_embedders(register):
    register("edges", EdgeEmbedder, description="Sobel edge map computed with kornia (map, 1 channel)")

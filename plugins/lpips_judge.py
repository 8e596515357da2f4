"""LPIPS judge: learned perceptual distance between output and original (torchmetrics).

The linear heads ship inside the torchmetrics wheel; the backbone is torchvision's ImageNet
AlexNet, VGG-16 or SqueezeNet, read from a local file (nothing is downloaded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

import numpy as np
import torch
from pydantic import Field
from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

from semantic_inpaint import hookimpl
from semantic_inpaint.judge import Judge
from semantic_inpaint.offline_weights import local_weights_file, torch_hub_serving

#: torchmetrics' name of each backbone → torchvision's architecture
BACKBONES = {"alex": "alexnet", "vgg": "vgg16", "squeeze": "squeezenet1_1"}


def _as_tensor(pixels: np.ndarray) -> torch.Tensor:
    """``(B, S, S, 3)`` uint8 → ``(B, 3, S, S)`` float in ``[-1, 1]``."""
    return torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div(127.5).sub(1)


class LpipsJudge(Judge):
    """LPIPS (Zhang et al. 2018) between each output and its original: 0 for identical images.

    Metric, per image: ``lpips`` (lower is better).

    Args:
        weights: torchvision's ImageNet weights of the backbone, a local file
            (``alexnet-owt-7be5be79.pth`` for ``alex``).
        net: the backbone: ``alex`` (the LPIPS paper's default), ``vgg`` or ``squeeze``.
        size: side both images are resized to before judging (LPIPS is usually taken at the
            images' own resolution).

    Examples:
        >>> import torch
        >>> judge = LpipsJudge(weights="alexnet-owt-7be5be79.pth")  # doctest: +SKIP
        >>> judge(torch.zeros(2, 3, 64, 64), torch.zeros(2, 3, 64, 64))["lpips"]  # doctest: +SKIP
        tensor([0., 0.], dtype=torch.float64)
    """

    name: ClassVar[str] = "lpips"
    metrics: ClassVar = {"lpips": "lower"}

    def __init__(
        self,
        *,
        weights: Path,
        net: Literal["alex", "vgg", "squeeze"] = "alex",
        size: Annotated[int, Field(ge=32, le=2048)] = 64,
    ) -> None:
        super().__init__(size=size)
        file = local_weights_file(weights, "weights", BACKBONES[net])
        with torch_hub_serving(file, BACKBONES[net]):
            self.metric = LearnedPerceptualImagePatchSimilarity(net_type=net, reduction="none")

    @torch.no_grad()
    def score(self, original: np.ndarray, output: np.ndarray) -> dict[str, np.ndarray]:
        distance = self.metric(_as_tensor(output), _as_tensor(original))
        self.metric.reset()
        return {"lpips": distance.reshape(-1).double().numpy()}


@hookimpl
def register_judges(register):
    register("lpips", LpipsJudge, description="LPIPS perceptual distance (torchmetrics; torchvision backbone file)")

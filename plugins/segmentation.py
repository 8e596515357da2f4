"""Segmentation conditioning: a semantic segmentation network whose class map is the signal.

The paper's segmentation embedding network Ws: pretrained on part labels (Helen-style face
parts), then frozen. Its ``(B, C, H, W)`` probabilities are concatenated with the
generator's input and with the matching discriminator's input image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

import torch
import torch.nn.functional as F
import torchvision
from pydantic import Field
from torch import Tensor, nn

from semantic_inpaint import SemanticEmbedder, hookimpl
from semantic_inpaint.models.blocks import conv_norm_act
from semantic_inpaint.validation import check_names, check_tensor


class UNet(nn.Module):
    """A small U-Net: ``depth`` downsamplings, skip connections, ``C`` output logits."""

    def __init__(self, num_classes: int, width: int, depth: int) -> None:
        super().__init__()
        channels = [width * 2 ** min(level, 3) for level in range(depth + 1)]
        self.down = nn.ModuleList()
        previous = 3
        for out in channels:
            self.down.append(nn.Sequential(conv_norm_act(previous, out), conv_norm_act(out, out)))
            previous = out
        self.up = nn.ModuleList(
            nn.Sequential(
                conv_norm_act(channels[level + 1] + channels[level], channels[level]),
                conv_norm_act(channels[level], channels[level]),
            )
            for level in reversed(range(depth))
        )
        self.head = nn.Conv2d(channels[0], num_classes, 1)

    def forward(self, image: Tensor) -> Tensor:
        skips = []
        features = image
        for level, block in enumerate(self.down):
            if level:
                features = F.max_pool2d(features, 2)
            features = block(features)
            skips.append(features)
        skips.pop()
        for block in self.up:
            skip = skips.pop()
            features = F.interpolate(features, size=skip.shape[-2:], mode="nearest")
            features = block(torch.cat([features, skip], dim=1))
        return self.head(features)


class LRASPP(nn.Module):
    """torchvision's LR-ASPP MobileNetV3-Large, randomly initialised (nothing downloaded)."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.network = torchvision.models.segmentation.lraspp_mobilenet_v3_large(
            weights=None, weights_backbone=None, num_classes=num_classes
        )

    def forward(self, image: Tensor) -> Tensor:
        return self.network(image)["out"]


class SegmentationEmbedder(SemanticEmbedder):
    """Semantic segmentation: ``(B, 3, H, W)`` in ``[-1, 1]`` → ``(B, C, H, W)`` probabilities.

    Args:
        num_classes: C (10 for the shared face-part maps).
        backbone: ``"unet"`` (small, any size divisible by ``2**depth``) or ``"lraspp"``.
        width: channels of the U-Net's first level (16: 0.76 mIoU on 64 px faces, a 2 MB file).
        depth: downsamplings of the U-Net.
        weights: pretrained weights (safetensors from ``save_pretrained``) to load.
        class_names: optional names of the C classes, kept with the weights.

    Examples:
        >>> embedder = SegmentationEmbedder(num_classes=4, width=8, depth=2)
        >>> embedder(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 4, 32, 32])
    """

    kind: ClassVar = "map"
    target_key: ClassVar = "parts"

    def __init__(
        self,
        *,
        num_classes: Annotated[int, Field(ge=2, le=1024)] = 10,
        backbone: Literal["unet", "lraspp"] = "unet",
        width: Annotated[int, Field(ge=4, le=512)] = 16,
        depth: Annotated[int, Field(ge=1, le=6)] = 3,
        weights: Path | None = None,
        class_names: list[str] | None = None,
    ) -> None:
        check_names(class_names, num_classes, "class_names", "num_classes")
        super().__init__(
            "segmentation",
            num_classes,
            {
                "num_classes": num_classes,
                "backbone": backbone,
                "width": width,
                "depth": depth,
                "class_names": class_names,
            },
        )
        self.names = class_names
        self.network = LRASPP(num_classes) if backbone == "lraspp" else UNet(num_classes, width, depth)
        if weights is not None:
            self.load_pretrained(weights)

    def logits(self, image: Tensor) -> Tensor:
        return self.network(image)

    def activate(self, logits: Tensor) -> Tensor:
        return torch.softmax(logits.float(), dim=1)

    def pretrain_loss(self, image: Tensor, target: Tensor) -> Tensor:
        """Pixel-wise cross-entropy against ``target`` ``(B, H, W)`` int64 class ids."""
        check_tensor(target, "target")
        expected = (image.shape[0], *image.shape[-2:])
        if tuple(target.shape) != expected:
            raise ValueError(f"target: expected shape {expected}, received {tuple(target.shape)}")
        if target.dtype != torch.long:
            raise TypeError(f"target: expected int64 class ids, received {target.dtype}")
        return F.cross_entropy(self.logits(image).float(), target)


@hookimpl
def register_embedders(register):
    register("segmentation", SegmentationEmbedder, description="semantic segmentation network (map)")

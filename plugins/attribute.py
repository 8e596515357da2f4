"""Attribute conditioning: a multi-label classifier whose N sigmoid outputs are the signal.

The paper's attribute embedding network Wa: pretrained on attribute labels (18 CelebA
attributes for faces), then frozen. Its vector is replicated at the generator's M1×M1
bottleneck and at the matching discriminator's M2×M2 features.
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

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def small_cnn(num_outputs: int, width: int) -> nn.Sequential:
    """Four stride-2 conv blocks, global average pooling and a linear head."""
    return nn.Sequential(
        conv_norm_act(3, width, 3),
        conv_norm_act(width, width, 3, stride=2),
        conv_norm_act(width, 2 * width, 3, stride=2),
        conv_norm_act(2 * width, 4 * width, 3, stride=2),
        conv_norm_act(4 * width, 4 * width, 3, stride=2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.1),
        nn.Linear(4 * width, num_outputs),
    )


def resnet18(num_outputs: int, imagenet_weights: Path | None) -> nn.Module:
    """torchvision ResNet-18 with an N-output head; ImageNet weights from a local file."""
    network = torchvision.models.resnet18(weights=None)
    if imagenet_weights is not None:
        if not Path(imagenet_weights).is_file():
            raise FileNotFoundError(f"imagenet_weights: no such file {imagenet_weights}")
        state = torch.load(imagenet_weights, map_location="cpu", weights_only=True)
        network.load_state_dict(state)
    network.fc = nn.Linear(network.fc.in_features, num_outputs)
    return network


class AttributeEmbedder(SemanticEmbedder):
    """Multi-label attribute classifier: ``(B, 3, H, W)`` in ``[-1, 1]`` → ``(B, N)`` in ``[0, 1]``.

    Args:
        num_attributes: N, the number of attributes (18 in the paper for faces).
        backbone: ``"small_cnn"`` (fast, any size ≥ 16 px) or ``"resnet18"`` (torchvision).
        width: channels of the small CNN's first layer.
        weights: pretrained weights (safetensors from ``save_pretrained``) to load.
        imagenet_weights: a local torchvision ResNet-18 ImageNet state dict to start from
            (``resnet18`` only); nothing is ever downloaded.
        attribute_names: optional names of the N attributes, kept with the weights.

    Examples:
        >>> embedder = AttributeEmbedder(num_attributes=5, width=8)
        >>> embedder(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 5])
    """

    kind: ClassVar = "vector"
    target_key: ClassVar = "attributes"

    def __init__(
        self,
        *,
        num_attributes: Annotated[int, Field(ge=1, le=1024)] = 18,
        backbone: Literal["small_cnn", "resnet18"] = "small_cnn",
        width: Annotated[int, Field(ge=4, le=512)] = 32,
        weights: Path | None = None,
        imagenet_weights: Path | None = None,
        attribute_names: list[str] | None = None,
    ) -> None:
        check_names(attribute_names, num_attributes, "attribute_names", "num_attributes")
        super().__init__(
            "attribute",
            num_attributes,
            {
                "num_attributes": num_attributes,
                "backbone": backbone,
                "width": width,
                "attribute_names": attribute_names,
            },
        )
        self.backbone = backbone
        self.names = attribute_names
        if backbone == "resnet18":
            self.network = resnet18(num_attributes, imagenet_weights)
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        else:
            self.network = small_cnn(num_attributes, width)
        if weights is not None:
            self.load_pretrained(weights)

    def logits(self, image: Tensor) -> Tensor:
        if self.backbone == "resnet18":
            image = ((image + 1) / 2 - self.mean) / self.std
        return self.network(image)

    def activate(self, logits: Tensor) -> Tensor:
        return torch.sigmoid(logits)

    def pretrain_loss(self, image: Tensor, target: Tensor) -> Tensor:
        """Binary cross-entropy against ``target`` ``(B, N)`` in ``{0, 1}``."""
        check_tensor(target, "target")
        if target.shape != (image.shape[0], self.channels):
            raise ValueError(
                f"target: expected shape ({image.shape[0]}, {self.channels}), received {tuple(target.shape)}"
            )
        return F.binary_cross_entropy_with_logits(self.logits(image).float(), target.float())


@hookimpl
def register_embedders(register):
    register("attribute", AttributeEmbedder, description="multi-label attribute classifier (vector)")

"""``semantic-inpaint demo``: the shipped models on a shipped public-domain photograph.

Writes a grid with one row per hole and the columns original | masked | then the no-semantics
and the full model at 64 px and at 128 px (:data:`DEMO_MODELS`). Needs nothing but the
installed package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch
import torchvision
from torch import Tensor

from semantic_inpaint.data.transforms import image_to_tensor
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.io import read_rgb_image

#: the grid's model columns, left to right: each scale's no-semantics model, then its boosted GAN
DEMO_MODELS = ("celebahq64-none", "celebahq64-full", "celebahq128-none", "celebahq128-full")


def demo_masks(size: int) -> Tensor:
    """``(4, 1, size, size)`` holes: centred half-side square, eyes, mouth, left half of the face."""
    masks = torch.zeros(4, 1, size, size)
    unit = size // 16
    masks[0, :, 4 * unit : 12 * unit, 4 * unit : 12 * unit] = 1  # the paper's evaluation hole
    masks[1, :, 5 * unit : 8 * unit, 3 * unit : 13 * unit] = 1  # both eyes
    masks[2, :, 10 * unit : 13 * unit, 5 * unit : 11 * unit] = 1  # mouth
    masks[3, :, 3 * unit : 14 * unit, 3 * unit : 8 * unit] = 1  # half the face
    return masks


def run_demo(output: Path, device: str = "auto") -> Path:
    """Inpaint the shipped 128 px photograph with every model of :data:`DEMO_MODELS` (a 64 px model
    fills it at 64 px, resized, as ``Inpainter`` does); write the grid to ``output``."""
    with resources.as_file(resources.files("semantic_inpaint") / "assets" / "astronaut.png") as photo:
        image = image_to_tensor(read_rgb_image(photo), 128)
    masks = demo_masks(image.shape[-1])
    images = image.expand(len(masks), -1, -1, -1)
    masked = torch.where(masks.bool(), torch.ones_like(images), images)
    fills = [Inpainter.from_pretrained(name, device=device).inpaint(images, masks) for name in DEMO_MODELS]
    columns = [images, masked, *fills]
    grid = torch.stack(columns, dim=1).flatten(0, 1)  # row-major: one hole per row
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    torchvision.utils.save_image(torchvision.utils.make_grid(grid, nrow=len(columns)).add(1).div(2), output)
    return output

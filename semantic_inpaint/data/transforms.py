"""Turning PIL images and label maps into the library's tensors."""

from __future__ import annotations

import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from PIL import Image
from torch import Tensor


def image_to_tensor(image: Image.Image, resolution: int) -> Tensor:
    """RGB PIL image → ``(3, R, R)`` float in ``[-1, 1]``: shorter side resized to ``R``
    (antialiased), then centre-cropped."""
    tensor = TF.pil_to_tensor(image)
    tensor = TF.resize(tensor, resolution, antialias=True)
    tensor = TF.center_crop(tensor, [resolution, resolution])
    return tensor.float().div(127.5).sub(1)


def labels_to_tensor(labels: Image.Image, resolution: int) -> Tensor:
    """Single-channel label map → ``(R, R)`` int64, nearest-neighbour resized and cropped."""
    tensor = torch.from_numpy(np.asarray(labels, dtype=np.uint8).copy())[None]
    tensor = TF.resize(tensor, resolution, interpolation=TF.InterpolationMode.NEAREST_EXACT)
    return TF.center_crop(tensor, [resolution, resolution])[0].long()

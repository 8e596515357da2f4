"""Random views of a fill for the consistency term to read: what moves every view is a change a
person can see, not a texture tuned to one exact rendering (expectation over transformation,
Athalye et al. 2018)."""

from __future__ import annotations

import math

import kornia.augmentation as K
import torch
from torch import Tensor

from semantic_inpaint.config import ControlConfig


class ReadingViews(torch.nn.Module):
    """``count`` random views of each image: shifted by up to ``shift`` of its side (reflected at
    the border), blurred with a Gaussian of a sigma drawn from ``[0.1, blur]`` pixels, and given
    Gaussian noise of standard deviation ``noise``; each view draws its own. Differentiable with
    respect to the images (a term on the views reaches every pixel that shows in them).

    Shape: ``(B, 3, H, W)`` in ``[-1, 1]`` → ``(count · B, 3, H, W)``, view-major (the first
    ``B`` rows are the first view of every image), values not clamped.

    Examples:
        >>> views = ReadingViews(count=3, shift=0.1, blur=1.0, noise=0.05)
        >>> views(torch.zeros(2, 3, 16, 16)).shape
        torch.Size([6, 3, 16, 16])
    """

    def __init__(self, count: int, shift: float, blur: float, noise: float) -> None:
        super().__init__()
        if count < 1:
            raise ValueError(f"count: expected at least 1 view, received {count}")
        self.count = count
        transforms: list[torch.nn.Module] = []
        if shift:
            transforms.append(K.RandomAffine(degrees=0.0, translate=(shift, shift), padding_mode="reflection", p=1.0))
        if blur:
            kernel = 2 * math.ceil(3 * blur) + 1
            transforms.append(K.RandomGaussianBlur((kernel, kernel), sigma=(0.1, blur), p=1.0))
        if noise:
            transforms.append(K.RandomGaussianNoise(std=noise, p=1.0))
        self.transforms = K.AugmentationSequential(*transforms) if transforms else None

    @classmethod
    def of(cls, control: ControlConfig, count: int | None = None) -> ReadingViews:
        """The views ``control`` asks its consistency term to read (``count`` of them, default
        ``control.consistency_views``), with its shift, blur and noise."""
        return cls(
            control.consistency_views if count is None else count,
            control.consistency_view_shift,
            control.consistency_view_blur,
            control.consistency_view_noise,
        )

    def forward(self, image: Tensor) -> Tensor:
        repeated = self.repeat(image)
        return self.transforms(repeated) if self.transforms is not None else repeated

    def repeat(self, signal: Tensor) -> Tensor:
        """``signal`` ``(B, ...)`` repeated to go with the views ``(count · B, ...)``, view-major."""
        return signal.repeat(self.count, *[1] * (signal.dim() - 1))

"""Hole masks generated in batch on the tensor's device.

Every generator returns ``(B, 1, H, W)`` float masks with values in ``{0, 1}``, where
**1 marks a missing pixel**. Sizes are given as fractions of the resolution so that the
paper's settings scale: random rectangles with sides 80–160 px at 256 px are
``min_fraction=0.3125, max_fraction=0.625``; the evaluation's centred 128 px square at
256 px is ``fraction=0.5``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from pydantic import Field
from torch import Tensor

Fraction = Annotated[float, Field(gt=0, le=1)]


class MaskGenerator(ABC):
    """Makes a batch of square hole masks of side ``resolution``.

    Call as ``masks(batch_size, device=..., generator=...)``; ``generator`` is a
    :class:`torch.Generator` on ``device`` (``None``: the global RNG).
    """

    def __init__(self, resolution: int) -> None:
        if resolution < 1:
            raise ValueError(f"resolution: expected a positive size, received {resolution}")
        self.resolution = resolution

    @abstractmethod
    def __call__(
        self,
        batch_size: int,
        *,
        device: torch.device | str = "cpu",
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``(batch_size, 1, resolution, resolution)`` float masks in ``{0, 1}``."""

    def _uniform(self, shape: tuple[int, ...], device: torch.device | str, generator: torch.Generator | None) -> Tensor:
        return torch.rand(shape, device=device, generator=generator)

    def _coordinates(self, device: torch.device | str) -> Tensor:
        return torch.arange(self.resolution, device=device, dtype=torch.float32)


def _box_mask(top: Tensor, left: Tensor, height: Tensor, width: Tensor, coordinates: Tensor) -> Tensor:
    """``(B, 1, S, S)`` masks of the boxes ``[top, top+height) × [left, left+width)``: ``(B,)``
    tensors give one box per image, ``(B, N)`` tensors the union of N boxes per image."""
    if top.ndim == 1:
        top, left, height, width = (value[:, None] for value in (top, left, height, width))
    rows = (coordinates >= top[..., None]) & (coordinates < (top + height)[..., None])  # (B, N, S)
    cols = (coordinates >= left[..., None]) & (coordinates < (left + width)[..., None])
    return (rows[:, :, :, None] & cols[:, :, None, :]).any(dim=1, keepdim=True).float()


class RandomRectangles(MaskGenerator):
    """One axis-aligned rectangle per image, random position and random sides.

    Sides are drawn independently and uniformly among the integers in
    ``[round(min_fraction·S), round(max_fraction·S)]``. The paper places the rectangle
    uniformly anywhere in the image; with ``centred_share > 0`` that share of the images
    (drawn per image) gets its rectangle's centre drawn uniformly within ``±centre_spread·S``
    of the image centre instead, where an aligned face has its eyes, nose and mouth.

    Args:
        resolution: S, the image size in pixels (context from the config).
        min_fraction: the shortest side as a share of S (the paper: 80 px at 256).
        max_fraction: the longest side as a share of S (the paper: 160 px at 256).
        centred_share: the expected share of rectangles placed around the centre, in ``[0, 1]``
            (0, the default, is the paper's masks with the same random draws).
        centre_spread: how far such a rectangle's centre may lie from the image centre, as a
            share of S along each axis (rectangles are kept inside the image).

    Examples:
        >>> masks = RandomRectangles(64)(8, generator=torch.Generator().manual_seed(0))
        >>> masks.shape, sorted(masks.unique().tolist())
        (torch.Size([8, 1, 64, 64]), [0.0, 1.0])
        >>> centred = RandomRectangles(64, centred_share=1.0, centre_spread=0.125)(8)
        >>> bool(centred[:, :, 24:40, 24:40].amax(dim=(2, 3)).all())  # every hole covers the middle
        True
    """

    def __init__(
        self,
        resolution: int,
        min_fraction: Fraction = 80 / 256,
        max_fraction: Fraction = 160 / 256,
        centred_share: Annotated[float, Field(ge=0, le=1)] = 0.0,
        centre_spread: Annotated[float, Field(ge=0, le=0.5)] = 0.125,
    ) -> None:
        super().__init__(resolution)
        if min_fraction > max_fraction:
            raise ValueError(f"min_fraction: expected <= max_fraction={max_fraction}, received {min_fraction}")
        self.min_side = max(1, round(min_fraction * resolution))
        self.max_side = max(self.min_side, round(max_fraction * resolution))
        self.centred_share = centred_share
        self.centre_spread = centre_spread

    def __call__(self, batch_size, *, device="cpu", generator=None):
        u = self._uniform((4, batch_size), device, generator)
        span = self.max_side - self.min_side + 1
        height = (self.min_side + (u[0] * span).floor()).clamp(max=self.max_side)
        width = (self.min_side + (u[1] * span).floor()).clamp(max=self.max_side)
        top = (u[2] * (self.resolution - height + 1)).floor()
        left = (u[3] * (self.resolution - width + 1)).floor()
        if self.centred_share > 0:  # no extra draw otherwise: the paper's masks stay as they were
            centred = self._uniform((batch_size,), device, generator) < self.centred_share
            top = torch.where(centred, self._around_centre(u[2], height), top)
            left = torch.where(centred, self._around_centre(u[3], width), left)
        return _box_mask(top, left, height, width, self._coordinates(device))

    def _around_centre(self, u: Tensor, side: Tensor) -> Tensor:
        """``(B,)`` first rows (or columns) of sides ``side`` whose centres lie within
        ``±centre_spread·S`` of the image centre, ``u`` uniform in ``[0, 1)``, kept in the image."""
        centre = self.resolution / 2 + (2 * u - 1) * self.centre_spread * self.resolution
        return (centre - side / 2).round().clamp(min=0).minimum(self.resolution - side)


class CenteredSquare(MaskGenerator):
    """The paper's evaluation mask: a centred square of side ``round(fraction·S)``.

    Args:
        resolution: S, the image size in pixels (context from the config).
        fraction: the square's side as a share of S (the paper: 0.5).
    """

    def __init__(self, resolution: int, fraction: Fraction = 0.5) -> None:
        super().__init__(resolution)
        self.side = max(1, round(fraction * resolution))

    def __call__(self, batch_size, *, device="cpu", generator=None):
        start = torch.full((batch_size,), float((self.resolution - self.side) // 2), device=device)
        side = torch.full_like(start, float(self.side))
        return _box_mask(start, start, side, side, self._coordinates(device))


class FreeFormStrokes(MaskGenerator):
    """Free-form brush strokes in the style of DeepFill v2 / LaMa.

    Each image gets between 1 and ``max_strokes`` strokes; a stroke is a random walk of
    ``vertices`` points with steps up to ``max_step_fraction·S`` drawn with a round brush of
    width in ``[min_width_fraction·S, max_width_fraction·S]``.

    Args:
        resolution: S, the image size in pixels (context from the config).
        max_strokes: at most this many strokes per image (at least one).
        vertices: points of each stroke's random walk.
        max_step_fraction: longest step of the walk, as a share of S.
        min_width_fraction: the thinnest brush, as a share of S.
        max_width_fraction: the thickest brush, as a share of S.
    """

    def __init__(
        self,
        resolution: int,
        max_strokes: Annotated[int, Field(ge=1, le=16)] = 4,
        vertices: Annotated[int, Field(ge=2, le=16)] = 6,
        max_step_fraction: Fraction = 0.25,
        min_width_fraction: Fraction = 0.04,
        max_width_fraction: Fraction = 0.12,
    ) -> None:
        super().__init__(resolution)
        if min_width_fraction > max_width_fraction:
            raise ValueError(
                f"min_width_fraction: expected <= max_width_fraction={max_width_fraction}, "
                f"received {min_width_fraction}"
            )
        self.max_strokes = max_strokes
        self.vertices = vertices
        self.max_step = max_step_fraction * resolution
        self.width_range = (min_width_fraction * resolution, max_width_fraction * resolution)

    def __call__(self, batch_size, *, device="cpu", generator=None):
        size, strokes, vertices = self.resolution, self.max_strokes, self.vertices
        start = self._uniform((batch_size, strokes, 1, 2), device, generator) * (size - 1)
        angle = self._uniform((batch_size, strokes, vertices - 1), device, generator) * 2 * torch.pi
        length = self._uniform((batch_size, strokes, vertices - 1), device, generator) * self.max_step
        steps = torch.stack([angle.cos(), angle.sin()], dim=-1) * length[..., None]
        points = torch.cat([start, start + steps.cumsum(dim=2)], dim=2).clamp(0, size - 1)
        low, high = self.width_range
        radius = (low + self._uniform((batch_size, strokes), device, generator) * (high - low)) / 2
        count = 1 + (self._uniform((batch_size,), device, generator) * strokes).floor()
        active = torch.arange(strokes, device=device)[None, :] < count[:, None]  # (B, strokes)
        segments = vertices - 1
        radius = radius[..., None].expand(-1, -1, segments)
        active = active[..., None].expand(-1, -1, segments)
        window = math.ceil(self.max_step + self.width_range[1]) + 2
        return draw_segments(points[:, :, :-1], points[:, :, 1:], radius, active, size, window)


def draw_segments(start: Tensor, end: Tensor, radius: Tensor, active: Tensor, size: int, window: int) -> Tensor:
    """``(B, 1, size, size)`` masks of round-ended brush segments (capsules), in one batch.

    Each segment is tested only on a ``window × window`` square of pixels around it, so the
    cost follows the strokes, not the image: ``window`` must be at least a segment's length
    plus its brush width (the generator knows both bounds).

    Args:
        start: ``(B, N, K, 2)`` (x, y) first end of each segment, in pixels: N strokes of K segments.
        end: ``(B, N, K, 2)`` (x, y) other end of each segment.
        radius: ``(B, N, K)`` half the brush width of each segment, in pixels.
        active: ``(B, N, K)`` bool, which segments are drawn.
        size: side of the masks.
        window: side of the square each segment is drawn in (clipped to ``size``).
    """
    batch = start.shape[0]
    window = min(size, window)
    offsets = torch.arange(window, device=start.device, dtype=start.dtype)
    # each window's corner: at the segment's lowest coordinate less its radius, kept inside the image
    corner = (torch.minimum(start, end) - radius[..., None]).floor().clamp(0, size - window)  # (B, N, K, 2)
    xs = corner[..., 0, None, None] + offsets[None, :]  # (B, N, K, 1, W): columns
    ys = corner[..., 1, None, None] + offsets[:, None]  # (B, N, K, W, 1): rows
    a, b = start[..., None, None, :], end[..., None, None, :]  # (B, N, K, 1, 1, 2)
    pixels = torch.stack(torch.broadcast_tensors(xs, ys), dim=-1)  # (B, N, K, W, W, 2)
    ab = b - a
    t = ((pixels - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-6)
    nearest = a + t.clamp(0, 1)[..., None] * ab
    inside = ((pixels - nearest).norm(dim=-1) <= radius[..., None, None]) & active[..., None, None]
    index = (ys * size + xs).expand_as(inside).long().reshape(batch, -1)
    hole = torch.zeros(batch, size * size, device=start.device)
    hole.scatter_reduce_(1, index, inside.reshape(batch, -1).float(), reduce="amax")
    return hole.reshape(batch, 1, size, size)


def load_mask(path: str | Path) -> Tensor:
    """Read a hole mask from an image file: white (255) = missing, black (0) = known.

    Returns:
        ``(1, 1, H, W)`` float in ``{0, 1}``.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a readable image, or the mask is not binary (values
            other than 0 and 255 after conversion to greyscale).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mask: no such file {path}")
    try:
        with Image.open(path) as image:
            array = np.asarray(image.convert("L"))
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"mask: cannot read image file {path}: {error}") from None
    values = np.unique(array)
    if not set(values.tolist()) <= {0, 255}:
        raise ValueError(
            f"mask: expected a binary image with values {{0, 255}} (255 = missing) in {path}, "
            f"received values {values[:8].tolist()}"
        )
    return torch.from_numpy(array == 255).float()[None, None]

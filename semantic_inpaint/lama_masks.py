"""LaMa's mask families (Suvorov et al. 2022): thin, medium and thick free-form masks and large boxes.

LaMa evaluates on "thin", "medium" and "thick" masks, and trains on wide strokes mixed with
large boxes. Each family is a preset here, with LaMa's 256 px sizes scaled to the resolution:

| preset | zig-zag strokes: segments, width, length (px at 256) | boxes: chance, count, side (px at 256) |
|---|---|---|
| ``thin`` | 4–50, 5–15, 10–50 | — |
| ``medium`` | 4–5, 5–55, 10–110 | 0.3, 1–5, 10–50 |
| ``thick`` | 1–5, 5–105, 10–210 | 0.3, 1–3, 30–150 |
| ``large_boxes`` | — | 1, 1–4, 30–150 (10 px margin) |

A stroke is one chain: each segment starts where the last ended, at a random angle that
alternates between the two sides of a zig-zag, with its own brush width (round ends).
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import torch
from torch import Tensor

from semantic_inpaint.masks import MaskGenerator, _box_mask, draw_segments

#: LaMa's sizes are in pixels of a 256 px image
REFERENCE_SIDE = 256
#: a segment's angle is 0.01 + U(0, MAX_ANGLE) radians, mirrored on every other segment
MAX_ANGLE = 4.0


class Preset(NamedTuple):
    """One family's parameters, lengths in pixels at 256 px (``(low, high)`` ranges, inclusive)."""

    segments: tuple[int, int]
    stroke_width: tuple[int, int]
    stroke_length: tuple[int, int]
    box_probability: float
    boxes: tuple[int, int]
    box_side: tuple[int, int]
    box_margin: int


PRESETS = {
    "thin": Preset((4, 50), (5, 15), (10, 50), 0.0, (0, 0), (0, 0), 0),
    "medium": Preset((4, 5), (5, 55), (10, 110), 0.3, (1, 5), (10, 50), 0),
    "thick": Preset((1, 5), (5, 105), (10, 210), 0.3, (1, 3), (30, 150), 0),
    "large_boxes": Preset((0, 0), (0, 0), (0, 0), 1.0, (1, 4), (30, 150), 10),
}


class LamaMasks(MaskGenerator):
    """Masks of one of LaMa's families, drawn in batch on the device from a seeded generator.

    Args:
        resolution: S, the image size in pixels (context from the config).
        preset: ``thin``, ``medium``, ``thick`` (LaMa's evaluation masks) or ``large_boxes``.

    Shape:
        - output: ``(B, 1, S, S)`` float in ``{0, 1}``, 1 = missing

    Examples:
        >>> masks = LamaMasks(64, preset="thick")(8, generator=torch.Generator().manual_seed(0))
        >>> masks.shape, sorted(masks.unique().tolist())
        (torch.Size([8, 1, 64, 64]), [0.0, 1.0])
    """

    def __init__(self, resolution: int, preset: Literal["thin", "medium", "thick", "large_boxes"] = "medium") -> None:
        super().__init__(resolution)
        self.preset = preset
        self.settings = PRESETS[preset]
        self.scale = resolution / REFERENCE_SIDE

    def __call__(self, batch_size, *, device="cpu", generator=None):
        size = self.resolution
        hole = torch.zeros(batch_size, 1, size, size, device=device)
        if self.settings.segments[1] > 0:
            hole = torch.maximum(hole, self._strokes(batch_size, device, generator))
        if self.settings.box_probability > 0:
            hole = torch.maximum(hole, self._boxes(batch_size, device, generator))
        return hole

    def _count(self, span: tuple[int, int], batch: int, device, generator) -> Tensor:
        """``(B,)`` integers drawn uniformly from ``span`` (inclusive)."""
        low, high = span
        return low + (self._uniform((batch,), device, generator) * (high - low + 1)).floor().clamp(max=high - low)

    def _between(self, span: tuple[int, int], shape: tuple[int, ...], device, generator) -> Tensor:
        """Uniform values in ``span`` (pixels at 256 px), scaled to the resolution."""
        low, high = span
        return (low + self._uniform(shape, device, generator) * (high - low)) * self.scale

    def _strokes(self, batch: int, device, generator) -> Tensor:
        settings, size = self.settings, self.resolution
        segments = settings.segments[1]
        angle = 0.01 + self._uniform((batch, segments), device, generator) * MAX_ANGLE
        mirrored = torch.arange(segments, device=device) % 2 == 0
        angle = torch.where(mirrored, 2 * math.pi - angle, angle)
        length = self._between(settings.stroke_length, (batch, segments), device, generator)
        steps = torch.stack([angle.sin(), angle.cos()], dim=-1) * length[..., None]  # (x, y), as LaMa
        start = self._uniform((batch, 1, 2), device, generator) * (size - 1)
        points = torch.cat([start, start + steps.cumsum(dim=1)], dim=1).clamp(0, size - 1)  # (B, K + 1, 2)
        radius = self._between(settings.stroke_width, (batch, segments), device, generator) / 2
        active = (
            torch.arange(segments, device=device) < self._count(settings.segments, batch, device, generator)[:, None]
        )
        window = math.ceil((settings.stroke_length[1] + settings.stroke_width[1]) * self.scale) + 2
        return draw_segments(points[:, None, :-1], points[:, None, 1:], radius[:, None], active[:, None], size, window)

    def _boxes(self, batch: int, device, generator) -> Tensor:
        settings, size = self.settings, self.resolution
        most = settings.boxes[1]
        margin = round(settings.box_margin * self.scale)
        room = max(1, size - 2 * margin)
        height, width = (
            self._between(settings.box_side, (batch, most), device, generator).round().clamp(1, room) for _ in range(2)
        )
        top = margin + (self._uniform((batch, most), device, generator) * (room - height + 1)).floor()
        left = margin + (self._uniform((batch, most), device, generator) * (room - width + 1)).floor()
        drawn = self._uniform((batch,), device, generator) < settings.box_probability
        count = self._count(settings.boxes, batch, device, generator) * drawn
        active = torch.arange(most, device=device)[None, :] < count[:, None]
        coordinates = self._coordinates(device)
        return _box_mask(top, left, height * active, width * active, coordinates)

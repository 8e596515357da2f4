"""Procedural cartoon faces with exact part maps and attributes, generated on the fly.

They need no download and no licence, so the quickstart, the tests and the docs run
anywhere; they are labelled like CelebA-HQ (same part classes as
:data:`~semantic_inpaint.data.faces.PART_CLASSES`) so that both semantic embedders can
be pretrained on them. Every face is a pure function of ``(seed, index)``.
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field
from torch import Tensor
from torch.utils.data import Dataset

#: binary attributes of a synthetic face, in the order of the ``"attributes"`` vector
SYNTHETIC_ATTRIBUTES = ("dark_hair", "pale_skin", "big_eyes", "smiling", "mouth_open", "eyeglasses")


def _ellipse(x: Tensor, y: Tensor, cx: float, cy: float, rx: float, ry: float) -> Tensor:
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1


class SyntheticFaces(Dataset[dict[str, Tensor]]):
    """``length`` procedural faces at ``resolution`` px.

    Items: ``"image"`` ``(3, R, R)`` in ``[-1, 1]``, ``"parts"`` ``(R, R)`` int64 class
    ids, ``"attributes"`` ``(6,)`` float in ``{0, 1}`` (:data:`SYNTHETIC_ATTRIBUTES`).

    Args:
        resolution: R, the image size in pixels (context from the config).
        length: how many faces (each is drawn on the fly from its index).
        seed: which faces: the same seed and index always give the same face.

    Examples:
        >>> faces = SyntheticFaces(resolution=32, length=4)
        >>> item = faces[0]
        >>> item["image"].shape, item["parts"].shape, item["attributes"].shape
        (torch.Size([3, 32, 32]), torch.Size([32, 32]), torch.Size([6]))
    """

    def __init__(
        self,
        *,
        resolution: int,
        length: Annotated[int, Field(ge=1)] = 2048,
        seed: Annotated[int, Field(ge=0)] = 0,
    ) -> None:
        self.resolution = resolution
        self.length = length
        self.seed = seed
        self.attribute_names = list(SYNTHETIC_ATTRIBUTES)
        axis = (torch.arange(resolution, dtype=torch.float32) + 0.5) / resolution * 2 - 1
        self.y, self.x = torch.meshgrid(axis, axis, indexing="ij")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        if not 0 <= index < self.length:
            raise IndexError(f"index: expected 0 <= index < {self.length}, received {index}")
        rng = torch.Generator().manual_seed(self.seed * 1_000_003 + index)

        def uniform(low: float, high: float) -> float:
            return low + (high - low) * float(torch.rand((), generator=rng))

        flags = (torch.rand(len(SYNTHETIC_ATTRIBUTES), generator=rng) < 0.5).float()
        dark_hair, pale_skin, big_eyes, smiling, mouth_open, eyeglasses = flags.bool().tolist()
        x, y = self.x, self.y
        cx, cy = uniform(-0.08, 0.08), uniform(-0.05, 0.08)
        face_rx, face_ry = uniform(0.42, 0.52), uniform(0.55, 0.66)

        background = torch.tensor([uniform(0.2, 0.9), uniform(0.2, 0.9), uniform(0.2, 0.9)])
        hair = torch.tensor([0.12, 0.08, 0.05]) if dark_hair else torch.tensor([0.85, 0.7, 0.35])
        skin = torch.tensor([0.95, 0.85, 0.78]) if pale_skin else torch.tensor([0.72, 0.5, 0.36])
        skin = skin * uniform(0.92, 1.05)
        shading = 1 - 0.12 * (x - cx) - 0.08 * (y - cy)  # soft light from the top left

        parts = torch.zeros_like(x, dtype=torch.long)
        layers: list[tuple[Tensor, int, Tensor]] = []
        body = _ellipse(x, y, cx, cy + 0.95, 0.75, 0.45) | _ellipse(x, y, cx, cy - 0.08, face_rx + 0.12, face_ry + 0.1)
        layers.append((body, 9, hair))
        layers.append((_ellipse(x, y, cx, cy, face_rx, face_ry), 1, skin))
        eye_dx, eye_y = 0.42 * face_rx, cy - 0.12
        eye_r = 0.1 if big_eyes else 0.065
        for side, (brow, eye) in ((1, (2, 4)), (-1, (3, 5))):  # subject's left = image right
            ex = cx + side * eye_dx
            layers.append((_ellipse(x, y, ex, eye_y - eye_r - 0.07, 0.11, 0.03), brow, hair * 0.8))
            layers.append(
                (
                    _ellipse(x, y, ex, eye_y, eye_r * 1.3, eye_r),
                    eye,
                    torch.tensor([0.97, 0.97, 0.97]),
                )
            )
        layers.append((_ellipse(x, y, cx, cy + 0.1, 0.06, 0.12), 6, skin * 0.85))
        mouth_y, mouth_rx = cy + 0.36, (0.24 if smiling else 0.15)
        lips = _ellipse(x, y, cx, mouth_y, mouth_rx, 0.08 if mouth_open else 0.05)
        if smiling:  # a smile curves up: keep the lower half of a wider ellipse
            lips = lips | (_ellipse(x, y, cx, mouth_y - 0.02, mouth_rx, 0.1) & (y > mouth_y))
        layers.append((lips, 7, torch.tensor([0.75, 0.2, 0.25])))
        if mouth_open:
            layers.append(
                (
                    _ellipse(x, y, cx, mouth_y + 0.01, mouth_rx * 0.6, 0.04),
                    8,
                    torch.tensor([0.25, 0.05, 0.08]),
                )
            )

        image = background[:, None, None] * (1 - 0.15 * y)[None].expand(3, -1, -1)
        for region, label, colour in layers:
            image = torch.where(region[None], colour[:, None, None] * shading[None], image)
            parts = torch.where(region, label, parts)
        for side in (1, -1):  # pupils: drawn, still labelled as eye
            pupil = _ellipse(x, y, cx + side * eye_dx, eye_y, eye_r * 0.5, eye_r * 0.6)
            image = torch.where(pupil[None], torch.tensor([0.1, 0.15, 0.3])[:, None, None], image)
        if eyeglasses:
            for side in (1, -1):
                r = ((x - cx - side * eye_dx) ** 2 + (y - eye_y) ** 2).sqrt()
                rim = (r - (eye_r + 0.07)).abs() < 0.025
                image = torch.where(rim[None], torch.tensor([0.05, 0.05, 0.05])[:, None, None], image)
        noise = torch.randn(3, *x.shape, generator=rng) * 0.02
        image = (image + noise).clamp(0, 1) * 2 - 1
        return {"image": image, "parts": parts, "attributes": flags}

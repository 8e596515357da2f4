"""Context windows around the holes of a large image, for inpainting at the image's own scale.

The ``crop`` strategy does not shrink a whole photo to the model's resolution: it finds the
separate hole regions, gives each a square window about ``context`` times its size (at least
the model's resolution, so a small hole is filled at the photo's own scale), and fills each
window independently. Holes closer than a grid cell merge into one region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from kornia.contrib import connected_components
from torch import Tensor

#: ``(top, bottom, left, right)``: rows ``top:bottom`` and columns ``left:right`` of an image
Bounds = tuple[int, int, int, int]


#: the coarse grid that regions are found on has at most this many cells along a side
GRID_CELLS = 128


@dataclass(frozen=True)
class HoleWindow:
    """A window ``[top, top + height) × [left, left + width)`` and the region it fills.

    Windows are square; a region too large for a square inside the image gets the whole
    image (what the ``resize`` strategy does).

    ``region`` is ``(top, bottom, left, right)`` of the region's hole pixels in the image, and
    ``label`` / ``cell`` say which pixels are the region's: those whose grid cell
    (``(y // cell, x // cell)``) carries ``label`` in :attr:`labels`.
    """

    top: int
    left: int
    height: int
    width: int
    region: tuple[int, int, int, int]
    label: int = 0
    cell: int = 1
    labels: np.ndarray | None = None

    @classmethod
    def whole_image(cls, height: int, width: int, region: tuple[int, int, int, int]) -> HoleWindow:
        """The whole image as the window of every hole pixel in ``region`` (the ``resize`` strategy)."""
        return cls(0, 0, height, width, region)

    def owned(self, hole: np.ndarray) -> np.ndarray:
        """``(bottom - top, right - left)`` bool: the pixels of :attr:`region` that are this region's hole."""
        top, bottom, left, right = self.region
        if self.labels is None:
            return hole[top:bottom, left:right]
        rows = np.arange(top, bottom) // self.cell
        columns = np.arange(left, right) // self.cell
        return hole[top:bottom, left:right] & (self.labels[np.ix_(rows, columns)] == self.label)


def hole_windows(hole: np.ndarray, resolution: int, context: float = 2.0) -> list[HoleWindow]:
    """One window per separate hole region of an ``(H, W)`` bool hole.

    Args:
        hole: ``(H, W)`` bool, True where pixels are missing.
        resolution: the model's side; no window is smaller (unless the image is).
        context: a window's side over its region's longest side (2: the hole fills at most
            half the window, as in the paper's training and evaluation masks).

    Examples:
        >>> hole = np.zeros((300, 400), bool); hole[20:40, 30:50] = True; hole[200:260, 300:380] = True
        >>> [(w.top, w.left, w.height, w.width) for w in hole_windows(hole, resolution=64)]
        [(0, 8, 64, 64), (140, 240, 160, 160)]
    """
    height, width = hole.shape
    cell = max(1, math.ceil(max(height, width) / GRID_CELLS))
    rows, columns = math.ceil(height / cell), math.ceil(width / cell)
    padded = np.zeros((rows * cell, columns * cell), bool)
    padded[:height, :width] = hole
    occupied = torch.from_numpy(padded.reshape(rows, cell, columns, cell).any(axis=(1, 3)))
    grown = F.max_pool2d(occupied[None, None].float(), 3, stride=1, padding=1)  # neighbouring cells merge
    labels = connected_components(grown, num_iterations=rows + columns)[0, 0]
    labels = (labels * occupied).numpy().astype(np.int64)
    windows = []
    for label in np.unique(labels[labels > 0]):
        cells = labels == label
        cell_rows, cell_columns = np.flatnonzero(cells.any(1)), np.flatnonzero(cells.any(0))
        top, left = cell_rows[0] * cell, cell_columns[0] * cell
        box = hole[top : (cell_rows[-1] + 1) * cell, left : (cell_columns[-1] + 1) * cell]
        hole_rows, hole_columns = np.flatnonzero(box.any(1)), np.flatnonzero(box.any(0))
        region = (
            int(top + hole_rows[0]),
            int(top + hole_rows[-1] + 1),
            int(left + hole_columns[0]),
            int(left + hole_columns[-1] + 1),
        )
        windows.append(_window(region, int(label), cell, labels, resolution, context, height, width))
    return windows


def _window(
    region: tuple[int, int, int, int],
    label: int,
    cell: int,
    labels: np.ndarray,
    resolution: int,
    context: float,
    height: int,
    width: int,
) -> HoleWindow:
    """The square window centred on ``region``, shifted to lie inside the image (the whole
    image if no such square holds the region)."""
    top, bottom, left, right = region
    side = min(max(resolution, math.ceil(context * max(bottom - top, right - left))), height, width)
    if max(bottom - top, right - left) > side:
        return HoleWindow(0, 0, height, width, region, label, cell, labels)  # as the resize strategy
    window_top = min(max(0, (top + bottom - side) // 2), height - side)
    window_left = min(max(0, (left + right - side) // 2), width - side)
    return HoleWindow(window_top, window_left, side, side, region, label, cell, labels)


def hole_bounds(mask: Tensor) -> Bounds | None:
    """The smallest box holding every hole pixel of a ``(B, 1, H, W)`` mask, or ``None`` if it has none.

    Examples:
        >>> mask = torch.zeros(2, 1, 8, 8)
        >>> mask[0, 0, 2:4, 5:7] = 1; mask[1, 0, 3, 1] = 1
        >>> hole_bounds(mask)
        (2, 4, 1, 7)
    """
    rows = torch.nonzero(mask.amax(dim=(0, 1, 3)) > 0).flatten().tolist()
    columns = torch.nonzero(mask.amax(dim=(0, 1, 2)) > 0).flatten().tolist()
    return (rows[0], rows[-1] + 1, columns[0], columns[-1] + 1) if rows else None

"""The ``native`` strategy: run a fully convolutional model at the image's own scale, in tiles.

Scene models (trained on random crops of large photos) are meant to run at the photo's own
scale, not on a thumbnail. With no tile size the whole image is one window, padded to the
generator's size multiple. With a tile size the hole's bounding box is cut into a grid of
*cores*, each filled from a window of at most ``tile × tile`` pixels (the core plus a margin of
context on each side), one window at a time: memory stays bounded whatever the image size,
and every hole pixel is written by exactly one tile.
"""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from torch import Tensor

from semantic_inpaint.hole_windows import HoleWindow


def native_tiles(hole: np.ndarray, tile: int | None = None, margin: int | None = None) -> list[HoleWindow]:
    """Windows at the image's scale whose ``region`` (core) cells tile the hole's bounding box.

    Args:
        hole: ``(H, W)`` bool, True where pixels are missing.
        tile: the largest window side in pixels; ``None``: the whole image is one window.
        margin: context on each side of a core (default ``tile // 4``).

    Examples:
        >>> hole = np.zeros((300, 500), bool); hole[100:140, 50:450] = True
        >>> [w.region for w in native_tiles(hole, tile=256)]  # cores of at most 128 px
        [(100, 140, 50, 178), (100, 140, 178, 306), (100, 140, 306, 434), (100, 140, 434, 450)]
        >>> w = native_tiles(hole, tile=256)[1]; (w.top, w.left, w.height, w.width)
        (36, 114, 168, 256)
    """
    height, width = hole.shape
    rows, columns = np.flatnonzero(hole.any(1)), np.flatnonzero(hole.any(0))
    if rows.size == 0:
        return []
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1
    if tile is None:
        return [HoleWindow.whole_image(height, width, (top, bottom, left, right))]
    margin = tile // 4 if margin is None else margin
    step = tile - 2 * margin
    if step < 1:
        raise ValueError(f"tile: expected more than twice the margin ({margin} px), received {tile}")
    windows = []
    for core_top in range(top, bottom, step):
        for core_left in range(left, right, step):
            core = (core_top, min(core_top + step, bottom), core_left, min(core_left + step, right))
            if not hole[core[0] : core[1], core[2] : core[3]].any():
                continue
            window_top, window_left = max(0, core[0] - margin), max(0, core[2] - margin)
            window_bottom, window_right = min(height, core[1] + margin), min(width, core[3] + margin)
            windows.append(
                HoleWindow(window_top, window_left, window_bottom - window_top, window_right - window_left, core)
            )
    return windows


def pad_to_multiple(tensor: Tensor, multiple: int, value: float | None = None) -> Tensor:
    """Pad the bottom and right of ``(B, C, H, W)`` to multiples of ``multiple``: edge pixels
    repeated (``value=None``) or a constant (e.g. "keep the prediction" for a label map).

    Examples:
        >>> import torch
        >>> pad_to_multiple(torch.zeros(1, 3, 30, 17), 16).shape
        torch.Size([1, 3, 32, 32])
    """
    height, width = tensor.shape[-2:]
    padding = (0, -width % multiple, 0, -height % multiple)
    if not any(padding):
        return tensor
    if value is None:
        return F.pad(tensor, padding, mode="replicate")
    return F.pad(tensor, padding, mode="constant", value=value)

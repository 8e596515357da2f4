"""Inpainting a folder of photos with a folder of masks, matched by name (``semantic-inpaint inpaint``).

``photos/a/b.jpg`` takes its mask from ``masks/a/b.<any image suffix>`` and is written to
``out/a/b.png``. An output that exists is skipped, so an interrupted run picks up where it
stopped. With ``grid=True`` each output is the strip original | masked | filled instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from semantic_inpaint.core import Strength
from semantic_inpaint.data.folder import list_images
from semantic_inpaint.inference import Detail, Inpainter, Strategy
from semantic_inpaint.io import read_mask_image, read_rgb_image


def matched_masks(images: Path, masks: Path) -> dict[Path, Path]:
    """Each image under ``images`` with its mask under ``masks`` (same relative path, any suffix).

    Raises:
        ValueError: naming the images that have no mask, or that have several.
    """
    if not masks.is_dir():
        raise ValueError(f"mask: a folder of images needs a folder of masks, received {masks}")
    by_name: dict[Path, list[Path]] = {}
    for mask in list_images(masks):
        by_name.setdefault(mask.relative_to(masks).with_suffix(""), []).append(mask)
    pairs, missing, ambiguous = {}, [], []
    for image in list_images(images):
        found = by_name.get(image.relative_to(images).with_suffix(""), [])
        if len(found) == 1:
            pairs[image] = found[0]
        else:
            (missing if not found else ambiguous).append(str(image.relative_to(images)))
    if missing or ambiguous:
        raise ValueError(
            f"mask: expected one mask per image in {masks} (same name, any image suffix); "
            + (f"none for {missing[:5]}{' ...' if len(missing) > 5 else ''}" if missing else "")
            + ("; " if missing and ambiguous else "")
            + (f"several for {ambiguous[:5]}" if ambiguous else "")
        )
    return pairs


def side_by_side(image: np.ndarray, hole: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """``(H, 3W, 3)`` uint8: original | masked (hole white) | filled."""
    masked = np.where(hole[..., None] > 127, 255, image).astype(np.uint8)
    return np.concatenate([image, masked, filled], axis=1)


def inpaint_folder(
    inpainter: Inpainter,
    images: Path,
    masks: Path,
    output: Path,
    *,
    mask_threshold: float | None = None,
    strategy: Strategy = "resize",
    tile: int | None = None,
    detail: Detail = "none",
    attributes: Mapping[str | int, float] | None = None,
    strength: Strength = 1.0,
    grid: bool = False,
    progress: bool = True,
) -> tuple[int, int]:
    """Fill every image of ``images`` (recursively) with its mask; returns ``(written, skipped)``.

    ``mask_threshold``, ``strategy``, ``tile``, ``detail``, ``attributes`` and ``strength`` are
    :meth:`Inpainter.inpaint`'s (a part map belongs to one photo, so folders take none)."""
    pairs = matched_masks(images, masks)
    written = skipped = 0
    for image_path, mask_path in tqdm(pairs.items(), disable=not progress, desc="inpaint", unit="image"):
        target = output / image_path.relative_to(images).with_suffix(".png")
        if target.exists():
            skipped += 1
            continue
        image = np.asarray(read_rgb_image(image_path))
        hole = read_mask_image(mask_path)
        filled = inpainter.inpaint(
            image,
            hole,
            mask_threshold=mask_threshold,
            strategy=strategy,
            tile=tile,
            detail=detail,
            attributes=attributes,
            strength=strength,
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial.png")
        Image.fromarray(side_by_side(image, hole, filled) if grid else filled).save(partial)
        partial.replace(target)  # a run killed mid-write leaves no half image to skip later
        written += 1
    return written, skipped

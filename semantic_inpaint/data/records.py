"""A dataset of image files with optional per-image attributes, categories and label maps.

Every concrete layout (CelebA-HQ, CelebA, Helen, Places365, ADE20K, SUN attributes) only
finds its files and labels and hands them to :class:`ImageRecords`, which owns loading,
resizing and the item format:

* ``"image"``: ``(3, R, R)`` float in ``[-1, 1]``;
* ``"attributes"``: ``(N,)`` float in ``{0, 1}`` (when the layout has attributes);
* ``"category"``: int64 scalar (when it has scene categories);
* ``"parts"``: ``(R, R)`` int64 class ids (when it has label maps).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from semantic_inpaint.data.transforms import image_to_tensor, labels_to_tensor
from semantic_inpaint.io import read_rgb_image

#: reads the label map of one record as a single-channel PIL image of class ids
LabelReader = Callable[[int], Image.Image]


def require(path: Path, what: str, layout: str) -> Path:
    """``path`` if it exists, else a ``FileNotFoundError`` naming the expected layout."""
    if not path.exists():
        raise FileNotFoundError(f"{what}: {path} does not exist; expected {layout}")
    return path


def select_names(available: Sequence[str], wanted: Sequence[str] | None, what: str) -> list[int]:
    """Column indices of ``wanted`` names (all when ``None``), with an error for unknown ones."""
    if wanted is None:
        return list(range(len(available)))
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise ValueError(f"{what}: unknown names {unknown}; available: {list(available)}")
    return [list(available).index(name) for name in wanted]


class ImageRecords(Dataset[dict[str, Tensor]]):
    """Images plus whichever labels a layout provides (see the module docstring)."""

    def __init__(
        self,
        images: Sequence[Path],
        resolution: int,
        *,
        layout: str,
        attributes: Tensor | None = None,
        attribute_names: Sequence[str] = (),
        categories: Tensor | None = None,
        category_names: Sequence[str] = (),
        read_labels: LabelReader | None = None,
        class_names: Sequence[str] = (),
    ) -> None:
        if not images:
            raise FileNotFoundError(f"root: no images selected; expected {layout}")
        self.images = list(images)
        self.resolution = resolution
        self.layout = layout
        self.attribute_values = attributes
        self.attribute_names = list(attribute_names)
        self.categories = categories
        self.category_names = list(category_names)
        self.read_labels = read_labels
        self.class_names = list(class_names)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        item = {"image": image_to_tensor(read_rgb_image(self.images[index]), self.resolution)}
        if self.attribute_values is not None:
            item["attributes"] = self.attribute_values[index]
        if self.categories is not None:
            item["category"] = self.categories[index]
        if self.read_labels is not None:
            item["parts"] = labels_to_tensor(self.read_labels(index), self.resolution)
        return item


def read_label_png(path: Path, layout: str) -> Image.Image:
    """A single-channel label PNG, with an error naming the layout when it is missing."""
    with Image.open(require(path, "labels", layout)) as labels:
        if labels.mode not in {"L", "P", "I", "I;16"}:
            raise ValueError(f"labels: expected a single-channel label map in {path}, received mode {labels.mode!r}")
        return labels.convert("L") if labels.mode != "L" else labels.copy()


def stack_masks(paths: Sequence[Path | None], size: tuple[int, int]) -> Image.Image:
    """Paint binary part masks in order (class ``i + 1`` for ``paths[i]``; later wins)."""
    labels = torch.zeros(size[1], size[0], dtype=torch.uint8)
    for class_id, path in enumerate(paths, start=1):
        if path is None or not path.exists():
            continue
        with Image.open(path) as mask:
            region = torch.from_numpy(np.asarray(mask.convert("L").resize(size, Image.NEAREST)) > 127)
        labels[region] = class_id
    return Image.fromarray(labels.numpy())

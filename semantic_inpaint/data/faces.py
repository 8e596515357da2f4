"""Face datasets from their usual on-disk layouts: CelebA-HQ, CelebAMask-HQ, CelebA, Helen."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

import torch
from pydantic import Field

from semantic_inpaint.data.records import (
    ImageRecords,
    read_label_png,
    require,
    select_names,
    stack_masks,
)

#: Helen-like face-part classes of the shared part maps (``celebahq`` layout)
PART_CLASSES = (
    "background", "skin", "left_brow", "right_brow", "left_eye",
    "right_eye", "nose", "lips", "inner_mouth", "hair_body",
)  # fmt: skip
#: class pairs of :data:`PART_CLASSES` that swap under a horizontal flip (subject's left/right)
PART_FLIP_PAIRS = ((2, 3), (4, 5))

#: CelebAMask-HQ's 18 part masks, painted in this order (class id = position + 1)
CELEBAMASK_PARTS = (
    "skin", "nose", "eye_g", "l_eye", "r_eye", "l_brow", "r_brow", "l_ear", "r_ear",
    "mouth", "u_lip", "l_lip", "hair", "hat", "ear_r", "neck_l", "neck", "cloth",
)  # fmt: skip
#: Helen's 11 label images (SmithCVPR2013_labels: lbl00 .. lbl10)
HELEN_CLASSES = (
    "background", "face_skin", "left_brow", "right_brow", "left_eye", "right_eye",
    "nose", "upper_lip", "inner_mouth", "lower_lip", "hair",
)  # fmt: skip

Number = Annotated[int, Field(ge=0)]


def read_attribute_table(path: Path, layout: str) -> tuple[list[str], dict[str, list[int]]]:
    """CelebA's attribute format → (names, {file name: values in {-1, 1}}).

    Line 1 holds the count, line 2 the names, then one line per image: its file name and
    one value per name (CelebA's ``list_attr_celeba.txt``, CelebAMask-HQ's
    ``CelebAMask-HQ-attribute-anno.txt``).
    """
    lines = require(path, "attributes", layout).read_text(encoding="utf-8").splitlines()
    if len(lines) < 2:
        raise ValueError(f"attributes: {path} is not an attribute file (fewer than 2 lines); expected {layout}")
    names = lines[1].split()
    table: dict[str, list[int]] = {}
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != len(names) + 1:
            raise ValueError(
                f"attributes: {path} line {number}: expected a file name and {len(names)} values, "
                f"received {len(fields)} fields"
            )
        table[fields[0]] = [int(v) for v in fields[1:]]
    return names, table


def attribute_tensor(table: dict[str, list[int]], keys: list[str], columns: list[int]) -> torch.Tensor:
    """``(len(keys), len(columns))`` float in ``{0, 1}`` from values in ``{-1, 1}``."""
    return (torch.tensor([[table[key][c] for c in columns] for key in keys]) > 0).float()


def numbered_images(table: dict[str, list[int]], folder: Path, first: int, last: int | None, layout: str) -> list[int]:
    """Sorted numbers ``first..last`` of the attribute table whose ``{n}.jpg`` is in ``folder``."""
    numbers = sorted(int(Path(key).stem) for key in table)
    numbers = [n for n in numbers if n >= first and (last is None or n <= last) and (folder / f"{n}.jpg").is_file()]
    if not numbers:
        upper = last if last is not None else "end"
        raise FileNotFoundError(f"root: no images numbered {first}..{upper} in {folder}; expected {layout}")
    return numbers


class CelebAHQ(ImageRecords):
    """CelebA-HQ resized copies with attributes and derived part maps (the shared-data layout).

    Layout::

        ROOT/images/{i}.jpg        ROOT/parts/{i}.png (optional; ids of PART_CLASSES)
        ROOT/attributes.txt or ROOT/../attributes.txt  (CelebA attribute format)

    Args:
        root: the folder holding ``images/`` (and ``parts/``).
        resolution: output size (context from the config).
        first, last: inclusive range of image numbers, to keep splits apart.
        attributes: attribute names to return (default: all of the file).
        parts: also return part maps.
    """

    LAYOUT = (
        "ROOT/images/{i}.jpg, ROOT/parts/{i}.png (optional) and ROOT/attributes.txt or "
        "ROOT/../attributes.txt in the CelebA attribute format"
    )

    def __init__(
        self,
        root: Path,
        *,
        resolution: int,
        first: Number = 1,
        last: Number | None = None,
        attributes: list[str] | None = None,
        parts: bool = True,
    ) -> None:
        root = Path(root)
        require(root / "images", "root", self.LAYOUT)
        if parts:
            require(root / "parts", "root (pass parts: false to go without part maps)", self.LAYOUT)
        table_path = root / "attributes.txt" if (root / "attributes.txt").exists() else root.parent / "attributes.txt"
        names, table = read_attribute_table(table_path, self.LAYOUT)
        columns = select_names(names, attributes, "attributes")
        numbers = numbered_images(table, root / "images", first, last, self.LAYOUT)
        self.numbers = numbers
        super().__init__(
            [root / "images" / f"{n}.jpg" for n in numbers],
            resolution,
            layout=self.LAYOUT,
            attributes=attribute_tensor(table, [f"{n}.jpg" for n in numbers], columns),
            attribute_names=[names[c] for c in columns],
            read_labels=(lambda i: read_label_png(root / "parts" / f"{numbers[i]}.png", self.LAYOUT))
            if parts
            else None,
            class_names=PART_CLASSES if parts else (),
        )


class CelebAMaskHQ(ImageRecords):
    """The official CelebAMask-HQ release: 30 000 images, 40 attributes, 18 part masks.

    Layout::

        ROOT/CelebA-HQ-img/{i}.jpg                       i = 0 .. 29999
        ROOT/CelebAMask-HQ-attribute-anno.txt
        ROOT/CelebAMask-HQ-mask-anno/{i // 2000}/{i:05d}_{part}.png

    Part masks are painted in :data:`CELEBAMASK_PARTS` order into one label map with
    class ids 1..18 (0 = background).

    Args:
        root: the release folder (``CelebAMask-HQ``).
        first, last: inclusive range of image numbers (0-based), to keep splits apart.
        attributes: attribute names to return (default: all 40).
        parts: also return the part maps (reading 18 PNGs per image is the slow part).
    """

    LAYOUT = (
        "ROOT/CelebA-HQ-img/{i}.jpg, ROOT/CelebAMask-HQ-attribute-anno.txt and "
        "ROOT/CelebAMask-HQ-mask-anno/{i // 2000}/{i:05d}_{part}.png"
    )

    def __init__(
        self,
        root: Path,
        *,
        resolution: int,
        first: Number = 0,
        last: Number | None = None,
        attributes: list[str] | None = None,
        parts: bool = True,
    ) -> None:
        root = Path(root)
        images = require(root / "CelebA-HQ-img", "root", self.LAYOUT)
        names, table = read_attribute_table(root / "CelebAMask-HQ-attribute-anno.txt", self.LAYOUT)
        masks = (
            require(root / "CelebAMask-HQ-mask-anno", "root (pass parts: false to go without)", self.LAYOUT)
            if parts
            else None
        )
        columns = select_names(names, attributes, "attributes")
        numbers = numbered_images(table, images, first, last, self.LAYOUT)

        def read_parts(index: int):
            number = numbers[index]
            folder = masks / str(number // 2000)
            return stack_masks([folder / f"{number:05d}_{part}.png" for part in CELEBAMASK_PARTS], (512, 512))

        super().__init__(
            [images / f"{n}.jpg" for n in numbers],
            resolution,
            layout=self.LAYOUT,
            attributes=attribute_tensor(table, [f"{n}.jpg" for n in numbers], columns),
            attribute_names=[names[c] for c in columns],
            read_labels=read_parts if parts else None,
            class_names=("background", *CELEBAMASK_PARTS) if parts else (),
        )


class CelebA(ImageRecords):
    """CelebA (aligned & cropped) with its 40 attributes and official split.

    Layout::

        ROOT/img_align_celeba/{000001}.jpg
        ROOT/list_attr_celeba.txt       ROOT/list_eval_partition.txt  ("000001.jpg 0")

    Args:
        root: the folder holding ``img_align_celeba/`` and the two lists.
        split: ``train`` (0), ``val`` (1), ``test`` (2) of the official partition, or ``all``.
        attributes: attribute names to return (default: all 40).
    """

    LAYOUT = "ROOT/img_align_celeba/*.jpg, ROOT/list_attr_celeba.txt and ROOT/list_eval_partition.txt"
    SPLITS: ClassVar[dict[str, str]] = {"train": "0", "val": "1", "test": "2"}

    def __init__(
        self,
        root: Path,
        *,
        resolution: int,
        split: Literal["train", "val", "test", "all"] = "train",
        attributes: list[str] | None = None,
    ) -> None:
        root = Path(root)
        images = require(root / "img_align_celeba", "root", self.LAYOUT)
        names, table = read_attribute_table(root / "list_attr_celeba.txt", self.LAYOUT)
        columns = select_names(names, attributes, "attributes")
        keys = sorted(table)
        if split != "all":
            partition = require(root / "list_eval_partition.txt", "root", self.LAYOUT).read_text().split("\n")
            wanted = {line.split()[0] for line in partition if line.strip() and line.split()[1] == self.SPLITS[split]}
            keys = [key for key in keys if key in wanted]
        super().__init__(
            [images / key for key in keys],
            resolution,
            layout=self.LAYOUT,
            attributes=attribute_tensor(table, keys, columns) if keys else None,
            attribute_names=[names[c] for c in columns],
        )


class Helen(ImageRecords):
    """Helen face parts in the SmithCVPR2013_labels layout.

    Layout::

        ROOT/images/{name}.jpg
        ROOT/labels/{name}/{name}_lbl00.png .. {name}_lbl10.png   (one soft mask per class)
        ROOT/exemplars.txt | tuning.txt | testing.txt             ("1 , {name}" per line)

    Each pixel gets the class whose label image is brightest there (:data:`HELEN_CLASSES`).

    Args:
        root: the folder holding ``images/``, ``labels/`` and the three lists.
        split: ``train`` (exemplars), ``val`` (tuning) or ``test`` (testing).
    """

    LAYOUT = "ROOT/images/{name}.jpg, ROOT/labels/{name}/{name}_lbl00..10.png and ROOT/{exemplars,tuning,testing}.txt"
    SPLITS: ClassVar[dict[str, str]] = {"train": "exemplars.txt", "val": "tuning.txt", "test": "testing.txt"}

    def __init__(self, root: Path, *, resolution: int, split: Literal["train", "val", "test"] = "train") -> None:
        root = Path(root)
        listing = require(root / self.SPLITS[split], "split", self.LAYOUT).read_text().splitlines()
        names = [line.split(",")[-1].strip() for line in listing if line.strip()]

        def read_parts(index: int):
            import numpy as np
            from PIL import Image

            name = names[index]
            planes = [np.asarray(read_label_png(root / "labels" / name / f"{name}_lbl{k:02d}.png", self.LAYOUT))
                      for k in range(len(HELEN_CLASSES))]  # fmt: skip
            return Image.fromarray(np.stack(planes).argmax(0).astype(np.uint8))

        super().__init__(
            [require(root / "images" / f"{name}.jpg", "image", self.LAYOUT) for name in names],
            resolution,
            layout=self.LAYOUT,
            read_labels=read_parts,
            class_names=HELEN_CLASSES,
        )

"""CelebA-HQ with its 40 CelebA attributes and face-part maps.

Expected layout (the CelebAMask-HQ attribute format, one image folder per resolution)::

    ROOT/images/{i}.jpg        aligned faces, numbered as in the attribute file
    ROOT/parts/{i}.png         single-channel uint8 part ids (optional)
    ROOT/attributes.txt        or ROOT/../attributes.txt:
                               line 1 the count, line 2 the 40 names,
                               then "{i}.jpg v1 ... v40" with values in {-1, 1}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import torch
from PIL import Image
from pydantic import Field
from torch import Tensor
from torch.utils.data import Dataset

from semantic_inpaint.data.transforms import image_to_tensor, labels_to_tensor
from semantic_inpaint.io import read_rgb_image

#: Helen-like face-part classes of the part maps
PART_CLASSES = (
    "background", "skin", "left_brow", "right_brow", "left_eye",
    "right_eye", "nose", "lips", "inner_mouth", "hair_body",
)  # fmt: skip
#: class pairs that swap under a horizontal flip (the subject's left and right)
PART_FLIP_PAIRS = ((2, 3), (4, 5))

LAYOUT = (
    "ROOT/images/{i}.jpg, ROOT/parts/{i}.png (optional) and ROOT/attributes.txt or "
    "ROOT/../attributes.txt in the CelebAMask-HQ attribute format"
)


def read_attribute_file(path: Path) -> tuple[list[str], dict[str, list[int]]]:
    """Parse a CelebA(-HQ) attribute file → (names, {filename: values in {-1, 1}})."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if len(lines) < 2:
        raise ValueError(f"attributes: {path} is not an attribute file (fewer than 2 lines)")
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


def find_attribute_file(root: Path) -> Path:
    for candidate in (root / "attributes.txt", root.parent / "attributes.txt"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"attributes: no attributes.txt in {root} or its parent; expected {LAYOUT}")


class CelebAHQ(Dataset[dict[str, Tensor]]):
    """CelebA-HQ images ``first..last`` with attributes and (optionally) part maps.

    Items: ``"image"`` ``(3, R, R)`` in ``[-1, 1]``; ``"attributes"`` ``(N,)`` float in
    ``{0, 1}`` for the selected ``attributes``; ``"parts"`` ``(R, R)`` int64 class ids
    (:data:`PART_CLASSES`) when ``parts=True``.

    Args:
        root: the folder holding ``images/`` (and ``parts/``).
        resolution: output size (context from the model config).
        first, last: inclusive range of image numbers, to keep splits apart.
        attributes: names of the attributes to return (default: all of the file).
        parts: also load part maps.
    """

    def __init__(
        self,
        root: Path,
        *,
        resolution: int,
        first: Annotated[int, Field(ge=0)] = 1,
        last: Annotated[int, Field(ge=0)] | None = None,
        attributes: list[str] | None = None,
        parts: bool = True,
    ) -> None:
        self.root = Path(root)
        self.resolution = resolution
        self.with_parts = parts
        if not (self.root / "images").is_dir():
            raise FileNotFoundError(f"root: {self.root} has no images/ folder; expected {LAYOUT}")
        if parts and not (self.root / "parts").is_dir():
            raise FileNotFoundError(
                f"root: {self.root} has no parts/ folder (pass parts=false to go without); expected {LAYOUT}"
            )
        names, table = read_attribute_file(find_attribute_file(self.root))
        selected = attributes if attributes is not None else names
        unknown = [name for name in selected if name not in names]
        if unknown:
            raise ValueError(f"attributes: unknown names {unknown}; the file has {names}")
        self.attribute_names = list(selected)
        columns = [names.index(name) for name in selected]
        numbers = sorted(int(Path(key).stem) for key in table)
        numbers = [n for n in numbers if n >= first and (last is None or n <= last)]
        numbers = [n for n in numbers if (self.root / "images" / f"{n}.jpg").is_file()]
        if not numbers:
            raise FileNotFoundError(
                f"root: no images numbered {first}..{last if last is not None else 'end'} in "
                f"{self.root / 'images'}; expected {LAYOUT}"
            )
        self.numbers = numbers
        values = torch.tensor([[table[f"{n}.jpg"][c] for c in columns] for n in numbers])
        self.attribute_values = (values > 0).float()

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        number = self.numbers[index]
        item = {
            "image": image_to_tensor(read_rgb_image(self.root / "images" / f"{number}.jpg"), self.resolution),
            "attributes": self.attribute_values[index],
        }
        if self.with_parts:
            path = self.root / "parts" / f"{number}.png"
            if not path.is_file():
                raise FileNotFoundError(f"parts: missing part map {path}; expected {LAYOUT}")
            with Image.open(path) as labels:
                item["parts"] = labels_to_tensor(labels, self.resolution)
        return item

"""Scene datasets from their usual on-disk layouts: Places365, ADE20K, SUN attributes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import torch
from pydantic import Field

from semantic_inpaint.data.records import ImageRecords, read_label_png, require, select_names


class Places365(ImageRecords):
    """Places365-Standard (256 px) restricted to chosen scene categories (the paper uses 20).

    Layout::

        ROOT/categories_places365.txt        "/a/airfield 0"
        ROOT/places365_train_standard.txt    "/a/airfield/00000001.jpg 0"
        ROOT/places365_val.txt               "Places365_val_00000001.jpg 0"
        ROOT/data_256/a/airfield/00000001.jpg     ROOT/val_256/Places365_val_00000001.jpg

    Items carry ``"category"``: the index of the image's category in ``categories``.

    Args:
        root: the release folder (lists, ``data_256/`` and ``val_256/``).
        categories: category names as in the file (``/a/airfield``) or without the prefix
            (``airfield``); ``None`` keeps all 365.
        split: ``train`` or ``val``.
        first, last: inclusive range of positions (0-based, listing order) among the split's
            images of the chosen categories, to carve separate query and gallery sets.
    """

    LAYOUT = (
        "ROOT/categories_places365.txt, ROOT/places365_train_standard.txt with ROOT/data_256/, "
        "ROOT/places365_val.txt with ROOT/val_256/"
    )

    def __init__(
        self,
        root: Path,
        *,
        resolution: int,
        categories: list[str] | None = None,
        split: Literal["train", "val"] = "train",
        first: Annotated[int, Field(ge=0)] = 0,
        last: Annotated[int, Field(ge=0)] | None = None,
    ) -> None:
        root = Path(root)
        lines = require(root / "categories_places365.txt", "root", self.LAYOUT).read_text().splitlines()
        all_names = [line.split()[0] for line in lines if line.strip()]
        short = [name.split("/", 2)[-1] for name in all_names]  # "/a/airfield" -> "airfield"
        wanted = [name if name in all_names else all_names[short.index(name)] if name in short else name
                  for name in categories] if categories is not None else None  # fmt: skip
        selected = select_names(all_names, wanted, "categories")
        remap = {original: position for position, original in enumerate(selected)}
        listing, folder = (
            ("places365_train_standard.txt", "data_256") if split == "train" else ("places365_val.txt", "val_256")
        )
        records = [line.split() for line in require(root / listing, "split", self.LAYOUT).read_text().splitlines()]
        records = [(path.lstrip("/"), int(label)) for path, label in records if int(label) in remap]
        records = records[first : None if last is None else last + 1]
        if not records:
            raise ValueError(f"first, last: no {split} images of the chosen categories at positions {first}..{last}")
        super().__init__(
            [root / folder / path for path, _ in records],
            resolution,
            layout=self.LAYOUT,
            categories=torch.tensor([remap[label] for _, label in records], dtype=torch.long),
            category_names=[all_names[i] for i in selected],
        )


class ADE20K(ImageRecords):
    """ADE20K scene parsing (the ADEChallengeData2016 release): 150 classes + 0 = other.

    Layout::

        ROOT/images/{training,validation}/ADE_*.jpg
        ROOT/annotations/{training,validation}/ADE_*.png    (uint8 class ids)

    Args:
        root: the release folder (``ADEChallengeData2016``).
        split: ``train`` (training) or ``val`` (validation).
    """

    LAYOUT = "ROOT/images/{training,validation}/*.jpg and ROOT/annotations/{training,validation}/*.png"

    def __init__(self, root: Path, *, resolution: int, split: Literal["train", "val"] = "train") -> None:
        root = Path(root)
        folder = "training" if split == "train" else "validation"
        images = sorted(require(root / "images" / folder, "root", self.LAYOUT).glob("*.jpg"))
        annotations = root / "annotations" / folder
        super().__init__(
            images,
            resolution,
            layout=self.LAYOUT,
            read_labels=lambda i: read_label_png(annotations / f"{images[i].stem}.png", self.LAYOUT),
            class_names=["other", *(f"class_{k}" for k in range(1, 151))],
        )


class SUNAttributes(ImageRecords):
    """The SUN attribute database: 14 340 scenes with 102 crowd-sourced attributes.

    Layout (the release's MATLAB files; reading them needs scipy)::

        ROOT/images/{path in images.mat}
        ROOT/SUNAttributeDB/images.mat  attributes.mat  attributeLabels_continuous.mat

    An attribute is present when at least ``threshold`` of the annotators marked it.

    Args:
        root: the folder holding ``images/`` and ``SUNAttributeDB/``.
        attributes: attribute names to return (default: all 102).
        first, last: inclusive range of image indices (0-based, file order).
        threshold: vote fraction from which an attribute counts as present.
    """

    LAYOUT = "ROOT/images/ and ROOT/SUNAttributeDB/{images,attributes,attributeLabels_continuous}.mat"

    def __init__(
        self,
        root: Path,
        *,
        resolution: int,
        attributes: list[str] | None = None,
        first: Annotated[int, Field(ge=0)] = 0,
        last: Annotated[int, Field(ge=0)] | None = None,
        threshold: Annotated[float, Field(gt=0, le=1)] = 0.5,
    ) -> None:
        try:
            from scipy.io import loadmat
        except ImportError as error:
            raise ImportError("SUN attributes are MATLAB files: pip install 'semantic-inpaint[datasets]'") from error
        root = Path(root)
        database = require(root / "SUNAttributeDB", "root", self.LAYOUT)

        def cells(name: str, key: str) -> list[str]:
            return [
                str(cell.flatten()[0]) for cell in loadmat(require(database / name, "root", self.LAYOUT))[key].flatten()
            ]

        paths = cells("images.mat", "images")
        names = cells("attributes.mat", "attributes")
        votes = torch.from_numpy(
            loadmat(require(database / "attributeLabels_continuous.mat", "root", self.LAYOUT))["labels_cv"]
        ).float()
        columns = select_names(names, attributes, "attributes")
        end = len(paths) - 1 if last is None else min(last, len(paths) - 1)
        indices = list(range(first, end + 1))
        super().__init__(
            [root / "images" / paths[i] for i in indices],
            resolution,
            layout=self.LAYOUT,
            attributes=(votes[indices][:, columns] >= threshold).float(),
            attribute_names=[names[c] for c in columns],
        )

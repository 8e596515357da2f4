"""Datasets and joint augmentation."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from semantic_inpaint.augment import JointAugmentation
from semantic_inpaint.data import CelebAHQ, ImageFolder, SyntheticFaces
from semantic_inpaint.data.faces import PART_FLIP_PAIRS


def write_image(path: Path, size: tuple[int, int] = (48, 40), mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, 128 if mode in ("L", "I;16") else (200, 30, 40)).save(path)


def test_image_folder_resizes_and_crops_any_size(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", (48, 40))
    write_image(tmp_path / "sub" / "b.jpg", (20, 90))
    write_image(tmp_path / "grey.png", (32, 32), mode="L")
    dataset = ImageFolder(tmp_path, resolution=32)
    assert len(dataset) == 3
    for item in dataset:
        assert item["image"].shape == (3, 32, 32)
        assert item["image"].min() >= -1 and item["image"].max() <= 1


def test_image_folder_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="root: expected a folder of images"):
        ImageFolder(tmp_path / "missing", resolution=32)
    (tmp_path / "notes.txt").write_text("no images")
    with pytest.raises(FileNotFoundError, match="found none"):
        ImageFolder(tmp_path, resolution=32)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(ValueError, match=r"cannot be read as images: .*broken\.jpg \(cannot identify image file"):
        ImageFolder(tmp_path, resolution=32)
    write_image(tmp_path / "deep.png", mode="I;16")
    (tmp_path / "broken.jpg").unlink()
    with pytest.raises(ValueError, match=r"cannot be read as images: .*deep\.png \(mode 'I;16'\)"):
        ImageFolder(tmp_path, resolution=32)


def make_celebahq(root: Path, count: int = 4) -> None:
    names = ["Male", "Smiling", "Eyeglasses"]
    lines = [str(count), " ".join(names)]
    for i in range(1, count + 1):
        write_image(root / "64" / "images" / f"{i}.jpg", (64, 64))
        Image.fromarray(np.full((64, 64), i % 10, dtype=np.uint8)).save(root / "64" / "parts" / f"{i}.png") if (
            root / "64" / "parts"
        ).mkdir(parents=True, exist_ok=True) is None else None
        lines.append(f"{i}.jpg  {'1' if i % 2 else '-1'} -1 1")
    (root / "attributes.txt").write_text("\n".join(lines) + "\n")


def test_celebahq_layout_items_and_split(tmp_path: Path) -> None:
    make_celebahq(tmp_path)
    dataset = CelebAHQ(tmp_path / "64", resolution=32, first=2, last=3, attributes=["Smiling", "Male"])
    assert len(dataset) == 2
    item = dataset[0]
    assert item["image"].shape == (3, 32, 32)
    assert item["attributes"].tolist() == [0.0, 0.0]  # image 2: Smiling -1, Male -1
    assert item["parts"].shape == (32, 32) and item["parts"].unique().tolist() == [2]


def test_celebahq_errors_name_the_expected_layout(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"root: .*images does not exist; expected ROOT/images/\{i\}\.jpg"):
        CelebAHQ(tmp_path, resolution=32)
    make_celebahq(tmp_path)
    with pytest.raises(ValueError, match=r"attributes: unknown names \['Bald'\]"):
        CelebAHQ(tmp_path / "64", resolution=32, attributes=["Bald"])
    with pytest.raises(FileNotFoundError, match=r"no images numbered 10\.\.20"):
        CelebAHQ(tmp_path / "64", resolution=32, first=10, last=20)


def test_synthetic_faces_are_deterministic_and_labelled() -> None:
    faces = SyntheticFaces(resolution=32, length=8)
    first, again = faces[3], SyntheticFaces(resolution=32, length=8)[3]
    assert torch.equal(first["image"], again["image"])
    assert set(first["parts"].unique().tolist()) >= {0, 1, 4, 5, 7}
    assert not torch.equal(faces[0]["image"], faces[1]["image"])


def test_joint_augmentation_keeps_labels_and_masks_discrete_and_aligned() -> None:
    torch.manual_seed(0)
    image = torch.rand(6, 3, 32, 32) * 2 - 1
    parts = torch.randint(0, 10, (6, 32, 32))
    mask = (torch.rand(6, 1, 32, 32) > 0.5).float()
    augment = JointAugmentation(hflip=True, degrees=10, translate=0.1, scale=(0.9, 1.1))
    image_out, parts_out, mask_out = augment(image, parts, mask)
    assert image_out.shape == image.shape and image_out.min() >= -1 and image_out.max() <= 1
    assert parts_out.dtype == torch.long and set(parts_out.unique().tolist()) <= set(range(10))
    assert set(mask_out.unique().tolist()) <= {0.0, 1.0}


def test_horizontal_flip_swaps_left_and_right_part_labels() -> None:
    torch.manual_seed(0)
    parts = torch.zeros(16, 8, 8, dtype=torch.long)
    parts[:, :, :4] = 4  # left eye on the image's left half
    image = torch.zeros(16, 3, 8, 8)
    image[:, 0, :, :4] = 1  # red marks the same half
    image_out, parts_out, _ = JointAugmentation(hflip=True, flip_label_pairs=PART_FLIP_PAIRS)(image, parts)
    flipped = image_out[:, 0, 0, -1] > 0.5
    assert flipped.any() and (~flipped).any()
    assert (parts_out[flipped][:, :, 4:] == 5).all()  # moved right and became the right eye
    assert (parts_out[~flipped][:, :, :4] == 4).all()


def test_a_folder_with_corrupt_files_is_refused_up_front_naming_them_or_skipped_on_request(tmp_path) -> None:
    for index in range(3):
        Image.fromarray(np.full((20, 20, 3), 40 * index, np.uint8)).save(tmp_path / f"good{index}.png")
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buffer, format="PNG")
    (tmp_path / "truncated.png").write_bytes(buffer.getvalue()[:20])
    (tmp_path / "notes.jpg").write_text("not an image")
    with pytest.raises(
        ValueError, match=r"root: 2 of 5 files under .* cannot be read as images: .*notes.jpg.*truncated"
    ):
        ImageFolder(tmp_path, resolution=16)
    with pytest.warns(UserWarning, match=r"leaving out 2 unreadable files"):
        dataset = ImageFolder(tmp_path, resolution=16, skip_unreadable=True)
    assert len(dataset) == 3 and dataset[2]["image"].shape == (3, 16, 16)

"""Each dataset layout read from a tiny folder that mimics it, and its missing-file errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from semantic_inpaint.data import ADE20K, CelebA, CelebAMaskHQ, Helen, Places365, SUNAttributes


def save_image(path: Path, size: int = 40, value: int = 100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), (value, 50, 200)).save(path)


def save_labels(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8)).save(path)


def attribute_file(path: Path, names: list[str], rows: dict[str, list[int]]) -> None:
    lines = [str(len(rows)), " ".join(names), *(f"{key} " + " ".join(map(str, v)) for key, v in rows.items())]
    path.write_text("\n".join(lines) + "\n")


def test_celebamask_hq_paints_part_masks_into_one_label_map(tmp_path: Path) -> None:
    for i in (0, 1, 2):
        save_image(tmp_path / "CelebA-HQ-img" / f"{i}.jpg", 64)
    attribute_file(
        tmp_path / "CelebAMask-HQ-attribute-anno.txt", ["Male", "Smiling"], {f"{i}.jpg": [1, -1] for i in range(3)}
    )
    skin = np.zeros((512, 512))
    skin[100:400, 100:400] = 255
    nose = np.zeros((512, 512))
    nose[200:300, 200:300] = 255
    save_labels(tmp_path / "CelebAMask-HQ-mask-anno" / "0" / "00001_skin.png", skin)
    save_labels(tmp_path / "CelebAMask-HQ-mask-anno" / "0" / "00001_nose.png", nose)
    dataset = CelebAMaskHQ(tmp_path, resolution=32, first=1, last=2, attributes=["Smiling"])
    assert len(dataset) == 2
    item = dataset[0]
    assert item["attributes"].tolist() == [0.0]
    parts = item["parts"]
    assert parts[16, 16] == 2 and parts[8, 8] == 1 and parts[0, 0] == 0  # nose over skin over background
    assert dataset.class_names[:3] == ["background", "skin", "nose"]
    bare = tmp_path / "without-masks"
    save_image(bare / "CelebA-HQ-img" / "0.jpg")
    attribute_file(bare / "CelebAMask-HQ-attribute-anno.txt", ["Male"], {"0.jpg": [1]})
    with pytest.raises(
        FileNotFoundError, match=r"root \(pass parts: false to go without\): .*CelebAMask-HQ-mask-anno does not"
    ):
        CelebAMaskHQ(bare, resolution=32)
    assert len(CelebAMaskHQ(bare, resolution=32, parts=False)) == 1


def test_celeba_uses_the_official_partition(tmp_path: Path) -> None:
    keys = [f"{i:06d}.jpg" for i in range(1, 5)]
    for key in keys:
        save_image(tmp_path / "img_align_celeba" / key)
    attribute_file(
        tmp_path / "list_attr_celeba.txt", ["Young", "Male"], {k: [1, -1 if i % 2 else 1] for i, k in enumerate(keys)}
    )
    (tmp_path / "list_eval_partition.txt").write_text("".join(f"{k} {0 if i < 2 else 2}\n" for i, k in enumerate(keys)))
    train, test = CelebA(tmp_path, resolution=16), CelebA(tmp_path, resolution=16, split="test")
    assert len(train) == 2 and len(test) == 2
    assert train[1]["attributes"].tolist() == [1.0, 0.0]
    with pytest.raises(FileNotFoundError, match=r"list_attr_celeba.txt does not exist; expected ROOT/img_align_celeba"):
        (tmp_path / "list_attr_celeba.txt").unlink()
        CelebA(tmp_path, resolution=16)


def test_helen_takes_the_brightest_label_image_per_pixel(tmp_path: Path) -> None:
    (tmp_path / "exemplars.txt").write_text("1 , face_a\n")
    save_image(tmp_path / "images" / "face_a.jpg")
    for k in range(11):
        plane = np.full((40, 40), 10)
        if k == 4:
            plane[:, :20] = 250  # left eye on the left half
        save_labels(tmp_path / "labels" / "face_a" / f"face_a_lbl{k:02d}.png", plane)
    (tmp_path / "labels" / "face_a" / "face_a_lbl00.png").unlink()
    save_labels(tmp_path / "labels" / "face_a" / "face_a_lbl00.png", np.full((40, 40), 200))
    parts = Helen(tmp_path, resolution=20)[0]["parts"]
    assert (parts[:, :10] == 4).all() and (parts[:, 10:] == 0).all()
    with pytest.raises(FileNotFoundError, match=r"tuning.txt does not exist; expected ROOT/images"):
        Helen(tmp_path, resolution=20, split="val")


def test_places365_keeps_only_the_chosen_categories(tmp_path: Path) -> None:
    (tmp_path / "categories_places365.txt").write_text("/a/airfield 0\n/b/beach 1\n/c/canyon 2\n")
    records = ["/a/airfield/00000001.jpg 0", "/b/beach/00000001.jpg 1", "/c/canyon/00000001.jpg 2"]
    (tmp_path / "places365_train_standard.txt").write_text("\n".join(records) + "\n")
    for record in records:
        save_image(tmp_path / "data_256" / record.split()[0].lstrip("/"))
    dataset = Places365(tmp_path, resolution=16, categories=["canyon", "/b/beach"])
    assert len(dataset) == 2
    assert sorted(int(dataset[i]["category"]) for i in range(2)) == [0, 1]
    assert dataset.category_names == ["/b/beach", "/c/canyon"] or dataset.category_names == ["/c/canyon", "/b/beach"]
    with pytest.raises(ValueError, match=r"categories: unknown names \['desert'\]"):
        Places365(tmp_path, resolution=16, categories=["desert"])
    assert len(Places365(tmp_path, resolution=16, first=1, last=1)) == 1
    with pytest.raises(ValueError, match=r"first, last: no train images of the chosen categories at positions 5"):
        Places365(tmp_path, resolution=16, first=5)


def test_ade20k_reads_annotation_pngs(tmp_path: Path) -> None:
    save_image(tmp_path / "images" / "validation" / "ADE_val_00000001.jpg")
    labels = np.zeros((40, 40))
    labels[:, 20:] = 7
    save_labels(tmp_path / "annotations" / "validation" / "ADE_val_00000001.png", labels)
    item = ADE20K(tmp_path, resolution=20, split="val")[0]
    assert item["parts"][:, 10:].unique().tolist() == [7] and item["parts"][:, :10].unique().tolist() == [0]
    with pytest.raises(FileNotFoundError, match=r"images/training does not exist"):
        ADE20K(tmp_path, resolution=20)


def test_sun_attributes_threshold_the_annotator_votes(tmp_path: Path) -> None:
    scipy_io = pytest.importorskip("scipy.io", reason="SUN attributes need scipy (semantic-inpaint[datasets])")
    database = tmp_path / "SUNAttributeDB"
    database.mkdir()
    paths = np.array([["a/abbey/sun_1.jpg"], ["b/beach/sun_2.jpg"]], dtype=object)
    names = np.array([["sailing"], ["trees"], ["snow"]], dtype=object)
    scipy_io.savemat(database / "images.mat", {"images": paths})
    scipy_io.savemat(database / "attributes.mat", {"attributes": names})
    scipy_io.savemat(
        database / "attributeLabels_continuous.mat", {"labels_cv": np.array([[0.0, 0.67, 1.0], [0.33, 0.0, 0.67]])}
    )
    for path in ("a/abbey/sun_1.jpg", "b/beach/sun_2.jpg"):
        save_image(tmp_path / "images" / path)
    dataset = SUNAttributes(tmp_path, resolution=16, attributes=["snow", "trees"])
    assert torch.equal(dataset.attribute_values, torch.tensor([[1.0, 1.0], [1.0, 0.0]]))
    assert dataset[1]["image"].shape == (3, 16, 16)

"""A folder of photos with a folder of masks: matched by name, resumable, with grids on request."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from semantic_inpaint import cli


def photos_and_masks(root: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    photos, masks = root / "photos", root / "masks"
    for name, size in [("a.jpg", (40, 56)), ("sub/b.png", (64, 64)), ("c.png", (33, 47))]:
        (photos / name).parent.mkdir(parents=True, exist_ok=True)
        (masks / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(photos / name)
        hole = np.zeros(size, dtype=np.uint8)
        hole[5:20, 8:30] = 255
        Image.fromarray(hole).save((masks / name).with_suffix(".png"))
    return photos, masks


def test_a_folder_is_inpainted_by_name_and_a_rerun_skips_what_exists(tmp_path: Path, capsys) -> None:
    photos, masks = photos_and_masks(tmp_path)
    arguments = ["inpaint", "--model", "celebahq64-none", "--image", str(photos), "--mask", str(masks)]
    arguments += ["--out", str(tmp_path / "out"), "--device", "cpu"]
    assert cli.main(arguments) == 0
    assert "wrote 3 images" in capsys.readouterr().out
    outputs = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png"))
    assert outputs == ["a.png", "c.png", "sub/b.png"]
    original = np.asarray(Image.open(photos / "c.png"))
    filled = np.asarray(Image.open(tmp_path / "out" / "c.png"))
    hole = np.asarray(Image.open(masks / "c.png")) > 0
    assert filled.shape == original.shape and np.array_equal(filled[~hole], original[~hole])
    (tmp_path / "out" / "a.png").unlink()  # as if the run had stopped before it
    assert cli.main(arguments) == 0
    out = capsys.readouterr().out
    assert "wrote 1 images" in out and "(2 already there, skipped)" in out


def test_grid_writes_original_masked_filled_strips(tmp_path: Path) -> None:
    photos, masks = photos_and_masks(tmp_path)
    arguments = ["inpaint", "--model", "celebahq64-none", "--image", str(photos), "--mask", str(masks)]
    assert cli.main([*arguments, "--out", str(tmp_path / "grids"), "--grid", "--device", "cpu"]) == 0
    strip = np.asarray(Image.open(tmp_path / "grids" / "c.png"))
    original = np.asarray(Image.open(photos / "c.png"))
    assert strip.shape == (33, 3 * 47, 3) and np.array_equal(strip[:, :47], original)
    assert (strip[5:20, 47 + 8 : 47 + 30] == 255).all()  # the hole, white in the middle panel


def test_an_image_without_its_mask_is_named_before_anything_runs(tmp_path: Path, capsys) -> None:
    photos, masks = photos_and_masks(tmp_path)
    (masks / "sub" / "b.png").unlink()
    arguments = ["inpaint", "--model", "celebahq64-none", "--image", str(photos), "--mask", str(masks)]
    assert cli.main([*arguments, "--out", str(tmp_path / "out"), "--device", "cpu"]) == 2
    assert "none for ['sub/b.png']" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="a folder of images needs a folder of masks"):
        from semantic_inpaint.batch import matched_masks

        matched_masks(photos, masks / "a.png")


def test_a_folder_runs_natively_in_tiles_and_a_bad_tile_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    photos, masks = photos_and_masks(tmp_path)
    arguments = ["inpaint", "--model", "celebahq64-none", "--image", str(photos), "--mask", str(masks), "--device"]
    arguments += ["cpu", "--strategy", "native"]
    assert cli.main([*arguments, "--out", str(tmp_path / "out"), "--tile", "32"]) == 0
    original, filled = np.asarray(Image.open(photos / "c.png")), np.asarray(Image.open(tmp_path / "out" / "c.png"))
    hole = np.asarray(Image.open(masks / "c.png")) > 0
    assert np.array_equal(filled[~hole], original[~hole]) and not np.array_equal(filled[hole], original[hole])
    assert cli.main([*arguments, "--out", str(tmp_path / "bad"), "--tile", "8"]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("tile: expected at least 32 px (twice the generator's size multiple), received 8")
    )


def test_a_folder_runs_with_residual_detail_from_the_command_line(tmp_path: Path, capsys) -> None:
    photos, masks = photos_and_masks(tmp_path)
    arguments = ["inpaint", "--model", "celebahq64-none", "--image", str(photos), "--mask", str(masks), "--device"]
    arguments += ["cpu", "--strategy", "crop", "--detail", "residual", "--out", str(tmp_path / "out")]
    assert cli.main(arguments) == 0
    original, filled = np.asarray(Image.open(photos / "c.png")), np.asarray(Image.open(tmp_path / "out" / "c.png"))
    hole = np.asarray(Image.open(masks / "c.png")) > 0
    assert np.array_equal(filled[~hole], original[~hole]) and not np.array_equal(filled[hole], original[hole])
    with pytest.raises(SystemExit) as exit_code:
        cli.main([*arguments[:-4], "--detail", "sharp", "--out", str(tmp_path / "bad")])
    assert exit_code.value.code == 2 and "invalid choice: 'sharp'" in capsys.readouterr().err

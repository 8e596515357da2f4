"""Photos as users have them: EXIF-rotated, 16-bit, masks painted in alpha, empty masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from semantic_inpaint import Inpainter, cli
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_run

ROTATED_90 = 6  # EXIF orientation: the camera was turned; viewers rotate the pixels 90° clockwise


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("run")
    Trainer(tiny_run(output, steps=1)).fit(progress=False)
    return output / "checkpoints" / "last.pt"


@pytest.fixture(scope="module")
def inpainter(checkpoint: Path) -> Inpainter:
    return Inpainter.from_checkpoint(checkpoint, device="cpu")


def phone_photo(path: Path) -> np.ndarray:
    """A 40×24 (W×H) JPEG-free PNG whose EXIF says: show me rotated, as 24×40. Returns the upright pixels."""
    stored = np.random.default_rng(0).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = ROTATED_90
    image.save(path, exif=exif)
    return np.rot90(stored, k=-1).copy()  # what a viewer shows: 40 high, 24 wide


def test_an_exif_rotated_photo_is_inpainted_upright_with_the_mask_where_the_user_drew_it(
    inpainter: Inpainter, checkpoint: Path, tmp_path: Path
) -> None:
    upright = phone_photo(tmp_path / "phone.png")
    mask = np.zeros(upright.shape[:2], np.uint8)
    mask[5:15, 4:12] = 255  # drawn on the upright view
    Image.fromarray(mask).save(tmp_path / "mask.png")
    assert cli.main(["inpaint", "--checkpoint", str(checkpoint), "--image",
                     str(tmp_path / "phone.png"), "--mask", str(tmp_path / "mask.png"), "--out",
                     str(tmp_path / "out.png")]) == 0  # fmt: skip
    result = np.asarray(Image.open(tmp_path / "out.png"))
    assert result.shape == upright.shape
    known = mask == 0
    assert np.array_equal(result[known], upright[known])
    api = np.asarray(inpainter.inpaint(Image.open(tmp_path / "phone.png"), Image.open(tmp_path / "mask.png")))
    assert np.array_equal(api[known], upright[known])


@pytest.mark.parametrize("mode", ["I;16", "I", "F", "CMYK"])
def test_images_that_do_not_convert_without_guessing_are_refused_by_api_and_cli_alike(
    inpainter: Inpainter, checkpoint: Path, mode: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = Image.new(mode, (32, 32))
    mask = Image.new("L", (32, 32))
    with pytest.raises(ValueError, match=rf"image: expected one of the modes .*, received mode '{mode}'"):
        inpainter.inpaint(image, mask)
    if mode == "CMYK":
        image.save(tmp_path / "in.jpg")
        path = tmp_path / "in.jpg"
    else:
        path = tmp_path / "in.tiff"
        image.save(path)
    mask.save(tmp_path / "mask.png")
    code = cli.main(["inpaint", "--checkpoint", str(checkpoint), "--image", str(path),
                     "--mask", str(tmp_path / "mask.png"), "--out", str(tmp_path / "out.png")])  # fmt: skip
    assert code == 2
    assert f"received mode '{Image.open(path).mode}'" in capsys.readouterr().err


def test_a_hole_painted_in_the_alpha_channel_is_the_hole(inpainter: Inpainter) -> None:
    photo = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    painted = np.zeros((32, 32, 4), np.uint8)
    painted[8:20, 8:20, 3] = 255  # black, transparent everywhere but the painted hole
    result = np.asarray(inpainter.inpaint(Image.fromarray(photo), Image.fromarray(painted, "RGBA")))
    assert not np.array_equal(result[8:20, 8:20], photo[8:20, 8:20]), "the alpha hole was filled"
    assert np.array_equal(result[20:], photo[20:])


def test_an_empty_mask_warns_that_nothing_will_change(inpainter: Inpainter) -> None:
    photo = np.random.default_rng(2).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    with pytest.warns(UserWarning, match="mask: no pixel is marked as missing"):
        result = inpainter.inpaint(photo, np.zeros((32, 32), np.uint8))
    assert np.array_equal(result, photo)

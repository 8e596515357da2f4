"""The Inpainter and the inpaint command: types in = types out, known pixels untouched."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from semantic_inpaint import Inpainter, cli
from semantic_inpaint.config import RunConfig
from semantic_inpaint.inference import resize_window
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_run


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("run")
    Trainer(tiny_run(output, steps=1)).fit(progress=False)
    return output / "checkpoints" / "last.pt"


def photo(height: int = 40, width: int = 56) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


def hole(height: int = 40, width: int = 56) -> np.ndarray:
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[10:25, 20:40] = 255
    return mask


def test_pil_in_pil_out_with_known_pixels_unchanged(checkpoint: Path) -> None:
    image, mask = Image.fromarray(photo()), Image.fromarray(hole())
    result = Inpainter.from_checkpoint(checkpoint, device="cpu").inpaint(image, mask)
    assert isinstance(result, Image.Image) and result.size == image.size
    known = hole() == 0
    assert np.array_equal(np.asarray(result)[known], photo()[known])
    assert not np.array_equal(np.asarray(result)[~known], photo()[~known])


def test_numpy_uint8_and_float_in_give_the_same_type_out(checkpoint: Path) -> None:
    inpainter = Inpainter.from_checkpoint(checkpoint, device="cpu")
    result = inpainter.inpaint(photo(), hole())
    assert result.dtype == np.uint8 and result.shape == photo().shape
    as_float = photo().astype(np.float32) / 255
    result = inpainter.inpaint(as_float, hole() == 255)
    assert result.dtype == np.float32
    known = hole() == 0
    assert np.array_equal(result[known], as_float[known])


def test_tensor_in_tensor_out_batched_and_single(checkpoint: Path) -> None:
    inpainter = Inpainter.from_checkpoint(checkpoint, device="cpu")
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    mask = torch.zeros(2, 1, 32, 32)
    mask[..., 4:12, 4:12] = 1
    result = inpainter.inpaint(image, mask)
    assert result.shape == image.shape
    assert torch.equal(result[:, :, 20:, 20:], image[:, :, 20:, 20:])
    assert inpainter.inpaint(image[0], mask[0]).shape == (3, 32, 32)


def test_bad_masks_are_refused_with_clear_messages(checkpoint: Path) -> None:
    inpainter = Inpainter.from_checkpoint(checkpoint, device="cpu")
    grey = hole()
    grey[0, 0] = 7
    with pytest.raises(ValueError, match=r"mask: expected a binary mask with values \[0, 255\] for dtype uint8"):
        inpainter.inpaint(photo(), grey)
    with pytest.raises(ValueError, match=r"mask: expected the image's size \(40, 56\), received \(20, 20\)"):
        inpainter.inpaint(photo(), np.zeros((20, 20), dtype=np.uint8))
    with pytest.raises(TypeError, match="mask: expected a numpy array like the image"):
        inpainter.inpaint(photo(), Image.fromarray(hole()))
    with pytest.raises(ValueError, match=r"image: expected float values in \[0, 1\]"):
        inpainter.inpaint(photo().astype(np.float32), hole())


def test_inpaint_command_writes_a_png(checkpoint: Path, tmp_path: Path) -> None:
    Image.fromarray(photo()).save(tmp_path / "in.png")
    Image.fromarray(hole()).save(tmp_path / "mask.png")
    code = cli.main(
        ["inpaint", "--checkpoint", str(checkpoint), "--image", str(tmp_path / "in.png"),
         "--mask", str(tmp_path / "mask.png"), "--out", str(tmp_path / "out.png"), "--device", "cpu"]
    )  # fmt: skip
    assert code == 0
    assert Image.open(tmp_path / "out.png").size == (56, 40)


def test_inpaint_command_reports_unreadable_files(checkpoint: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "in.png").write_bytes(b"\x89PNG broken")
    code = cli.main(
        ["inpaint", "--checkpoint", str(checkpoint), "--image", str(tmp_path / "in.png"),
         "--mask", str(tmp_path / "in.png"), "--out", str(tmp_path / "out.png")]
    )  # fmt: skip
    assert code == 2
    assert "image: cannot read image file" in capsys.readouterr().err


def test_exported_inference_file_is_smaller_and_inpaints_like_the_checkpoint(checkpoint: Path, tmp_path: Path) -> None:
    from semantic_inpaint.inference import export_for_inference

    exported = export_for_inference(checkpoint, tmp_path / "model.safetensors")
    assert exported.stat().st_size < checkpoint.stat().st_size / 2
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    mask = torch.zeros(2, 1, 32, 32)
    mask[..., 8:24, 8:24] = 1
    expected = Inpainter.from_checkpoint(checkpoint, device="cpu").inpaint(image, mask)
    actual = Inpainter.from_checkpoint(exported, device="cpu").inpaint(image, mask)
    torch.testing.assert_close(actual, expected, atol=2e-2, rtol=0)  # float16 weights


def test_an_export_refers_to_a_shipped_embedder_instead_of_copying_it(tmp_path: Path) -> None:
    from semantic_inpaint.inference import export_for_inference

    shipped = {"name": "attribute", "options": {"weights": "shipped:celebahq64-attribute"}}
    config = tiny_run(tmp_path / "run")
    config.model.conditions[0].embedder = config.model.conditions[0].embedder.model_validate(shipped)
    checkpoint = Trainer(RunConfig.model_validate(config.model_dump())).save()
    copied = export_for_inference(checkpoint, tmp_path / "copied.safetensors", half=False)
    shared = export_for_inference(
        checkpoint, tmp_path / "shared.safetensors", half=False,
        shared_embedders={"attribute": "shipped:celebahq64-attribute"},
    )  # fmt: skip
    assert shared.stat().st_size < copied.stat().st_size - 900_000  # the 1 MB embedder is not in it
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    mask = torch.zeros(2, 1, 32, 32)
    mask[..., 8:24, 8:24] = 1
    expected = Inpainter.from_checkpoint(copied, device="cpu").inpaint(image, mask)
    assert torch.equal(Inpainter.from_checkpoint(shared, device="cpu").inpaint(image, mask), expected)
    with pytest.raises(ValueError, match=r"shared_embedders\['segmentation'\]: the checkpoint's segmentation embedder"):
        export_for_inference(
            checkpoint, tmp_path / "x.safetensors", shared_embedders={"segmentation": "shipped:celebahq64-segmentation"}
        )
    with pytest.raises(ValueError, match=r"expected a shipped embedder as 'shipped:NAME', received 'seg.safetensors'"):
        export_for_inference(
            checkpoint, tmp_path / "x.safetensors", shared_embedders={"segmentation": "seg.safetensors"}
        )


def test_a_foreign_weights_file_is_refused(tmp_path: Path) -> None:
    from semantic_inpaint.registry import get_registry

    embedder = get_registry().build("embedder", "attribute", {"num_attributes": 2, "width": 4})
    embedder.save_pretrained(tmp_path / "attribute.safetensors")
    with pytest.raises(ValueError, match=r"has format None, expected 'semantic-inpaint/inference-v1'"):
        Inpainter.from_checkpoint(tmp_path / "attribute.safetensors")


def test_demo_writes_the_comparison_grid(tmp_path: Path) -> None:
    assert cli.main(["demo", "--out", str(tmp_path / "demo.png"), "--device", "cpu"]) == 0
    grid = Image.open(tmp_path / "demo.png")
    # 4 holes x (original | masked | none and full at 64 px | none and full at 128 px), 128 px + padding
    assert grid.size == (6 * 130 + 2, 4 * 130 + 2)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_pixels_are_refused_not_turned_into_a_nan_fill(checkpoint: Path, bad: float) -> None:
    inpainter = Inpainter.from_checkpoint(checkpoint, device="cpu")
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    image[0, 0, 0, 0] = bad
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 8:16, 8:16] = 1
    with pytest.raises(ValueError, match=r"image: expected finite values in \[-1, 1\], received 1 NaN or infinite"):
        inpainter.inpaint(image, mask)
    array = photo().astype(np.float32) / 255
    array[3, 4, 1] = bad
    with pytest.raises(ValueError, match=r"image: expected finite float values in \[0, 1\], received 1 NaN"):
        inpainter.inpaint(array, hole() == 255)


def test_a_zero_to_one_tensor_is_read_by_its_declared_range_and_warned_about_otherwise(checkpoint: Path) -> None:
    inpainter = Inpainter.from_checkpoint(checkpoint, device="cpu")
    unit = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))  # torchvision's [0, 1]
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 8:16, 8:16] = 1
    with pytest.warns(UserWarning, match=r"looks like a \[0, 1\] image read as \[-1, 1\]"):
        inpainter.inpaint(unit, mask)
    declared = inpainter.inpaint(unit, mask, value_range=(0, 1))
    assert torch.equal(declared[..., 20:, :], unit[..., 20:, :]), "known pixels come back bit-identical"
    assert torch.allclose(declared, inpainter.inpaint(unit * 2 - 1, mask).add(1).div(2), atol=1e-6)
    assert declared.min() >= 0 and declared.max() <= 1
    with pytest.raises(ValueError, match=r"value_range: expected \(-1, 1\) or \(0, 1\), received \(0, 255\)"):
        inpainter.inpaint(unit, mask, value_range=(0, 255))


@settings(max_examples=25, deadline=None)
@given(
    source=st.integers(4, 24),
    height=st.integers(8, 80),
    width=st.integers(8, 80),
    corners=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)),
)
def test_resizing_the_holes_box_alone_equals_resizing_everything(
    source: int, height: int, width: int, corners: tuple[float, float, float, float]
) -> None:
    rows = sorted(int(c * height) for c in corners[:2])
    columns = sorted(int(c * width) for c in corners[2:])
    bounds = (rows[0], max(rows[1], rows[0] + 1), columns[0], max(columns[1], columns[0] + 1))
    image = torch.rand(2, 3, source, source, generator=torch.Generator().manual_seed(source))
    whole = F.interpolate(image, size=(height, width), mode="bilinear", align_corners=False)
    top, bottom, left, right = bounds
    torch.testing.assert_close(resize_window(image, (height, width), bounds), whole[..., top:bottom, left:right])


def test_a_large_photo_is_filled_as_the_whole_image_path_would() -> None:
    """The array path resizes the uint8 photo and only the hole's box: a trained model's fill
    matches the tensor path (whole image as float) to within the rounding of a uint8 thumbnail."""
    inpainter = Inpainter.from_pretrained("celebahq64-full", device="cpu")
    with resources.as_file(resources.files("semantic_inpaint") / "assets" / "astronaut.png") as path:
        image = np.asarray(Image.open(path).convert("RGB").resize((420, 420)))
    mask = np.zeros((420, 420), np.uint8)
    mask[150:260, 130:300] = 255
    filled = inpainter.inpaint(image, mask).astype(np.float64)
    as_tensor = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 127.5 - 1
    reference = inpainter.inpaint_tensor(as_tensor, torch.from_numpy(mask > 0)[None, None].float())
    reference = ((reference[0].permute(1, 2, 0).numpy() + 1) * 127.5).round()
    difference = np.abs(filled - reference)[mask > 0]
    assert difference.max() <= 2 and difference.mean() < 0.1, (difference.max(), difference.mean())
    assert np.array_equal(filled[mask == 0], image[mask == 0])

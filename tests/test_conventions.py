"""What users of torchvision, timm or diffusers expect: named models, --version, --set, soft masks, reprs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from semantic_inpaint import Inpainter, __version__, cli
from semantic_inpaint.config import RunConfig, apply_overrides, load_config
from semantic_inpaint.pretrained import model_card, shipped_models
from tests.conftest import tiny_run

SHIPPED = ["celebahq64-full", "celebahq64-none", "celebahq64-controllable"]


@pytest.fixture(scope="module")
def inpainter() -> Inpainter:
    return Inpainter.from_pretrained("celebahq64-full", device="cpu")


def soft_mask(size: int = 64) -> np.ndarray:
    """An antialiased square, saved and read back as a JPEG: values all over [0, 255]."""
    ramp = np.clip(np.abs(np.arange(size) - size / 2 + 0.5) - size / 4, -1, 1)
    square = np.outer(ramp < 0.5, ramp < 0.5) * 255.0
    blurred = np.asarray(Image.fromarray(square.astype(np.uint8)).resize((size // 2, size // 2)).resize((size, size)))
    buffer = io.BytesIO()
    Image.fromarray(blurred).save(buffer, format="JPEG", quality=70)
    return np.array(Image.open(buffer).convert("L"))


def face() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_model_loads_by_name_and_has_a_card(name: str) -> None:
    described = shipped_models()[name]
    inpainter = Inpainter.from_pretrained(name, device="cpu")
    assert inpainter.resolution == described["resolution"]
    assert sorted(inpainter.model.conditions) == sorted(c["embedder"] for c in described["conditions"])
    card = model_card(name)
    assert card.startswith(f"# {name}\n") and "## Licence" in card and "non-commercial" in card
    assert f'Inpainter.from_pretrained("{name}")' in card


def test_an_unknown_model_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ValueError, match=r"model: expected one of the shipped models \[.*'celebahq64-full'"):
        Inpainter.from_pretrained("celebahq64-ful")
    with pytest.raises(ValueError, match=r"a shipped embedder; name it as an embedder's weights: \"shipped:celebahq64"):
        Inpainter.from_pretrained("celebahq64-attribute")


def test_models_command_lists_names_resolution_data_and_licence(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    for name in [*SHIPPED, "celebahq64-attribute", "celebahq64-segmentation"]:
        assert name in out
    assert "64 px" in out and "CelebA-HQ images 1..24000" in out and "non-commercial" in out
    assert cli.main(["models", "--card", "celebahq64-none"]) == 0
    assert capsys.readouterr().out.startswith("# celebahq64-none")


def test_inpaint_command_takes_a_model_name(tmp_path: Path) -> None:
    Image.fromarray(face()).save(tmp_path / "in.png")
    Image.fromarray(soft_mask()).save(tmp_path / "mask.jpg")
    arguments = ["inpaint", "--model", "celebahq64-full", "--image", str(tmp_path / "in.png")]
    arguments += ["--mask", str(tmp_path / "mask.jpg"), "--out", str(tmp_path / "out.png"), "--device", "cpu"]
    assert cli.main([*arguments, "--mask-threshold", "0.5"]) == 0
    assert Image.open(tmp_path / "out.png").size == (64, 64)


def test_a_soft_mask_is_refused_with_a_pointer_to_mask_threshold(
    inpainter: Inpainter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match=r"values \[0, 255\] for dtype uint8.*mask_threshold.*--mask-threshold"):
        inpainter.inpaint(face(), soft_mask())
    Image.fromarray(face()).save(tmp_path / "in.png")
    Image.fromarray(soft_mask()).save(tmp_path / "mask.jpg")
    arguments = ["inpaint", "--model", "celebahq64-full", "--image", str(tmp_path / "in.png")]
    arguments += ["--mask", str(tmp_path / "mask.jpg"), "--out", str(tmp_path / "out.png"), "--device", "cpu"]
    assert cli.main(arguments) == 2
    assert "--mask-threshold" in capsys.readouterr().err


@pytest.mark.parametrize("threshold", [0.25, 0.5, 0.75])
def test_mask_threshold_makes_the_hole_where_the_mask_is_above_it_in_every_input_type(
    inpainter: Inpainter, threshold: float
) -> None:
    image, mask = face(), soft_mask()
    hole = mask > threshold * 255
    filled = inpainter.inpaint(image, mask, mask_threshold=threshold)
    assert np.array_equal(filled[~hole], image[~hole])  # known pixels bit-identical
    assert (filled[hole] != image[hole]).any()
    as_pil = inpainter.inpaint(Image.fromarray(image), Image.fromarray(mask), mask_threshold=threshold)
    assert np.array_equal(np.asarray(as_pil), filled)
    tensor = torch.from_numpy(image).permute(2, 0, 1).float() / 255
    soft = torch.from_numpy(mask).float()[None] / 255
    as_tensor = inpainter.inpaint(tensor, soft, value_range=(0, 1), mask_threshold=threshold)
    known = torch.from_numpy(~hole)[None].expand(3, -1, -1)
    assert torch.equal(as_tensor[known], tensor[known])
    with pytest.raises(ValueError, match=r"mask_threshold: expected a number in \[0, 1\) or None, received 1.5"):
        inpainter.inpaint(image, mask, mask_threshold=1.5)


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"semantic-inpaint {__version__}"


def test_every_cli_option_has_help_text() -> None:
    parser = cli.build_parser()
    (commands,) = [action for action in parser._actions if action.dest == "command"]
    for name, command in commands.choices.items():
        for action in command._actions:
            if action.dest != "help":
                assert action.help, f"semantic-inpaint {name} {action.option_strings}: no help text"


def test_set_overrides_dotted_keys_and_list_items(tmp_path: Path) -> None:
    config = tiny_run(tmp_path / "run").model_dump(mode="json")
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    overrides = ["training.steps=7", "training.amp=off", "model.conditions.1.weight=0", "training.betas=[0.0, 0.99]"]
    loaded = load_config(path, RunConfig, overrides)
    assert loaded.training.steps == 7 and loaded.training.amp == "off" and loaded.training.betas == (0.0, 0.99)
    assert loaded.model.conditions[1].weight == 0
    with pytest.raises(ValueError, match=r"training\.stepz"):
        load_config(path, RunConfig, ["training.stepz=7"])  # a misspelt key is named by the validation
    with pytest.raises(ValueError, match=r"--set: expected KEY=VALUE"):
        apply_overrides(config, ["training.steps"])
    with pytest.raises(ValueError, match=r"--set: model.conditions.5: expected an index below 2"):
        apply_overrides(config, ["model.conditions.5.weight=0"])


def test_train_command_applies_set(tmp_path: Path) -> None:
    config = tiny_run(tmp_path / "run", steps=50).model_dump(mode="json")
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    assert cli.main(["train", "--config", str(path), "--set", "training.steps=2", "--quiet"]) == 0
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["training"]["steps"] == 2


def test_reprs_say_what_the_model_is(inpainter: Inpainter) -> None:
    text = repr(inpainter)
    assert text.startswith("Inpainter(resolution=64, generator='dilated' (")
    assert "conditions=[attribute=0.1, segmentation=0.1]" in text and "device='cpu'" in text

    head = repr(inpainter.model).splitlines()[:2]
    assert head == [
        "BoostedGAN(",
        "  resolution=64, generator='dilated', discriminator='conv', "
        "conditions=[attribute=0.1, segmentation=0.1], beta=0.01, gan_loss='bce'",
    ]

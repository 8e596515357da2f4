"""Every user error ends in one line and exit code 2; hostile files run no code on any load path."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import torch
from PIL import Image

from semantic_inpaint import Inpainter, cli
from semantic_inpaint.io import load_checkpoint
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_run


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("run")
    Trainer(tiny_run(output, steps=1)).fit(progress=False)
    return output / "checkpoints" / "last.pt"


@pytest.fixture
def images(tmp_path: Path) -> tuple[Path, Path]:
    Image.new("RGB", (32, 32), (90, 120, 150)).save(tmp_path / "in.png")
    mask = Image.new("L", (32, 32), 0)
    mask.paste(255, (8, 8, 20, 20))
    mask.save(tmp_path / "mask.png")
    return tmp_path / "in.png", tmp_path / "mask.png"


def test_user_errors_end_in_one_line_and_exit_code_2(
    checkpoint: Path, images: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image, mask = images
    (tmp_path / "bad.yaml").write_text("training: {steps: [1, 2\n")
    (tmp_path / "invalid.yaml").write_text("training: {output_dir: x, steps: -3}\n")
    Image.new("L", (1, 1)).save(tmp_path / "tiny.png")
    cases = {
        "an unavailable device": ["inpaint", "--checkpoint", str(checkpoint), "--image", str(image),
                                  "--mask", str(mask), "--out", str(tmp_path / "o.png"), "--device", "cuda:7"],
        "a YAML syntax error": ["train", "--config", str(tmp_path / "bad.yaml")],
        "an out-of-range field": ["train", "--config", str(tmp_path / "invalid.yaml")],
        "a missing checkpoint": ["export", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "x")],
        "a mask of another size": ["inpaint", "--checkpoint", str(checkpoint), "--image", str(image),
                                   "--mask", str(tmp_path / "tiny.png"), "--out", str(tmp_path / "o.png")],
    }  # fmt: skip
    if torch.cuda.device_count() > 7:
        del cases["an unavailable device"]
    for case, argv in cases.items():
        assert cli.main(argv) == 2, case
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"semantic-inpaint {argv[0]}: error: "), (case, err)
        assert "Traceback" not in err and "errors.pydantic.dev" not in err, (case, err)


def test_the_traceback_flag_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("training: {steps: [1, 2\n")
    with pytest.raises(ValueError, match=r"config: cannot parse .*bad.yaml: while parsing a flow sequence"):
        cli.main(["--traceback", "train", "--config", str(tmp_path / "bad.yaml")])


def test_an_export_under_a_pt_name_loads_by_its_content(checkpoint: Path, tmp_path: Path, capsys) -> None:
    assert cli.main(["export", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "model.pt")]) == 0
    image = torch.zeros(1, 3, 32, 32)
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 8:16, 8:16] = 1
    assert Inpainter.from_checkpoint(tmp_path / "model.pt", device="cpu").inpaint(image, mask).shape == image.shape
    with pytest.raises(ValueError, match=r"is a safetensors file .* not a training checkpoint") as error:
        load_checkpoint(tmp_path / "model.pt")
    assert "weights_only" not in str(error.value)


class RunsCode:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_hostile_pickle_runs_no_code_on_any_load_path(
    checkpoint: Path, images: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "code-ran"
    payload = {**torch.load(checkpoint, weights_only=True), "note": RunsCode(marker)}
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    hostile = run / "checkpoints" / "last.pt"
    torch.save(payload, hostile)
    image, mask = images
    loaders = {
        "load_checkpoint": lambda: load_checkpoint(hostile),
        "Inpainter.from_checkpoint": lambda: Inpainter.from_checkpoint(hostile, device="cpu"),
        "Trainer resume": lambda: Trainer(tiny_run(run, steps=2), resume=True),
    }
    for name, load in loaders.items():
        with pytest.raises(ValueError, match=r"checkpoint: cannot load .*Unsupported global|blocked") as error:
            load()
        assert "weights_only" not in str(error.value), name
        assert not marker.exists(), f"{name} ran the pickled code"
    for argv in (
        ["inpaint", "--checkpoint", str(hostile), "--image", str(image), "--mask", str(mask), "--out", str(tmp_path / "o.png")],
        ["export", "--checkpoint", str(hostile), "--out", str(tmp_path / "x.safetensors")],
    ):  # fmt: skip
        assert cli.main(argv) == 2
        assert "weights_only" not in capsys.readouterr().err
        assert not marker.exists(), f"{argv[0]} ran the pickled code"


def test_bf16_on_a_cpu_without_bfloat16_units_warns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from semantic_inpaint.training import runtime

    monkeypatch.setattr(runtime, "cpu_has_bfloat16_units", lambda: False)
    with pytest.warns(UserWarning, match=r"amp: 'bf16' on this CPU, which has no bfloat16 units"):
        Trainer(tiny_run(tmp_path / "run", steps=1, amp="bf16")).close()
    monkeypatch.setattr(runtime, "cpu_has_bfloat16_units", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer(tiny_run(tmp_path / "other", steps=1, amp="bf16")).close()

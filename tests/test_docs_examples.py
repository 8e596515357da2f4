"""The getting-started guide's "train on your own folder" example runs as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import torchvision
import yaml

from semantic_inpaint import cli
from semantic_inpaint.data.synthetic import SyntheticFaces
from semantic_inpaint.inference import Inpainter
from tests.conftest import REPO_ROOT

GUIDE = REPO_ROOT / "docs" / "getting-started.md"


def section(title: str) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


def test_the_folder_training_example_runs_verbatim_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = section("Train on your own folder of images")
    (config_text,) = fenced(guide, "yaml")[:1]
    commands = [line.split("#")[0].strip() for line in fenced(guide, "bash")[0].splitlines() if line.strip()]
    project = tmp_path / "project"
    project.mkdir()
    (project / "run.yaml").write_text(config_text)
    photos = project / yaml.safe_load(config_text)["data"]["options"]["root"]
    faces = SyntheticFaces(resolution=80, length=20, seed=3)  # any size: the folder reader resizes and crops
    for index in range(len(faces)):
        (photos / f"person{index % 3}").mkdir(parents=True, exist_ok=True)
        torchvision.utils.save_image(
            faces[index]["image"].add(1).div(2), photos / f"person{index % 3}" / f"{index}.png"
        )

    first, resume = commands
    assert "--set training.steps=20" in first and "--resume" in resume
    monkeypatch.chdir(project)
    assert cli.main(shlex.split(first)[1:]) == 0
    # the resume runs from another directory: the config's relative paths are relative to it, not to the cwd
    monkeypatch.chdir(tmp_path)
    arguments = shlex.split(resume)[1:]
    arguments[arguments.index("--config") + 1] = str(project / "run.yaml")
    assert cli.main([*arguments, "--set", "training.steps=22"]) == 0  # cut short of the example's 20000

    last = project / "runs" / "my-photos" / "checkpoints" / "last.pt"
    inpainter = Inpainter.from_checkpoint(last, device="cpu")
    assert sorted(inpainter.model.conditions) == ["attribute", "segmentation"]
    saved = yaml.safe_load((project / "runs" / "my-photos" / "config.yaml").read_text())
    assert saved["training"]["output_dir"] == "."  # the run folder's own config is portable
    assert saved["model"]["conditions"][0]["embedder"]["options"]["weights"] == "shipped:celebahq64-attribute"
    assert saved["model"]["conditions"][0]["embedder"]["options"]["num_attributes"] == 18  # read from the weights

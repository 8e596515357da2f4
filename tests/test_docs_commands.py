"""Every command of README.md and the getting-started guide runs as written.

Each ``semantic-inpaint`` line of their ``bash`` blocks, and each ``python`` block, runs in
a fresh folder holding the files the docs assume a reader has: a face photo and masks, a
pretraining config, a run config and a trained checkpoint where the command names one. The
install, quickstart and test commands are the ones ``.ci/run`` runs; the folder-training
example has its own test (``test_docs_examples.py``).
"""

from __future__ import annotations

import re
import shlex
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image, ImageFilter

from semantic_inpaint import cli
from semantic_inpaint.training import Trainer
from tests.conftest import REPO_ROOT, tiny_run

DOCS = [REPO_ROOT / "README.md", REPO_ROOT / "docs" / "getting-started.md"]
RUN_BY_CI = ("pip install", "semantic-inpaint quickstart", "python -m pytest")
#: commands a test of their own runs (serve: a server that runs until stopped, in tests/test_serve.py)
HAS_ITS_OWN_TEST = (
    "--config run.yaml --set training.steps=20",
    "--config run.yaml --resume   #",
    "semantic-inpaint serve",
)


def blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(encoding="utf-8"), re.DOTALL)


def commands() -> list[tuple[str, str]]:
    """``(document, command)`` for every documented command line (continuations joined)."""
    found = []
    for path in DOCS:
        for block in blocks(path, "bash"):
            for line in block.replace("\\\n", " ").splitlines():
                elsewhere = line.startswith(RUN_BY_CI) or any(marker in line for marker in HAS_ITS_OWN_TEST)
                if line.strip() and not elsewhere:
                    found.append((path.name, line))
    return found


@pytest.fixture(scope="module")
def reader_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a reader of the docs has beside them."""
    folder = tmp_path_factory.mktemp("reader")
    with resources.as_file(resources.files("semantic_inpaint") / "assets" / "astronaut.png") as photo:
        face = Image.open(photo).convert("RGB").resize((96, 96))
    hole = Image.new("L", face.size, 0)
    hole.paste(255, (30, 30, 66, 60))
    for name in ("in.png", "photo.png"):
        face.save(folder / name)
    for name in ("mask.png", "hole.png"):
        hole.save(folder / name)
    for subfolder, picture in (("photos", face), ("masks", hole)):  # a folder of photos, one of masks
        (folder / subfolder).mkdir()
        picture.save(folder / subfolder / "portrait.png")
    hole.filter(ImageFilter.GaussianBlur(2)).save(folder / "soft.jpg", quality=80)  # soft-edged, as JPEG
    parts = np.full((96, 96), 255, np.uint8)  # a painted part map: lips in the hole, the rest unpainted
    parts[50:58, 36:60] = 7
    Image.fromarray(parts).save(folder / "parts.png")
    pretraining = {
        "embedder": {"name": "attribute", "options": {"num_attributes": 6, "width": 4}},
        "data": {"name": "synthetic_faces", "options": {"length": 16}},
        "resolution": 32, "steps": 2, "batch_size": 4, "device": "cpu", "output": "attribute.safetensors",
    }  # fmt: skip
    (folder / "attribute.yaml").write_text(yaml.safe_dump(pretraining))
    run = tiny_run(Path("runs/my-run"), steps=2).model_dump(mode="json")
    (folder / "run.yaml").write_text(yaml.safe_dump(run))
    for checkpoint_folder in ("runs/x", "runs/quickstart/gan"):
        Trainer(tiny_run(folder / checkpoint_folder, steps=1)).fit(progress=False)
    assert (
        cli.main(["export", "--model", "celebahq64-full", "--format", "onnx", "--out", str(folder / "inpainter.onnx")])
        == 0
    )
    return folder


@pytest.mark.parametrize(("document", "command"), commands(), ids=lambda value: value[:60])
def test_documented_command_runs_as_written(
    document: str, command: str, reader_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = tmp_path / "reader"
    shutil.copytree(reader_files, sandbox)
    monkeypatch.chdir(sandbox)
    arguments = shlex.split(command, comments=True)
    assert arguments[0] == "semantic-inpaint", f"{document}: {command}"
    assert cli.main(arguments[1:]) == 0, f"{document}: {command}"
    if "--out" in arguments:
        assert Path(arguments[arguments.index("--out") + 1]).stat().st_size > 0


@pytest.mark.parametrize("document", DOCS, ids=lambda path: path.name)
def test_documented_python_runs_as_written(
    document: Path, reader_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = tmp_path / "reader"
    shutil.copytree(reader_files, sandbox)
    monkeypatch.chdir(sandbox)
    for block in blocks(document, "python"):
        namespace: dict = {}
        exec(compile(block, f"{document.name} python block", "exec"), namespace)
        if "result" in namespace:
            result = np.asarray(namespace["result"])
            original = np.asarray(Image.open("in.png").convert("RGB"))
            known = np.asarray(Image.open("mask.png")) == 0
            assert result.shape == original.shape and np.array_equal(result[known], original[known])


def test_every_documented_command_is_run_somewhere() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    documented = [line for path in DOCS for block in blocks(path, "bash") for line in block.splitlines()]
    for line in documented:
        if line.startswith("pip install semantic-inpaint"):  # the published package; a checkout installs as CI does
            line = line.split("from a checkout:")[1]
        if line.startswith(RUN_BY_CI) or "pip install -e" in line:
            assert line.split("#")[0].strip() in ci, f"not run by .ci/run: {line}"
    assert len(commands()) >= 10

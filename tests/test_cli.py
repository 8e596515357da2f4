"""The train and pretrain commands on a user's own folder of images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from semantic_inpaint import cli
from tests.conftest import tiny_model


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    folder = tmp_path / "photos"
    for i, size in enumerate([(50, 40), (64, 64), (33, 80), (40, 40), (70, 45), (48, 48)]):
        (folder / f"group{i % 2}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"group{i % 2}" / f"{i}.png")
    return folder


def write_run_config(path: Path, folder: Path, output: Path, steps: int) -> Path:
    config = {
        "model": tiny_model(conditions=("attribute",)),
        "data": {"name": "folder", "options": {"root": str(folder)}},
        "training": {
            "output_dir": str(output),
            "steps": steps,
            "batch_size": 4,
            "device": "cpu",
            "log_every": 1,
            "sample_every": 2,
            "checkpoint_every": 2,
        },
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_train_command_trains_on_a_folder_and_resumes(photo_folder: Path, tmp_path: Path) -> None:
    output = tmp_path / "run"
    assert (
        cli.main(["train", "--config", str(write_run_config(tmp_path / "a.yaml", photo_folder, output, 2)), "--quiet"])
        == 0
    )
    assert (output / "checkpoints" / "last.pt").exists()
    longer = write_run_config(tmp_path / "b.yaml", photo_folder, output, 4)
    assert cli.main(["train", "--config", str(longer), "--resume", "--quiet"]) == 0
    records = [json.loads(line) for line in (output / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert all(r["device"].startswith("CPU, ") for r in records)  # what trained it, for the reports
    assert sorted(p.name for p in (output / "samples").iterdir()) == ["step_000002.png", "step_000004.png"]


def test_train_command_reports_config_errors_naming_the_field(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"training": {"output_dir": "x", "steps": 1, "batch_size": 1, "colour": 3}}))
    assert cli.main(["train", "--config", str(path)]) == 2
    error = capsys.readouterr().err
    assert "training.batch_size" in error and "greater than or equal to 2" in error
    assert "training.colour" in error and "Extra inputs are not permitted" in error


def test_pretrain_command_writes_weights_and_config(tmp_path: Path) -> None:
    config = {
        "embedder": {"name": "attribute", "options": {"num_attributes": 6, "width": 4}},
        "data": {"name": "synthetic_faces", "options": {"length": 16}},
        "resolution": 32,
        "output": str(tmp_path / "attribute.safetensors"),
        "steps": 3,
        "batch_size": 4,
        "device": "cpu",
    }
    (tmp_path / "pretrain.yaml").write_text(yaml.safe_dump(config))
    assert cli.main(["pretrain", "--config", str(tmp_path / "pretrain.yaml"), "--quiet"]) == 0
    assert (tmp_path / "attribute.safetensors").stat().st_size > 0
    assert (tmp_path / "attribute.yaml").exists()


def test_pretrain_refuses_a_dataset_without_the_embedders_labels(photo_folder: Path, tmp_path: Path, capsys) -> None:
    config = {
        "embedder": {"name": "segmentation", "options": {"num_classes": 3, "width": 4, "depth": 2}},
        "data": {"name": "folder", "options": {"root": str(photo_folder)}},
        "resolution": 32,
        "output": str(tmp_path / "w.safetensors"),
        "steps": 1,
    }
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(config))
    assert cli.main(["pretrain", "--config", str(tmp_path / "p.yaml")]) == 2
    assert "pretrains on 'parts', but dataset 'folder' items only hold ['image']" in capsys.readouterr().err

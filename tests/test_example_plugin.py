"""The example third-party plugin is found through its own entry point and trains as a third condition."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
import torch

from semantic_inpaint.config import RunConfig
from semantic_inpaint.registry import Registry
from semantic_inpaint.training import Trainer
from tests.conftest import REPO_ROOT, tiny_model

EXAMPLE = REPO_ROOT / "examples" / "custom_embedder_plugin"


@pytest.fixture
def installed_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Put the example's sources and its distribution metadata (made from its pyproject) on sys.path."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    dist_info = tmp_path / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    group = project["entry-points"]["semantic_inpaint"]
    (dist_info / "entry_points.txt").write_text(
        "[semantic_inpaint]\n" + "".join(f"{name} = {target}\n" for name, target in group.items())
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    yield f"{project['name']} {project['version']}"
    sys.modules.pop("semantic_inpaint_edges", None)


def test_example_plugin_is_listed_with_its_distribution(installed_example: str) -> None:
    component = Registry().get("embedder", "edges")
    assert component.source == installed_example == "semantic-inpaint-edges 0.1.0"


def test_example_plugin_trains_as_a_third_condition(installed_example: str, tmp_path: Path) -> None:
    model = tiny_model()
    model["conditions"].append({"embedder": {"name": "edges", "options": {"sharpness": 2.0}}, "weight": 0.1})
    config = RunConfig.model_validate(
        {
            "model": model,
            "data": {"name": "synthetic_faces", "options": {"length": 16}},
            "training": {"output_dir": tmp_path / "run", "steps": 3, "batch_size": 4, "device": "cpu", "log_every": 1},
        }
    )
    trainer = Trainer(config, registry=Registry())
    assert sorted(trainer.model.conditions) == ["attribute", "edges", "segmentation"]
    edges_discriminator = trainer.model.conditions["edges"].discriminator
    before = [p.detach().clone() for p in edges_discriminator.parameters()]
    record = trainer.fit(progress=False)
    assert record["step"] == 3 and torch.isfinite(torch.tensor(record["adv_edges"]))
    assert any(not torch.equal(a, b) for a, b in zip(before, edges_discriminator.parameters(), strict=True))

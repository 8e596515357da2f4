"""Optional training objectives: reconstruction-loss plugins and the R1 penalty. The paper's
terms stay the default, and a run with any of them trains and resumes exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from semantic_inpaint.config import RunConfig
from semantic_inpaint.hookspecs import hookimpl
from semantic_inpaint.io import load_checkpoint, save_checkpoint
from semantic_inpaint.losses import ReconstructionLoss
from semantic_inpaint.model import BoostedGAN
from semantic_inpaint.registry import Registry, get_registry
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_run


def run_with(output: Path, steps: int = 3, **model: object) -> RunConfig:
    config = tiny_run(output, steps=steps).model_dump()
    config["model"].update(model)
    return RunConfig.model_validate(config)


def records(output: Path) -> list[dict]:
    return [json.loads(line) for line in (output / "metrics.jsonl").read_text().splitlines()]


def test_the_paper_objective_is_the_default() -> None:
    model = BoostedGAN(tiny_run(Path("unused")).model)
    assert model.config.reconstruction.name == "l2" and model.config.r1_gamma == 0
    prediction, target = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    torch.testing.assert_close(
        model.reconstruction(prediction, target, torch.ones(2, 1, 8, 8)), ((prediction - target) ** 2).mean()
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), hole=st.floats(0, 10), valid=st.floats(0, 10))
def test_hole_weighted_l1_weighs_each_pixel_by_where_it_is(seed: int, hole: float, valid: float) -> None:
    generator = torch.Generator().manual_seed(seed)
    prediction, target = torch.rand(2, 3, 6, 6, generator=generator), torch.rand(2, 3, 6, 6, generator=generator)
    mask = (torch.rand(2, 1, 6, 6, generator=generator) < 0.4).float()
    loss = get_registry().build("reconstruction_loss", "hole_l1", {"hole_weight": hole, "valid_weight": valid})
    error = (prediction - target).abs()
    expected = (hole * (error * mask).sum() + valid * (error * (1 - mask)).sum()) / error.numel()
    torch.testing.assert_close(loss(prediction, target, mask), expected)


def test_r1_of_a_linear_discriminator_is_its_squared_weight_norm() -> None:
    real = torch.rand(3, 3, 4, 4).requires_grad_(True)
    weight = torch.randn(3, 4, 4)
    logits = torch.cat([(real * weight).sum(dim=(1, 2, 3)), torch.zeros(3)])  # [real | fake]
    penalty = Trainer._r1_penalty(real, logits, {}, [])
    torch.testing.assert_close(penalty, weight.pow(2).sum())


def test_training_with_hole_l1_and_r1_runs_logs_and_resumes_exactly(tmp_path: Path) -> None:
    options = {"reconstruction": {"name": "hole_l1", "options": {"hole_weight": 6.0}}, "r1_gamma": 1.0}
    Trainer(run_with(tmp_path / "straight", steps=4, **options)).fit(progress=False)
    Trainer(run_with(tmp_path / "resumed", steps=2, **options)).fit(progress=False)
    Trainer(run_with(tmp_path / "resumed", steps=4, **options), resume=True).fit(progress=False)
    straight, resumed = records(tmp_path / "straight"), records(tmp_path / "resumed")
    assert all(record["r1"] > 0 for record in straight)
    assert [r["loss_d"] for r in resumed] == pytest.approx([r["loss_d"] for r in straight], abs=1e-6)
    saved = load_checkpoint(tmp_path / "straight" / "checkpoints" / "last.pt")
    assert json.loads(saved["config"])["model"]["reconstruction"]["options"]["valid_weight"] == 1.0


def test_training_on_the_blended_fill_judges_what_the_inpainter_returns_and_resumes_exactly(tmp_path: Path) -> None:
    Trainer(run_with(tmp_path / "paper", steps=1)).fit(progress=False)
    Trainer(run_with(tmp_path / "straight", steps=3, blend_in_training=True)).fit(progress=False)
    Trainer(run_with(tmp_path / "resumed", steps=2, blend_in_training=True)).fit(progress=False)
    Trainer(run_with(tmp_path / "resumed", steps=3, blend_in_training=True), resume=True).fit(progress=False)
    paper, straight, resumed = (
        records(tmp_path / "paper"),
        records(tmp_path / "straight"),
        records(tmp_path / "resumed"),
    )
    # the same first weights, images and holes: blending takes the untrained fill's colour offset away
    assert straight[0]["reconstruction"] < paper[0]["reconstruction"]
    assert [r["loss_g"] for r in resumed] == pytest.approx([r["loss_g"] for r in straight], abs=1e-6)


def test_a_checkpoint_written_before_these_settings_existed_still_resumes(tmp_path: Path) -> None:
    Trainer(run_with(tmp_path / "old", steps=2)).fit(progress=False)
    path = tmp_path / "old" / "checkpoints" / "last.pt"
    payload = load_checkpoint(path)
    config = json.loads(payload["config"])
    del config["model"]["reconstruction"], config["model"]["r1_gamma"], config["model"]["blend_in_training"]
    for option in ("vector_conditioning", "map_conditioning", "norm"):  # generator options added later
        del config["model"]["generator"]["options"][option]
    save_checkpoint({**payload, "config": json.dumps(config)}, path)
    resumed = Trainer(run_with(tmp_path / "old", steps=3), resume=True)
    assert resumed.step == 2
    resumed.fit(progress=False)


class DoubledL2(ReconstructionLoss):
    def __call__(self, prediction, target, mask):
        return 2 * ((prediction - target) ** 2).mean()


class LossPlugin:
    @hookimpl
    def register_reconstruction_losses(self, register):
        register("doubled_l2", DoubledL2, description="twice the paper's L2")


def test_a_third_party_reconstruction_loss_is_one_plugin(tmp_path: Path) -> None:
    registry = Registry(load_entry_points=False)
    registry.register_plugin(LossPlugin(), name="loss-plugin")
    config = run_with(tmp_path / "run", steps=1, reconstruction={"name": "doubled_l2"}, conditions=[])
    trainer = Trainer(config, registry=registry)  # the built-ins only: no entry-point plugins
    assert isinstance(trainer.model.reconstruction, DoubledL2)
    trainer.fit(progress=False)


def test_a_checkpoint_with_paths_relative_to_its_working_folder_resumes_from_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkpoints written before paths were stored absolute hold them relative to the folder
    the run was started from; resumed from that folder, they name the same files."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(8):
        Image.fromarray(np.random.default_rng(index).integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(
            photos / f"{index}.png"
        )
    config = run_with(tmp_path / "run", steps=1).model_dump()
    config["data"] = {"name": "folder", "options": {"root": photos}}
    Trainer(RunConfig.model_validate(config)).fit(progress=False)
    path = tmp_path / "run" / "checkpoints" / "last.pt"
    payload = load_checkpoint(path)
    saved = json.loads(payload["config"])
    saved["data"]["options"]["root"] = "photos"  # as an older version wrote it, run from tmp_path
    save_checkpoint({**payload, "config": json.dumps(saved)}, path)
    monkeypatch.chdir(tmp_path)
    config["training"]["steps"] = 2
    resumed = Trainer(RunConfig.model_validate(config), resume=True)
    assert resumed.step == 1 and resumed.resumed_changes == ["training.steps: checkpoint has 1, config has 2"]
    resumed.close()

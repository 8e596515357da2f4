"""Defaults that fit the resolution, and a run folder that says every option it used."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from semantic_inpaint.config import RunConfig
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.model import BoostedGAN
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_run

CONDITIONS = [{"embedder": {"name": "attribute"}}, {"embedder": {"name": "segmentation"}}]


def default_run(output_dir: Path, resolution: int = 64, steps: int = 1) -> RunConfig:
    return RunConfig.model_validate(
        {
            "model": {"resolution": resolution, "conditions": CONDITIONS},
            "data": {"name": "synthetic_faces", "options": {"length": 8}},
            "training": {"output_dir": output_dir, "steps": steps, "batch_size": 4, "device": "cpu",
                         "recalibration_batches": 1},
        }
    )  # fmt: skip


@pytest.mark.parametrize(("resolution", "width"), [(64, 16), (128, 32), (256, 64)])
def test_default_widths_scale_with_the_resolution_up_to_the_papers_at_256(resolution: int, width: int) -> None:
    model = BoostedGAN(default_run(Path("unused"), resolution).model, load_embedder_weights=False)
    assert model.config.generator.options["width"] == width
    assert model.config.discriminator.options["width"] == width


def test_a_default_64px_run_with_both_conditions_writes_checkpoints_under_50_mb(tmp_path: Path) -> None:
    # 0.1 wrote 713 MB here: three discriminators of 17.5 M parameters each
    Trainer(default_run(tmp_path / "run")).fit(progress=False)
    assert (tmp_path / "run" / "checkpoints" / "last.pt").stat().st_size <= 50e6


def test_the_run_folder_config_spells_out_every_component_option(tmp_path: Path) -> None:
    config = default_run(tmp_path / "run")
    Trainer(config).fit(progress=False)
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["model"]
    assert saved["generator"]["options"] == {
        "width": 16, "bottleneck_stride": 16, "dilations": [2, 4, 8, 16], "norm": "batch",
        "vector_conditioning": "concat", "map_conditioning": "concat",
    }  # fmt: skip
    assert saved["discriminator"]["options"] == {"width": 16, "condition_stride": 64}
    assert saved["conditions"][1]["embedder"]["options"]["width"] == 16
    # what the folder says is what was built: the same model comes back from it, and resumes
    assert BoostedGAN(RunConfig.model_validate(yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())).model)
    Inpainter.from_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt", device="cpu")
    resumed = Trainer(
        config.model_copy(update={"training": config.training.model_copy(update={"steps": 2})}), resume=True
    )
    resumed.fit(progress=False)


def test_options_given_explicitly_are_kept(tmp_path: Path) -> None:
    trainer = Trainer(tiny_run(tmp_path / "run", steps=1))
    assert trainer.config.model.generator.options["width"] == 8
    assert trainer.config.model.generator.options["dilations"] == [2, 4]
    trainer.close()

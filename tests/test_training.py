"""Training: exact resume, atomic self-describing checkpoints, loss going down on real faces."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from semantic_inpaint.config import RunConfig, load_config
from semantic_inpaint.io import load_checkpoint, save_checkpoint
from semantic_inpaint.training import PretrainConfig, Trainer, pretrain_embedder
from tests.conftest import SHARED_CELEBAHQ, tiny_model, tiny_run


def parameters(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def interrupt_at_step(trainer: Trainer, step: int) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """``trainer.train_step``, stopped by a Ctrl-C when it is about to run step ``step`` (1-based)."""
    train_step = trainer.train_step

    def interrupted(image: torch.Tensor) -> dict[str, torch.Tensor]:
        if trainer.step + 1 == step:
            raise KeyboardInterrupt
        return train_step(image)

    return interrupted


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_resume_continues_identically(tmp_path: Path, schedule: str) -> None:
    straight = Trainer(tiny_run(tmp_path / "straight", steps=4, lr_schedule=schedule))
    straight.fit(progress=False)

    interrupted = Trainer(tiny_run(tmp_path / "resumed", steps=4, checkpoint_every=2, lr_schedule=schedule))
    interrupted.train_step = interrupt_at_step(interrupted, 3)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(progress=False)
    resumed = Trainer(tiny_run(tmp_path / "resumed", steps=4, lr_schedule=schedule), resume=True)
    assert resumed.step == 2
    resumed.fit(progress=False)

    expected, actual = parameters(straight), parameters(resumed)
    assert expected.keys() == actual.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=0, atol=1e-6, msg=name)
    straight_log = (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()
    resumed_log = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["loss_g"] for line in resumed_log] == pytest.approx(
        [json.loads(line)["loss_g"] for line in straight_log], abs=1e-6
    )
    clock = [json.loads(line)["elapsed_seconds"] for line in resumed_log]
    assert clock == sorted(clock), f"the training clock restarted on resume: {clock}"
    interrupted_seconds = load_checkpoint(tmp_path / "resumed" / "checkpoints" / "step_000002.pt")["elapsed_seconds"]
    assert clock[-1] > interrupted_seconds > 0


def test_run_writes_config_metrics_samples_and_checkpoints(tmp_path: Path) -> None:
    config = tiny_run(tmp_path / "run", steps=3, sample_every=3, checkpoint_every=1, keep_checkpoints=2)
    trainer = Trainer(config)
    trainer.fit(progress=False)
    run = tmp_path / "run"
    saved = load_config(run / "config.yaml")  # relative paths in it are relative to the run folder
    assert saved == trainer.config  # the config as run: every component option spelled out
    assert saved.model_copy(update={"model": config.model}) == config  # and otherwise the user's
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]
    assert {"loss_d", "loss_g", "reconstruction", "adv_attribute", "adv_segmentation"} <= records[0].keys()
    assert (run / "samples" / "step_000003.png").stat().st_size > 0
    assert sorted(p.name for p in (run / "checkpoints").glob("*.pt")) == ["last.pt", "step_000002.pt", "step_000003.pt"]
    assert not list((run / "checkpoints").glob(".*tmp")), "temporary files left behind"
    payload = load_checkpoint(run / "checkpoints" / "last.pt")  # weights_only=True inside
    assert payload["step"] == 3


def test_an_existing_run_is_never_overwritten(tmp_path: Path) -> None:
    Trainer(tiny_run(tmp_path / "run", steps=1)).fit(progress=False)
    with pytest.raises(FileExistsError, match=r"already holds a run.*resume"):
        Trainer(tiny_run(tmp_path / "run", steps=2))


def test_resuming_with_a_different_model_config_is_refused(tmp_path: Path) -> None:
    Trainer(tiny_run(tmp_path / "run", steps=1)).fit(progress=False)
    changed = tiny_run(tmp_path / "run", steps=2)
    changed.model.beta = 0.5
    with pytest.raises(ValueError, match=r"different model config: model\.beta: checkpoint has 0\.01, config has 0\.5"):
        Trainer(changed, resume=True)


def test_a_cosine_schedule_decays_both_learning_rates_step_by_step(tmp_path: Path) -> None:
    trainer = Trainer(tiny_run(tmp_path / "run", steps=4, lr_schedule="cosine"))
    used: list[tuple[float, float]] = []
    train_step = trainer.train_step

    def recording_step(image: torch.Tensor) -> dict[str, torch.Tensor]:
        used.append((trainer.optimizer_g.param_groups[0]["lr"], trainer.optimizer_d.param_groups[0]["lr"]))
        return train_step(image)

    trainer.train_step = recording_step
    trainer.fit(progress=False)
    factors = [1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 + math.cos(3 * math.pi / 4)) / 2]
    settings = trainer.settings
    assert used == pytest.approx([(settings.lr_generator * f, settings.lr_discriminator * f) for f in factors])


def test_resuming_a_scheduled_run_for_other_steps_is_refused(tmp_path: Path) -> None:
    Trainer(tiny_run(tmp_path / "run", steps=2, lr_schedule="cosine")).fit(progress=False)
    Trainer(tiny_run(tmp_path / "constant", steps=2)).fit(progress=False)
    with pytest.raises(ValueError, match=r"training\.steps.*schedule over training\.steps"):
        Trainer(tiny_run(tmp_path / "run", steps=4, lr_schedule="cosine"), resume=True)
    with pytest.raises(ValueError, match=r"training\.lr_schedule: checkpoint has 'constant'"):
        Trainer(tiny_run(tmp_path / "constant", steps=2, lr_schedule="cosine"), resume=True)
    longer = Trainer(tiny_run(tmp_path / "constant", steps=4), resume=True)  # a constant rate may run longer
    assert longer.step == 2
    longer.close()


def test_a_run_from_before_schedules_resumes_at_its_constant_rate_only(tmp_path: Path) -> None:
    """A checkpoint whose config has no ``lr_schedule`` (written before it existed) trained at a constant
    rate: validating its saved config fills in the default, which a cosine resume then differs from."""
    Trainer(tiny_run(tmp_path / "run", steps=2, checkpoint_every=2)).fit(progress=False)
    step_file = tmp_path / "run" / "checkpoints" / "step_000002.pt"
    payload = load_checkpoint(step_file)
    config = json.loads(payload["config"])
    del config["training"]["lr_schedule"]
    save_checkpoint({**payload, "config": json.dumps(config)}, step_file)
    with pytest.raises(ValueError, match=r"training\.lr_schedule: checkpoint has 'constant'"):
        Trainer(tiny_run(tmp_path / "run", steps=2, lr_schedule="cosine"), resume=True)
    resumed = Trainer(tiny_run(tmp_path / "run", steps=4), resume=True)
    assert resumed.step == 2
    resumed.close()


def test_checkpoint_files_that_are_corrupt_or_foreign_fail_clearly(tmp_path: Path) -> None:
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="checkpoint: cannot load"):
        load_checkpoint(tmp_path / "broken.pt")
    torch.save({"state_dict": {}}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="is not a semantic-inpaint checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(FileNotFoundError, match="checkpoint: no such file"):
        load_checkpoint(tmp_path / "missing.pt")


def test_checkpoints_refuse_pickled_code(tmp_path: Path) -> None:
    class Payload:
        def __reduce__(self):
            return (print, ("code ran",))

    torch.save({"format": "x", "evil": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="checkpoint: cannot load"):
        load_checkpoint(tmp_path / "evil.pt")


def test_pretraining_reduces_the_embedder_loss_and_saves_loadable_weights(tmp_path: Path) -> None:
    config = PretrainConfig.model_validate(
        {
            "embedder": {"name": "segmentation", "options": {"num_classes": 10, "width": 8, "depth": 2}},
            "data": {"name": "synthetic_faces", "options": {"length": 64}},
            "resolution": 32,
            "output": tmp_path / "segmentation.safetensors",
            "steps": 40,
            "batch_size": 8,
            "lr": 1e-2,
            "device": "cpu",
            "log_every": 10,
        }
    )
    pretrain_embedder(config, progress=False)
    losses = [json.loads(line)["loss"] for line in (tmp_path / "segmentation.metrics.jsonl").read_text().splitlines()]
    assert losses[-1] < 0.7 * losses[0]
    model = tiny_model(conditions=("segmentation",))
    model["conditions"][0]["embedder"]["options"] = {
        "num_classes": 10, "width": 8, "depth": 2, "weights": str(config.output)
    }  # fmt: skip
    from semantic_inpaint.config import ModelConfig
    from semantic_inpaint.model import BoostedGAN

    BoostedGAN(ModelConfig.model_validate(model))  # loads the weights
    model["conditions"][0]["embedder"]["options"]["width"] = 4
    with pytest.raises(ValueError, match=r"weights: .* was saved for options="):
        BoostedGAN(ModelConfig.model_validate(model))


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_CELEBAHQ / "64" / "images").is_dir(), reason="shared CelebA-HQ data not found")
def test_training_on_real_faces_reduces_reconstruction_loss(tmp_path: Path) -> None:
    config = RunConfig.model_validate(
        {
            "model": tiny_model(resolution=64),
            "data": {
                "name": "celebahq",
                "options": {"root": SHARED_CELEBAHQ / "64", "first": 1, "last": 2000, "parts": False},
            },
            "training": {
                "output_dir": tmp_path / "run",
                "steps": 60,
                "batch_size": 8,
                "lr_generator": 2e-3,
                "device": "cpu",
                "log_every": 10,
                "sample_every": 1000,
                "checkpoint_every": 1000,
            },
        }
    )
    Trainer(config).fit(progress=False)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    first, last = records[0]["reconstruction"], records[-1]["reconstruction"]
    assert last < 0.6 * first, f"reconstruction went from {first:.4f} to {last:.4f}"


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_step_on_cuda_with_bf16_autocast(tmp_path: Path) -> None:
    config = tiny_run(tmp_path / "run", steps=3, device="cuda", amp="bf16")
    record = Trainer(config).fit(progress=False)
    assert torch.isfinite(torch.tensor(record["loss_g"]))

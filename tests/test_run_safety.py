"""Nothing lost: pruning keeps the newest checkpoints, divergence never overwrites good ones,
crashes leave no debris, the fp16 loss scales survive a resume, a torn log line is tolerated."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import torch
from torch.utils.data import Dataset

from semantic_inpaint.io import load_checkpoint
from semantic_inpaint.training import Trainer
from semantic_inpaint.training.runtime import read_jsonl
from tests.conftest import tiny_run


def test_pruning_keeps_the_newest_checkpoints_by_step_number_past_a_million(tmp_path: Path) -> None:
    trainer = Trainer(tiny_run(tmp_path / "run", steps=1, keep_checkpoints=2))
    for step in (999_998, 999_999, 1_000_000):  # "step_1000000.pt" sorts before "step_999998.pt" by name
        trainer.step = step
        trainer.save()
    names = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("step_*.pt"))
    assert names == ["step_1000000.pt", "step_999999.pt"]
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["step"] == 1_000_000


class OnePoisonedPixel(Dataset):
    """Every image of ``inner`` with one NaN pixel."""

    def __init__(self, inner: Dataset) -> None:
        self.inner = inner

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = dict(self.inner[index])
        item["image"] = item["image"].clone()
        item["image"][0, 0, 0] = float("nan")
        return item


def test_a_batch_with_a_nan_pixel_stops_training_by_name_before_any_checkpoint(tmp_path: Path) -> None:
    trainer = Trainer(tiny_run(tmp_path / "run", steps=3, checkpoint_every=1))
    trainer.dataset = OnePoisonedPixel(trainer.dataset)
    with pytest.raises(ValueError, match=r"batch\['image'\]: expected finite values in \[-1, 1\], received 4 NaN"):
        trainer.fit(progress=False)
    assert not list((tmp_path / "run" / "checkpoints").glob("*.pt"))


def test_diverged_weights_are_never_written_over_good_checkpoints(tmp_path: Path) -> None:
    trainer = Trainer(tiny_run(tmp_path / "run", steps=2, checkpoint_every=1))
    trainer.fit(progress=False)
    good = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    with torch.no_grad():
        next(trainer.model.generator.parameters()).fill_(float("nan"))
    trainer.step += 1
    with pytest.raises(
        FloatingPointError, match=r"training diverged by step 3: non-finite values in \['generator(_training)?\."
    ):
        trainer.save()
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == good
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["step"] == 2


def test_interrupted_writes_are_cleaned_up_and_files_get_normal_permissions(tmp_path: Path) -> None:
    Trainer(tiny_run(tmp_path / "run", steps=1)).fit(progress=False)
    checkpoints = tmp_path / "run" / "checkpoints"
    debris = checkpoints / ".step_000002.pt.abc123.tmp"
    debris.write_bytes(b"half a checkpoint")
    Trainer(tiny_run(tmp_path / "run", steps=2), resume=True)
    assert not debris.exists()
    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE((checkpoints / "last.pt").stat().st_mode)
    assert mode == 0o666 & ~umask, oct(mode)


def test_the_fp16_loss_scales_are_saved_and_restored(tmp_path: Path) -> None:
    trainer = Trainer(tiny_run(tmp_path / "run", steps=1))
    trainer.scaler_g = torch.amp.GradScaler("cpu", init_scale=1024.0)
    trainer.scaler_g._lazy_init_scale_growth_tracker(torch.device("cpu"))
    trainer.scaler_g.update(512.0)
    trainer.save()
    trainer.close()
    resumed = Trainer(tiny_run(tmp_path / "run", steps=2), resume=True)
    resumed.scaler_g = torch.amp.GradScaler("cpu", init_scale=65536.0)
    resumed.load(tmp_path / "run" / "checkpoints" / "last.pt")
    assert resumed.scaler_g.get_scale() == 512.0


def test_a_torn_last_log_line_does_not_block_resume(tmp_path: Path) -> None:
    Trainer(tiny_run(tmp_path / "run", steps=2, checkpoint_every=2)).fit(progress=False)
    log = tmp_path / "run" / "metrics.jsonl"
    log.write_text(log.read_text() + '{"step": 3, "loss_g": 0.4')  # the crash cut this line off
    resumed = Trainer(tiny_run(tmp_path / "run", steps=3), resume=True)
    resumed.fit(progress=False)
    assert [record["step"] for record in read_jsonl(log)] == [1, 2, 3]
    log.write_text('{"step": 1}\n{broken\n{"step": 2}\n')
    with pytest.raises(ValueError, match=r"metrics.jsonl: line 2 is not valid JSON"):
        read_jsonl(log)


def test_two_runs_into_one_folder_are_refused_naming_the_holder(tmp_path: Path) -> None:
    first = Trainer(tiny_run(tmp_path / "run", steps=2))
    with pytest.raises(FileExistsError, match=rf"output_dir: .*run is in use by another run \(pid {os.getpid()} on "):
        Trainer(tiny_run(tmp_path / "run", steps=2))
    assert not (tmp_path / "run" / "metrics.jsonl").read_text(), "the refused run wrote nothing"
    first.fit(progress=False)  # the holder trains undisturbed and gives the folder back at the end
    Trainer(tiny_run(tmp_path / "run", steps=3), resume=True).fit(progress=False)


def test_a_second_process_is_refused_while_a_run_holds_the_folder(tmp_path: Path) -> None:
    import subprocess
    import sys

    import yaml

    config = tiny_run(tmp_path / "run", steps=2).model_dump(mode="json")
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    holder = Trainer(tiny_run(tmp_path / "run", steps=2))
    result = subprocess.run(
        [sys.executable, "-m", "semantic_inpaint.cli", "train", "--config", str(tmp_path / "run.yaml")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    holder.close()
    assert result.returncode == 2, result.stderr
    assert f"is in use by another run (pid {os.getpid()}" in result.stderr


def test_a_flipped_byte_in_a_checkpoint_is_caught_on_load(tmp_path: Path) -> None:
    Trainer(tiny_run(tmp_path / "run", steps=1)).fit(progress=False)
    path = tmp_path / "run" / "checkpoints" / "last.pt"
    load_checkpoint(path)  # intact: loads
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # the middle of the file: tensor data
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"checkpoint: (.*damaged.pt is damaged|cannot load .*damaged.pt)"):
        load_checkpoint(damaged)


def test_a_log_line_after_a_resume_averages_the_same_steps_as_without_the_interruption(tmp_path: Path) -> None:
    straight = Trainer(tiny_run(tmp_path / "straight", steps=6, log_every=3))
    straight.fit(progress=False)
    interrupted = Trainer(tiny_run(tmp_path / "resumed", steps=6, log_every=3, checkpoint_every=4))
    save = interrupted.save

    def save_then_crash() -> Path:
        save()
        raise KeyboardInterrupt  # killed right after the step-4 checkpoint, mid-way between log lines

    interrupted.save = save_then_crash  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(progress=False)
    Trainer(tiny_run(tmp_path / "resumed", steps=6, log_every=3, checkpoint_every=4), resume=True).fit(progress=False)
    expected = read_jsonl(tmp_path / "straight" / "metrics.jsonl")
    actual = read_jsonl(tmp_path / "resumed" / "metrics.jsonl")
    assert [r["step"] for r in actual] == [r["step"] for r in expected] == [3, 6]
    assert actual[-1]["loss_g"] == pytest.approx(expected[-1]["loss_g"], abs=1e-6)  # steps 4..6, not 5..6


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lr_generator": 0.01}, "training.lr_generator"),
        ({"betas": (0.9, 0.99)}, "training.betas"),
        ({"batch_size": 8}, "training.batch_size"),
        ({"seed": 3}, "training.seed"),
    ],
)
def test_a_resume_that_would_change_the_run_is_refused_by_field(tmp_path: Path, change: dict, field: str) -> None:
    Trainer(tiny_run(tmp_path / "run", steps=1)).fit(progress=False)
    original = (tmp_path / "run" / "config.yaml").read_text()
    with pytest.raises(ValueError, match=rf"belongs to a run with other settings.*{field}: checkpoint has"):
        Trainer(tiny_run(tmp_path / "run", steps=2, **change), resume=True)
    changed_data = tiny_run(tmp_path / "run", steps=2)
    changed_data.data.options["length"] = 65
    with pytest.raises(ValueError, match=r"data\.options\.length: checkpoint has 64, config has 65"):
        Trainer(changed_data, resume=True)
    assert (tmp_path / "run" / "config.yaml").read_text() == original


def test_a_resume_that_trains_longer_keeps_the_original_config_and_records_the_change(tmp_path: Path) -> None:
    Trainer(tiny_run(tmp_path / "run", steps=1)).fit(progress=False)
    original = (tmp_path / "run" / "config.yaml").read_text()
    Trainer(tiny_run(tmp_path / "run", steps=2, log_every=2), resume=True).fit(progress=False)
    assert (tmp_path / "run" / "config.yaml").read_text() == original
    recorded = (tmp_path / "run" / "config.resumed_at_step_000001.yaml").read_text()
    assert "steps: 2" in recorded and "log_every: 2" in recorded


def test_a_run_killed_with_sigkill_while_writing_checkpoints_resumes_bit_exactly(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    import yaml

    steps = 20  # the kill lands well before the end, even on a busy machine
    straight = Trainer(tiny_run(tmp_path / "straight", steps=steps, checkpoint_every=1))
    straight.fit(progress=False)
    config = tiny_run(tmp_path / "killed", steps=steps, checkpoint_every=1)  # a write every step
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    environment = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    process = subprocess.Popen(
        [sys.executable, "-m", "semantic_inpaint.cli", "train", "--config", str(tmp_path / "run.yaml"), "--quiet"],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    checkpoints = tmp_path / "killed" / "checkpoints"
    deadline = time.monotonic() + 240
    while not (checkpoints / "step_000003.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"

    resumed = Trainer(tiny_run(tmp_path / "killed", steps=steps, checkpoint_every=1), resume=True)
    assert 3 <= resumed.step < steps
    assert not list(checkpoints.glob(".*.tmp")), "the interrupted write was cleaned up"
    resumed.fit(progress=False)
    expected, actual = straight.model.state_dict(), resumed.model.state_dict()
    for name in expected:
        assert torch.equal(actual[name], expected[name]), name


def test_a_run_killed_before_last_pt_moved_on_resumes_from_its_newest_step_file(tmp_path: Path) -> None:
    # a kill between writing step_000003.pt and pointing last.pt at it: the newer file is complete
    straight = Trainer(tiny_run(tmp_path / "straight", steps=4, checkpoint_every=1))
    straight.fit(progress=False)
    Trainer(tiny_run(tmp_path / "killed", steps=3, checkpoint_every=1)).fit(progress=False)
    checkpoints = tmp_path / "killed" / "checkpoints"
    (checkpoints / "last.pt").unlink()
    os.link(checkpoints / "step_000002.pt", checkpoints / "last.pt")

    resumed = Trainer(tiny_run(tmp_path / "killed", steps=4, checkpoint_every=1), resume=True)
    assert resumed.step == 3
    resumed.fit(progress=False)
    expected, actual = straight.model.state_dict(), resumed.model.state_dict()
    for name in expected:
        assert torch.equal(actual[name], expected[name]), name

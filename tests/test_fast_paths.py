"""Every fast path gives the result of the plain path, within tolerance."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from semantic_inpaint.training import Trainer
from tests.conftest import CUDA, tiny_run


def first_steps(tmp_path: Path, name: str, steps: int = 2, **training) -> tuple[list[dict[str, float]], Trainer]:
    trainer = Trainer(tiny_run(tmp_path / name, steps=steps, **training))
    records = []
    loader = iter(torch.utils.data.DataLoader(trainer.dataset, batch_size=4))
    for step in range(steps):
        torch.manual_seed(step)
        image = next(loader)["image"].to(trainer.device)
        records.append({k: v.item() for k, v in trainer.train_step(image).items()})
    return records, trainer


def assert_close_records(actual, expected, rtol: float) -> None:
    for got, want in zip(actual, expected, strict=True):
        assert got.keys() == want.keys()
        for key in want:
            assert got[key] == pytest.approx(want[key], rel=rtol, abs=rtol), key


def test_channels_last_gives_the_contiguous_result(tmp_path: Path) -> None:
    # losses of later steps depend on the earlier updates, so they check the whole step
    contiguous, _ = first_steps(tmp_path, "contiguous", steps=3, channels_last=False)
    channels_last, _ = first_steps(tmp_path, "channels_last", steps=3, channels_last=True)
    assert_close_records(channels_last, contiguous, rtol=1e-4)


def test_bf16_autocast_stays_close_to_float32(tmp_path: Path) -> None:
    full, _ = first_steps(tmp_path, "fp32", steps=1, amp="off")
    bf16, _ = first_steps(tmp_path, "bf16", steps=1, amp="bf16")
    assert_close_records(bf16, full, rtol=5e-2)


def test_compiled_networks_give_the_eager_result(tmp_path: Path) -> None:
    eager, _ = first_steps(tmp_path, "eager", steps=2)
    compiled, trainer = first_steps(tmp_path, "compiled", steps=2, compile=True)
    assert_close_records(compiled, eager, rtol=1e-3)
    assert "generator._orig_mod" not in "".join(trainer.model.state_dict())  # checkpoints unaffected


def test_fp16_needs_cuda(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    trainer = Trainer(tiny_run(tmp_path / "fp16", steps=1, amp="fp16"))
    with pytest.raises(ValueError, match=r"amp: 'fp16' needs a CUDA device, received device cpu"):
        trainer.fit(progress=False)


@pytest.mark.cuda
@CUDA
def test_fp16_with_grad_scaler_stays_close_to_float32_on_cuda(tmp_path: Path) -> None:
    full, _ = first_steps(tmp_path, "fp32", steps=1, amp="off", device="cuda")
    half, trainer = first_steps(tmp_path, "fp16", steps=1, amp="fp16", device="cuda")
    assert trainer.scaler_g.is_enabled()
    assert_close_records(half, full, rtol=5e-2)


@pytest.mark.cuda
@CUDA
def test_training_step_never_synchronises_host_and_device(tmp_path: Path) -> None:
    trainer = Trainer(tiny_run(tmp_path / "sync", steps=1, device="cuda"))
    image = torch.stack([trainer.dataset[i]["image"] for i in range(4)]).cuda()
    trainer.train_step(image)  # warm-up: cuDNN autotuning and lazy initialisation may sync
    torch.cuda.synchronize()
    from semantic_inpaint.validation import value_checks

    torch.cuda.set_sync_debug_mode("error")
    try:
        with value_checks(False):
            trainer.train_step(image)
    finally:
        torch.cuda.set_sync_debug_mode("default")

"""The generator weight average: its schedule, its update, and what checkpoints and exports hold."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from semantic_inpaint.inference import Inpainter
from semantic_inpaint.io import load_checkpoint
from semantic_inpaint.training.trainer import Trainer
from semantic_inpaint.training.weight_average import WeightAverage, average_decay
from tests.conftest import tiny_run


@given(
    seen=st.integers(1, 10**7),
    later=st.integers(0, 10**7),
    batch=st.integers(1, 512),
    half_life=st.floats(0, 1e6),
    rampup=st.floats(0, 1),
)
def test_the_decay_is_a_weight_and_never_shrinks_as_training_goes_on(
    seen: int, later: int, batch: int, half_life: float, rampup: float
) -> None:
    decay = average_decay(seen, batch, half_life, rampup)
    assert 0.0 <= decay < 1.0 or (decay == 1.0 and half_life > 1e15)
    assert average_decay(seen + later, batch, half_life, rampup) >= decay
    if half_life == 0:
        assert decay == 0.0


def test_the_half_life_is_counted_in_images() -> None:
    # after half_life images, the weights of before count half
    decay = average_decay(10**9, 16, 1600, 0.0)
    assert decay**100 == pytest.approx(0.5)


@settings(max_examples=25, deadline=None)
@given(decay=st.floats(0, 1), seed=st.integers(0, 2**16))
def test_the_update_moves_the_average_toward_the_network_by_one_minus_the_decay(decay: float, seed: int) -> None:
    torch.manual_seed(seed)
    network = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    average = WeightAverage(network)
    before = [p.clone() for p in average.module.parameters()]
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(torch.randn_like(parameter))
    average.update(network, decay)
    for old, new, current in zip(before, average.module.parameters(), network.parameters(), strict=True):
        torch.testing.assert_close(new, decay * old + (1 - decay) * current.detach())
    assert not average.module.training and not any(p.requires_grad for p in average.module.parameters())


def test_a_network_of_another_shape_is_refused() -> None:
    average = WeightAverage(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="network: expected the 2 parameters"):
        average.update(nn.Linear(2, 2, bias=False), 0.5)


def _generator_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name.removeprefix("generator."): value for name, value in state.items() if name.startswith("generator.")}


def test_checkpoints_hold_the_average_for_users_and_the_trained_weights_for_resuming(tmp_path: Path) -> None:
    trainer = Trainer(tiny_run(tmp_path / "run", steps=3, average_half_life_images=40, average_rampup=0.0))
    trainer.fit(progress=False)
    payload = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    users = _generator_state(payload["model"])
    torch.testing.assert_close(users, trainer.average.module.state_dict())
    torch.testing.assert_close(payload["generator_training"], trainer.model.generator.state_dict())
    assert any(not torch.equal(users[name], payload["generator_training"][name]) for name in users)
    # the Inpainter runs what the checkpoint's "model" holds: the average
    inpainter = Inpainter.from_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt", device="cpu")
    torch.testing.assert_close(inpainter.model.generator.state_dict(), trainer.average.module.state_dict())
    # and a resume carries on with both
    resumed = Trainer(tiny_run(tmp_path / "run", steps=3, average_half_life_images=40, average_rampup=0.0), resume=True)
    torch.testing.assert_close(resumed.average.module.state_dict(), trainer.average.module.state_dict())
    torch.testing.assert_close(resumed.model.generator.state_dict(), trainer.model.generator.state_dict())
    resumed.close()


def test_without_an_average_checkpoints_hold_the_trained_generator(tmp_path: Path) -> None:
    trainer = Trainer(tiny_run(tmp_path / "run", steps=2, average_half_life_images=0))
    trainer.fit(progress=False)
    payload = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert trainer.average is None and "generator_training" not in payload
    torch.testing.assert_close(_generator_state(payload["model"]), trainer.model.generator.state_dict())

"""Robust pretraining: adversarial examples stay in their ball, and an embedder trained on them
resists the attack that moved the one it started from."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint.registry import get_registry
from semantic_inpaint.training import PretrainConfig, pretrain_embedder
from semantic_inpaint.training.adversarial import l2_adversarial_images


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 1000), epsilon=st.floats(0.05, 5.0), steps=st.integers(1, 5))
def test_an_adversarial_image_stays_in_its_ball_and_in_range_and_raises_the_loss(
    seed: int, epsilon: float, steps: int
) -> None:
    torch.manual_seed(seed)
    image = torch.rand(3, 3, 8, 8) * 2 - 1
    direction = torch.randn(3, 8, 8)

    def loss(images: torch.Tensor) -> torch.Tensor:
        return (images * direction).sum()

    moved = l2_adversarial_images(loss, image, epsilon, steps)
    distance = (moved - image).flatten(1).norm(dim=1)
    assert float(distance.max()) <= epsilon * (1 + 1e-5)
    assert float(moved.abs().max()) <= 1
    assert float(loss(moved)) > float(loss(image))
    assert not moved.requires_grad


@pytest.mark.parametrize(("epsilon", "steps"), [(0.0, 3), (1.0, 0)])
def test_an_attack_that_cannot_move_is_refused(epsilon: float, steps: int) -> None:
    with pytest.raises(ValueError, match="epsilon, steps: expected > 0 and >= 1"):
        l2_adversarial_images(lambda images: images.sum(), torch.zeros(1, 3, 4, 4), epsilon, steps)


def pretraining(tmp_path: Path, name: str, steps: int, **options: object) -> PretrainConfig:
    return PretrainConfig.model_validate(
        {
            "embedder": {"name": "attribute", "options": {"num_attributes": 6, "width": 8}},
            "data": {"name": "synthetic_faces", "options": {"length": 128}},
            "resolution": 32,
            "output": tmp_path / f"{name}.safetensors",
            "steps": steps,
            "batch_size": 16,
            "lr": 3e-3,
            "device": "cpu",
            "log_every": 10,
            **options,
        }
    )


def load(weights: Path) -> torch.nn.Module:
    options = {"num_attributes": 6, "width": 8, "weights": weights}
    return get_registry().build("embedder", "attribute", options).eval()


def attack_gain(weights: Path, epsilon: float) -> float:
    """How much the embedder's loss on 64 synthetic faces grows when each is moved by its own
    worst case within ``epsilon``."""
    embedder = load(weights)
    faces = get_registry().build("dataset", "synthetic_faces", {"length": 64, "seed": 1}, resolution=32)
    image = torch.stack([faces[i]["image"] for i in range(64)])
    target = torch.stack([faces[i]["attributes"] for i in range(64)])
    moved = l2_adversarial_images(lambda images: embedder.pretrain_loss(images, target), image, epsilon, 5)
    with torch.no_grad():
        return float(embedder.pretrain_loss(moved, target) - embedder.pretrain_loss(image, target))


def test_fine_tuning_starts_from_the_given_weights(tmp_path: Path) -> None:
    torch.manual_seed(0)
    start = pretraining(tmp_path, "start", 1)
    pretrain_embedder(start, progress=False)
    copy = pretraining(tmp_path, "copy", 1, initial_weights=start.output, lr=1e-12, recalibration_batches=0)
    pretrain_embedder(copy, progress=False)
    started, copied = dict(load(start.output).named_parameters()), dict(load(copy.output).named_parameters())
    assert all(torch.allclose(started[name], copied[name], atol=1e-9) for name in started)


def test_robust_fine_tuning_cuts_what_the_attack_gains(tmp_path: Path) -> None:
    torch.manual_seed(0)
    clean = pretraining(tmp_path, "clean", 40)
    pretrain_embedder(clean, progress=False)
    robust = pretraining(
        tmp_path, "robust", 20, initial_weights=clean.output, adversarial={"epsilon": 1.0, "steps": 3}, lr=1e-3
    )
    pretrain_embedder(robust, progress=False)
    assert attack_gain(robust.output, 1.0) < 0.75 * attack_gain(clean.output, 1.0)  # 0.62 measured

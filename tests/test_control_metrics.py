"""Measured control: the flip rate of an obeying model is 1, a deaf model's is its base rate."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import torch

from semantic_inpaint.control_metrics import attribute_control

NAMES = ["Male", "Smiling", "Eyeglasses"]


def judge(images: torch.Tensor) -> torch.Tensor:
    """Reads every attribute as 'the red channel is bright on average'."""
    return (images[:, 0].mean(dim=(1, 2)) > 0).float()[:, None].expand(-1, len(NAMES))


def fake_model(obeys: bool) -> SimpleNamespace:
    def inpaint(image, mask, overrides=None):
        out = image.clone()
        if obeys and overrides:
            (value,) = overrides["attribute"].values()
            out[:, 0] = 1.0 if value else -1.0
        return out

    embedder = SimpleNamespace(names=NAMES)
    return SimpleNamespace(conditions={"attribute": SimpleNamespace(embedder=embedder)}, inpaint=inpaint)


def faces() -> list[tuple[torch.Tensor, torch.Tensor]]:
    image = torch.full((4, 3, 8, 8), -0.5)
    image[:1, 0] = 0.5  # one face of four reads 'yes'
    return [(image, torch.ones(4, 1, 8, 8))]


def test_a_model_that_obeys_flips_every_face() -> None:
    scores = attribute_control(fake_model(True), faces(), ["Smiling"], judge)["Smiling"]
    assert scores == {"flip_rate": 1.0, "without_request": 0.0, "preserved": 0.0, "images": 4}


def test_a_deaf_model_flips_no_more_often_than_without_a_request() -> None:
    scores = attribute_control(fake_model(False), faces(), NAMES, judge)
    assert all(s["flip_rate"] == s["without_request"] == 0.0 and s["preserved"] == 1.0 for s in scores.values())


def test_the_guide_quotes_the_saved_control_measurement() -> None:
    root = Path(__file__).resolve().parents[1]
    saved = json.loads((root / "examples/reproduce/results/small64/control.json").read_text())
    scores = saved["models"]["full"]["attributes"]
    guide = " ".join((root / "docs/getting-started.md").read_text().split())
    for key in ("flip_rate", "without_request"):
        quoted = " / ".join(f"{scores[name][key]:.3f}" for name in NAMES)
        assert quoted in guide, f"getting-started.md should quote {key} {quoted} from control.json"
    assert f"{saved['images']} held-out" in guide

"""reader_probe.py paints a hole for one embedder and reports how every embedder reads it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from semantic_inpaint.masks import CenteredSquare
from semantic_inpaint.registry import get_registry
from tests.conftest import load_reproduction_script


def named_embedder(seed: int) -> torch.nn.Module:
    """A tiny attribute embedder whose BatchNorm statistics fit its inputs, so it responds to them."""
    torch.manual_seed(seed)
    options = {"num_attributes": 2, "width": 4, "attribute_names": ["Male", "Smiling"]}
    embedder = get_registry().build("embedder", "attribute", options)
    with torch.no_grad():
        for module in embedder.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.momentum = None
        embedder.train()(torch.rand(16, 3, 32, 32) * 2 - 1)
    return embedder.eval().requires_grad_(False)


def test_painting_moves_the_readers_logit_the_asked_way_and_keeps_the_known_pixels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    probe = load_reproduction_script("reader_probe.py", monkeypatch)
    reader = named_embedder(0)
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    hole = CenteredSquare(32, fraction=0.5)(4)
    asked = torch.tensor([True, False, True, False])
    painted = probe.painted_holes(reader, images, hole, 1, asked, steps=20, lr=0.05)
    assert torch.equal(painted * (1 - hole), images * (1 - hole))
    assert float(painted.abs().max()) <= 1
    with torch.no_grad():
        moved = reader.logits(painted)[:, 1] - reader.logits(images)[:, 1]
    assert (moved[asked] > 0).all() and (moved[~asked] < 0).all(), moved


@pytest.mark.parametrize("views", [0, 2])
def test_the_probe_reports_every_reader_on_every_painting_and_draws_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, views: int
) -> None:
    probe = load_reproduction_script("reader_probe.py", monkeypatch)
    for name, seed in (("a", 0), ("b", 1)):
        named_embedder(seed).save_pretrained(tmp_path / f"{name}.safetensors")
    images = torch.rand(5, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 2 - 1
    monkeypatch.setattr(probe, "faces", lambda first, last, resolution: images[: last - first + 1])
    out = tmp_path / "probe.png"
    readers = [f"{name}={tmp_path / name}.safetensors" for name in ("a", "b")]
    arguments = ["--readers", *readers, "--out", str(out), "--attributes", "Male", "Smiling"]
    arguments += ["--count", "5", "--shown", "3", "--steps", "5", "--resolution", "32", "--views", str(views)]
    monkeypatch.setattr(sys, "argv", ["reader_probe.py", *arguments])
    probe.main()
    painters = ["a", "b"] + (["a through views", "b through views"] if views else [])
    sheet = np.asarray(Image.open(out))
    assert sheet.shape == (2 * 32 * (1 + 2 * len(painters)), 2 * 32 * 3, 3)  # originals, then attribute x painter
    report = json.loads(out.with_suffix(".json").read_text())["results"]
    assert sorted(report) == sorted(f"{a}, painted for {p}" for a in ("Male", "Smiling") for p in painters)
    assert all(sorted(entry["read as asked"]) == ["a", "b"] for entry in report.values())
    assert all(0 <= share <= 1 for entry in report.values() for share in entry["read as asked"].values())
    assert all(entry["pull"] > 0 for entry in report.values())
    assert json.loads(out.with_suffix(".json").read_text())["readers"] == {"a": readers[0][2:], "b": readers[1][2:]}


def test_one_reader_is_refused_with_the_expected_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = load_reproduction_script("reader_probe.py", monkeypatch)
    monkeypatch.setattr(
        sys, "argv", ["reader_probe.py", "--readers", "a.safetensors", "--out", str(tmp_path / "p.png")]
    )
    with pytest.raises(SystemExit) as stopped:
        probe.main()
    assert stopped.value.code == 2


def test_the_pull_is_the_hole_norm_of_each_faces_loss_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = load_reproduction_script("reader_probe.py", monkeypatch)
    weight = torch.randn(3, 8, 8, generator=torch.Generator().manual_seed(3))

    class LinearReader:  # logit 0 is the pixels' weighted sum: its gradient is known in closed form
        def logits(self, images: torch.Tensor) -> torch.Tensor:
            return (images * weight).flatten(1).sum(dim=1, keepdim=True)

    images = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(4)) * 2 - 1
    hole = CenteredSquare(8, fraction=0.5)(4)
    asked = torch.tensor([True, False, True, True])
    error = torch.sigmoid(LinearReader().logits(images)[:, 0]) - asked.float()  # d loss / d logit, per face
    expected = (error.abs() * (weight * hole[0]).norm()).mean().item()
    assert probe.hole_pull(LinearReader(), images, hole, 0, asked) == pytest.approx(expected, rel=1e-5)
    assert probe.hole_pull(LinearReader(), images, torch.zeros_like(hole), 0, asked) == 0

"""Shared fixtures: devices, tiny model configs and the shared real-data folder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from semantic_inpaint.config import RunConfig

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_CELEBAHQ = REPO_ROOT.parent / "shared" / "data" / "celebahq"
REPRODUCE = REPO_ROOT / "examples" / "reproduce"

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=[pytest.mark.cuda, CUDA])])
def device(request: pytest.FixtureRequest) -> torch.device:
    return torch.device(request.param)


def tiny_model(resolution: int = 32, conditions: tuple[str, ...] = ("attribute", "segmentation")) -> dict[str, Any]:
    """A model config small enough for a CPU test (untrained embedders)."""
    embedders = {
        "attribute": {"name": "attribute", "options": {"num_attributes": 6, "width": 4}},
        "segmentation": {"name": "segmentation", "options": {"num_classes": 10, "width": 4, "depth": 2}},
    }
    return {
        "resolution": resolution,
        "generator": {"name": "dilated", "options": {"width": 8, "dilations": [2, 4]}},
        "discriminator": {"name": "conv", "options": {"width": 8, "condition_stride": 16}},
        "conditions": [{"embedder": embedders[name], "weight": 0.1} for name in conditions],
    }


def tiny_run(output_dir: Path, steps: int = 4, **training: Any) -> RunConfig:
    return RunConfig.model_validate(
        {
            "model": tiny_model(),
            "data": {"name": "synthetic_faces", "options": {"length": 64}},
            "training": {
                "output_dir": output_dir,
                "steps": steps,
                "batch_size": 4,
                "device": "cpu",
                "log_every": 1,
                "sample_every": 1000,
                "checkpoint_every": 1000,
                "sample_count": 4,
                **training,
            },
        }
    )


@st.composite
def rectangle_holes(draw: st.DrawFn, sides: tuple[int, int], rectangles: int, largest: int) -> np.ndarray:
    """An ``(H, W)`` bool hole of 1..``rectangles`` rectangles of sides up to ``largest``, with H and W in ``sides``."""
    height, width = draw(st.integers(*sides)), draw(st.integers(*sides))
    hole = np.zeros((height, width), bool)
    for _ in range(draw(st.integers(1, rectangles))):
        top, left = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
        hole[top : top + draw(st.integers(1, largest)), left : left + draw(st.integers(1, largest))] = True
    return hole


def assert_windows_cover_the_hole_once(hole: np.ndarray, windows: list) -> None:
    """Every window lies inside the image and holds its region, and every hole pixel is
    written by exactly one window (``HoleWindow.owned``)."""
    height, width = hole.shape
    owners = np.zeros(hole.shape, int)
    for window in windows:
        top, bottom, left, right = window.region
        assert 0 <= window.top <= top and bottom <= window.top + window.height <= height
        assert 0 <= window.left <= left and right <= window.left + window.width <= width
        owners[top:bottom, left:right] += window.owned(hole)
    assert np.array_equal(owners, hole.astype(int))


def load_reproduction_script(script: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``examples/reproduce/<script>`` as a module, its sibling helpers importable as when it runs."""
    if str(REPRODUCE) not in sys.path:
        monkeypatch.syspath_prepend(str(REPRODUCE))
    spec = importlib.util.spec_from_file_location(Path(script).stem, REPRODUCE / script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""The benchmark's plain-PyTorch twin is the same computation as the library (same FLOPs)."""

from __future__ import annotations

import sys

import pytest
import torch

from tests.conftest import REPO_ROOT


@pytest.mark.parametrize("conditions", [True, False], ids=["full", "none"])
def test_twin_counts_the_same_flops_as_the_library(conditions: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT / "benchmarks"))
    from train_step import measure

    run = measure(64, 8, conditions, 4, torch.device("cpu"), repeats=1)
    assert run["flops_match"] < 0.01, run
    for side in ("library", "twin"):
        assert run[side]["train_images_per_second"] > 0 and run[side]["train_flops_per_image"] > 0
    sys.modules.pop("train_step", None)
    sys.modules.pop("twin", None)

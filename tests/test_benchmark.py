"""The benchmark's plain-PyTorch twin is the same computation as the library (same FLOPs)."""

from __future__ import annotations

import sys

import pytest
import torch

from tests.conftest import REPO_ROOT


def test_twin_counts_the_same_flops_as_the_library_for_every_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT / "benchmarks"))
    from train_step import measure

    runs = measure(64, 8, 4, torch.device("cpu"), rounds=2)
    assert set(runs) == {"full", "full_shared", "none"}
    for run in runs.values():
        assert run["flops_match"] < 0.01, run
        for side in ("library", "twin"):
            assert run[side]["train_images_per_second"] > 0 and run[side]["train_flops_per_image"] > 0
        low, high = run["library_over_twin_quartiles"]
        assert low <= run["library_over_twin_throughput"] <= high
    assert runs["none"]["speed_over_none"] == 1.0
    # the shared trunk does less discriminator work than three separate networks
    assert runs["full_shared"]["library"]["train_flops_per_image"] < runs["full"]["library"]["train_flops_per_image"]
    sys.modules.pop("train_step", None)
    sys.modules.pop("twin", None)

"""Two processes under torchrun (gloo, CPU) give the single-process result on the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from semantic_inpaint import cli
from semantic_inpaint.io import load_checkpoint
from tests.conftest import tiny_model


def write_config(path: Path, output: Path, discriminator: str) -> Path:
    model = tiny_model()
    model["discriminator"]["name"] = discriminator
    model["generator"]["options"]["norm"] = "none"  # BatchNorm statistics are per process on CPU
    config = {
        "model": model,
        "data": {"name": "synthetic_faces", "options": {"length": 32}},
        "training": {
            "output_dir": str(output),
            "steps": 3,
            "batch_size": 4,
            "device": "cpu",
            "augment": {"hflip": False},
            "log_every": 1,
            "checkpoint_every": 3,
            "sample_every": 3,
        },
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("discriminator", ["conv", "shared_trunk"])  # a shared trunk: one DDP module, every head
def test_two_gloo_processes_match_one_process(discriminator: str, tmp_path: Path) -> None:
    one = write_config(tmp_path / "one.yaml", tmp_path / "one", discriminator)
    assert cli.main(["train", "--config", str(one), "--quiet"]) == 0
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "semantic_inpaint.cli", "train", "--config",
        str(write_config(tmp_path / "two.yaml", tmp_path / "two", discriminator)),
        "--quiet",
    ]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]

    single = load_checkpoint(tmp_path / "one" / "checkpoints" / "last.pt")["model"]
    double = load_checkpoint(tmp_path / "two" / "checkpoints" / "last.pt")["model"]
    assert single.keys() == double.keys()
    for name in single:
        torch.testing.assert_close(double[name], single[name], rtol=1e-4, atol=1e-5, msg=name)
    losses = [json.loads(line)["loss_g"] for line in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    distributed = [json.loads(line)["loss_g"] for line in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    assert distributed == pytest.approx(losses, rel=1e-5)
    assert not list((tmp_path / "two").glob("samples/*.tmp"))

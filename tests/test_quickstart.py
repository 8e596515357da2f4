"""The README's main command: a rerun after an interruption redoes nothing that was finished."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from semantic_inpaint import quickstart
from semantic_inpaint.io import load_checkpoint


def test_a_rerun_reuses_finished_stages_and_redoes_an_interrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "quickstart"
    quickstart.run_quickstart(output, steps=2, device="cpu")
    assert (output / "quickstart.png").is_file()
    assert set(json.loads((output / "timings.json").read_text())) == {
        "pretrain_attribute",
        "pretrain_segmentation",
        "train_gan",
        "inpaint",
    }
    assert load_checkpoint(output / "gan" / "checkpoints" / "last.pt")["step"] == 8

    # an interrupted re-pretraining leaves its config newer than the weights: that one is redone
    segmentation_config = output / "segmentation.yaml"
    later = (output / "segmentation.safetensors").stat().st_mtime_ns + 10**9
    os.utime(segmentation_config, ns=(later, later))
    pretrained = []
    real = quickstart.pretrain_embedder
    monkeypatch.setattr(
        quickstart, "pretrain_embedder", lambda config: pretrained.append(config.embedder.name) or real(config)
    )
    quickstart.run_quickstart(output, steps=2, device="cpu")
    assert pretrained == ["segmentation"]

    # a finished run is reused whole: nothing is pretrained, the GAN does not train a step more
    pretrained.clear()
    quickstart.run_quickstart(output, steps=2, device="cpu")
    assert pretrained == []
    assert load_checkpoint(output / "gan" / "checkpoints" / "last.pt")["step"] == 8

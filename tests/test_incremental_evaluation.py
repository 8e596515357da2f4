"""04_evaluate.py scores only what is new and takes the rest from its per-image files, with the
same numbers as scoring everything at once, and leaves out files scored under other settings."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from semantic_inpaint.training import Trainer
from tests.conftest import load_reproduction_script, tiny_run


def run_evaluation(monkeypatch: pytest.MonkeyPatch, config: Path, *arguments: str) -> dict:
    module = load_reproduction_script("04_evaluate.py", monkeypatch)
    report = config.parent / "results.md"
    monkeypatch.setattr(sys, "argv", ["04_evaluate.py", "--config", str(config), "--report", str(report), *arguments])
    module.main()
    assert report.exists()
    return json.loads((config.parent / "results" / "tiny" / "inpainting.json").read_text())


def run_script(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], script: str, *arguments: str
) -> str:
    """Run a reproduction script's ``main`` in this process; returns what it printed."""
    module = load_reproduction_script(script, monkeypatch)
    monkeypatch.setattr(sys, "argv", [script, *arguments])
    capsys.readouterr()
    module.main()
    return capsys.readouterr().out


def test_a_model_scored_once_stays_in_the_tables_after_its_run_folder_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "gan"
    Trainer(tiny_run(runs / "early", steps=1)).fit()
    Trainer(tiny_run(runs / "later", steps=1)).fit()
    Trainer(tiny_run(runs / "later", steps=2), resume=True).fit()  # its config.yaml still plans 1 step
    config = tmp_path / "evaluate.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data": {"name": "synthetic_faces", "options": {"length": 8}},
                "resolution": 32,
                "masks": {"center": {"name": "center_square", "options": {"fraction": 0.5}}},
                "gan_runs": str(runs),
                "classical": ["telea"],
                "reference": "early",
                "resamples": 100,
                "batch_size": 4,
                "results": str(tmp_path / "results" / "tiny"),
            }
        )
    )
    everything = run_evaluation(monkeypatch, config)
    assert sorted(everything["masks"]["center"]["scores"]) == ["early", "later", "masked", "telea"]
    assert everything["train_steps"] == {"early": 1, "later": 2}

    shutil.rmtree(runs / "later")  # another machine: only the early run folder is here
    capsys.readouterr()
    again = run_evaluation(monkeypatch, config)
    assert "scoring nothing new" in capsys.readouterr().out
    assert again["masks"] == everything["masks"]  # same means, intervals and paired differences
    assert again["train_steps"] == everything["train_steps"]
    assert again["condition_weights"] == everything["condition_weights"]

    capsys.readouterr()
    later_minus_early = everything["masks"]["center"]["differences"]["later"]["psnr"]
    results = str(tmp_path / "results" / "tiny")
    table = run_script(
        monkeypatch, capsys, "paired_differences.py", "--results", results, "--reference", "later", "--resamples", "100"
    )
    early_row = next(line for line in table.splitlines() if line.startswith("| early |"))
    psnr_cell = early_row.split(" | ")[1]  # the other way round: early minus later
    low, high = later_minus_early["ci95"]
    assert psnr_cell == f"{-later_minus_early['mean']:+.2f} [{-high:+.2f}, {-low:+.2f}]"

    capsys.readouterr()
    reseeded = run_evaluation(monkeypatch, config, "--set", "seed=1")  # other masks: the saved scores don't apply
    output = capsys.readouterr().out
    assert "scored under other settings, left out" in output
    assert sorted(reseeded["masks"]["center"]["scores"]) == ["early", "masked", "telea"]
    assert reseeded["masks"]["center"]["scores"]["early"] != everything["masks"]["center"]["scores"]["early"]


def test_a_control_measurement_keeps_the_models_measured_earlier_on_the_same_faces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_reproduction_script("07_measure_control.py", monkeypatch)
    setup = {
        "config": "eval.yaml",
        "overrides": [],
        "data": {"name": "celebahq"},
        "images": 300,
        "reader": None,
        "judges": True,
        "young_below": 40.0,
        "strength": 1.0,
    }
    attributes = {"Male": {"flip_rate": 0.4}, "Smiling": {"flip_rate": 0.5}}
    earlier = {
        "with_parts": {"attributes": attributes, "parts": {}},
        "no_parts": {"attributes": attributes},
        "other_requests": {"attributes": {"Male": {"flip_rate": 0.4}}, "parts": {}},
    }
    saved = tmp_path / "control.json"
    assert module.earlier_models(saved, setup, ["Male", "Smiling"], parts=True) == {}  # nothing measured yet
    saved.write_text(json.dumps({**setup, "models": earlier}))
    assert list(module.earlier_models(saved, setup, ["Male", "Smiling"], parts=True)) == ["with_parts"]
    assert list(module.earlier_models(saved, setup, ["Male", "Smiling"], parts=False)) == ["no_parts"]
    assert module.earlier_models(saved, {**setup, "images": 100}, ["Male", "Smiling"], parts=True) == {}
    other_faces = {**setup, "overrides": ["data.options.first=25001"]}
    assert module.earlier_models(saved, other_faces, ["Male", "Smiling"], parts=True) == {}
    no_judge = {**setup, "judges": False, "young_below": None}  # no independent reader's columns
    assert module.earlier_models(saved, no_judge, ["Male", "Smiling"], parts=True) == {}
    robust_reader = {**setup, "reader": "attribute_robust.safetensors"}  # flip rates read by another embedder
    assert module.earlier_models(saved, robust_reader, ["Male", "Smiling"], parts=True) == {}
    pushed = {**setup, "strength": 2.0}  # requests pushed twice as far
    assert module.earlier_models(saved, pushed, ["Male", "Smiling"], parts=True) == {}
    before_strength = {key: value for key, value in setup.items() if key != "strength"}
    saved.write_text(json.dumps({**before_strength, "models": earlier}))  # written before strength existed: at 1
    assert list(module.earlier_models(saved, setup, ["Male", "Smiling"], parts=True)) == ["with_parts"]
    assert module.earlier_models(saved, pushed, ["Male", "Smiling"], parts=True) == {}

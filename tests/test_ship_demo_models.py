"""What a run's metrics log says it trained on: the device line of model cards and results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import load_reproduction_script


def write_log(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_a_resumed_run_names_every_device_it_trained_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    common = load_reproduction_script("common.py", monkeypatch)
    rows = [
        {"step": 50, "elapsed_seconds": 10.0, "device": "CPU, 2 threads"},
        {"step": 100, "elapsed_seconds": 20.0, "device": "CPU, 2 threads"},
        {"step": 150, "elapsed_seconds": 35.0, "device": "CPU, 1 threads"},
        {"step": 200, "elapsed_seconds": 45.0, "device": "CPU, 2 threads"},
    ]
    last = common.last_record(write_log(tmp_path / "metrics.jsonl", rows))
    assert last["device"] == "CPU, 2 threads then CPU, 1 threads then CPU, 2 threads"
    assert last["step"] == 200 and last["elapsed_seconds"] == 45.0  # the rest is the last line's


def test_a_run_without_device_rows_names_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    common = load_reproduction_script("common.py", monkeypatch)
    last = common.last_record(write_log(tmp_path / "metrics.jsonl", [{"step": 50}, {"step": 100, "device": None}]))
    assert last["device"] is None
    assert common.last_record(tmp_path / "missing.jsonl") == {}

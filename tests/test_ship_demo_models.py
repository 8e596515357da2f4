"""What a shipped model's card says it was trained on."""

from __future__ import annotations

import pytest

from tests.conftest import load_reproduction_script


def test_a_resumed_run_names_every_device_it_trained_on(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_reproduction_script("06_ship_demo_models.py", monkeypatch)
    rows = [
        {"step": 50, "device": "CPU, 2 threads"},
        {"step": 100, "device": "CPU, 2 threads"},
        {"step": 150, "device": "CPU, 1 threads"},
        {"step": 200, "device": "CPU, 2 threads"},
    ]
    assert module.training_hardware(rows) == "CPU, 2 threads then CPU, 1 threads then CPU, 2 threads"


def test_a_run_without_device_rows_names_none(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_reproduction_script("06_ship_demo_models.py", monkeypatch)
    assert module.training_hardware([{"step": 50}, {"step": 100, "device": None}]) == ""

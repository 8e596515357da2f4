"""Optional TensorBoard events: the same metrics as metrics.jsonl, and the sample grids."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from semantic_inpaint.training import Trainer
from tests.conftest import tiny_run

event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2", reason='needs "semantic-inpaint[tensorboard]"')


def read_events(folder: Path) -> list:
    """Every event of the TFRecord files in ``folder`` (length, crc, payload, crc per record)."""
    events = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset : offset + 8])
            payload = data[offset + 12 : offset + 12 + length]
            events.append(event_pb2.Event.FromString(payload))
            offset += 12 + length + 4
    return events


def test_tensorboard_events_hold_the_logged_metrics_and_the_samples(tmp_path: Path) -> None:
    Trainer(tiny_run(tmp_path / "run", steps=4, log_every=2, sample_every=4, tensorboard=True)).fit(progress=False)
    events = read_events(tmp_path / "run" / "tensorboard")
    scalars = {(v.tag, e.step): v.simple_value for e in events for v in e.summary.value if v.HasField("simple_value")}
    images = [(v.tag, e.step) for e in events for v in e.summary.value if v.HasField("image")]
    for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert scalars[("train/loss_g", record["step"])] == pytest.approx(record["loss_g"], rel=1e-6)
        assert scalars[("train/reconstruction", record["step"])] == pytest.approx(record["reconstruction"], rel=1e-6)
    assert images == [("samples", 4)]


def test_without_the_option_no_events_are_written(tmp_path: Path) -> None:
    Trainer(tiny_run(tmp_path / "run", steps=1)).fit(progress=False)
    assert not (tmp_path / "run" / "tensorboard").exists()


def test_a_missing_tensorboardx_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r'pip install "semantic-inpaint\[tensorboard\]"'):
        Trainer(tiny_run(tmp_path / "run", steps=1, tensorboard=True))

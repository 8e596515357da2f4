"""No repeated work in a training step: one discriminator trunk pass per image, one embedder call
per step, and the shared-trunk discriminator that judges realness and every condition at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint.config import ModelConfig, RunConfig
from semantic_inpaint.core import SignalSpec
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.model import BoostedGAN
from semantic_inpaint.models import ConvDiscriminator, SharedTrunkDiscriminator
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_model, tiny_run

VECTOR, MAP = SignalSpec("attribute", "vector", 6), SignalSpec("segmentation", "map", 10)
#: which of three images each matching row judges, and where the map joins the 32 px trunk
PAIRINGS = st.lists(st.integers(0, 2), min_size=1, max_size=5)
MAP_SIZES = st.sampled_from([2, 4, 8, 16])


def signals(rows: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    return {
        "attribute": torch.rand(rows, 6, generator=generator),
        "segmentation": torch.softmax(torch.randn(rows, 10, 32, 32, generator=generator), dim=1),
    }


def shared_trunk(map_size: int = 8) -> SharedTrunkDiscriminator:
    discriminator = SharedTrunkDiscriminator(resolution=32, width=4, condition_stride=16, map_size=map_size)
    discriminator.add_matching_head(VECTOR)
    discriminator.add_matching_head(MAP)
    return discriminator.eval()


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    pairing=PAIRINGS,
    map_size=MAP_SIZES,
)
def test_map_head_is_its_convolutions_over_the_concatenated_features_and_map(
    seed: int, pairing: list[int], map_size: int
) -> None:
    """Splitting the joining convolution (features once per image) changes nothing: the head is
    still its stack of convolutions over ``[features[pairing] | resized map]``."""
    torch.manual_seed(seed)
    head = shared_trunk(map_size).matching_heads["segmentation"]
    features = torch.randn(3, head.feature_channels, map_size, map_size)
    index = torch.tensor(pairing)
    part_map = torch.softmax(torch.randn(len(pairing), 10, 32, 32), dim=1)
    resized = torch.nn.functional.adaptive_avg_pool2d(part_map, (map_size, map_size))
    joined = head.tail(torch.cat([features[index], resized], dim=1))
    expected = head.head(joined.flatten(1))[:, 0]
    torch.testing.assert_close(head(features, part_map, index), expected, atol=1e-5, rtol=1e-5)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    pairing=PAIRINGS,
    map_size=MAP_SIZES,
)
def test_one_trunk_pass_scores_realness_and_each_pair_as_separate_calls_would(
    seed: int, pairing: list[int], map_size: int
) -> None:
    torch.manual_seed(seed)
    discriminator = shared_trunk(map_size)
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(3, 3, 32, 32, generator=generator) * 2 - 1
    index = torch.tensor(pairing)
    given_signals = signals(len(pairing), generator)
    realness, matching = discriminator(image, signals=given_signals, pairing=index)
    torch.testing.assert_close(realness, discriminator(image))
    _, unpaired = discriminator(image[index], signals=given_signals)
    for name in given_signals:
        assert matching[name].shape == (len(pairing),)
        torch.testing.assert_close(matching[name], unpaired[name], atol=1e-5, rtol=1e-5)


def test_every_head_depends_on_its_signal_and_bad_signals_are_named() -> None:
    torch.manual_seed(0)
    discriminator = shared_trunk()
    generator = torch.Generator().manual_seed(1)
    image = torch.rand(2, 3, 32, 32, generator=generator) * 2 - 1
    first, second = signals(2, generator), signals(2, generator)
    _, matching_first = discriminator(image, signals=first)
    _, matching_second = discriminator(image, signals=second)
    for name in first:
        assert not torch.allclose(matching_first[name], matching_second[name])
    with pytest.raises(ValueError, match=r"signals: no matching head named 'depth'.*\['attribute', 'segmentation'\]"):
        discriminator(image, signals={"depth": torch.rand(2, 1, 32, 32)})
    with pytest.raises(ValueError, match=r"signals\['attribute'\]: expected a vector signal of shape \(3, 6\)"):
        discriminator(image, signals={"attribute": torch.rand(2, 6)}, pairing=torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="pairing: expected a 1-D int64 tensor"):
        discriminator(image, signals=first, pairing=torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="map_size: expected a power of two between M2 = 2 and resolution / 2 = 16"):
        SharedTrunkDiscriminator(resolution=32, width=4, condition_stride=16, map_size=32)
    with pytest.raises(ValueError, match="signal: the shared_trunk discriminator judges conditions with heads"):
        SharedTrunkDiscriminator(resolution=32, width=4, signal=VECTOR)


@pytest.mark.parametrize("signal", [VECTOR, MAP], ids=["vector", "map"])
def test_conv_discriminator_pairs_score_like_separate_calls(signal: SignalSpec) -> None:
    torch.manual_seed(0)
    discriminator = ConvDiscriminator(resolution=32, width=4, condition_stride=16, signal=signal).eval()
    generator = torch.Generator().manual_seed(2)
    image = torch.rand(2, 3, 32, 32, generator=generator) * 2 - 1
    index = torch.tensor([0, 1, 0])
    condition = signals(3, generator)[signal.name]
    torch.testing.assert_close(
        discriminator(image, condition, pairing=index), discriminator(image[index], condition), atol=1e-5, rtol=1e-5
    )


def shared_model(weights: tuple[float, float] = (0.1, 0.1)) -> dict:
    model = tiny_model()
    model["discriminator"] = {"name": "shared_trunk", "options": {"width": 8, "condition_stride": 16}}
    for condition, weight in zip(model["conditions"], weights, strict=True):
        condition["weight"] = weight
    return model


def test_the_model_adds_a_head_per_weighted_condition_and_no_condition_discriminators() -> None:
    model = BoostedGAN(ModelConfig.model_validate(shared_model(weights=(0.1, 0.0))))
    assert isinstance(model.discriminator, SharedTrunkDiscriminator)
    assert list(model.discriminator.matching_heads) == ["attribute"]
    assert all(condition.discriminator is None for _, condition in model.condition_items())
    separate = BoostedGAN(ModelConfig.model_validate(tiny_model()))
    assert sum(p.numel() for p in model.discriminator_parameters()) < sum(
        p.numel() for p in separate.discriminator_parameters()
    )
    config = shared_model()
    config["conditions"][1]["discriminator"] = {"name": "conv"}
    with pytest.raises(ValueError, match=r"conditions\[1\]\.discriminator: the model's discriminator 'shared_trunk'"):
        BoostedGAN(ModelConfig.model_validate(config))


def count_rows(module: torch.nn.Module) -> list[int]:
    """Batch sizes of the inputs ``module`` is called with, recorded from now on."""
    rows: list[int] = []
    module.register_forward_hook(lambda _m, inputs, _o: rows.append(inputs[0].shape[0]))
    return rows


@pytest.mark.parametrize("layout", ["separate", "shared"])
def test_a_training_step_runs_each_trunk_once_per_image_and_each_embedder_once(layout: str, tmp_path: Path) -> None:
    config = tiny_run(tmp_path / "run", steps=1).model_dump()
    config["model"] = shared_model() if layout == "shared" else tiny_model()
    config["model"]["conditions"][1]["weight"] = 0.0  # segmentation: an input signal, never judged
    trainer = Trainer(RunConfig.model_validate(config))
    model, batch = trainer.model, 4
    embedder_rows = {name: count_rows(embedder) for name, embedder in trainer.signal_embedders.items()}
    if layout == "shared":
        trunk_rows = {"global": count_rows(model.discriminator.stem)}
    else:
        trunk_rows = {"global": count_rows(model.discriminator.trunk)}
        trunk_rows["attribute"] = count_rows(model.conditions["attribute"].discriminator.trunk)
    trainer.train_step(torch.rand(batch, 3, 32, 32) * 2 - 1)
    # D step: [real | fake] once, although the matching term pairs the real images twice; G step: the fakes
    assert trunk_rows == {name: [2 * batch, batch] for name in trunk_rows}
    assert embedder_rows == {"attribute": [2 * batch], "segmentation": [batch]}  # [masked | real]; masked only
    assert trainer.optimizer_g.defaults["fused"] and trainer.optimizer_d.defaults["fused"]


def test_the_step_reads_signals_with_folded_copies_of_the_frozen_embedders(tmp_path: Path) -> None:
    trainer = Trainer(tiny_run(tmp_path / "run", steps=1))
    image = torch.rand(4, 3, 32, 32) * 2 - 1
    for name, condition in trainer.model.condition_items():
        folded = trainer.signal_embedders[name]
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
        assert any(isinstance(m, torch.nn.BatchNorm2d) for m in condition.embedder.modules())  # the saved model's
        torch.testing.assert_close(folded(image), condition.embedder(image), atol=1e-5, rtol=1e-4)


def test_a_shared_trunk_model_trains_resumes_and_inpaints(tmp_path: Path) -> None:
    config = tiny_run(tmp_path / "run", steps=3, checkpoint_every=2).model_dump()
    config["model"] = shared_model()
    trainer = Trainer(RunConfig.model_validate(config))
    summary = trainer.fit(progress=False)
    assert summary["step"] == 3
    assert {"adv_attribute", "adv_segmentation"} <= set(summary)
    resumed = Trainer(RunConfig.model_validate({**config, "training": {**config["training"], "steps": 4}}), resume=True)
    assert resumed.step == 3
    resumed.close()
    image, mask = torch.rand(2, 3, 32, 32) * 2 - 1, torch.zeros(2, 1, 32, 32)
    mask[..., 8:24, 8:24] = 1
    inpainter = Inpainter.from_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt", device="cpu")
    output = inpainter.inpaint(image, mask)
    assert torch.equal(output * (1 - mask), image * (1 - mask))
    assert output.isfinite().all() and not torch.equal(output * mask, image * mask)

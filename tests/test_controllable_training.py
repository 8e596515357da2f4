"""The controllable recipe: swapped signals reach the generator and its judges, the fill is
pulled toward what was asked, and the paper's recipe is untouched when it is off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint.config import ControlConfig, ModelConfig, RunConfig
from semantic_inpaint.registry import get_registry
from semantic_inpaint.training import Trainer
from semantic_inpaint.training.control import (
    colour_detached,
    consistency_loss,
    donor_targets,
    draw_requests,
    flip_entry_indices,
    flip_entry_weights,
    known_pixels_reconstruction,
    low_pass_hole_l2,
    pick_donors,
    requested_signals,
    swapped_count,
    told_real_count,
    told_real_signals,
)
from tests.conftest import tiny_run


def embedders() -> dict:
    registry = get_registry()
    return {
        "attribute": registry.build("embedder", "attribute", {"num_attributes": 6, "width": 4}),
        "segmentation": registry.build("embedder", "segmentation", {"num_classes": 10, "width": 4, "depth": 2}),
    }


def named_attribute() -> dict:
    """A six-attribute embedder whose entries have names, as a user's weighted request names them."""
    names = ["Male", "Young", "Smiling", "Eyeglasses", "Bangs", "Pale_Skin"]
    options = {"num_attributes": 6, "width": 4, "attribute_names": names}
    return {"attribute": get_registry().build("embedder", "attribute", options)}


def signals_of(batch: int) -> dict[str, torch.Tensor]:
    return {"attribute": torch.rand(batch, 6), "segmentation": torch.softmax(torch.randn(batch, 10, 8, 8), 1)}


def centred_hole(batch: int) -> torch.Tensor:
    hole = torch.zeros(batch, 1, 8, 8)
    hole[..., 2:6, 2:6] = 1
    return hole


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(2, 8), share=st.floats(0, 0.99), seed=st.integers(0, 1000))
def test_swapped_rows_get_another_samples_signal_and_maps_change_only_in_the_hole(
    batch: int, share: float, seed: int
) -> None:
    torch.manual_seed(seed)
    swapped, signals, hole = swapped_count(share, batch), signals_of(batch), centred_hole(batch)
    requests = draw_requests(signals, swapped, ControlConfig(swap_share=share), {})
    requested = requested_signals(embedders(), signals, hole, requests)
    assert 0 <= swapped < batch and 1 <= requests.offset < batch
    for row in range(batch):
        source = (row + requests.offset) % batch if row < swapped else row
        torch.testing.assert_close(requested["attribute"][row], signals["attribute"][source])
        inside = hole[row, 0] > 0
        torch.testing.assert_close(
            requested["segmentation"][row][:, inside], signals["segmentation"][source][:, inside]
        )
        torch.testing.assert_close(requested["segmentation"][row][:, ~inside], signals["segmentation"][row][:, ~inside])


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(2, 8), share=st.floats(0, 0.99), flips=st.integers(1, 8), seed=st.integers(0, 1000))
def test_flipped_rows_ask_for_the_opposite_of_exactly_that_many_entries_and_each_condition_keeps_its_own_rows(
    batch: int, share: float, flips: int, seed: int
) -> None:
    torch.manual_seed(seed)
    swapped, real, hole = swapped_count(share, batch), signals_of(batch), centred_hole(batch)
    given_input = {name: signal.roll(1, dims=0) for name, signal in real.items()}  # differs from the real reading
    control = ControlConfig(
        swap_share=share, vector_requests="flip", flipped_entries=flips, one_condition_per_sample=True
    )
    requests = draw_requests(real, swapped, control, flip_entry_indices(embedders(), control))
    asked, told = (requested_signals(embedders(), s, hole, requests) for s in (real, given_input))
    rows = requests.rows
    assert rows["attribute"].start == 0 and rows["attribute"].stop == rows["segmentation"].start
    assert rows["segmentation"].stop == swapped
    changed = asked["attribute"] != real["attribute"]
    flipped = torch.zeros(batch, dtype=torch.bool)
    flipped[rows["attribute"]] = True
    assert (changed.sum(1) == torch.where(flipped, min(flips, 6), 0)).all()
    opposite = (real["attribute"] < 0.5).float()
    torch.testing.assert_close(asked["attribute"][changed], opposite[changed])
    torch.testing.assert_close(told["attribute"][changed], opposite[changed])  # the generator is told the same
    torch.testing.assert_close(told["attribute"][~changed], given_input["attribute"][~changed])
    moved = (asked["segmentation"] != real["segmentation"]).flatten(1).any(1)
    assert not moved[: rows["segmentation"].start].any() and not moved[swapped:].any()


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(2, 8),
    flips=st.integers(1, 4),
    drawable=st.lists(st.integers(0, 5), min_size=1, max_size=6, unique=True),
    seed=st.integers(0, 1000),
)
def test_flip_requests_draw_only_from_the_named_entries_and_never_more_than_there_are(
    batch: int, flips: int, drawable: list[int], seed: int
) -> None:
    torch.manual_seed(seed)
    real, hole = signals_of(batch), centred_hole(batch)
    control = ControlConfig(
        swap_share=0.99, vector_requests="flip", flipped_entries=flips, flip_entries={"attribute": drawable}
    )
    requests = draw_requests(real, batch - 1, control, flip_entry_indices(embedders(), control))
    changed = requested_signals(embedders(), real, hole, requests)["attribute"] != real["attribute"]
    outside = [entry for entry in range(6) if entry not in drawable]
    assert not changed[:, outside].any()
    assert (changed[: batch - 1].sum(1) == min(flips, len(drawable))).all() and not changed[batch - 1].any()


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(2, 10), flips=st.integers(1, 3), seed=st.integers(0, 1000))
def test_a_donor_is_another_face_whose_real_reading_shows_every_requested_entry(
    batch: int, flips: int, seed: int
) -> None:
    torch.manual_seed(seed)
    real = {"attribute": torch.rand(batch, 6).round()}  # few distinct vectors, so donors exist and are missing
    control = ControlConfig(swap_share=0.99, vector_requests="flip", flipped_entries=flips)
    swapped = batch - 1
    requests = draw_requests(real, swapped, control, {"attribute": list(range(6))})
    asked = requested_signals(embedders(), real, centred_hole(batch), requests)["attribute"][:swapped]
    donor, found = pick_donors(requests, real, swapped)
    flipped = requests.flipped["attribute"]
    for row in range(swapped):
        shows = [
            other
            for other in range(batch)
            if other != row and torch.equal(real["attribute"][other][flipped[row]], asked[row][flipped[row]])
        ]
        assert bool(found[row]) == bool(shows)
        if shows:
            assert int(donor[row]) in shows
            best = max(int((real["attribute"][other] == asked[row]).sum()) for other in shows)
            assert int((real["attribute"][donor[row]] == asked[row]).sum()) == best


def test_a_donor_target_keeps_the_known_pixels_and_shows_the_donors_hole() -> None:
    torch.manual_seed(0)
    image, hole = torch.rand(3, 3, 16, 16) * 1.6 - 0.8, torch.zeros(3, 1, 16, 16)
    hole[..., 4:12, 4:12] = 1
    image[1] = image[0] + 0.1  # the donor of row 0: the same picture, 0.1 brighter
    prediction = torch.rand(3, 3, 16, 16, requires_grad=True)
    targets = donor_targets(image, hole, prediction, torch.tensor([1, 0]), torch.tensor([True, False]))
    known = (1 - hole[:2]).bool().expand_as(targets)
    assert torch.equal(targets[known], image[:2][known])  # bit-identical outside the hole
    inside = hole[0].bool().expand(3, -1, -1)
    assert float((targets[0][inside] - image[0][inside]).abs().amax()) < 1e-3  # blended onto row 0's own ring
    assert torch.equal(targets[1][inside], prediction[1].detach()[inside])  # no donor: the hole costs nothing
    assert not targets.requires_grad


@pytest.mark.parametrize(
    ("flip_entries", "message"),
    [
        ({"attribute": ["Smiling"]}, "unknown entry 'Smiling'"),
        ({"attribute": [6]}, "unknown entry 6"),
        ({"segmentation": [0]}, "expected a vector condition"),
    ],
)
def test_flip_entries_a_condition_cannot_flip_are_refused_before_training(
    tmp_path: Path, flip_entries: dict, message: str
) -> None:
    run = controllable(tmp_path, 1, swap_share=0.5, vector_requests="flip", flip_entries=flip_entries)
    with pytest.raises(ValueError, match=message):
        Trainer(run)


def test_donor_targets_without_a_vector_condition_are_refused_before_training(tmp_path: Path) -> None:
    config = controllable(tmp_path, 1, swap_share=0.5, vector_requests="flip", donor_target_weight=1.0).model_dump()
    config["model"]["conditions"] = [c for c in config["model"]["conditions"] if c["embedder"]["name"] != "attribute"]
    with pytest.raises(ValueError, match="donor_target_weight: expected a vector condition to flip"):
        Trainer(RunConfig.model_validate(config))


@pytest.mark.parametrize(
    ("control", "message"),
    [
        (
            {"vector_requests": "flip", "flip_entries": {"colour": [0]}},
            r"control\.flip_entries: expected names of conditions",
        ),
        ({"vector_requests": "flip", "flip_entries": {"attribute": []}}, "expected at least one entry per condition"),
        ({"flip_entries": {"attribute": [0]}}, "used only with vector_requests 'flip'"),
        ({"donor_target_weight": 1.0}, "donor_target_weight: used only with vector_requests 'flip'"),
        (
            {"consistency_readers": {"attribute": {"name": "attribute"}}},
            "consistency_readers: used only with consistency_weight > 0",
        ),
        ({"consistency_views": 4}, "consistency_views: used only with consistency_weight > 0"),
    ],
)
def test_flip_entries_the_config_cannot_use_are_refused_by_the_config(control: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelConfig(control=control)


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(2, 8), swap=st.floats(0, 0.49), told_share=st.floats(0.01, 0.5), seed=st.integers(0, 1000))
def test_told_rows_get_their_real_signal_inside_the_hole_and_one_row_keeps_the_papers_input(
    batch: int, swap: float, told_share: float, seed: int
) -> None:
    torch.manual_seed(seed)
    control = ControlConfig(swap_share=swap, told_real_share=told_share)
    swapped = swapped_count(swap, batch)
    told = told_real_count(control, batch, swapped)
    masked, real, hole = signals_of(batch), signals_of(batch), centred_hole(batch)
    given_input = told_real_signals(embedders(), masked, real, hole, slice(swapped, swapped + told))
    assert swapped + told <= batch - 1
    inside = hole[0, 0] > 0
    for row in range(batch):
        source = real if swapped <= row < swapped + told else masked
        torch.testing.assert_close(given_input["attribute"][row], source["attribute"][row])
        torch.testing.assert_close(given_input["segmentation"][row][:, inside], source["segmentation"][row][:, inside])
        torch.testing.assert_close(
            given_input["segmentation"][row][:, ~inside], masked["segmentation"][row][:, ~inside]
        )


def test_a_recipe_that_leaves_no_sample_the_papers_input_is_refused() -> None:
    with pytest.raises(ValueError, match="swap_share \\+ told_real_share < 1"):
        ControlConfig(swap_share=0.5, told_real_share=0.5)


def test_the_consistency_term_is_smallest_for_the_fill_that_reads_as_requested() -> None:
    torch.manual_seed(0)
    models = {name: e.eval() for name, e in embedders().items()}
    fill = torch.rand(2, 3, 32, 32) * 2 - 1
    hole = torch.ones(2, 1, 32, 32)
    read = {name: e(fill).detach() for name, e in models.items()}
    other = {name: signal.flip(0) for name, signal in read.items()}
    assert consistency_loss(models, fill, read, read, hole) < consistency_loss(models, fill, other, read, hole)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1000), top=st.integers(0, 3), side=st.integers(2, 5))
def test_a_colour_keeping_consistency_term_has_the_same_value_and_cannot_recolour_the_hole(
    seed: int, top: int, side: int
) -> None:
    torch.manual_seed(seed)
    models = {name: e.eval() for name, e in embedders().items()}
    hole = torch.zeros(2, 1, 32, 32)
    hole[..., top * 4 : (top + side) * 4, top * 4 : (top + side) * 4] = 1
    fill = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_(True)
    asked = {name: signal.flip(0) for name, signal in signals_of(2).items()}
    asked["segmentation"] = torch.nn.functional.interpolate(asked["segmentation"], size=32)
    free = consistency_loss(models, fill, asked, asked, hole)
    kept = consistency_loss(models, fill, asked, asked, hole, keep_colour=True)
    assert float(kept.detach()) == pytest.approx(float(free.detach()), rel=1e-6)
    (gradient,) = torch.autograd.grad(kept, fill)
    (free_gradient,) = torch.autograd.grad(free, fill)
    per_channel_mean = gradient.mul(hole).sum(dim=(2, 3)) / hole.sum(dim=(2, 3))
    assert float(per_channel_mean.abs().amax()) < 1e-6 * float(gradient.abs().amax())  # no pull on the mean colour
    assert float(free_gradient.mul(hole).sum(dim=(2, 3)).abs().amax()) > 0  # which the plain term has
    assert torch.equal(gradient * (1 - hole), free_gradient * (1 - hole))  # the known pixels as before
    detached = colour_detached(fill, hole)
    assert torch.equal(detached, fill)


@pytest.mark.parametrize("weight", [0.0, 1.0, 4.0, 25.0])
def test_entries_a_request_changed_count_changed_entry_weight_times_the_others_in_a_weighted_mean(
    weight: float,
) -> None:
    torch.manual_seed(0)
    models = {name: e.eval() for name, e in embedders().items()}
    fill, hole = torch.rand(2, 3, 32, 32) * 2 - 1, torch.ones(2, 1, 32, 32)
    with torch.no_grad():
        real = {name: e(fill) for name, e in models.items()}
    asked = {name: signal.clone() for name, signal in real.items()}
    asked["attribute"][0, 2] = float(real["attribute"][0, 2] < 0.5)  # one requested attribute
    other_class = int(real["segmentation"][1, :, 5, 7].argmin())
    asked["segmentation"][1, :, 5, 7] = torch.nn.functional.one_hot(torch.tensor(other_class), 10).float()
    with torch.no_grad():
        weighted = consistency_loss(models, fill, asked, real, hole, changed_entry_weight=weight)
    read_attribute = real["attribute"].clamp(1e-6, 1 - 1e-6)
    attribute_terms = -(
        asked["attribute"] * read_attribute.log() + (1 - asked["attribute"]) * (1 - read_attribute).log()
    )
    attribute_weights = torch.ones_like(attribute_terms)
    attribute_weights[0, 2] = weight
    pixel_terms = -(asked["segmentation"] * real["segmentation"].clamp_min(1e-6).log()).sum(1)
    pixel_weights = torch.ones_like(pixel_terms)
    pixel_weights[1, 5, 7] = weight
    expected = (attribute_terms * attribute_weights).sum() / attribute_weights.sum() + (
        pixel_terms * pixel_weights
    ).sum() / pixel_weights.sum()  # weighted means: the scale of the plain term, the attention on the request
    torch.testing.assert_close(weighted, expected)


@settings(max_examples=30, deadline=None)
@given(
    window=st.sampled_from([2, 4, 8]),
    offset=st.floats(-1, 1),
    corner=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    seed=st.integers(0, 1000),
)
def test_the_low_pass_term_sees_a_colour_shift_in_the_hole_and_not_detail_that_keeps_the_square_means(
    window: int, offset: float, corner: tuple[int, int], seed: int
) -> None:
    torch.manual_seed(seed)
    target = torch.rand(2, 3, 32, 32) * 2 - 1
    hole = torch.zeros(2, 1, 32, 32)
    top, left = corner[0] * 8, corner[1] * 8
    hole[..., top : top + 16, left : left + 16] = 1
    detail = torch.randn(2, 3, 32, 32)  # zero mean in every window: shape, not colour
    squares = torch.nn.functional.avg_pool2d(detail, window)
    detail = detail - torch.nn.functional.interpolate(squares, scale_factor=window, mode="nearest")
    assert float(low_pass_hole_l2(target + detail, target, hole, window)) < 1e-10
    shifted = float(low_pass_hole_l2(target + offset * hole, target, hole, window))
    assert abs(shifted - offset**2) < 1e-5  # the hole lies on the grid of every window size drawn
    outside = float(low_pass_hole_l2(target + (1 - hole), target, hole, window))
    assert outside == 0.0


def controllable(tmp_path: Path, steps: int, **control: object) -> RunConfig:
    config = tiny_run(tmp_path, steps=steps, recalibration_batches=0).model_dump()
    config["model"]["control"] = control
    return RunConfig.model_validate(config)


def calibrated_embedders() -> dict:
    """Untrained embedders whose BatchNorm statistics fit their inputs, so they respond to them."""
    models = embedders()
    with torch.no_grad():
        for embedder in models.values():
            embedder.train()
            for module in embedder.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.momentum = None
            embedder(torch.rand(16, 3, 32, 32) * 2 - 1)
            embedder.eval()
    return models


def test_the_consistency_term_steers_a_generator_toward_the_requested_signal() -> None:
    torch.manual_seed(0)
    models = calibrated_embedders()
    generator = get_registry().build("generator", "unet", {"width": 8}, resolution=32, signals=())
    image, hole = torch.rand(4, 3, 32, 32) * 2 - 1, torch.zeros(4, 1, 32, 32)
    hole[..., 8:24, 8:24] = 1
    with torch.no_grad():  # other images' signals, made decisive: what a user would ask for
        other = {name: e(torch.rand(4, 3, 32, 32) * 2 - 1) for name, e in models.items()}
    classes = other["segmentation"].shape[1]
    asked = {
        "attribute": other["attribute"].round(),
        "segmentation": torch.nn.functional.one_hot(other["segmentation"].argmax(1), classes)
        .permute(0, 3, 1, 2)
        .float(),
    }
    optimiser = torch.optim.Adam(generator.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        fill = image * (1 - hole) + generator(image, hole, {}) * hole
        loss = consistency_loss(models, fill, asked, asked, hole)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.92 * losses[0], losses


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1000), loss=st.sampled_from(["l2", "hole_l1"]))
def test_a_perturbed_sample_owes_its_known_pixels_and_nothing_in_its_hole(seed: int, loss: str) -> None:
    torch.manual_seed(seed)
    reconstruction = get_registry().build("reconstruction_loss", loss, {})
    image, hole = torch.rand(3, 3, 8, 8) * 2 - 1, centred_hole(3)
    prediction = (torch.rand(3, 3, 8, 8) * 2 - 1).requires_grad_(True)
    term = known_pixels_reconstruction(reconstruction, prediction, image, hole)
    (gradient,) = torch.autograd.grad(term, prediction)
    assert float(term) > 0
    assert float(gradient.mul(hole).abs().amax()) == 0  # the fill a request changed costs nothing
    known = (1 - hole).bool().expand_as(gradient)
    assert float(gradient[known].abs().amin()) > 0  # every known pixel is asked back
    repainted = prediction.detach() * (1 - hole) + torch.rand(3, 3, 8, 8) * hole
    assert float(known_pixels_reconstruction(reconstruction, repainted, image, hole)) == pytest.approx(float(term))
    assert float(known_pixels_reconstruction(reconstruction, image * (1 - hole) + prediction * hole, image, hole)) == 0


@pytest.mark.parametrize(
    "requests",
    [
        {},
        {"vector_requests": "flip", "one_condition_per_sample": True},
        {"vector_requests": "flip", "flip_entries": {"attribute": [0, 2]}, "changed_entry_weight": 17.0},
        {"vector_requests": "flip", "donor_target_weight": 1.0, "one_condition_per_sample": True},
        {"changed_entry_weight": 10.0, "low_pass_weight": 1.0},
        {"swap_share": 0.25, "told_real_share": 0.5},
        {"perturbed_known_weight": 1.0},
        {"consistency_keeps_colour": True},
        {"consistency_views": 2},
    ],
)
def test_a_controllable_run_trains_and_logs_its_consistency(tmp_path: Path, requests: dict) -> None:
    run = controllable(tmp_path / "run", 2, **({"swap_share": 0.5, "consistency_weight": 1.0} | requests))
    record = Trainer(run).fit(progress=False)
    assert record["step"] == 2 and record["consistency"] > 0
    assert ("low_pass" in record) == ("low_pass_weight" in requests)
    assert ("perturbed_known" in record) == ("perturbed_known_weight" in requests)
    assert ("donor_target" in record) == ("donor_target_weight" in requests)
    assert record.get("perturbed_known", 1) > 0


def test_recalibration_gives_the_generator_the_requests_its_training_steps_give_it(tmp_path: Path) -> None:
    # Eval mode normalises with statistics averaged over recalibration batches. Averaged over
    # the masked images' own readings, they were not those of the mixed batches a controllable
    # generator trained on (half of each one asked for another face's signals): a train/eval
    # gap that moved a controllable model's blended hole colour by up to 0.008.
    config = controllable(tmp_path / "run", 1, swap_share=0.5, consistency_weight=1.0)
    config.training.recalibration_batches = 3
    trainer = Trainer(config)
    calls = []
    hook = trainer.model.generator.register_forward_pre_hook(lambda module, inputs: calls.append(inputs))
    assert trainer.recalibrate() == 3
    hook.remove()
    assert len(calls) == 3
    swapped = swapped_count(0.5, config.training.batch_size)
    embedder = trainer.signal_embedders["attribute"]
    for image, mask, signals in calls:
        with torch.no_grad():
            reading = embedder(image * (1 - mask))
        differs = (signals["attribute"] - reading).abs().amax(dim=1) > 1e-6
        assert differs.tolist() == [True] * swapped + [False] * (len(image) - swapped)


@pytest.mark.parametrize("control", [{}, {"swap_share": 0.0, "consistency_weight": 0.0}])
def test_the_recipe_off_is_the_papers_step_exactly(tmp_path: Path, control: dict) -> None:
    torch.manual_seed(0)
    paper = Trainer(tiny_run(tmp_path / "paper", steps=2, recalibration_batches=0)).fit(progress=False)
    torch.manual_seed(0)
    off = Trainer(controllable(tmp_path / "off", 2, **control)).fit(progress=False)
    assert paper["loss_g"] == off["loss_g"] and paper["loss_d"] == off["loss_d"]


WIDER_READER = {"name": "attribute", "options": {"num_attributes": 6, "width": 8}}


def test_a_consistency_reader_reads_the_fills_and_the_condition_keeps_its_own_embedder(tmp_path: Path) -> None:
    torch.manual_seed(0)
    own = Trainer(controllable(tmp_path / "own", 1, swap_share=0.5, consistency_weight=1.0)).fit(progress=False)
    torch.manual_seed(0)
    read = {"attribute": WIDER_READER}
    trainer = Trainer(
        controllable(tmp_path / "read", 1, swap_share=0.5, consistency_weight=1.0, consistency_readers=read)
    )
    assert trainer.consistency_readers["attribute"].options["width"] == 8
    assert trainer.signal_embedders["attribute"].options["width"] == 4  # what the generator is told is unchanged
    assert trainer.consistency_readers["segmentation"] is trainer.signal_embedders["segmentation"]
    record = trainer.fit(progress=False)
    assert record["loss_d"] == own["loss_d"]  # the same step up to the generator's consistency term ...
    assert record["consistency"] != own["consistency"]  # ... which another embedder reads


@pytest.mark.parametrize(
    ("readers", "message"),
    [
        (
            {"colour": WIDER_READER},
            r"expected condition names from \['attribute', 'segmentation'\], received \['colour'\]",
        ),
        (
            {"attribute": {"name": "attribute", "options": {"num_attributes": 5}}},
            "expected a vector of 6 channels like the condition's embedder, received a vector of 5",
        ),
    ],
)
def test_a_reader_that_cannot_read_its_condition_is_refused_before_training(
    tmp_path: Path, readers: dict, message: str
) -> None:
    run = controllable(tmp_path, 1, swap_share=0.5, consistency_weight=1.0, consistency_readers=readers)
    with pytest.raises(ValueError, match=message):
        Trainer(run)


def test_a_run_reading_random_views_resumes_exactly(tmp_path: Path) -> None:
    control = {"swap_share": 0.5, "consistency_weight": 1.0, "consistency_views": 2}
    Trainer(controllable(tmp_path / "straight", 3, **control)).fit(progress=False)
    Trainer(controllable(tmp_path / "resumed", 2, **control)).fit(progress=False)
    Trainer(controllable(tmp_path / "resumed", 3, **control), resume=True).fit(progress=False)
    straight, resumed = (
        [json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]
        for run in ("straight", "resumed")
    )
    assert [r["consistency"] for r in resumed] == pytest.approx([r["consistency"] for r in straight], abs=1e-6)
    assert len(straight) == 3


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(2, 8), flips=st.integers(1, 4), seed=st.integers(0, 1000))
def test_flip_weights_of_one_draw_exactly_the_entries_a_uniform_draw_does(batch: int, flips: int, seed: int) -> None:
    """Weighing entries is an option on top of the uniform draw: weights of 1 leave every draw as
    it was, so the recipes trained before the option existed train and resume as they did."""
    real = signals_of(batch)
    control = ControlConfig(swap_share=0.99, vector_requests="flip", flipped_entries=flips)
    built = embedders()  # building one draws its initial weights: not between the two seeded draws
    indices = flip_entry_indices(built, control)
    ones = flip_entry_weights(built, control, indices)
    torch.manual_seed(seed)
    uniform = draw_requests(real, batch - 1, control, indices)
    torch.manual_seed(seed)
    weighed = draw_requests(real, batch - 1, control, indices, ones)
    assert torch.equal(uniform.flipped["attribute"], weighed.flipped["attribute"])


def test_a_weighted_entry_is_flipped_in_proportion_to_its_weight() -> None:
    """One entry of six weighing 5 (the others 1), one flip per row: it is drawn on 5/10 of the
    rows, each other entry on 1/10 (20000 rows, so a share is known to within about 0.01)."""
    torch.manual_seed(0)
    rows = 20000
    real = {"attribute": torch.rand(rows, 6)}
    control = ControlConfig(
        swap_share=0.99, vector_requests="flip", flipped_entries=1, flip_entry_weights={"attribute": {"Smiling": 5}}
    )
    indices = flip_entry_indices(named_attribute(), control)
    weights = flip_entry_weights(named_attribute(), control, indices)
    share = draw_requests(real, rows - 1, control, indices, weights).flipped["attribute"][: rows - 1].float().mean(0)
    torch.testing.assert_close(share, torch.tensor([0.1, 0.1, 0.5, 0.1, 0.1, 0.1]), atol=0.015, rtol=0)


def test_flip_weights_name_entries_a_request_draws_from() -> None:
    attribute = named_attribute()
    drawn = {"vector_requests": "flip", "flip_entries": {"attribute": ["Male", "Young"]}}
    outside = ControlConfig(**drawn, flip_entry_weights={"attribute": {"Smiling": 2.0}})
    with pytest.raises(ValueError, match="'Smiling' is not among the entries a request draws from"):
        flip_entry_weights(attribute, outside, flip_entry_indices(attribute, outside))
    unknown = ControlConfig(**drawn, flip_entry_weights={"attribute": {"Wings": 2.0}})
    with pytest.raises(ValueError, match="unknown entry 'Wings'"):
        flip_entry_weights(attribute, unknown, flip_entry_indices(attribute, unknown))
    elsewhere = ControlConfig(**drawn, flip_entry_weights={"segmentation": {"Male": 2.0}})
    with pytest.raises(ValueError, match="expected one of the conditions a request flips"):
        flip_entry_weights(attribute, elsewhere, flip_entry_indices(attribute, elsewhere))
    with pytest.raises(ValueError, match="used only with vector_requests 'flip'"):
        ControlConfig(flip_entry_weights={"attribute": {"Male": 2.0}})
    with pytest.raises(ValueError, match=r"expected a weight in \(0, 1000\], received 0"):
        ControlConfig(vector_requests="flip", flip_entry_weights={"attribute": {"Male": 0.0}})

"""Each equation of the paper against a hand computation on tiny tensors."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from semantic_inpaint.losses import (
    BCEMatchingLoss,
    HingeMatchingLoss,
    inpainting_loss,
    reconstruction_loss,
    weighted_sum,
)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


REAL = [2.0, -1.0]
FAKE = [0.5, -3.0]
WRONG = [1.0, 0.0]


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def test_equation_3_global_discriminator_loss_matches_hand_computation() -> None:
    expected = -mean([math.log(sigmoid(r)) for r in REAL]) - mean([math.log(1 - sigmoid(f)) for f in FAKE])
    value = BCEMatchingLoss().discriminator_loss(torch.tensor(REAL), torch.tensor(FAKE))
    assert value.item() == pytest.approx(expected, rel=1e-6)


def test_equations_4_and_5_matching_discriminator_loss_adds_mismatched_negatives() -> None:
    expected = (
        -mean([math.log(sigmoid(r)) for r in REAL])
        - mean([math.log(1 - sigmoid(f)) for f in FAKE])
        - mean([math.log(1 - sigmoid(w)) for w in WRONG])
    )
    value = BCEMatchingLoss().discriminator_loss(torch.tensor(REAL), torch.tensor(FAKE), torch.tensor(WRONG))
    assert value.item() == pytest.approx(expected, rel=1e-6)


def test_equation_2_total_discriminator_loss_weights_each_condition() -> None:
    global_term, attribute_term, segmentation_term = torch.tensor(1.5), torch.tensor(2.0), torch.tensor(4.0)
    value = weighted_sum(global_term, [(0.1, attribute_term), (0.01, segmentation_term)])
    assert value.item() == pytest.approx(1.5 + 0.1 * 2.0 + 0.01 * 4.0)


def test_equation_6_inpainting_loss_matches_hand_computation() -> None:
    prediction = torch.tensor([[[[0.5, -0.5]]]]).expand(1, 3, 1, 2)
    target = torch.tensor([[[[0.0, 0.5]]]]).expand(1, 3, 1, 2)
    fake_global, fake_attribute, fake_segmentation = [0.3, -0.2], [1.0, 2.0], [-1.0, 0.0]
    beta, lambda_a, lambda_s = 0.01, 0.1, 0.5
    squared_error = mean([0.25, 1.0])
    adversarial = (
        -mean([math.log(sigmoid(v)) for v in fake_global])
        - lambda_a * mean([math.log(sigmoid(v)) for v in fake_attribute])
        - lambda_s * mean([math.log(sigmoid(v)) for v in fake_segmentation])
    )
    loss = BCEMatchingLoss()
    value = inpainting_loss(
        reconstruction_loss(prediction, target),
        loss.generator_loss(torch.tensor(fake_global)),
        [
            (lambda_a, loss.generator_loss(torch.tensor(fake_attribute))),
            (lambda_s, loss.generator_loss(torch.tensor(fake_segmentation))),
        ],
        beta,
    )
    assert value.item() == pytest.approx(squared_error + beta * adversarial, rel=1e-6)


logits = st.lists(st.floats(-30, 30), min_size=1, max_size=8)


@given(real=logits, fake=logits, wrong=logits)
def test_discriminator_losses_are_non_negative(real: list[float], fake: list[float], wrong: list[float]) -> None:
    for loss in (BCEMatchingLoss(), HingeMatchingLoss()):
        value = loss.discriminator_loss(torch.tensor(real), torch.tensor(fake), torch.tensor(wrong))
        assert value.item() >= 0


@given(fake=logits)
def test_bce_generator_loss_is_positive_and_falls_as_the_discriminator_is_fooled(fake: list[float]) -> None:
    loss = BCEMatchingLoss()
    tensor = torch.tensor(fake, dtype=torch.float64)
    assert loss.generator_loss(tensor).item() >= 0
    assert loss.generator_loss(tensor + 1).item() <= loss.generator_loss(tensor).item()

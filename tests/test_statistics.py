"""Bootstrap intervals: they hold the estimate, pair the methods, and pool IoU like the paper's mIoU."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint.metrics import ConfusionMatrix, confusion_per_image
from semantic_inpaint.statistics import (
    difference,
    estimate,
    mean_iou_statistic,
    mean_statistic,
    resample_weights,
)

values = st.lists(st.floats(-100, 100, allow_nan=False), min_size=2, max_size=40)


@settings(max_examples=30, deadline=None)
@given(values)
def test_the_interval_holds_the_estimate_and_a_method_minus_itself_is_zero(sample: list[float]) -> None:
    tensor = torch.tensor(sample, dtype=torch.float64)
    weights = resample_weights(len(sample), resamples=200)
    result = estimate(mean_statistic(tensor), weights)
    low, high = result["ci95"]
    assert low - 1e-9 <= result["mean"] <= high + 1e-9
    assert abs(result["mean"] - tensor.mean().item()) < 1e-9
    same = estimate(difference(mean_statistic(tensor), mean_statistic(tensor)), weights)
    assert same["mean"] == 0 and same["ci95"] == [0, 0]


def test_unscored_images_are_left_out_of_the_mean_and_the_count() -> None:
    tensor = torch.tensor([1.0, float("nan"), 3.0])
    result = estimate(mean_statistic(tensor), resample_weights(3, resamples=500), images=2)
    assert result["mean"] == 2.0 and result["images"] == 2


def test_a_paired_interval_is_narrower_than_the_two_side_by_side() -> None:
    generator = torch.Generator().manual_seed(0)
    difficulty = torch.randn(300, generator=generator) * 5  # images differ far more than methods
    first, second = difficulty + 0.3, difficulty + 0.1 * torch.randn(300, generator=generator)
    weights = resample_weights(300, resamples=1000)
    paired = estimate(difference(mean_statistic(first), mean_statistic(second)), weights)
    separate = [estimate(mean_statistic(v), weights)["ci95"] for v in (first, second)]
    assert paired["ci95"][0] > 0, "the paired interval sees the +0.3 difference"
    assert separate[0][0] < separate[1][1], "the separate intervals overlap"


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 6), st.integers(0, 10_000))
def test_pooled_miou_equals_the_confusion_matrix_of_all_images(batch: int, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    predicted = torch.randint(0, 4, (batch, 5, 5), generator=generator)
    target = torch.randint(0, 4, (batch, 5, 5), generator=generator)
    matrix = ConfusionMatrix(4)
    matrix.update(predicted, target)
    pooled = mean_iou_statistic(confusion_per_image(predicted, target, 4))(torch.ones(1, batch, dtype=torch.float64))
    assert abs(pooled.item() - matrix.mean_iou()) < 1e-9

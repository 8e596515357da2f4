"""95 % bootstrap intervals over images, so that a reader sees which differences are real.

Every method of an evaluation is scored on the same images; resampling the images once and
applying each resample to every method gives *paired* intervals, including intervals of the
difference between two methods (which are much narrower than the two intervals side by side).

A statistic is a function of per-image *weights*: ``(R, N)`` counts of how often each of the N
images occurs in each of R resamples (the point estimate uses weight 1 for every image).
That covers means (with images a judge could not score left out), and statistics pooled
over images such as an mIoU from summed confusion matrices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypedDict

import torch
from torch import Tensor

#: ``statistic(weights)``: ``(R, N)`` image weights → ``(R,)`` values
Statistic = Callable[[Tensor], Tensor]


class Estimate(TypedDict):
    """A point estimate, its 95 % percentile-bootstrap interval and the images it rests on."""

    mean: float
    ci95: list[float]
    images: int


def resample_weights(images: int, resamples: int = 2000, seed: int = 0) -> Tensor:
    """``(resamples, images)`` float64 counts: row r says how often each image occurs in resample r.

    Examples:
        >>> weights = resample_weights(5, resamples=3)
        >>> weights.shape, weights.sum(1).tolist()
        (torch.Size([3, 5]), [5.0, 5.0, 5.0])
    """
    if images < 1:
        raise ValueError(f"images: expected at least 1 image to resample, received {images}")
    generator = torch.Generator().manual_seed(seed)
    drawn = torch.randint(0, images, (resamples, images), generator=generator)
    return torch.zeros(resamples, images, dtype=torch.float64).scatter_add_(1, drawn, torch.ones_like(drawn).double())


def mean_statistic(values: Tensor) -> Statistic:
    """The weighted mean of per-image ``values`` ``(N,)``, leaving out NaN (unscored) images."""
    values = values.detach().double().cpu()
    scored = ~values.isnan()
    filled = torch.where(scored, values, 0.0)

    def statistic(weights: Tensor) -> Tensor:
        return (weights @ filled) / (weights @ scored.double())

    return statistic


def mean_iou_statistic(confusion: Tensor, classes: Sequence[int] | None = None) -> Statistic:
    """mIoU of the confusion matrices ``(N, C, C)`` summed over the weighted images, over
    ``classes`` (default: all; each class's IoU counts every pixel, whatever the others).

    Classes absent from both prediction and target in a resample are left out of its mean.
    """
    flat = confusion.detach().double().cpu().flatten(1)
    count = confusion.shape[-1]
    kept = list(range(count)) if classes is None else list(classes)

    def statistic(weights: Tensor) -> Tensor:
        counts = (weights @ flat).view(-1, count, count)
        true_positive = counts.diagonal(dim1=1, dim2=2)
        union = counts.sum(1) + counts.sum(2) - true_positive
        return torch.where(union > 0, true_positive / union.clamp_min(1), torch.nan)[:, kept].nanmean(1)

    return statistic


def estimate(statistic: Statistic, weights: Tensor, images: int | None = None) -> Estimate:
    """The statistic on all images and its 2.5–97.5 percentile interval over ``weights``' resamples.

    Examples:
        >>> values = torch.tensor([1.0, 2.0, 3.0, float("nan")])
        >>> result = estimate(mean_statistic(values), resample_weights(4), images=3)
        >>> result["mean"], result["images"], result["ci95"][0] < 2 < result["ci95"][1]
        (2.0, 3, True)
    """
    count = weights.shape[1]
    point = statistic(torch.ones(1, count, dtype=torch.float64))[0]
    resampled = statistic(weights)
    resampled = resampled[~resampled.isnan()]
    low, high = (
        torch.quantile(resampled, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
        if len(resampled)
        else [float("nan")] * 2
    )
    return {"mean": float(point), "ci95": [low, high], "images": count if images is None else images}


def difference(first: Statistic, second: Statistic) -> Statistic:
    """``first - second`` on the same resamples: the paired difference of two methods."""
    return lambda weights: first(weights) - second(weights)

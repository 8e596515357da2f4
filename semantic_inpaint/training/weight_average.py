"""An exponential moving average of the generator's weights: the generator users get.

A GAN generator's weights never settle: the discriminator keeps pushing them, and a model
saved at one step carries whatever that step's push was (at 64 px, after 2000 steps, a hole
colour bias that wanders by ±0.03 from one checkpoint to the next). Averaging the weights
over the last few thousand training images removes that step-to-step noise at no cost to
training (Karras et al. 2018, *Progressive growing of GANs*; Yazıcı et al. 2019, *The
unusual effectiveness of averaging in GAN training*). The schedule is StyleGAN2-ADA's: a
half-life counted in training images, ramped up early so that the average does not keep
the random initialisation.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def average_decay(images_seen: int, batch_size: int, half_life_images: float, rampup: float) -> float:
    """The weight the average keeps per step: ``0.5 ** (batch_size / half_life)``.

    ``half_life = min(half_life_images, rampup · images_seen)`` when ``rampup > 0``; a
    half-life of 0 gives 0 (the average is the current weights).

    Examples:
        >>> round(average_decay(10**6, 16, 10_000, 0.05), 6)  # a 625-step half-life
        0.998892
        >>> average_decay(160, 16, 10_000, 0.05) < average_decay(1600, 16, 10_000, 0.05)
        True
    """
    half_life = half_life_images
    if rampup > 0:
        half_life = min(half_life, rampup * images_seen)
    if half_life <= 0:
        return 0.0
    return 0.5 ** (batch_size / half_life)


class WeightAverage(nn.Module):
    """An exponential moving average of a network's parameters.

    The average is a frozen copy of ``network`` in eval mode. Buffers (e.g. BatchNorm running
    statistics) are not averaged: they belong to the averaged weights and are recomputed for
    them (:func:`~semantic_inpaint.training.normalization.recalibrate_batch_norm`).

    Args:
        network: the network being trained (its current weights start the average).

    Examples:
        >>> network = nn.Linear(2, 1, bias=False)
        >>> _ = nn.init.zeros_(network.weight)
        >>> average = WeightAverage(network)
        >>> _ = nn.init.ones_(network.weight)
        >>> average.update(network, decay=0.75)
        >>> average.module.weight.tolist()
        [[0.25, 0.25]]
    """

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.module = copy.deepcopy(network).eval().requires_grad_(False)

    def train(self, mode: bool = True) -> WeightAverage:
        """The average always stays in eval mode (it is never trained)."""
        return super().train(False)

    @torch.no_grad()
    def update(self, network: nn.Module, decay: float) -> None:
        """``average ← decay · average + (1 − decay) · network``, for every parameter, on the device."""
        averaged = list(self.module.parameters())
        current = [parameter.detach() for parameter in network.parameters()]
        if len(averaged) != len(current):
            raise ValueError(
                f"network: expected the {len(averaged)} parameters of the averaged network, received {len(current)}"
            )
        torch._foreach_lerp_(averaged, current, 1.0 - decay)

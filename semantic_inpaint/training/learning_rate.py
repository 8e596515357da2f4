"""The learning-rate schedule of a GAN run: a factor of the configured rates per step.

The factor is a function of the step alone, so a resumed run sets the same rates as an
uninterrupted one without any scheduler state in the checkpoint.
"""

from __future__ import annotations

import math

import torch

from semantic_inpaint.config import LearningRateSchedule


def learning_rate_factor(schedule: LearningRateSchedule, step: int, steps: int) -> float:
    """The share of the configured learning rate used by step ``step`` (0-based) of ``steps``.

    ``constant``: 1 throughout (the paper). ``cosine``: ``(1 + cos(π · step / steps)) / 2``, from 1
    at the first step down towards 0 at the last (Loshchilov & Hutter 2017, without restarts).

    Examples:
        >>> learning_rate_factor("constant", 500, 1000)
        1.0
        >>> [round(learning_rate_factor("cosine", step, 4), 3) for step in range(4)]
        [1.0, 0.854, 0.5, 0.146]
    """
    if not 0 <= step < steps:
        raise ValueError(f"step: expected 0 <= step < steps={steps}, received {step}")
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        return (1 + math.cos(math.pi * step / steps)) / 2
    raise ValueError(f"schedule: expected 'constant' or 'cosine', received {schedule!r}")


def set_learning_rate(optimizer: torch.optim.Optimizer, rate: float) -> None:
    """Give every parameter group of ``optimizer`` the learning rate ``rate`` (a Python float: no device sync)."""
    for group in optimizer.param_groups:
        group["lr"] = rate

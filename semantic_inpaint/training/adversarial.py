"""Adversarial examples for robust pretraining: an embedder trained on them reads shapes, not textures.

A classifier trained only on clean images can be moved by a faint texture a person cannot see,
and a generator pulled toward what such a classifier reads learns exactly that texture (stripes
that it reads as "eyeglasses"). Trained on its own worst-case inputs within a small L2 ball
(Madry et al. 2018), a classifier's gradients become perceptually aligned (Santurkar et al.
2019): what raises its "eyeglasses" score looks like glasses.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def l2_adversarial_images(loss: Callable[[Tensor], Tensor], image: Tensor, epsilon: float, steps: int) -> Tensor:
    """Projected gradient ascent on ``loss`` within an L2 ball of radius ``epsilon`` per image.

    Each of ``steps`` steps moves every image by ``2.5 * epsilon / steps`` along its own
    normalised gradient, projects back into its ball and keeps pixels in ``[-1, 1]``. No
    gradient reaches the network's parameters from the result.

    Shape: ``image`` ``(B, C, H, W)`` in ``[-1, 1]``; the result likewise, each image within
    ``epsilon`` (L2, over all its values) of its original.

    Examples:
        >>> image = torch.zeros(2, 1, 4, 4)
        >>> moved = l2_adversarial_images(lambda x: x.sum(), image, epsilon=1.0, steps=3)
        >>> [round(value, 4) for value in (moved - image).flatten(1).norm(dim=1).tolist()]
        [1.0, 1.0]
    """
    if epsilon <= 0 or steps < 1:
        raise ValueError(f"epsilon, steps: expected > 0 and >= 1, received {epsilon} and {steps}")
    step_size = 2.5 * epsilon / steps
    delta = torch.zeros_like(image)
    for _ in range(steps):
        delta.requires_grad_(True)
        (gradient,) = torch.autograd.grad(loss((image + delta).clamp(-1, 1)), delta)
        gradient_norm = gradient.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
        delta = delta.detach() + step_size * gradient / gradient_norm
        delta_norm = delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
        delta = delta * (epsilon / delta_norm.clamp_min(epsilon))
        delta = (image + delta).clamp(-1, 1) - image
    return (image + delta).detach()

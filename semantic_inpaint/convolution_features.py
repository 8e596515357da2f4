"""The features of every convolution of a network, and the L1 distance between two images'.

Read with forward hooks, so any network works without an API of its own: the library uses it
for discriminator feature matching (:mod:`semantic_inpaint.feature_matching`) and for the
perceptual loss of a frozen embedder (:mod:`semantic_inpaint.perceptual_loss`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


def convolution_features(
    network: nn.Module, image: Tensor, run: Callable[[Tensor], object] | None = None
) -> list[Tensor]:
    """The output of every ``Conv2d`` of ``network`` while ``run(image)`` (default: ``network(image)``) runs."""
    captured: list[Tensor] = []
    layers = [module for module in network.modules() if isinstance(module, nn.Conv2d)]
    hooks = [layer.register_forward_hook(lambda _m, _i, out: captured.append(out)) for layer in layers]
    try:
        (run or network)(image)
    finally:
        for hook in hooks:
            hook.remove()
    return captured


def feature_distance(
    network: nn.Module, image: Tensor, target: Tensor, run: Callable[[Tensor], object] | None = None
) -> Tensor:
    """Mean over ``network``'s convolutions of the mean L1 distance between their features of
    ``image`` and of ``target`` (both ``(B, 3, H, W)``); gradients reach ``image`` only.

    Examples:
        >>> network = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3))
        >>> image = torch.rand(1, 3, 8, 8)
        >>> float(feature_distance(network, image, image))
        0.0
    """
    with torch.no_grad():
        wanted = convolution_features(network, target, run)
    got = convolution_features(network, image, run)
    return torch.stack([(a.float() - b.float()).abs().mean() for a, b in zip(got, wanted, strict=True)]).mean()

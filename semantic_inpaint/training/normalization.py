"""BatchNorm statistics recomputed for the weights that are about to be saved ("precise BN").

BatchNorm normalises with the statistics of the current batch in training mode and with its
running averages in eval mode. Those running averages are an exponential moving average
(momentum 0.1) of statistics that *earlier* weights produced. When the weights move quickly,
as a GAN generator's do, the average lags the network, and a model evaluated in eval mode
(what :class:`~semantic_inpaint.inference.Inpainter` runs) no longer computes what it
computed in training: the shipped 64 px models of version 0.1 filled every hole with a
blue-green colour bias of up to +0.17 (images in ``[-1, 1]``) that batch statistics did not
have. Recomputing the statistics with the final weights, as an equal-weight average over
many batches (Wu & Johnson, *Rethinking "Batch" in BatchNorm*, 2021), closes that gap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

Batch = TypeVar("Batch")


def batch_norm_layers(modules: Sequence[nn.Module]) -> list[_BatchNorm]:
    """Every BatchNorm layer (any dimension, ``SyncBatchNorm`` too) that keeps running statistics."""
    return [
        layer
        for module in modules
        for layer in module.modules()
        if isinstance(layer, _BatchNorm) and layer.track_running_stats
    ]


@torch.no_grad()
def recalibrate_batch_norm(
    modules: Sequence[nn.Module], batches: Iterable[Batch], forward: Callable[[Batch], object]
) -> int:
    """Replace the running statistics of ``modules``' BatchNorm layers by their average over ``batches``.

    Every layer is reset and switched to a cumulative average (``momentum=None``); ``forward``
    is called once per batch with only those layers in training mode (dropout and the like
    stay as the caller left them, so call it with the networks in eval mode); afterwards each
    layer gets back its momentum and its mode. No weight changes.

    Args:
        modules: the networks whose statistics to recompute (e.g. a generator and its
            discriminators; never a frozen, pretrained embedder).
        batches: the inputs, e.g. ``(B, 3, H, W)`` training images in ``[-1, 1]``.
        forward: runs the networks on one batch the way training does.

    Returns:
        The number of batches averaged (0 when ``modules`` have no BatchNorm layer: then
        ``forward`` is not called at all).

    Examples:
        >>> network = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)).eval()
        >>> images = [torch.full((2, 3, 4, 4), 1.0), torch.full((2, 3, 4, 4), 3.0)]
        >>> recalibrate_batch_norm([network], images, network)
        2
        >>> bn = network[1]
        >>> bool(torch.allclose(bn.running_mean, network[0](torch.full((1, 3, 1, 1), 2.0)).flatten()))
        True
        >>> bn.training, bn.momentum
        (False, 0.1)
    """
    layers = batch_norm_layers(modules)
    if not layers:
        return 0
    saved = [(layer, layer.momentum, layer.training, _statistics(layer)) for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None
        layer.train()
    count = 0
    try:
        for batch in batches:
            forward(batch)
            count += 1
        if count == 0:
            raise ValueError("batches: expected at least one batch to recompute BatchNorm statistics, received none")
    except BaseException:
        for layer, _, _, statistics in saved:  # a failed recalibration leaves the old statistics
            for name, value in statistics.items():
                getattr(layer, name).copy_(value)
        raise
    finally:
        for layer, momentum, training, _ in saved:
            layer.momentum = momentum
            layer.train(training)
    return count


def _statistics(layer: _BatchNorm) -> dict[str, torch.Tensor]:
    return {name: getattr(layer, name).clone() for name in ("running_mean", "running_var", "num_batches_tracked")}

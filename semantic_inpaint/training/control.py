"""The controllable recipe: teach the generator to follow signals it is *given*, not only the
ones the embedders read from the masked image.

The first ``swapped`` samples of each batch are told another sample's signals (a vector
whole, a map inside the hole only, since the known pixels fix the rest); the discriminators
judge their fills against those requested signals and the reconstruction term skips them
(their original is not what was asked for). A consistency term pulls what the frozen
embedders read from every fill toward what was requested. Which samples are swapped is a
fixed slice of a batch whose order is already random, so the step needs no host-device sync.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from semantic_inpaint.core import SemanticEmbedder


def swapped_count(share: float, batch: int) -> int:
    """How many samples of a batch of ``batch`` are told another sample's signals (at least one
    keeps its own, so the reconstruction term always has a sample).

    Examples:
        >>> swapped_count(0.5, 16), swapped_count(0.9, 2), swapped_count(0.0, 8)
        (8, 1, 0)
    """
    return min(round(share * batch), batch - 1)


def requested_signals(
    embedders: Mapping[str, SemanticEmbedder],
    signals: Mapping[str, Tensor],
    hole: Tensor,
    swapped: int,
    offset: int,
) -> dict[str, Tensor]:
    """``signals`` with the first ``swapped`` rows replaced by the rows ``offset`` places on (a
    cyclic shift, so never a sample's own for ``0 < offset < B``); a map only inside ``hole``.

    Shape: each signal ``(B, ...)``; ``hole`` ``(B, 1, H, W)`` in ``{0, 1}``.
    """
    if swapped == 0:
        return dict(signals)
    requested = {}
    for name, signal in signals.items():
        other = signal.roll(-offset, dims=0)[:swapped]
        if embedders[name].kind == "map":
            other = torch.where(hole[:swapped] > 0, other, signal[:swapped])
        requested[name] = torch.cat([other, signal[swapped:]])
    return requested


def consistency_loss(
    embedders: Mapping[str, SemanticEmbedder], fill: Tensor, requested: Mapping[str, Tensor], hole: Tensor
) -> Tensor:
    """Sum over the conditions of each embedder's :meth:`~SemanticEmbedder.consistency` between
    its reading of ``fill`` ``(B, 3, H, W)`` and the requested signal (gradients reach the fill)."""
    terms = [embedders[name].consistency(embedders[name](fill), target, hole) for name, target in requested.items()]
    return torch.stack(terms).sum() if terms else fill.new_zeros(())

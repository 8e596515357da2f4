"""Measured control: does a fill obey an attribute the user sets?

For each held-out face and each attribute, the request is the *opposite* of what the attribute
embedder reads on the original (so obeying it means changing something). The fill with the
request is read back by an attribute judge: the **flip rate** is the share of faces read as
the requested value, next to the same share for the fill made without a request (how often the
fill reads that way anyway). **Preservation** is the share of the *other* attributes that
read the same on the requested fill as on the unrequested one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypedDict

import torch
from torch import Tensor

from semantic_inpaint.model import BoostedGAN


class AttributeControl(TypedDict):
    """One attribute's control scores over ``images`` faces."""

    flip_rate: float
    without_request: float
    preserved: float
    images: int


@torch.no_grad()
def attribute_control(
    model: BoostedGAN,
    batches: Iterable[tuple[Tensor, Tensor]],
    names: Sequence[str],
    judge: Callable[[Tensor], Tensor] | None = None,
) -> dict[str, AttributeControl]:
    """Flip rate, rate without a request, and preservation of the others, per attribute.

    Args:
        model: a model with an ``attribute`` condition (in eval mode).
        batches: ``(image (B, 3, H, W) in [-1, 1], mask (B, 1, H, W) in {0, 1})`` pairs.
        names: the attributes to request, by the embedder's names.
        judge: reads ``(B, N)`` attribute probabilities from images (default: the model's own
            attribute embedder; prefer one the model was not trained against).

    Examples:
        >>> from semantic_inpaint.config import ModelConfig
        >>> model = BoostedGAN(ModelConfig.model_validate({"resolution": 32,
        ...     "generator": {"name": "dilated", "options": {"width": 4}},
        ...     "conditions": [{"embedder": {"name": "attribute", "options": {"num_attributes": 3, "width": 4,
        ...         "attribute_names": ["a", "b", "c"]}}, "weight": 0.1}]})).eval()
        >>> mask = torch.zeros(2, 1, 32, 32); mask[..., 8:24, 8:24] = 1
        >>> scores = attribute_control(model, [(torch.rand(2, 3, 32, 32) * 2 - 1, mask)], ["b"])
        >>> sorted(scores["b"]), scores["b"]["images"]
        (['flip_rate', 'images', 'preserved', 'without_request'], 2)
    """
    embedder = model.conditions["attribute"].embedder
    judge = judge or embedder
    indices = {name: embedder.names.index(name) if embedder.names else int(name) for name in names}
    totals = {name: torch.zeros(4) for name in names}  # flipped, flipped anyway, preserved, images
    for image, mask in batches:
        plain = judge(model.inpaint(image, mask)) > 0.5
        original = judge(image) > 0.5
        for name, index in indices.items():
            requested = ~original[:, index]  # the opposite of what the face shows
            read = torch.empty_like(plain)
            for value in (False, True):
                rows = requested == value
                if rows.any():
                    overrides = {"attribute": {name: float(value)}}
                    read[rows] = judge(model.inpaint(image[rows], mask[rows], overrides=overrides)) > 0.5
            others = torch.ones(plain.shape[1], dtype=torch.bool)
            others[index] = False
            totals[name] += torch.tensor(
                [
                    (read[:, index] == requested).sum(),
                    (plain[:, index] == requested).sum(),
                    (read[:, others] == plain[:, others]).float().mean(dim=1).sum(),
                    len(image),
                ],
                dtype=torch.float32,
            )
    return {
        name: AttributeControl(
            flip_rate=float(t[0] / t[3]),
            without_request=float(t[1] / t[3]),
            preserved=float(t[2] / t[3]),
            images=int(t[3]),
        )
        for name, t in totals.items()
    }

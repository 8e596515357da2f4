"""One discriminator trunk for realness and every condition, instead of one network each.

The paper judges realness and each condition with a discriminator of its own, each a full
convolutional trunk: with two conditions, three trunks run on every image, and the D step
runs the attribute one twice on the real images. Here one trunk φ serves them all:

- the *global head* scores realness from φ's last features: exactly the ``conv``
  discriminator's architecture (stride-2 5 × 5 convolutions down to M2 × M2, then a linear
  layer);
- a *vector* condition adds a projection head (Miyato & Koyama 2018):
  ``ψ_c(φ(x)) + ⟨V_c y, Σ_xy φ(x)⟩``, so the signal meets the features only through a product;
- a *map* condition joins the trunk's features at side ``map_size`` (the map area-resized to
  it), and its own short stack of stride-2 3 × 3 convolutions takes the pair down to M2 × M2
  for a linear head: the map still meets spatial features, at a fraction of a trunk's cost
  (the features' share of the joining convolution runs once per image, not once per pair).

Heads are added per condition by the model (:meth:`SharedTrunkDiscriminator.add_matching_head`);
``forward(image, signals=..., pairing=...)`` runs the trunk once and scores realness and every
condition from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import torch
import torch.nn.functional as F
from einops import rearrange
from pydantic import Field
from torch import Tensor, nn

from semantic_inpaint.core import ConditionalDiscriminator, SignalSpec
from semantic_inpaint.models.blocks import log2_exact, scaled_width, strided_convolutions, trunk_levels
from semantic_inpaint.validation import check_image, check_pairing, check_signal, check_square


class VectorMatchingHead(nn.Module):
    """Projection head: ``ψ(φ) + ⟨V y, Σ_xy φ⟩`` for trunk features ``φ`` ``(B, C, M2, M2)``
    and a vector signal ``y`` ``(B, N)`` in ``[0, 1]``; returns ``(B,)`` logits."""

    def __init__(self, signal_channels: int, feature_channels: int, feature_size: int) -> None:
        super().__init__()
        self.unconditional = nn.Linear(feature_channels * feature_size**2, 1)
        self.projection = nn.Linear(signal_channels, feature_channels, bias=False)

    def forward(self, features: Tensor, vector: Tensor) -> Tensor:
        logits = self.unconditional(rearrange(features, "b c h w -> b (c h w)"))[:, 0]
        return logits + (self.projection(vector.to(features.dtype)) * features.sum(dim=(2, 3))).sum(dim=1)


class MapMatchingHead(nn.Module):
    """Concatenation head: a map ``(P, K, H, W)`` area-resized to the trunk's features at the
    joining level ``(B, C, h, h)``, concatenated with the features of its image, then stride-2
    3 × 3 convolutions down to M2 × M2 and a linear layer; returns ``(P,)`` logits.

    The first convolution over ``[features | map]`` is the sum of one over the features and one
    over the map (zero padding keeps it linear), so the features' part runs once per image and
    is indexed by ``pairing``; only the map's few channels are convolved once per pair.
    """

    def __init__(
        self, signal_channels: int, feature_channels: int, width: int, levels: range, feature_size: int
    ) -> None:
        super().__init__()
        self.feature_channels = feature_channels
        self.tail, channels = strided_convolutions(feature_channels + signal_channels, width, levels, kernel_size=3)
        self.head = nn.Linear(channels * feature_size**2, 1)

    def forward(self, features: Tensor, part_map: Tensor, pairing: Tensor | None = None) -> Tensor:
        resized = F.adaptive_avg_pool2d(part_map.to(features.dtype), features.shape[-2:])
        if not self.tail:  # joined at M2 already: the linear layer reads the pair directly
            paired = features if pairing is None else features[pairing]
            return self.head(rearrange(torch.cat([paired, resized], dim=1), "b c h w -> b (c h w)"))[:, 0]
        joining, *rest = self.tail
        convolution = joining[0]
        from_features, from_map = convolution.weight.split(
            [self.feature_channels, convolution.in_channels - self.feature_channels], dim=1
        )
        joined = F.conv2d(features, from_features, convolution.bias, convolution.stride, convolution.padding)
        if pairing is not None:
            joined = joined[pairing]
        joined = joined + F.conv2d(resized, from_map, None, convolution.stride, convolution.padding)
        for layer in [*joining[1:], *rest]:
            joined = layer(joined)
        return self.head(rearrange(joined, "b c h w -> b (c h w)"))[:, 0]


class SharedTrunkDiscriminator(ConditionalDiscriminator):
    """The global discriminator with one matching head per condition on the same trunk.

    Use it as the model's ``discriminator`` (``{name: shared_trunk}``); the model adds a
    head for each condition with a weight, and the conditions build no discriminator of
    their own. Called as a plain discriminator it scores realness only.

    Args:
        resolution: input size in pixels.
        signal: must be ``None``: this discriminator takes its conditions as heads.
        width: channels of the first layer (doubling per level up to ``8 * width``); default
            scaled with the resolution.
        condition_stride: total downsampling of the trunk; M2 = resolution / condition_stride.
        map_size: side of the trunk's features where a map signal joins (a power of two
            between M2 and resolution / 2).

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]`` with ``H = W = resolution``
        - signals: per head, ``(P, N)`` vectors or ``(P, K, H, W)`` maps, one row per entry of
          ``pairing`` (default: one per image)
        - output: ``(B,)`` realness logits; with ``signals``, also ``{name: (P,) logits}``

    Examples:
        >>> d = SharedTrunkDiscriminator(resolution=32, width=4)
        >>> d.add_matching_head(SignalSpec("attribute", "vector", 5))
        >>> d.add_matching_head(SignalSpec("segmentation", "map", 3))
        >>> image = torch.zeros(2, 3, 32, 32)
        >>> signals = {"attribute": torch.rand(3, 5), "segmentation": torch.rand(3, 3, 32, 32)}
        >>> realness, matching = d(image, signals=signals, pairing=torch.tensor([0, 1, 0]))
        >>> realness.shape, matching["segmentation"].shape
        (torch.Size([2]), torch.Size([3]))
    """

    def __init__(
        self,
        *,
        resolution: int,
        signal: SignalSpec | None = None,
        width: Annotated[int, Field(ge=4, le=512)] | None = None,
        condition_stride: Annotated[int, Field(ge=2, le=256)] = 64,
        map_size: Annotated[int, Field(ge=1, le=1024)] = 8,
    ) -> None:
        if signal is not None:
            raise ValueError(
                f"signal: the shared_trunk discriminator judges conditions with heads on its own trunk; use it as "
                f"the model's discriminator and leave the conditions' discriminator unset, received {signal.name!r}"
            )
        super().__init__(None)
        width = width or scaled_width(resolution)
        self.width, self.condition_stride, self.map_size = width, condition_stride, map_size
        self.resolution = resolution
        levels, self.feature_size = trunk_levels(resolution, condition_stride)
        if not self.feature_size <= map_size <= resolution // 2:
            raise ValueError(
                f"map_size: expected a power of two between M2 = {self.feature_size} and resolution / 2 = "
                f"{resolution // 2}, received {map_size}"
            )
        joining_level = log2_exact(resolution, "resolution") - log2_exact(map_size, "map_size")
        self.stem, self.stem_channels = strided_convolutions(3, width, range(joining_level))
        self.tail_levels = range(joining_level, levels)
        self.tail, channels = strided_convolutions(self.stem_channels, width, self.tail_levels)
        self.feature_channels = channels
        self.head = nn.Linear(channels * self.feature_size**2, 1)
        self.matching_heads = nn.ModuleDict()
        self.signals: dict[str, SignalSpec] = {}

    def add_matching_head(self, signal: SignalSpec) -> None:
        """Add the head that judges whether an image matches ``signal``'s values."""
        if signal.kind == "vector":
            head: nn.Module = VectorMatchingHead(signal.channels, self.feature_channels, self.feature_size)
        else:
            head = MapMatchingHead(signal.channels, self.stem_channels, self.width, self.tail_levels, self.feature_size)
        self.matching_heads[signal.name] = head
        self.signals[signal.name] = signal

    def score(self, image: Tensor, condition: Tensor | None) -> Tensor:
        check_square(image, self.resolution)
        return self._realness(self.tail(self.stem(image)))

    def _realness(self, features: Tensor) -> Tensor:
        return self.head(rearrange(features, "b c h w -> b (c h w)"))[:, 0]

    def forward(
        self,
        image: Tensor,
        condition: Tensor | None = None,
        pairing: Tensor | None = None,
        signals: Mapping[str, Tensor] | None = None,
    ) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
        """Realness logits; with ``signals``, one trunk pass gives ``(realness, {name: matching})``."""
        if signals is None:
            return super().forward(image, condition, pairing)
        return self.judge(image, signals, pairing)

    def judge(
        self, image: Tensor, signals: Mapping[str, Tensor], pairing: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Realness of every image and, per named head, how well ``image[pairing]`` matches its signal."""
        check_image(image, "image")
        check_square(image, self.resolution)
        rows = check_pairing(pairing, image.shape[0])
        for name, value in signals.items():
            if name not in self.signals:
                raise ValueError(f"signals: no matching head named {name!r}; the heads are {sorted(self.signals)}")
            spec = self.signals[name]
            check_signal(value, f"signals[{name!r}]", kind=spec.kind, channels=spec.channels, batch=rows)
        stem = self.stem(image)
        features = self.tail(stem)
        paired_features = features if pairing is None else features[pairing]
        matching = {}
        for name, value in signals.items():
            head = self.matching_heads[name]
            if self.signals[name].kind == "vector":
                matching[name] = head(paired_features, value)
            else:
                matching[name] = head(stem, value, pairing)
        return self._realness(features), matching

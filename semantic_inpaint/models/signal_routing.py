"""Where each semantic signal enters a generator: concatenation (the paper) or modulation.

Every generator in the library takes the same map and vector signals through this one
router, so any backbone can be "boosted" by the attribute and segmentation conditions and
switched between the ways a signal enters with a config value:

- maps, ``"concat"``: concatenated with the masked image and mask at the input (the paper);
  ``"spade"``: a scale and shift per channel and position at every modulated block;
- vectors, ``"concat"``: replicated to the bottleneck's size and concatenated there (the
  paper's M1×M1×N tensor); ``"film"``: a scale and shift per channel at every modulated block.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from semantic_inpaint.core import SignalSpec
from semantic_inpaint.models.blocks import replicate_vector
from semantic_inpaint.models.modulation import FeatureModulation

VectorConditioning = Literal["concat", "film"]
MapConditioning = Literal["concat", "spade"]


class SignalRouting:
    """The signals of one generator and where they enter it.

    Args:
        signals: the generator's signal specs (maps and vectors, any order).
        vector_conditioning: ``"concat"`` at the bottleneck or ``"film"`` at every modulated block.
        map_conditioning: ``"concat"`` at the input or ``"spade"`` at every modulated block.

    Examples:
        >>> routing = SignalRouting((SignalSpec("a", "vector", 5), SignalSpec("s", "map", 3)))
        >>> routing.input_channels, routing.bottleneck_channels
        (7, 5)
        >>> SignalRouting((SignalSpec("a", "vector", 5),), vector_conditioning="film").bottleneck_channels
        0
    """

    def __init__(
        self,
        signals: Sequence[SignalSpec],
        vector_conditioning: VectorConditioning = "concat",
        map_conditioning: MapConditioning = "concat",
    ) -> None:
        self.map_signals = tuple(s for s in signals if s.kind == "map")
        self.vector_signals = tuple(s for s in signals if s.kind == "vector")
        self.map_channels = sum(s.channels for s in self.map_signals)
        self.vector_channels = sum(s.channels for s in self.vector_signals)
        self.concat_maps = map_conditioning == "concat"
        self.concat_vectors = vector_conditioning == "concat"

    @property
    def input_channels(self) -> int:
        """Channels of the network input: masked image (3) + mask (1) + concatenated maps."""
        return 4 + (self.map_channels if self.concat_maps else 0)

    @property
    def bottleneck_channels(self) -> int:
        """Extra channels the bottleneck receives: the concatenated vectors."""
        return self.vector_channels if self.concat_vectors else 0

    @property
    def modulates(self) -> bool:
        """Whether some signal enters by modulation (FiLM or SPADE)."""
        return bool((self.vector_channels and not self.concat_vectors) or (self.map_channels and not self.concat_maps))

    def maps(self, conditions: Mapping[str, Tensor], dtype: torch.dtype) -> Tensor | None:
        """The map signals stacked, ``(B, C, H, W)``, or ``None`` without any."""
        maps = [conditions[s.name].to(dtype) for s in self.map_signals]
        return torch.cat(maps, dim=1) if maps else None

    def vectors(self, conditions: Mapping[str, Tensor], dtype: torch.dtype) -> Tensor | None:
        """The vector signals stacked, ``(B, N)``, or ``None`` without any."""
        vectors = [conditions[s.name].to(dtype) for s in self.vector_signals]
        return torch.cat(vectors, dim=1) if vectors else None

    def network_input(self, masked_image: Tensor, mask: Tensor, conditions: Mapping[str, Tensor]) -> Tensor:
        """``(B, input_channels, H, W)``: masked image, mask and (when concatenated) the maps."""
        maps = self.maps(conditions, masked_image.dtype) if self.concat_maps else None
        return torch.cat([masked_image, mask, *([maps] if maps is not None else [])], dim=1)

    def join_bottleneck(self, features: Tensor, conditions: Mapping[str, Tensor]) -> Tensor:
        """``features`` with the vectors replicated over its positions (when concatenated)."""
        vectors = self.vectors(conditions, features.dtype) if self.concat_vectors else None
        if vectors is None:
            return features
        return torch.cat([features, replicate_vector(vectors, *features.shape[-2:])], dim=1)

    def modulations(self, channels: Sequence[int]) -> nn.ModuleList | None:
        """One :class:`FeatureModulation` per modulated block of ``channels`` features, or ``None``
        when every signal is concatenated."""
        if not self.modulates:
            return None
        film = 0 if self.concat_vectors else self.vector_channels
        spade = 0 if self.concat_maps else self.map_channels
        return nn.ModuleList(FeatureModulation(c, film, spade) for c in channels)

    def modulate(self, modulation: FeatureModulation, features: Tensor, conditions: Mapping[str, Tensor]) -> Tensor:
        """``features`` scaled and shifted by the modulated signals."""
        vectors = None if self.concat_vectors else self.vectors(conditions, features.dtype)
        maps = None if self.concat_maps else self.maps(conditions, features.dtype)
        return modulation(features, vectors, maps)

    def modulator(
        self, modulations: nn.ModuleList | None, conditions: Mapping[str, Tensor]
    ) -> Callable[[Tensor], Tensor]:
        """A function that modulates each block's features in turn by the next of ``modulations``
        (the identity when every signal is concatenated)."""
        if modulations is None:
            return lambda features: features
        remaining = iter(modulations)
        return lambda features: self.modulate(next(remaining), features, conditions)

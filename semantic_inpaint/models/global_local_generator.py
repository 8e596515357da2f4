"""The completion network of Globally and Locally Consistent Image Completion (Iizuka et al. 2017).

GL's own design: two stride-2 convolutions (64×64 features at 256 px), dilated convolutions
2, 4, 8, 16 at that size, two upsamplings back. The boosted GAN's reference generator is this
network pushed to stride 16 (:class:`~semantic_inpaint.models.generator.DilatedGenerator`);
this is the same code at GL's stride 4, so the two differ in exactly that choice.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from semantic_inpaint.core import SignalSpec
from semantic_inpaint.models.blocks import Normalization
from semantic_inpaint.models.generator import DilatedGenerator
from semantic_inpaint.models.signal_routing import MapConditioning, VectorConditioning


class GlobalLocalGenerator(DilatedGenerator):
    """GL's completion network: :class:`DilatedGenerator` at GL's stride 4.

    Args:
        resolution: training size in pixels (a multiple of ``bottleneck_stride``).
        signals: the semantic signals it is conditioned on (empty: GL itself).
        width: channels of the first layer (GL's 64 at 256 px; default scaled with the resolution).
        bottleneck_stride: total downsampling: GL's 4 (64×64 features at 256 px).
        dilations: dilation rates of the bottleneck convolutions (GL's 2, 4, 8, 16).
        norm: ``"batch"`` (GL), ``"group"`` or ``"none"``.
        vector_conditioning: ``"concat"`` (replicated at the bottleneck) or ``"film"``.
        map_conditioning: ``"concat"`` (at the input) or ``"spade"``.

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]``, mask ``(B, 1, H, W)`` in ``{0, 1}``
        - output: ``(B, 3, H, W)`` in ``[-1, 1]``

    Examples:
        >>> import torch
        >>> g = GlobalLocalGenerator(resolution=32, width=8)
        >>> g.encoder(torch.zeros(1, 4, 32, 32)).shape  # 8×8 features at 32 px: stride 4
        torch.Size([1, 32, 8, 8])
    """

    def __init__(
        self,
        *,
        resolution: int,
        signals: tuple[SignalSpec, ...] = (),
        width: Annotated[int, Field(ge=4, le=512)] | None = None,
        bottleneck_stride: Annotated[int, Field(ge=2, le=64)] = 4,
        dilations: tuple[Annotated[int, Field(ge=1, le=64)], ...] = (2, 4, 8, 16),
        norm: Normalization = "batch",
        vector_conditioning: VectorConditioning = "concat",
        map_conditioning: MapConditioning = "concat",
    ) -> None:
        super().__init__(
            resolution=resolution,
            signals=signals,
            width=width,
            bottleneck_stride=bottleneck_stride,
            dilations=dilations,
            norm=norm,
            vector_conditioning=vector_conditioning,
            map_conditioning=map_conditioning,
        )

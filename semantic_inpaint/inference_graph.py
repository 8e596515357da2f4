"""The network inference runs: a model's embedders and generator and the compositing step.

:class:`InpaintingGraph` is what :class:`~semantic_inpaint.inference.Inpainter` calls (as a
fast copy: BatchNorm folded, channels-last) and what ONNX and TorchScript files hold.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from semantic_inpaint.core import OverrideWhere, Strength, apply_overrides, composite
from semantic_inpaint.folding import fold_batchnorm
from semantic_inpaint.model import BoostedGAN, conditions_summary
from semantic_inpaint.poisson_blend import blend_in_window


class InpaintingGraph(nn.Module):
    """Embedders + generator + compositing of a model, with nothing of its training (no
    discriminators, no input checks): what an exported file runs.

    ``blend_iterations`` > 0: the fill is Poisson-blended into the known pixels before
    compositing, with that many conjugate-gradient steps over the whole image (a fixed count,
    so that the graph can be exported; :class:`~semantic_inpaint.inference.Inpainter` blends
    itself, inside the hole's box, until converged).

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]``
        - mask: ``(B, 1, H, W)`` in ``{0, 1}``, 1 where pixels are missing
        - output: ``(B, 3, H, W)`` in ``[-1, 1]``, the known pixels unchanged

    Examples:
        >>> from semantic_inpaint.inference import Inpainter
        >>> model = Inpainter.from_pretrained("celebahq64-none", device="cpu").model
        >>> graph = InpaintingGraph(model)
        >>> image, mask = torch.rand(2, 3, 64, 64) * 2 - 1, torch.zeros(2, 1, 64, 64)
        >>> mask[..., 16:48, 16:48] = 1
        >>> torch.equal(graph(image, mask), model.inpaint(image, mask))
        True
    """

    def __init__(self, model: BoostedGAN, blend_iterations: int = 0) -> None:
        super().__init__()
        self.blend_iterations = blend_iterations
        self.generator = model.generator
        self.embedders = nn.ModuleDict({name: condition.embedder for name, condition in model.condition_items()})
        self.resolution = model.config.resolution
        self.size_multiple = model.generator.size_multiple
        self.conditions = conditions_summary(model.config)
        self.eval()

    def predict(
        self,
        image: Tensor,
        mask: Tensor,
        overrides: Mapping[str, Any] | None = None,
        where: OverrideWhere = "hole",
        strength: Strength = 1.0,
    ) -> Tensor:
        """The generator's raw output ``z = G(x, Ws(x), Wa(x))`` with ``x = image·(1-mask)``
        (what :meth:`BoostedGAN.generate` computes, without its input checks), with a user's
        ``overrides`` of the predicted signals applied (see :meth:`SemanticEmbedder.override`)
        at ``strength`` (see :func:`~semantic_inpaint.core.apply_overrides`)."""
        masked = image * (1 - mask)
        conditions = {name: embedder(masked) for name, embedder in self.embedders.items()}
        if overrides:
            conditions = apply_overrides(dict(self.embedders.items()), conditions, overrides, mask, where, strength)
        return self.generator.predict(masked, mask, conditions)

    def forward(self, image: Tensor, mask: Tensor) -> Tensor:
        prediction = self.predict(image, mask)
        if self.blend_iterations:
            prediction = blend_in_window(prediction, image, mask, self.blend_iterations)
        return composite(prediction, image, mask)

    @classmethod
    def fast_copy(cls, model: BoostedGAN, *, channels_last: bool = True) -> InpaintingGraph:
        """A copy of ``model``'s inference parts with BatchNorm folded into the convolutions and,
        by default, channels-last weights: the same outputs to float rounding (≤ 1e-5), faster.
        ``model`` itself is left as it is."""
        graph = copy.deepcopy(cls(model))
        fold_batchnorm(graph)
        return graph.to(memory_format=torch.channels_last) if channels_last else graph

    def example_inputs(self, batch: int = 2) -> tuple[Tensor, Tensor]:
        """An image and a centred-square mask at the model's resolution, to trace with."""
        device = next(self.parameters()).device
        side = self.resolution
        image = torch.zeros(batch, 3, side, side, device=device)
        mask = torch.zeros(batch, 1, side, side, device=device)
        mask[..., side // 4 : 3 * side // 4, side // 4 : 3 * side // 4] = 1
        return image, mask

"""A trained inpainter as an ONNX or TorchScript file, runnable without this library.

The exported graph is what :meth:`BoostedGAN.inpaint` computes: the embedders read the
masked image, the generator fills the hole, and the fill is composited into the known
pixels. Inputs are ``image`` ``(B, 3, H, W)`` float32 in ``[-1, 1]`` and ``mask``
``(B, 1, H, W)`` float32 in ``{0, 1}`` (1 = missing); the output ``inpainted`` is
``(B, 3, H, W)`` in ``[-1, 1]``. The batch is dynamic; in the ONNX file the height and width
are too (multiples of :attr:`InpaintingGraph.size_multiple`), but the model is trained at
one resolution (:attr:`InpaintingGraph.resolution`) and fills best there.

ONNX needs ``pip install "semantic-inpaint[export]"`` (onnx, onnxscript, onnxruntime).
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from semantic_inpaint.core import composite
from semantic_inpaint.io import atomic_path
from semantic_inpaint.model import BoostedGAN, conditions_summary

PortableFormat = Literal["onnx", "torchscript"]
#: the ONNX operator set the files are written with (onnxruntime ≥ 1.18 runs it)
ONNX_OPSET = 18
#: the largest side the ONNX file's dynamic height and width admit
MAX_SIDE = 8192


class InpaintingGraph(nn.Module):
    """Embedders + generator + compositing of a model, with nothing of its training (no
    discriminators, no input checks): what an exported file runs.

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

    def __init__(self, model: BoostedGAN) -> None:
        super().__init__()
        self.generator = model.generator
        self.embedders = nn.ModuleDict({name: condition.embedder for name, condition in model.condition_items()})
        self.resolution = model.config.resolution
        self.size_multiple = model.generator.size_multiple
        self.conditions = conditions_summary(model.config)
        self.eval()

    def forward(self, image: Tensor, mask: Tensor) -> Tensor:
        masked = image * (1 - mask)
        conditions = {name: embedder(masked) for name, embedder in self.embedders.items()}
        return composite(self.generator.predict(masked, mask, conditions), image, mask)

    def example_inputs(self, batch: int = 2) -> tuple[Tensor, Tensor]:
        """An image and a centred-square mask at the model's resolution, to trace with."""
        device = next(self.parameters()).device
        side = self.resolution
        image = torch.zeros(batch, 3, side, side, device=device)
        mask = torch.zeros(batch, 1, side, side, device=device)
        mask[..., side // 4 : 3 * side // 4, side // 4 : 3 * side // 4] = 1
        return image, mask


def export_portable(model: BoostedGAN, output: str | Path, format: PortableFormat) -> Path:
    """Write ``model``'s inference graph to ``output`` as ONNX or TorchScript (float32, CPU).

    Args:
        model: a trained model (e.g. ``Inpainter.from_checkpoint(path).model``).
        output: the file to write (atomically).
        format: ``"onnx"`` (dynamic batch, height and width; metadata ``resolution``,
            ``size_multiple``, ``conditions``) or ``"torchscript"`` (dynamic batch, traced at
            the model's resolution; ``torch.jit.load`` runs it without this library).
    """
    graph = InpaintingGraph(model).to("cpu", torch.float32)
    with atomic_path(output) as temporary, torch.no_grad():
        if format == "onnx":
            _write_onnx(graph, temporary)
        elif format == "torchscript":
            with warnings.catch_warnings():  # each shape-dependent branch is a constant of the trace
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                torch.jit.trace(graph, graph.example_inputs()).save(str(temporary))
        else:
            raise ValueError(f"format: expected 'onnx' or 'torchscript', received {format!r}")
    return Path(output)


def _write_onnx(graph: InpaintingGraph, path: Path) -> None:
    for module in ("onnx", "onnxscript"):
        try:
            importlib.import_module(module)
        except ImportError:
            raise ModuleNotFoundError(
                f'format onnx: {module} is not installed: pip install "semantic-inpaint[export]"'
            ) from None
    batch = torch.export.Dim("batch", min=1, max=4096)
    blocks = MAX_SIDE // graph.size_multiple
    height = graph.size_multiple * torch.export.Dim("height_blocks", min=1, max=blocks)
    width = graph.size_multiple * torch.export.Dim("width_blocks", min=1, max=blocks)
    sizes = {0: batch, 2: height, 3: width}
    with warnings.catch_warnings():  # the exporter notes that image and mask share their axes: they should
        warnings.filterwarnings("ignore", message=".*shares the same shape constraints", category=UserWarning)
        program = _onnx_program(graph, sizes)
    program.model.metadata_props.update(
        resolution=str(graph.resolution), size_multiple=str(graph.size_multiple), conditions=graph.conditions
    )
    program.save(str(path), external_data=False)


def _onnx_program(graph: InpaintingGraph, sizes: dict[int, object]) -> torch.onnx.ONNXProgram:
    return torch.onnx.export(
        graph,
        graph.example_inputs(),
        input_names=["image", "mask"],
        output_names=["inpainted"],
        dynamic_shapes={"image": sizes, "mask": sizes},
        opset_version=ONNX_OPSET,
        dynamo=True,
        verbose=False,
    )

"""A trained inpainter as an ONNX or TorchScript file, runnable without this library.

The exported graph is what :meth:`BoostedGAN.inpaint` computes: the embedders read the
masked image, the generator fills the hole, and the fill is composited into the known
pixels; by default Poisson-blended into them first, as
:class:`~semantic_inpaint.inference.Inpainter` does (:data:`BLEND_STEPS_PER_PIXEL` times the
model's resolution conjugate-gradient steps over the whole image: converged at that
resolution, a partial blend on much larger inputs). Inputs are ``image`` ``(B, 3, H, W)``
float32 in ``[-1, 1]`` and ``mask`` ``(B, 1, H, W)`` float32 in ``{0, 1}`` (1 = missing); the
output ``inpainted`` is ``(B, 3, H, W)`` in ``[-1, 1]``. The batch is dynamic; in the ONNX file
the height and width are too (multiples of the generator's ``size_multiple``), but the model
is trained at one resolution (:attr:`InpaintingGraph.resolution`) and fills best there.

ONNX needs ``pip install "semantic-inpaint[export]"`` (onnx, onnxscript, onnxruntime).
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import Literal

import torch

from semantic_inpaint.inference_graph import InpaintingGraph
from semantic_inpaint.io import atomic_path
from semantic_inpaint.model import BoostedGAN

PortableFormat = Literal["onnx", "torchscript"]
#: the ONNX operator set the files are written with (onnxruntime ≥ 1.18 runs it)
ONNX_OPSET = 18
#: the largest side the ONNX file's dynamic height and width admit
MAX_SIDE = 8192
#: Poisson-blend steps in an exported graph per pixel of the model's resolution
BLEND_STEPS_PER_PIXEL = 1


def export_portable(
    model: BoostedGAN, output: str | Path, format: PortableFormat, blend: Literal["poisson", "none"] = "poisson"
) -> Path:
    """Write ``model``'s inference graph to ``output`` as ONNX or TorchScript (float32, CPU).

    Args:
        model: a trained model (e.g. ``Inpainter.from_checkpoint(path).model``).
        output: the file to write (atomically).
        format: ``"onnx"`` (dynamic batch, height and width; metadata ``resolution``,
            ``size_multiple``, ``conditions``) or ``"torchscript"`` (dynamic batch, traced at
            the model's resolution; ``torch.jit.load`` runs it without this library).
        blend: ``"poisson"``: the graph Poisson-blends the fill as ``Inpainter`` does;
            ``"none"``: the generator's output as it is.
    """
    if blend not in ("poisson", "none"):
        raise ValueError(f"blend: expected 'poisson' or 'none', received {blend!r}")
    steps = BLEND_STEPS_PER_PIXEL * model.config.resolution if blend == "poisson" else 0
    graph = InpaintingGraph(model, blend_iterations=steps).to("cpu", torch.float32)
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

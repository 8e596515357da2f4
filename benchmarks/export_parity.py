"""ONNX and TorchScript exports of the shipped models: parity with eager PyTorch and latency.

    python benchmarks/export_parity.py      # writes benchmarks/results/export_parity.json

Each shipped model is exported to both formats; parity is the max abs difference to eager
PyTorch running the same graph (float32, eval mode: the model's own ``inpaint`` with the
exported Poisson blend, :class:`InpaintingGraph`) over random images with centred
holes at batch 1 and 8, and for ONNX also at a size other than the training resolution.
Latency is the median of interleaved rounds at batch 32 (eager under ``inference_mode``,
onnxruntime with its default graph optimisations, TorchScript), in this process, with the
ratios taken within each round.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from inference_report import save_results  # a sibling script: python puts its folder on sys.path

from semantic_inpaint.inference import Inpainter
from semantic_inpaint.inference_graph import InpaintingGraph
from semantic_inpaint.portable_export import BLEND_STEPS_PER_PIXEL, export_portable

HERE = Path(__file__).resolve().parent


def batch_of(size: int, height: int, width: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(size, 3, height, width, generator=generator) * 2 - 1
    mask = torch.zeros(size, 1, height, width)
    mask[..., height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = 1
    return image, mask


def seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def measure(name: str, rounds: int) -> dict:
    model = Inpainter.from_pretrained(name, device="cpu").model
    side = model.config.resolution
    graph = InpaintingGraph(model, blend_iterations=BLEND_STEPS_PER_PIXEL * side)
    with tempfile.TemporaryDirectory() as folder:
        onnx_path = export_portable(model, Path(folder) / "model.onnx", "onnx")
        script = torch.jit.load(str(export_portable(model, Path(folder) / "model.pt", "torchscript")))
        session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])

    def run_onnx(image: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
        return session.run(None, {"image": image.numpy(), "mask": mask.numpy()})[0]

    parity = {"onnx": 0.0, "torchscript": 0.0}
    shapes = [(1, side, side), (8, side, side), (2, side * 3 // 2, side * 2)]
    for seed, (size, height, width) in enumerate(shapes):
        image, mask = batch_of(size, height, width, seed)
        with torch.inference_mode():
            eager = graph(image, mask)
            if height == width == side:
                parity["torchscript"] = max(parity["torchscript"], float((script(image, mask) - eager).abs().max()))
        parity["onnx"] = max(parity["onnx"], float(np.abs(run_onnx(image, mask) - eager.numpy()).max()))

    image, mask = batch_of(32, side, side, 99)
    runners = {
        "eager": lambda: graph(image, mask),
        "onnxruntime": lambda: run_onnx(image, mask),
        "torchscript": lambda: script(image, mask),
    }
    times: dict[str, list[float]] = {key: [] for key in runners}
    with torch.inference_mode():
        for run in runners.values():  # warm-up
            run()
        for _ in range(rounds):
            for key, run in runners.items():
                times[key].append(seconds(run))
    speedups = {
        key: statistics.median(e / t for e, t in zip(times["eager"], times[key], strict=True))
        for key in ("onnxruntime", "torchscript")
    }
    return {
        "max_abs_difference": parity,
        "shapes": shapes,
        "batch32_median_ms": {key: 1000 * statistics.median(values) for key, values in times.items()},
        "speedup_over_eager_median_of_rounds": speedups,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["celebahq64-full", "celebahq64-none"])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "export_parity.json")
    args = parser.parse_args()
    results = {
        "threads": torch.get_num_threads(),
        "onnxruntime": onnxruntime.__version__,
        "torch": torch.__version__,
        "models": {name: measure(name, args.rounds) for name in args.models},
    }
    save_results(results, args.output)


if __name__ == "__main__":
    main()

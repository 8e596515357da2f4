"""Inference latency of the shipped models: the model as trained (eager) against what
``Inpainter`` runs (BatchNorm folded, channels-last) and that compiled, in one run, with the
Poisson blend left out so that all three compute the same fill; ``inpainter_blended`` is
``Inpainter``'s default, the blend included (its fill differs from the others on purpose).

    python benchmarks/inference_speed.py      # writes benchmarks/results/inference_speed.json

At batch 1 and 32 (64 px, centred holes), medians of interleaved rounds after a warm-up
(compilation included in the warm-up, not in the rounds), speed-ups taken within each
round, and the max abs difference of each variant's fill to the eager model's.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from inference_report import save_results  # a sibling script: python puts its folder on sys.path

from semantic_inpaint.inference import Inpainter

HERE = Path(__file__).resolve().parent


def measure(name: str, batch: int, rounds: int) -> dict:
    fast = Inpainter.from_pretrained(name, device="cpu", blend="none")
    compiled = Inpainter.from_pretrained(name, device="cpu", compile=True, blend="none")
    blended = Inpainter.from_pretrained(name, device="cpu")
    side = fast.resolution
    generator = torch.Generator().manual_seed(batch)
    image = torch.rand(batch, 3, side, side, generator=generator) * 2 - 1
    mask = torch.zeros(batch, 1, side, side)
    mask[..., side // 4 : 3 * side // 4, side // 4 : 3 * side // 4] = 1
    runs: dict[str, Callable[[], torch.Tensor]] = {
        "eager": lambda: fast.model.inpaint(image, mask),
        "inpainter": lambda: fast.inpaint_tensor(image, mask),
        "inpainter_compiled": lambda: compiled.inpaint_tensor(image, mask),
        "inpainter_blended": lambda: blended.inpaint_tensor(image, mask),
    }
    times: dict[str, list[float]] = {key: [] for key in runs}
    with torch.inference_mode():
        reference = runs["eager"]()
        difference = {key: float((run() - reference).abs().max()) for key, run in runs.items()}  # warm-up too
        for _ in range(rounds):
            for key, run in runs.items():
                started = time.perf_counter()
                run()
                times[key].append(time.perf_counter() - started)
    return {
        "batch": batch,
        "median_ms": {key: 1000 * statistics.median(values) for key, values in times.items()},
        "speedup_over_eager": {
            key: statistics.median(e / t for e, t in zip(times["eager"], values, strict=True))
            for key, values in times.items()
            if key != "eager"
        },
        "max_abs_difference": difference,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="celebahq64-full")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "inference_speed.json")
    args = parser.parse_args()
    results = {
        "model": args.model,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "batches": [measure(args.model, batch, args.rounds) for batch in (1, 32)],
    }
    save_results(results, args.output)


if __name__ == "__main__":
    main()

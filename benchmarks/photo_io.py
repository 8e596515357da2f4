"""Time spent outside the model when inpainting a large photo, against a plain-PyTorch twin.

    python benchmarks/photo_io.py      # writes benchmarks/results/photo_io.json

A 2048 × 1536 uint8 photo with one hole (96 × 96, and 400 × 500) goes through
``Inpainter.inpaint`` as a numpy array and as a PIL image; the model call is timed apart, so
"outside" is everything else: checks, conversions, resizing in and out, compositing. The twin
is the straightforward version: the whole photo to float, resized, the prediction resized back
to the whole photo, composited everywhere, converted back whole. Medians over interleaved
rounds, ratios taken within each round.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from inference_report import save_results  # a sibling script: python puts its folder on sys.path
from PIL import Image

from semantic_inpaint.inference import Inpainter

HERE = Path(__file__).resolve().parent


HEIGHT, WIDTH = 1536, 2048


def twin(inpainter: Inpainter, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The whole-photo path: what inpainting a large photo costs without working on the hole's box."""
    side = inpainter.resolution
    tensor = torch.from_numpy(image.copy()).float().div(127.5).sub(1).permute(2, 0, 1)[None]
    hole = torch.from_numpy((mask > 0).astype(np.float32))[None, None]
    small = F.interpolate(tensor, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
    small_hole = (F.interpolate(hole, size=(side, side), mode="area") > 0).float()
    prediction = inpainter.model.generate(small, small_hole)
    prediction = F.interpolate(prediction, size=image.shape[:2], mode="bilinear", align_corners=False)
    result = torch.where(hole > 0, prediction, tensor)[0].permute(1, 2, 0).numpy()
    pixels = np.clip(np.round((result + 1) * 127.5), 0, 255).astype(np.uint8)
    known = mask == 0
    pixels[known] = image[known]
    return pixels


def measure(inpainter: Inpainter, hole: tuple[int, int], rounds: int) -> dict:
    image = np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    top, left = (HEIGHT - hole[0]) // 2, (WIDTH - hole[1]) // 2
    mask[top : top + hole[0], left : left + hole[1]] = 255
    photo, hole_image = Image.fromarray(image), Image.fromarray(mask)
    model_seconds: list[float] = []
    predict = inpainter._predict  # the network call, timed apart from everything around it

    def timed_predict(*args: object) -> torch.Tensor:
        started = time.perf_counter()
        result = predict(*args)
        model_seconds.append(time.perf_counter() - started)
        return result

    inpainter._predict = timed_predict  # type: ignore[method-assign]
    generate = inpainter.model.generate  # the twin's network call

    def timed_generate(*args: object, **kwargs: object) -> torch.Tensor:
        started = time.perf_counter()
        result = generate(*args, **kwargs)
        model_seconds.append(time.perf_counter() - started)
        return result

    inpainter.model.generate = timed_generate  # type: ignore[method-assign]
    paths = {
        "library_numpy": lambda: inpainter.inpaint(image, mask),
        "library_pil": lambda: inpainter.inpaint(photo, hole_image),
        "twin_numpy": lambda: twin(inpainter, image, mask),
    }
    outside: dict[str, list[float]] = {name: [] for name in paths}
    with torch.inference_mode():
        for run in paths.values():
            run()  # warm-up
        for _ in range(rounds):
            for name, run in paths.items():
                model_seconds.clear()
                started = time.perf_counter()
                run()
                outside[name].append(time.perf_counter() - started - model_seconds[0])
    inpainter._predict, inpainter.model.generate = predict, generate  # type: ignore[method-assign]
    ratios = [t / n for t, n in zip(outside["twin_numpy"], outside["library_numpy"], strict=True)]
    return {
        "hole": list(hole),
        "outside_model_median_ms": {name: 1000 * statistics.median(values) for name, values in outside.items()},
        "twin_over_library_numpy": {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="celebahq64-full")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "photo_io.json")
    args = parser.parse_args()
    inpainter = Inpainter.from_pretrained(args.model, device="cpu")
    results = {
        "photo": [HEIGHT, WIDTH],
        "model": args.model,
        "threads": torch.get_num_threads(),
        "holes": [measure(inpainter, hole, args.rounds) for hole in ((96, 96), (400, 500))],
    }
    save_results(results, args.output)


if __name__ == "__main__":
    main()

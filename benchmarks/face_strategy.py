"""Faces in photos: the ``face`` strategy against ``crop`` and ``resize`` on faces that are not
centred, aligned or square.

    python benchmarks/face_strategy.py [--faces 100]

Each photo is 800 × 600: one held-out CelebA-HQ face (64 px images 24001.., never trained on,
bicubically enlarged to 256 px) turned by a random angle in [-30°, 30°], scaled to 160–300
px and pasted at a random place on a plain background, with a square hole over its mouth
(side 36 % of the face). The hole's PSNR against the original photo, with a 95 % bootstrap
interval, and the paired difference to ``crop``; the share of photos whose face was found;
and the median seconds per photo (2 CPU threads).
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from inference_report import save_results  # a sibling script: python puts its folder on sys.path
from PIL import Image

from semantic_inpaint.inference import Inpainter
from semantic_inpaint.statistics import difference, estimate, mean_statistic, resample_weights

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "celebahq" / "64" / "images"
FIRST = 24001
STRATEGIES = ("face", "crop", "resize")


def tilted_face_photo(face: Image.Image, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(600, 800, 3)`` uint8 photo of ``face`` turned, scaled and placed at random, and its
    ``(600, 800)`` float32 hole over the mouth."""
    angle, size = rng.uniform(-30, 30), int(rng.uniform(160, 300))
    turned = face.resize((256, 256), Image.Resampling.BICUBIC).convert("RGBA").resize((size, size))
    turned = turned.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    background = np.empty((600, 800, 3), np.uint8)
    background[:] = rng.integers(60, 200, 3)
    photo = Image.fromarray(background)
    left, top = int(rng.uniform(0, 800 - turned.width)), int(rng.uniform(0, 600 - turned.height))
    photo.paste(turned, (left, top), turned)
    theta = math.radians(angle)  # the mouth, 0.22 of the side below the face's centre, turned with it
    down = 0.22 * size
    x = left + turned.width / 2 + down * math.sin(theta)
    y = top + turned.height / 2 + down * math.cos(theta)
    half = int(0.18 * size)
    hole = np.zeros((600, 800), np.float32)
    hole[int(y) - half : int(y) + half, int(x) - half : int(x) + half] = 1
    return np.asarray(photo), hole


def hole_psnr(filled: np.ndarray, photo: np.ndarray, hole: np.ndarray) -> float:
    error = (filled.astype(np.float64) - photo.astype(np.float64))[hole > 0] / 255
    return -10 * math.log10(float(np.mean(error**2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=100)
    parser.add_argument("--model", default="celebahq64-full")
    args = parser.parse_args()
    inpainter = Inpainter.from_pretrained(args.model, device="cpu")
    rng = np.random.default_rng(0)
    scores: dict[str, list[float]] = {name: [] for name in STRATEGIES}
    seconds: dict[str, list[float]] = {name: [] for name in STRATEGIES}
    found, identical = 0, True
    for index in range(FIRST, FIRST + args.faces):
        photo, hole = tilted_face_photo(Image.open(DATA / f"{index}.jpg").convert("RGB"), rng)
        for name in STRATEGIES:
            started = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                filled = inpainter.inpaint(photo, hole, strategy=name)
            seconds[name].append(time.perf_counter() - started)
            if name == "face":
                found += not any("no face found" in str(warning.message) for warning in caught)
            identical &= bool(np.array_equal(filled[hole == 0], photo[hole == 0]))
            scores[name].append(hole_psnr(filled, photo, hole))
    weights = resample_weights(args.faces)
    means = {name: mean_statistic(torch.tensor(v)) for name, v in scores.items()}
    results = {
        "model": args.model,
        "faces": args.faces,
        "threads": torch.get_num_threads(),
        "found_share": found / args.faces,
        "known_pixels_identical": identical,
        "strategies": {
            name: {
                "hole_psnr": estimate(means[name], weights),
                "minus_crop": estimate(difference(means[name], means["crop"]), weights),
                "median_seconds": float(np.median(seconds[name])),
            }
            for name in STRATEGIES
        },
    }
    save_results(results, HERE / "results" / "face_strategy.json")


if __name__ == "__main__":
    main()

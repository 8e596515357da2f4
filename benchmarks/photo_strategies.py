"""A hole in a large photo, filled by the ``resize`` and the ``crop`` strategies: detail and time.

    python benchmarks/photo_strategies.py [--data ../shared/data/celebahq/256/images] \
        [--models celebahq64-full celebahq128-full]

The photo is a 1024 × 768 collage of twelve 256 px CelebA-HQ faces (images 1–12: at 64 px
they are in the shipped models' training split; this measures scale and detail, not
accuracy), with one 96 × 96 hole over the middle of a face. Detail is the variance of the
Laplacian of the grey image inside the hole, divided by that of a 16 px ring of known pixels
around it (1 = as detailed as its surroundings; the original photo's own ratio is given too).
Time is the median of 5 calls of ``Inpainter.inpaint`` on the numpy photo. Then, in a fresh
process, ``crop`` on a 4000 × 3000 photo with five holes: its peak resident memory and time.
Each shipped model named by ``--models`` is measured on the same photo and hole.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from inference_report import save_results  # a sibling script: python puts its folder on sys.path
from PIL import Image

from semantic_inpaint.inference import Inpainter

HERE = Path(__file__).resolve().parent
HOLE = (336, 432, 336, 432)  # top, bottom, left, right: over the face at row 1, column 1
RING = 16


def collage(folder: Path) -> np.ndarray:
    faces = [np.asarray(Image.open(folder / f"{index}.jpg").convert("RGB")) for index in range(1, 13)]
    rows = [np.concatenate(faces[row * 4 : row * 4 + 4], axis=1) for row in range(3)]
    return np.concatenate(rows, axis=0)


def laplacian_variance(image: np.ndarray, region: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of the grey image over the pixels of ``region``."""
    grey = image.astype(np.float64) @ [0.299, 0.587, 0.114]
    laplacian = np.zeros_like(grey)
    laplacian[1:-1, 1:-1] = grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1]
    return float(laplacian[region].var())


#: run in a fresh process, so that its peak resident memory is the crop strategy's on a 12 MP photo
LARGE_PHOTO = """
import resource, time, numpy as np
from semantic_inpaint.inference import Inpainter
inpainter = Inpainter.from_pretrained(MODEL, device="cpu")
photo = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
mask = np.zeros((3000, 4000), np.uint8)
for top, left, side in ((200, 300, 120), (900, 2500, 300), (1800, 700, 80), (2500, 3400, 400), (1500, 1500, 200)):
    mask[top : top + side, left : left + side] = 255
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
filled = inpainter.inpaint(photo, mask, strategy="crop")
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak / 1024, before / 1024, seconds, bool(np.array_equal(filled[mask == 0], photo[mask == 0])))
"""


def large_photo(model: str) -> dict:
    """Peak memory and time of ``crop`` on a 4000 × 3000 photo with five holes, in a fresh process."""
    script = LARGE_PHOTO.replace("MODEL", repr(model))
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    peak, before, seconds, identical = output.split()
    return {
        "photo": [3000, 4000],
        "holes": 5,
        "peak_resident_mib": float(peak),
        "resident_before_mib": float(before),
        "seconds": float(seconds),
        "known_pixels_identical": identical == "True",
    }


def measure(model: str, photo: np.ndarray, mask: np.ndarray, inner: np.ndarray, ring: np.ndarray, output: Path) -> dict:
    """Detail, time and known-pixel identity of ``resize`` and ``crop`` with one shipped model."""
    hole = mask > 0
    top, bottom, left, right = HOLE
    inpainter = Inpainter.from_pretrained(model, device="cpu")
    results: dict = {"resolution": inpainter.resolution, "strategies": {}}
    for strategy in ("resize", "crop"):
        filled = inpainter.inpaint(photo, mask, strategy=strategy)
        seconds = []
        for _ in range(5):
            started = time.perf_counter()
            inpainter.inpaint(photo, mask, strategy=strategy)
            seconds.append(time.perf_counter() - started)
        results["strategies"][strategy] = {
            "detail_ratio": laplacian_variance(filled, inner) / laplacian_variance(filled, ring),
            "median_seconds": statistics.median(seconds),
            "known_pixels_identical": bool(np.array_equal(filled[~hole], photo[~hole])),
        }
        Image.fromarray(filled[top - 64 : bottom + 64, left - 64 : right + 64]).save(
            output.with_name(f"{output.stem}_{model}_{strategy}.png")
        )
    results["large_photo"] = large_photo(model)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data", type=Path, default=HERE.parents[1] / "shared" / "data" / "celebahq" / "256" / "images"
    )
    parser.add_argument("--models", nargs="+", default=["celebahq64-full", "celebahq128-full"])
    parser.add_argument("--output", type=Path, default=HERE / "results" / "photo_strategies.json")
    args = parser.parse_args()
    photo = collage(args.data)
    mask = np.zeros(photo.shape[:2], np.uint8)
    top, bottom, left, right = HOLE
    mask[top:bottom, left:right] = 255
    hole = mask > 0
    ring = np.zeros_like(hole)
    ring[top - RING : bottom + RING, left - RING : right + RING] = True
    ring &= ~hole
    inner = np.zeros_like(hole)
    inner[top + 1 : bottom - 1, left + 1 : right - 1] = True  # the Laplacian inside, not across the seam
    results = {
        "photo": list(photo.shape[:2]),
        "hole": [bottom - top, right - left],
        "threads": torch.get_num_threads(),
        "original_detail_ratio": laplacian_variance(photo, inner) / laplacian_variance(photo, ring),
        "models": {model: measure(model, photo, mask, inner, ring, args.output) for model in args.models},
    }
    save_results(results, args.output)


if __name__ == "__main__":
    main()

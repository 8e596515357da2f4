"""A hole in a large photo, filled by the ``resize`` and the ``crop`` strategies, with and
without the context's residual detail: detail, accuracy and time.

    python benchmarks/photo_strategies.py [--data ../shared/data/celebahq/256/images] \
        [--models celebahq64-full celebahq128-full] [--faces 100]

The photo is a 1024 × 768 collage of twelve 256 px CelebA-HQ faces (images 1–12: at 64 px
they are in the shipped models' training split; this measures scale and detail, not
accuracy), with one 96 × 96 hole over the middle of a face. Detail is the variance of the
Laplacian of the grey image inside the hole, divided by that of a 16 px ring of known pixels
around it (1 = as detailed as its surroundings; the original photo's own ratio is given too).
Time is the median of 5 calls of ``Inpainter.inpaint`` on the numpy photo. Then, over
``--faces`` 256 px faces (images 1.., each a photo of its own with a 96 × 96 hole placed at
random within 32 px of its centre): the mean detail ratio and the hole's PSNR against the
original with 95 % bootstrap intervals, and the paired difference that the residual detail
makes. Then, in a fresh process, ``crop`` on a 4000 × 3000 photo with five holes: its peak
resident memory and time. Each shipped model named by ``--models`` is measured.
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
from face_strategy import hole_psnr  # sibling scripts: python puts their folder on sys.path
from inference_report import save_results
from PIL import Image

from semantic_inpaint.inference import Inpainter
from semantic_inpaint.statistics import difference, estimate, mean_statistic, resample_weights

HERE = Path(__file__).resolve().parent
HOLE = (336, 432, 336, 432)  # top, bottom, left, right: over the face at row 1, column 1
RING = 16
#: (strategy, detail) pairs measured
SETTINGS = [("resize", "none"), ("resize", "residual"), ("crop", "none"), ("crop", "residual")]


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
from semantic_inpaint.statistics import difference, estimate, mean_statistic, resample_weights
inpainter = Inpainter.from_pretrained(MODEL, device="cpu")
photo = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
mask = np.zeros((3000, 4000), np.uint8)
for top, left, side in ((200, 300, 120), (900, 2500, 300), (1800, 700, 80), (2500, 3400, 400), (1500, 1500, 200)):
    mask[top : top + side, left : left + side] = 255
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
filled = inpainter.inpaint(photo, mask, strategy="crop", detail=DETAIL)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak / 1024, before / 1024, seconds, bool(np.array_equal(filled[mask == 0], photo[mask == 0])))
"""


def large_photo(model: str, detail: str) -> dict:
    """Peak memory and time of ``crop`` on a 4000 × 3000 photo with five holes, in a fresh process."""
    script = LARGE_PHOTO.replace("MODEL", repr(model)).replace("DETAIL", repr(detail))
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


def regions(hole: tuple[int, int, int, int], shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hole ``(top, bottom, left, right)`` as a uint8 mask, the pixels inside it (not its
    border row) and a ring of ``RING`` known pixels around it."""
    top, bottom, left, right = hole
    mask = np.zeros(shape, np.uint8)
    mask[top:bottom, left:right] = 255
    ring = np.zeros(shape, bool)
    ring[max(0, top - RING) : bottom + RING, max(0, left - RING) : right + RING] = True
    ring &= mask == 0
    inner = np.zeros(shape, bool)
    inner[top + 1 : bottom - 1, left + 1 : right - 1] = True  # the Laplacian inside, not across the seam
    return mask, inner, ring


def detail_ratio(image: np.ndarray, inner: np.ndarray, ring: np.ndarray) -> float:
    return laplacian_variance(image, inner) / laplacian_variance(image, ring)


def face_photos(folder: Path, count: int) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """``count`` 256 px faces, each with a 96 px hole within 32 px of its centre (seeded)."""
    rng = np.random.default_rng(0)
    photos = []
    for index in range(1, count + 1):
        top, left = (80 + rng.integers(-32, 33, size=2)).tolist()
        face = np.asarray(Image.open(folder / f"{index}.jpg").convert("RGB"))
        photos.append((face, (top, top + 96, left, left + 96)))
    return photos


def over_faces(inpainter: Inpainter, photos: list) -> dict:
    """Mean detail ratio and hole PSNR of each setting over the face photos, with intervals,
    and what the residual detail changes, paired by photo."""
    scores: dict[str, dict[str, list[float]]] = {}
    for strategy, detail in SETTINGS:
        measured = scores[f"{strategy}+{detail}"] = {"detail_ratio": [], "hole_psnr": []}
        for photo, hole in photos:
            mask, inner, ring = regions(hole, photo.shape[:2])
            filled = inpainter.inpaint(photo, mask, strategy=strategy, detail=detail)
            measured["detail_ratio"].append(detail_ratio(filled, inner, ring))
            measured["hole_psnr"].append(hole_psnr(filled, photo, mask))
    weights = resample_weights(len(photos))
    means = {
        name: {metric: mean_statistic(torch.tensor(values)) for metric, values in measured.items()}
        for name, measured in scores.items()
    }
    results = {name: {metric: estimate(mean, weights) for metric, mean in means[name].items()} for name in means}
    for strategy in ("resize", "crop"):
        plain, detailed = means[f"{strategy}+none"], means[f"{strategy}+residual"]
        results[f"{strategy}+residual"]["minus_none"] = {
            metric: estimate(difference(detailed[metric], plain[metric]), weights) for metric in plain
        }
    return results


def measure(model: str, photo: np.ndarray, faces: list, output: Path) -> dict:
    """Detail, time and known-pixel identity of each setting with one shipped model."""
    mask, inner, ring = regions(HOLE, photo.shape[:2])
    hole = mask > 0
    top, bottom, left, right = HOLE
    inpainter = Inpainter.from_pretrained(model, device="cpu")
    results: dict = {"resolution": inpainter.resolution, "strategies": {}}
    for strategy, detail in SETTINGS:
        filled = inpainter.inpaint(photo, mask, strategy=strategy, detail=detail)
        seconds = []
        for _ in range(5):
            started = time.perf_counter()
            inpainter.inpaint(photo, mask, strategy=strategy, detail=detail)
            seconds.append(time.perf_counter() - started)
        results["strategies"][f"{strategy}+{detail}"] = {
            "detail_ratio": detail_ratio(filled, inner, ring),
            "median_seconds": statistics.median(seconds),
            "known_pixels_identical": bool(np.array_equal(filled[~hole], photo[~hole])),
        }
        Image.fromarray(filled[top - 64 : bottom + 64, left - 64 : right + 64]).save(
            output.with_name(f"{output.stem}_{model}_{strategy}_{detail}.png")
        )
    results["faces"] = over_faces(inpainter, faces)
    results["large_photo"] = {detail: large_photo(model, detail) for detail in ("none", "residual")}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data", type=Path, default=HERE.parents[1] / "shared" / "data" / "celebahq" / "256" / "images"
    )
    parser.add_argument("--models", nargs="+", default=["celebahq64-full", "celebahq128-full"])
    parser.add_argument("--faces", type=int, default=100, help="256 px faces for the mean detail and PSNR")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "photo_strategies.json")
    args = parser.parse_args()
    photo = collage(args.data)
    faces = face_photos(args.data, args.faces)
    _, inner, ring = regions(HOLE, photo.shape[:2])
    results = {
        "photo": list(photo.shape[:2]),
        "hole": [HOLE[1] - HOLE[0], HOLE[3] - HOLE[2]],
        "threads": torch.get_num_threads(),
        "original_detail_ratio": detail_ratio(photo, inner, ring),
        "faces": args.faces,
        "faces_original_detail_ratio": float(
            np.mean([detail_ratio(face, *regions(hole, face.shape[:2])[1:]) for face, hole in faces])
        ),
        "models": {model: measure(model, photo, faces, args.output) for model in args.models},
    }
    save_results(results, args.output)


if __name__ == "__main__":
    main()

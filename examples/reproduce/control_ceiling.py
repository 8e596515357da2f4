"""How often can *any* fill flip an attribute? Real faces' holes pasted into each face.

    python examples/reproduce/control_ceiling.py --model celebahq64-controllable

Issue 14 asks a controllable model to make the attribute embedder read the requested value
(the opposite of what it reads on the original) in at least 0.8 of faces with a centred
half-side hole. Only the hole may change: the hair, jaw and background around it stay, and the
embedder reads the whole picture. This script measures what real pixels achieve under that
constraint. For each face of a validation split (images 25001..25300 by default: never
trained on, not the evaluation split) and each attribute, donors are drawn from other
validation faces (25301..26000) that the same embedder reads as the requested value; the
donor's hole is pasted into the face and Poisson-blended as ``Inpainter`` blends a fill, and
the embedder reads the result. It prints per attribute the flip rate of one random donor (a
typical real fill of the requested kind) and of the best of ``--donors`` donors (a fill chosen
to look the part), each with its 95 % bootstrap interval over faces: over all faces, then
separately over the faces asked for the attribute (``Male=1``: a woman asked to look a man) and
those asked to lose it (``Male=0``), since a hole may add a trait less easily than remove it.
"""

from __future__ import annotations

import argparse

import torch
from common import cpu_inpainter, faces, run_script
from intervals import interval
from torch import Tensor

from semantic_inpaint.core import composite
from semantic_inpaint.masks import CenteredSquare
from semantic_inpaint.poisson_blend import poisson_blend
from semantic_inpaint.statistics import estimate, mean_statistic, resample_weights

#: images per embedder pass
CHUNK = 250


@torch.no_grad()
def read(embedder: torch.nn.Module, images: Tensor) -> Tensor:
    """The embedder's ``(N, A)`` attribute probabilities, in chunks."""
    return torch.cat([embedder(chunk) for chunk in images.split(CHUNK)])


def donor_flips(
    embedder: torch.nn.Module, images: Tensor, donors: Tensor, index: int, count: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """``(N, count)`` booleans: whether face ``n`` with the hole of its ``k``-th random donor of the
    requested value of attribute ``index`` (the opposite of the face's own reading) reads as requested;
    and ``(N,)`` the value each face was asked for."""
    hole = CenteredSquare(64)(len(images))
    requested = read(embedder, images)[:, index] <= 0.5
    donor_reads = read(embedder, donors)[:, index] > 0.5
    pools = {value: torch.nonzero(donor_reads == value).flatten() for value in (False, True)}
    flips = torch.empty(len(images), count, dtype=torch.bool)
    for draw in range(count):
        picks = {
            value: pool[torch.randint(len(pool), (len(images),), generator=generator)] for value, pool in pools.items()
        }
        pasted = composite(donors[torch.where(requested, picks[True], picks[False])], images, hole)
        flips[:, draw] = (read(embedder, poisson_blend(pasted, images, hole))[:, index] > 0.5) == requested
    return flips, requested


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model", default="celebahq64-controllable", help="shipped name, checkpoint or run (its embedder judges)"
    )
    parser.add_argument("--attributes", nargs="+", default=["Male", "Young", "Smiling", "Eyeglasses"])
    parser.add_argument("--faces", nargs=2, type=int, default=[25001, 25300], metavar=("FIRST", "LAST"))
    parser.add_argument("--donor-faces", nargs=2, type=int, default=[25301, 26000], metavar=("FIRST", "LAST"))
    parser.add_argument("--donors", type=int, default=20, help="donors drawn per face (best of them: the ceiling)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    embedder = cpu_inpainter(args.model).model.conditions["attribute"].embedder
    images, donors = faces(*args.faces), faces(*args.donor_faces)
    generator = torch.Generator().manual_seed(args.seed)
    print(f"{len(images)} faces, donors from {len(donors)}; judge: {args.model}'s attribute embedder")
    for name in args.attributes:
        flips, requested = donor_flips(embedder, images, donors, embedder.names.index(name), args.donors, generator)
        for label, rows in (("", torch.ones_like(requested)), ("=1", requested), ("=0", ~requested)):
            if not rows.any():
                continue
            chosen = flips[rows]
            weights = resample_weights(len(chosen), seed=args.seed)
            one = estimate(mean_statistic(chosen[:, 0].double()), weights)
            best = estimate(mean_statistic(chosen.any(dim=1).double()), weights)
            print(
                f"{name + label:<14} {len(chosen):>4} faces  one random donor {interval(one)}   "
                f"best of {args.donors} {interval(best)}"
            )


if __name__ == "__main__":
    run_script(main)

"""Look at the fills a request gives, not only at how often the embedder agrees.

    python examples/reproduce/control_sheet.py --model celebahq64-controllable --out sheet.png

A flip rate counts the fills that the attribute embedder reads as requested; a generator
trained against that embedder can also reach it with textures that fool it without showing
the attribute. This script draws the evidence a person judges by: for each of ``--count``
faces from ``--first`` (25001..: validation faces, never trained on, not the evaluation
split), one column of the original, the centred half-side hole, the fill with no request
and the fill with each of ``--attributes`` set to the opposite of what the model's attribute
embedder reads on the original (as ``07_measure_control.py`` asks), each filled through
``Inpainter`` as users run it, at ``--strength`` (1: the requested value). The sheet is scaled
``--zoom`` times, nearest neighbour.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from common import cpu_inpainter, faces, run_script, save_sheet

from semantic_inpaint.control_metrics import requested_fills
from semantic_inpaint.core import composite
from semantic_inpaint.masks import CenteredSquare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a shipped model's name, a checkpoint or a run folder")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--attributes", nargs="+", default=["Male", "Young", "Smiling", "Eyeglasses"])
    parser.add_argument("--first", type=int, default=25001)
    parser.add_argument("--count", type=int, default=6)
    parser.add_argument("--zoom", type=int, default=2)
    parser.add_argument("--strength", type=float, default=1.0, help="how hard each request pushes")
    args = parser.parse_args()
    inpainter = cpu_inpainter(args.model)
    resolution = inpainter.resolution
    images = faces(args.first, args.first + args.count - 1, resolution)
    hole = CenteredSquare(resolution, fraction=0.5)(len(images))
    embedder = inpainter.model.conditions["attribute"].embedder
    with torch.no_grad():
        reading = embedder(images) > 0.5
    rows = [images, composite(torch.ones_like(images), images, hole), inpainter.inpaint(images, hole)]
    for name in args.attributes:
        requested = ~reading[:, embedder.entry_index(name)]  # the opposite of what the face shows
        rows.append(
            requested_fills(
                lambda faces, holes, value, name=name: inpainter.inpaint(
                    faces, holes, attributes={name: value}, strength=args.strength
                ),
                images,
                hole,
                requested,
            )
        )
    save_sheet(rows, args.out, args.zoom)
    print(f"wrote {args.out}: rows original, hole, no request, " + ", ".join(f"{n} flipped" for n in args.attributes))


if __name__ == "__main__":
    run_script(main)

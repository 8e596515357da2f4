"""Can a texture fool an attribute embedder? Paint holes for one embedder, read them with another.

    python examples/reproduce/reader_probe.py \\
        --readers clean=runs/reproduce/small64/attribute.safetensors \\
        robust=runs/reproduce/small64/attribute_robust.safetensors --out probe.png

A consistency term pulls a fill toward what an embedder reads; if a faint texture moves that
reading, the generator learns the texture. This probe asks the question without a generator:
for each of ``--count`` validation faces (from ``--first``: 25001..: never trained on, not the
evaluation split) and each of ``--attributes``, it paints the centred half-side hole by
``--steps`` Adam steps of gradient ascent on the attribute's logit, toward the opposite of what
the first reader sees on the original, once per reader, then reports the share of paintings
that each reader reads as asked, and each reader's *pull* (:func:`hole_pull`: how strongly a
consistency term reading with it pushes on the hole's pixels). A reader whose paintings the
others also read as asked, and that others' paintings do not fool, follows what the hole shows.
The sheet has the originals in its first row, then one row per attribute and painting reader
(in the order printed).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from common import faces, load_reader, run_script, save_sheet
from torch import Tensor

from semantic_inpaint.config import ControlConfig
from semantic_inpaint.core import SemanticEmbedder, composite
from semantic_inpaint.masks import CenteredSquare
from semantic_inpaint.training.reading_views import ReadingViews


def read_logit(reader: SemanticEmbedder, images: Tensor, index: int, views: ReadingViews | None) -> Tensor:
    """``reader``'s logit ``index`` ``(B,)`` of ``images`` ``(B, 3, H, W)``, or with ``views`` its
    mean over random views of each image."""
    if views is None:
        return reader.logits(images)[:, index]
    return reader.logits(views(images))[:, index].unflatten(0, (views.count, -1)).mean(dim=0)


def painted_holes(
    reader: SemanticEmbedder,
    images: Tensor,
    hole: Tensor,
    index: int,
    asked: Tensor,
    steps: int,
    lr: float,
    views: ReadingViews | None = None,
) -> Tensor:
    """``images`` ``(B, 3, H, W)`` in ``[-1, 1]`` with their ``hole`` ``(B, 1, H, W)`` repainted
    by ``steps`` Adam steps that raise ``reader``'s logit ``index`` where ``asked`` ``(B,)`` is
    true and lower it elsewhere (with ``views``: its mean over random views of the painting, as
    a consistency term with ``consistency_views`` reads); known pixels unchanged, values kept in
    ``[-1, 1]``."""
    sign = asked.float() * 2 - 1
    paint = images.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([paint], lr=lr)
    for _ in range(steps):
        logit = read_logit(reader, composite(paint.clamp(-1, 1), images, hole), index, views)
        optimiser.zero_grad()
        (-(sign * logit).mean()).backward()
        optimiser.step()
    return composite(paint.detach().clamp(-1, 1), images, hole)


def hole_pull(
    reader: SemanticEmbedder,
    images: Tensor,
    hole: Tensor,
    index: int,
    asked: Tensor,
    views: ReadingViews | None = None,
) -> float:
    """How hard a consistency term reading with ``reader`` pulls on the hole: the mean over faces
    of the L2 norm, inside ``hole`` ``(B, 1, H, W)``, of the gradient with respect to ``images``
    ``(B, 3, H, W)`` in ``[-1, 1]`` of each face's binary cross-entropy between logit ``index``
    and ``asked`` ``(B,)``. A reader that hardly moves under small changes (a robust one) pulls
    less at the same term weight; read through ``views``, a term pulls only as far as its views agree."""
    pixels = images.clone().requires_grad_(True)
    logit = read_logit(reader, pixels, index, views)
    loss = F.binary_cross_entropy_with_logits(logit, asked.float(), reduction="sum")  # one face's loss each
    (gradient,) = torch.autograd.grad(loss, pixels)
    return (gradient * hole).flatten(1).norm(dim=1).mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", nargs="+", required=True, metavar="NAME=WEIGHTS", help="two or more embedders")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--report", type=Path, help="the JSON to write (default: beside the PNG)")
    parser.add_argument("--attributes", nargs="+", default=["Male", "Young", "Smiling", "Eyeglasses"])
    parser.add_argument("--first", type=int, default=25001)
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--shown", type=int, default=8, help="faces drawn on the sheet")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument(
        "--views",
        type=int,
        default=0,
        help="also paint for each reader through this many random views (ReadingViews, the control config's "
        "default shift, blur and noise): what a consistency term with consistency_views pulls toward",
    )
    args = parser.parse_args()
    malformed = [item for item in args.readers if "=" not in item]
    if len(args.readers) < 2 or malformed:
        parser.error(f"--readers: expected two or more NAME=WEIGHTS, received {args.readers}")
    readers = {name: load_reader(weights) for name, weights in (item.split("=", 1) for item in args.readers)}
    first = next(iter(readers.values()))
    painters: dict[str, tuple[SemanticEmbedder, ReadingViews | None]] = {
        name: (reader, None) for name, reader in readers.items()
    }
    if args.views:
        views = ReadingViews.of(ControlConfig(), count=args.views)
        painters |= {f"{name} through views": (reader, views) for name, reader in readers.items()}
    images = faces(args.first, args.first + args.count - 1, args.resolution)
    hole = CenteredSquare(images.shape[-1], fraction=0.5)(len(images))
    rows, report = [images[: args.shown]], {}
    for attribute in args.attributes:
        index = first.entry_index(attribute)
        with torch.no_grad():
            asked = first(images)[:, index] <= 0.5  # the opposite of what the first reader sees
        for painter, (reader, views) in painters.items():
            painted = painted_holes(reader, images, hole, index, asked, args.steps, args.lr, views)
            with torch.no_grad():
                read_as_asked = {
                    name: ((other(painted)[:, index] > 0.5) == asked).float().mean().item()
                    for name, other in readers.items()
                }
            change = (painted - images).square().mean().sqrt().item()
            pull = hole_pull(reader, images, hole, index, asked, views)
            report[f"{attribute}, painted for {painter}"] = {
                "read as asked": read_as_asked,
                "rms change": change,
                "pull": pull,
            }
            shares = ", ".join(f"{name} {share:.2f}" for name, share in read_as_asked.items())
            print(
                f"{attribute} painted for {painter}: read as asked by {shares} "
                f"(rms change {change:.3f}, pull {pull:.3f})"
            )
            rows.append(painted[: args.shown])
    save_sheet(rows, args.out, zoom=2)
    probe = {"faces": [args.first, args.first + args.count - 1], "steps": args.steps, "lr": args.lr}
    probe |= {"readers": dict(item.split("=", 1) for item in args.readers), "views": args.views, "results": report}
    (args.report or args.out.with_suffix(".json")).write_text(json.dumps(probe, indent=2) + "\n")


if __name__ == "__main__":
    run_script(main)

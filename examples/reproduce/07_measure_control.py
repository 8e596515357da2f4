"""Step 7: measure control: does a model's fill obey an attribute the user sets?

    python examples/reproduce/07_measure_control.py \\
        --config examples/reproduce/configs/small64/04_evaluate.yaml \\
        --models full=runs/reproduce/small64/gan/full/checkpoints/last.pt \\
        --attributes Male Smiling Eyeglasses --images 300

On the evaluation split of step 4's config, with its centred half-side hole, each face is
asked for the opposite of what the attribute embedder reads on the original (see
:func:`semantic_inpaint.control_metrics.attribute_control`). Writes ``control.json`` to the
config's results folder and prints the table: flip rate, the same share without a request,
and how many of the other attributes stay as they were.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import torch
from common import add_set_argument, build_dataset, hardware, write_json

from semantic_inpaint.config import EvaluationConfig, load_config
from semantic_inpaint.control_metrics import attribute_control
from semantic_inpaint.evaluation import batches
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.registry import get_registry


def first_faces(dataset, batch_size: int, count: int, masks) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(image, centred hole)`` batches of the first ``count`` faces of ``dataset``."""
    remaining = count
    for batch in batches(dataset, batch_size):
        if remaining <= 0:
            return
        image = batch["image"][:remaining]
        remaining -= len(image)
        yield image, masks(len(image))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="step 4's config: data, resolution, results")
    parser.add_argument("--models", nargs="+", required=True, metavar="NAME=CHECKPOINT")
    parser.add_argument("--attributes", nargs="+", default=["Male", "Smiling", "Eyeglasses"])
    parser.add_argument("--images", type=int, default=300, help="the first N faces of the evaluation split")
    add_set_argument(parser)
    args = parser.parse_args()
    config = load_config(args.config, EvaluationConfig, args.set)
    dataset = build_dataset(config.data, config.resolution)
    masks = get_registry().build(
        "mask_generator", config.masks["center"].name, config.masks["center"].options, resolution=config.resolution
    )
    report = {"config": str(args.config), "hardware": hardware(), "images": args.images, "models": {}}
    for pair in args.models:
        name, _, checkpoint = pair.partition("=")
        model = Inpainter.from_checkpoint(checkpoint, device="cpu").model.eval()
        pairs = first_faces(dataset, config.batch_size, args.images, masks)
        with torch.inference_mode():
            scores = attribute_control(model, pairs, args.attributes)
        report["models"][name] = {"checkpoint": checkpoint, "attributes": scores}
    write_json(Path(config.results) / "control.json", report)
    print(f"{'model':<14} {'attribute':<12} {'flip rate':>9} {'unasked':>8} {'others kept':>11}")
    for name, scores in report["models"].items():
        for attribute, score in scores["attributes"].items():
            flip, unasked, kept = score["flip_rate"], score["without_request"], score["preserved"]
            print(f"{name:<14} {attribute:<12} {flip:>9.3f} {unasked:>8.3f} {kept:>11.3f}")


if __name__ == "__main__":
    main()

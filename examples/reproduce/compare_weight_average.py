"""The averaged generator a checkpoint holds against the last step's trained weights beside it.

    python examples/reproduce/compare_weight_average.py runs/reproduce/small64/gan/full runs/reproduce/small64/gan/none

On a validation split of the 64 px faces (images 25001..26000: never trained on, and not the
evaluation split 24001..25000), centred half-side holes, eval mode: the mean signed colour
error in the hole per channel (images in [-1, 1]) and the PSNR inside the hole, for both sets
of weights (each with BatchNorm statistics recomputed for it by the trainer).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from semantic_inpaint.core import composite
from semantic_inpaint.data.faces import CelebAHQ
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.io import load_checkpoint
from semantic_inpaint.masks import CenteredSquare
from semantic_inpaint.metrics import hole_colour_bias
from semantic_inpaint.model import BoostedGAN

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "celebahq" / "64"


def hole_scores(model: BoostedGAN, images: torch.Tensor, masks: torch.Tensor) -> str:
    with torch.no_grad():
        filled = torch.cat(
            [composite(model.generate(i, m), i, m) for i, m in zip(images.split(250), masks.split(250), strict=True)]
        )
    bias = {name[-1]: round(value.mean().item(), 4) for name, value in hole_colour_bias(filled, images, masks).items()}
    mse = ((filled - images) ** 2 * masks).sum() / (masks.sum() * 3)
    return f"hole bias {bias}, hole PSNR {10 * torch.log10(4 / mse).item():.2f} dB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="training run folders")
    args = parser.parse_args()
    validation = CelebAHQ(DATA, resolution=64, first=25001, last=26000, parts=False)
    images = torch.stack([validation[i]["image"] for i in range(len(validation))])
    masks = CenteredSquare(64)(len(images))
    for run in args.runs:
        checkpoint = run / "checkpoints" / "last.pt"
        inpainter = Inpainter.from_checkpoint(checkpoint, device="cpu")
        print(f"{run.name}: average (what checkpoints and exports hold): {hole_scores(inpainter.model, images, masks)}")
        trained = load_checkpoint(checkpoint).get("generator_training")
        if trained is not None:
            inpainter.model.generator.load_state_dict(trained)
            print(f"{run.name}: last step's weights: {hole_scores(inpainter.model, images, masks)}")


if __name__ == "__main__":
    main()

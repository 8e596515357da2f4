"""Where a trained model's hole colour bias comes from: its weights, its known-pixel ring, the blend.

    python examples/reproduce/colour_bias_sources.py runs/reproduce/small64/gan/full runs/reproduce/small64/gan/none
    python examples/reproduce/colour_bias_sources.py --offsets celebahq64-none celebahq64-full celebahq64-controllable
    python examples/reproduce/colour_bias_sources.py --resolution 128 runs/reproduce/small128/gan/none_group

On a validation split of the 64 px faces (images 25001..26000: never trained on, and not the
evaluation split 24001..25000), centred half-side holes, eval mode, images in [-1, 1], per run:

- the mean signed colour error per channel in the hole and the hole PSNR of the composited
  fill, for the averaged generator that checkpoints and exports hold and for the last step's
  trained weights beside it (each with BatchNorm statistics recomputed for it by the trainer);
- the averaged generator's mean signed error on the known pixels bordering the hole (the
  one-pixel ring outside it): Poisson blending (``Inpainter``'s default) shifts the fill by
  ``image − output`` there, so a ring error moves the whole hole's colour the other way;
- the hole bias and PSNR of the Poisson-blended fill, as ``Inpainter`` returns it.

``--offsets`` asks whether the bias is a constant a model could be calibrated for (a shipped
model's name or a file works as well as a run folder): per channel, the mean colour error of the
fill inside the hole and on the known ring is measured on training images 1..1000 with the
training masks (random rectangles) and, separately, with centred holes; each pair of offsets is
subtracted from the validation fills, which are blended again. An offset that only held for the
hole shape it was measured on would be tuning to the evaluation's masks, not a fix.

``--resolution 128`` diagnoses 128 px runs. That scale has no validation split (faces 1..7000
train, 7001..8000 are held out), so it reads the last thousand *training* faces, 6001..7000
(``--faces`` names others): the figures say where a bias comes from, and are not a held-out score.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from common import cpu_inpainter, faces, run_script
from torch import Tensor

from semantic_inpaint.core import composite
from semantic_inpaint.hole_colour_loss import known_ring
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.io import load_checkpoint
from semantic_inpaint.masks import CenteredSquare
from semantic_inpaint.metrics import hole_colour_bias
from semantic_inpaint.model import BoostedGAN
from semantic_inpaint.poisson_blend import poisson_blend
from semantic_inpaint.registry import get_registry

#: images per forward pass
CHUNK = 250
#: the faces each resolution is diagnosed on (see the module docstring)
DIAGNOSIS_FACES = {64: (25001, 26000), 128: (6001, 7000)}


@torch.no_grad()
def outputs(model: BoostedGAN, images: Tensor, masks: Tensor) -> Tensor:
    """The raw generator output ``(N, 3, H, W)`` for every image, in chunks."""
    return torch.cat([model.generate(i, m) for i, m in zip(images.split(CHUNK), masks.split(CHUNK), strict=True)])


def hole_scores(filled: Tensor, images: Tensor, masks: Tensor) -> str:
    bias = {name[-1]: round(value.mean().item(), 4) for name, value in hole_colour_bias(filled, images, masks).items()}
    mse = ((filled - images) ** 2 * masks).sum() / (masks.sum() * 3)
    return f"hole bias {bias}, hole PSNR {10 * torch.log10(4 / mse).item():.2f} dB"


def mean_error(output: Tensor, images: Tensor, where: Tensor) -> Tensor:
    """Mean signed ``output − image`` per channel ``(3,)`` over the pixels where ``where`` is 1."""
    return ((output - images) * where).sum(dim=(0, 2, 3)) / where.sum()


def ring_error(output: Tensor, images: Tensor, masks: Tensor) -> str:
    """Mean signed ``output − image`` per channel on the known pixels that touch the hole."""
    error = mean_error(output, images, known_ring(masks))
    return f"known-ring error {dict(zip('rgb', (round(value, 4) for value in error.tolist()), strict=True))}"


def training_holes(resolution: int) -> tuple[Tensor, dict[str, Tensor]]:
    """Training images 1..1000 ``(1000, 3, resolution, resolution)`` in ``[-1, 1]`` and two sets of
    holes for them: the training masks (random rectangles, seeded) and centred squares."""
    images = faces(1, 1000, resolution)
    rectangles = get_registry().build("mask_generator", "rectangles", {}, resolution=resolution)
    return images, {
        "training rectangles": rectangles(len(images), generator=torch.Generator().manual_seed(0)),
        "centred holes": CenteredSquare(resolution)(len(images)),
    }


def offset_transfer(
    name: str, model: BoostedGAN, images: Tensor, masks: Tensor, train_images: Tensor, train_masks: dict[str, Tensor]
) -> None:
    """Validation hole bias, blended, after subtracting offsets measured on training images."""
    output = outputs(model, images, masks)
    print(f"{name}: no offset, Poisson-blended: {hole_scores(poisson_blend(output, images, masks), images, masks)}")
    for shape, holes in train_masks.items():
        train_output = outputs(model, train_images, holes)
        hole_offset = mean_error(train_output, train_images, holes).view(1, 3, 1, 1)
        known_offset = mean_error(train_output, train_images, known_ring(holes)).view(1, 3, 1, 1)
        corrected = output - hole_offset * masks - known_offset * (1 - masks)
        blended = poisson_blend(corrected, images, masks)
        print(f"{name}: offsets measured on {shape}, Poisson-blended: {hole_scores(blended, images, masks)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="training run folders (or, with --offsets, shipped models)")
    parser.add_argument("--offsets", action="store_true", help="try colour offsets measured on training images")
    parser.add_argument("--resolution", type=int, choices=sorted(DIAGNOSIS_FACES), default=64)
    parser.add_argument("--faces", type=int, nargs=2, metavar=("FIRST", "LAST"), help="default: see DIAGNOSIS_FACES")
    args = parser.parse_args()
    images = faces(*(args.faces or DIAGNOSIS_FACES[args.resolution]), args.resolution)
    masks = CenteredSquare(args.resolution)(len(images))
    if args.offsets:
        train_images, train_masks = training_holes(args.resolution)
        for name in args.runs:
            offset_transfer(name, cpu_inpainter(name).model, images, masks, train_images, train_masks)
        return
    for run in map(Path, args.runs):
        checkpoint = run / "checkpoints" / "last.pt"
        model = Inpainter.from_checkpoint(checkpoint, device="cpu").model
        output = outputs(model, images, masks)
        filled = composite(output, images, masks)
        print(f"{run.name}: average (what checkpoints and exports hold): {hole_scores(filled, images, masks)}")
        print(f"{run.name}: average, {ring_error(output, images, masks)}")
        blended = poisson_blend(output, images, masks)
        print(f"{run.name}: average, Poisson-blended: {hole_scores(blended, images, masks)}")
        trained = load_checkpoint(checkpoint).get("generator_training")
        if trained is not None:
            model.generator.load_state_dict(trained)
            filled = composite(outputs(model, images, masks), images, masks)
            print(f"{run.name}: last step's weights: {hole_scores(filled, images, masks)}")


if __name__ == "__main__":
    run_script(main)

"""The README's main job: the whole pipeline on procedural faces, no external data.

1. pretrain the attribute embedder on the faces' attributes;
2. pretrain the segmentation embedder on their part maps;
3. train the boosted GAN with both conditions;
4. inpaint held-out faces and write ``quickstart.png``: original | masked | inpainted.

Every config is written into the output folder, so each step can be rerun with the CLI.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision

from semantic_inpaint.config import RunConfig, save_config
from semantic_inpaint.data.faces import PART_FLIP_PAIRS
from semantic_inpaint.data.synthetic import SYNTHETIC_ATTRIBUTES, SyntheticFaces
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.masks import RandomRectangles
from semantic_inpaint.training import PretrainConfig, Trainer, pretrain_embedder

RESOLUTION = 64
TRAIN_DATA = {"name": "synthetic_faces", "options": {"length": 4096, "seed": 0}}
ATTRIBUTE = {
    "name": "attribute",
    "options": {"num_attributes": len(SYNTHETIC_ATTRIBUTES), "width": 16},
}
SEGMENTATION = {"name": "segmentation", "options": {"num_classes": 10, "width": 16, "depth": 3}}


def quickstart_configs(output_dir: Path, steps: int, device: str) -> tuple[PretrainConfig, PretrainConfig, RunConfig]:
    """The three configs of the quickstart, writing under ``output_dir``."""
    pretrain = {
        "data": TRAIN_DATA,
        "resolution": RESOLUTION,
        "device": device,
        "batch_size": 32,
        "lr": 3e-3,
    }
    attribute = PretrainConfig.model_validate(
        {
            **pretrain,
            "embedder": ATTRIBUTE,
            "output": output_dir / "attribute.safetensors",
            "steps": steps,
        }
    )
    segmentation = PretrainConfig.model_validate(
        {
            **pretrain,
            "embedder": SEGMENTATION,
            "output": output_dir / "segmentation.safetensors",
            "steps": steps,
            "flip_label_pairs": PART_FLIP_PAIRS,
        }
    )
    width = {"width": 32}
    run = RunConfig.model_validate(
        {
            "model": {
                "resolution": RESOLUTION,
                "generator": {"name": "dilated", "options": {**width, "dilations": [2, 4]}},
                "discriminator": {"name": "conv", "options": {**width, "condition_stride": 16}},
                "conditions": [
                    {
                        "embedder": {
                            **ATTRIBUTE,
                            "options": {**ATTRIBUTE["options"], "weights": str(attribute.output)},
                        }
                    },
                    {
                        "embedder": {
                            **SEGMENTATION,
                            "options": {
                                **SEGMENTATION["options"],
                                "weights": str(segmentation.output),
                            },
                        }
                    },
                ],
            },
            "data": TRAIN_DATA,
            "training": {
                "output_dir": output_dir / "gan",
                "steps": 4 * steps,
                "batch_size": 16,
                "lr_generator": 1e-3,
                "device": device,
                "log_every": 25,
                "sample_every": 4 * steps,
                "checkpoint_every": 4 * steps,
            },
        }
    )
    return attribute, segmentation, run


def run_quickstart(output_dir: Path, steps: int = 150, device: str = "auto") -> Path:
    """Run the four steps and return the path of the result grid."""
    output_dir = Path(output_dir)
    attribute, segmentation, run = quickstart_configs(output_dir, steps, device)
    for name, config in (("attribute", attribute), ("segmentation", segmentation)):
        record = pretrain_embedder(config)
        print(f"pretrained {name} embedder: loss {record['loss']:.4f} -> {config.output}")
    save_config(run, output_dir / "gan.yaml")
    trainer = Trainer(run, resume=(output_dir / "gan" / "checkpoints" / "last.pt").exists())
    record = trainer.fit()
    print(f"trained boosted GAN: reconstruction {record['reconstruction']:.4f} -> {run.training.output_dir}")

    inpainter = Inpainter.from_checkpoint(output_dir / "gan" / "checkpoints" / "last.pt", device=device)
    held_out = SyntheticFaces(resolution=RESOLUTION, length=8, seed=1)  # never seen in training
    images = torch.stack([held_out[i]["image"] for i in range(len(held_out))])
    masks = RandomRectangles(RESOLUTION)(len(held_out), generator=torch.Generator().manual_seed(1))
    inpainted = inpainter.inpaint(images, masks)
    masked = torch.where(masks.bool(), torch.ones_like(images), images)
    grid = torchvision.utils.make_grid(torch.cat([images, masked, inpainted]), nrow=len(held_out))
    path = output_dir / "quickstart.png"
    torchvision.utils.save_image(grid.add(1).div(2), path)
    print(f"wrote {path} (rows: original | masked | inpainted, on held-out faces)")
    return path

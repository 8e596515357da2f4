"""The README's main job: the whole pipeline on procedural faces, no external data.

1. pretrain the attribute embedder on the faces' attributes;
2. pretrain the segmentation embedder on their part maps;
3. train the boosted GAN with both conditions;
4. inpaint held-out faces and write ``quickstart.png``: original | masked | inpainted.

Every config is written into the output folder, so each step can be rerun with the CLI.
A rerun into the same folder reuses what is finished: an embedder whose weights were written
with the same config is not pretrained again, and the GAN resumes from its last checkpoint
(one every 100 steps). ``timings.json`` records each stage's seconds.

The widths are chosen for two CPU cores (``benchmarks/quickstart.py`` measures it): about
4 minutes from an empty folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
import torchvision

from semantic_inpaint.config import RunConfig, load_config, save_config
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
SEGMENTATION = {"name": "segmentation", "options": {"num_classes": 10, "width": 8, "depth": 3}}
GAN_WIDTH = 16
CHECKPOINT_EVERY = 100


def quickstart_configs(output_dir: Path, steps: int, device: str) -> tuple[PretrainConfig, PretrainConfig, RunConfig]:
    """The three configs of the quickstart, writing under ``output_dir`` (held absolute)."""
    output_dir = Path(output_dir).resolve()
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
    width = {"width": GAN_WIDTH}
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
                "checkpoint_every": CHECKPOINT_EVERY,
            },
        }
    )
    return attribute, segmentation, run


def run_quickstart(output_dir: Path, steps: int = 100, device: str = "auto") -> Path:
    """Run the four steps (reusing finished ones) and return the path of the result grid."""
    output_dir = Path(output_dir).resolve()
    attribute, segmentation, run = quickstart_configs(output_dir, steps, device)
    timings: dict[str, float] = {}
    for name, config in (("attribute", attribute), ("segmentation", segmentation)):
        started = time.perf_counter()
        if _pretrained_with(config):
            print(f"reusing the {name} embedder pretrained with the same config: {config.output}")
        else:
            record = pretrain_embedder(config)
            print(f"pretrained {name} embedder: loss {record['loss']:.4f} -> {config.output}")
        timings[f"pretrain_{name}"] = time.perf_counter() - started

    started = time.perf_counter()
    save_config(run, output_dir / "gan.yaml")
    last = run.training.output_dir / "checkpoints" / "last.pt"
    trainer = Trainer(run, resume=last.exists())
    if trainer.step:
        print(f"resuming the GAN at step {trainer.step} of {run.training.steps}")
    record = trainer.fit()
    if "reconstruction" in record:
        print(f"trained boosted GAN: reconstruction {record['reconstruction']:.4f} -> {run.training.output_dir}")
    timings["train_gan"] = time.perf_counter() - started

    started = time.perf_counter()
    inpainter = Inpainter.from_checkpoint(last, device=device)
    held_out = SyntheticFaces(resolution=RESOLUTION, length=8, seed=1)  # never seen in training
    images = torch.stack([held_out[i]["image"] for i in range(len(held_out))])
    masks = RandomRectangles(RESOLUTION)(len(held_out), generator=torch.Generator().manual_seed(1))
    inpainted = inpainter.inpaint(images, masks)
    masked = torch.where(masks.bool(), torch.ones_like(images), images)
    grid = torchvision.utils.make_grid(torch.cat([images, masked, inpainted]), nrow=len(held_out))
    path = output_dir / "quickstart.png"
    torchvision.utils.save_image(grid.add(1).div(2), path)
    timings["inpaint"] = time.perf_counter() - started
    (output_dir / "timings.json").write_text(json.dumps({k: round(v, 2) for k, v in timings.items()}, indent=2))
    print(f"wrote {path} (rows: original | masked | inpainted, on held-out faces)")
    return path


def _pretrained_with(config: PretrainConfig) -> bool:
    """Whether ``config.output`` was written by a finished pretraining with this very config.

    Pretraining writes its config first and the weights last, so weights older than the
    config belong to an earlier pretraining (the later one was interrupted).
    """
    weights, written = Path(config.output), Path(config.output).with_suffix(".yaml")
    if not (weights.is_file() and written.is_file()):
        return False
    finished = weights.stat().st_mtime_ns >= written.stat().st_mtime_ns
    return finished and load_config(written, PretrainConfig) == config

"""Step 6: export trained runs into the package as its named, shipped models, with model cards.

    python examples/reproduce/06_ship_demo_models.py --runs runs/reproduce/small64/gan \
        --results examples/reproduce/results/small64/inpainting.json

For each run (``full`` and ``none`` by default) it writes
``semantic_inpaint/assets/celebahq<resolution>-<run>.safetensors`` (generator + embedders,
float16 weights, float32 BatchNorm statistics), a model card ``celebahq<resolution>-<run>.md``
and its entry in ``models.json``: how it was trained, read from its run folder, and how it
scored on the held-out split, read from step 4's results (no hand-typed numbers). Users load
them by name: ``Inpainter.from_pretrained("celebahq64-full")``, ``semantic-inpaint models``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import hardware, write_json

from semantic_inpaint.config import RunConfig, load_config
from semantic_inpaint.inference import export_for_inference
from semantic_inpaint.training.runtime import read_jsonl

ASSETS = Path(__file__).resolve().parents[2] / "semantic_inpaint" / "assets"
LICENCE = (
    "Weights trained on CelebA-HQ (derived from CelebA): CelebA's terms allow non-commercial research use "
    "only; the weights are shipped for that use. The code is MIT."
)
SUMMARIES = {
    "full": "the boosted GAN: dilated-convolution generator told the attribute vector and the part map "
    "that frozen embedders read from the masked face, with global, attribute-matching and segmentation-matching "
    "discriminators",
    "none": "the same generator and global discriminator trained with no semantic condition (the GL-style baseline)",
}
CARD_METRICS = (
    "psnr", "ssim", "l1", "hole_bias_r", "hole_bias_g", "hole_bias_b", "part_miou",
    "landmark_nme", "landmark_part_miou", "gender_agreement", "age_difference", "identity_distance",
)  # fmt: skip


def describe(run: Path, variant: str, name: str, results: dict | None) -> dict:
    """How the model in ``run`` was trained and exported, and its held-out scores."""
    config = load_config(run / "config.yaml", RunConfig)
    last = read_jsonl(run / "metrics.jsonl")[-1]
    conditions = [{"embedder": c.embedder.name, "weight": c.weight} for c in config.model.conditions]
    data = config.data.model_dump(mode="json")
    description = {
        "name": name,
        "summary": SUMMARIES.get(variant, f"variant {variant} of the boosted GAN"),
        "file": f"{name}.safetensors",
        "card": f"{name}.md",
        "resolution": config.model.resolution,
        "training_data": f"CelebA-HQ images {data['options']['first']}..{data['options']['last']}, "
        f"{config.model.resolution} px (aligned faces)",
        "licence": LICENCE,
        "conditions": conditions,
        "trained_by": f"python examples/reproduce/03_train.py --config <base config> --variants {variant}",
        "run_folder": str(run),
        "exported_by": f"python examples/reproduce/06_ship_demo_models.py --runs {run.parent}",
        "data": data,
        "steps": config.training.steps,
        "batch_size": config.training.batch_size,
        "average_half_life_images": config.training.average_half_life_images,
        "recalibration_batches": config.training.recalibration_batches,
        "final_reconstruction": round(last["reconstruction"], 4),
        "train_seconds": round(last["elapsed_seconds"]),
        "hardware": hardware(),
    }
    if results is not None:
        scores = results["masks"]["center"]["scores"].get(variant)
        if scores is not None:
            description["held_out"] = {
                "split": results["config"],
                "images": results["images"],
                "mask": "centred square, half the side",
                "scores": {metric: scores[metric] for metric in CARD_METRICS if metric in scores},
            }
    return description


def card(description: dict) -> str:
    """The model card, in Markdown."""
    conditions = ", ".join(f"{c['embedder']} (λ = {c['weight']})" for c in description["conditions"]) or "none"
    lines = [
        f"# {description['name']}",
        "",
        f"{description['summary'][0].upper()}{description['summary'][1:]}.",
        "",
        "```python",
        "from semantic_inpaint import Inpainter",
        f'inpainter = Inpainter.from_pretrained("{description["name"]}")',
        "```",
        "",
        "## Intended use",
        "",
        f"Filling holes in aligned, centred face crops like CelebA-HQ's, at {description['resolution']} px "
        "(other sizes are resized to it), for research on semantically guided inpainting. Not for identifying, "
        "judging or altering real people's appearance in any consequential setting; faces unlike the training "
        "data (other framings, poses, ages or skin tones under-represented in CelebA) get worse fills.",
        "",
        "## Model",
        "",
        f"- Resolution: {description['resolution']} px; semantic conditions: {conditions}.",
        f"- Weights: the moving average of the generator (half-life {description['average_half_life_images']:g} "
        f"training images), BatchNorm statistics recomputed over {description['recalibration_batches']} "
        "training batches; float16 weights, float32 statistics.",
        "",
        "## Training",
        "",
        f"- Data: {description['training_data']}.",
        f"- {description['steps']} steps at batch {description['batch_size']}, "
        f"{description['train_seconds']} s on {description['hardware']}; final reconstruction loss "
        f"{description['final_reconstruction']}.",
        f"- Command: `{description['trained_by']}`.",
        "",
    ]
    if "held_out" in description:
        held = description["held_out"]
        lines += [
            "## Held-out evaluation",
            "",
            f"{held['images']} faces no part of the project trained on ({held['split']}), {held['mask']}; "
            "mean and 95 % bootstrap interval over images (images in [-1, 1] for the colour bias).",
            "",
            "| metric | mean | 95 % interval |",
            "|---|---|---|",
        ]
        for metric, value in held["scores"].items():
            low, high = value["ci95"]
            lines.append(f"| {metric} | {value['mean']:.4g} | [{low:.4g}, {high:.4g}] |")
        lines.append("")
    lines += ["## Licence", "", description["licence"], ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, required=True, help="folder holding one training run per variant")
    parser.add_argument("--variants", nargs="+", default=["full", "none"], help="run folders to ship")
    parser.add_argument("--results", type=Path, help="step 4's inpainting.json, for the cards' held-out scores")
    args = parser.parse_args()
    results = json.loads(args.results.read_text()) if args.results else None
    manifest = ASSETS / "models.json"
    described = json.loads(manifest.read_text()) if manifest.exists() else {}
    for variant in args.variants:
        run = args.runs / variant
        resolution = load_config(run / "config.yaml", RunConfig).model.resolution
        name = f"celebahq{resolution}-{variant}"
        output = export_for_inference(run / "checkpoints" / "last.pt", ASSETS / f"{name}.safetensors")
        described[name] = describe(run, variant, name, results)
        (ASSETS / f"{name}.md").write_text(card(described[name]), encoding="utf-8")
        print(f"exported {run} -> {output}")
    write_json(manifest, dict(sorted(described.items())))


if __name__ == "__main__":
    main()

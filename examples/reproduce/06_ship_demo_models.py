"""Step 6: export trained runs into the package as its named, shipped models, with model cards.

    python examples/reproduce/06_ship_demo_models.py --runs runs/reproduce/small64/gan \
        --results examples/reproduce/results/small64/inpainting.json \
        --embedders examples/reproduce/results/small64

For each run (``full`` and ``none`` by default; ``--variants full none controllable`` for the
controllable model too; ``RUN=NAME`` ships a run under another name, e.g.
``controllable_flip=controllable``) it writes
``semantic_inpaint/assets/celebahq<resolution>-<name>.safetensors`` (generator, and embedders
unless shared as below; float16 weights, float32 BatchNorm statistics), a model card ``celebahq<resolution>-<run>.md``
and its entry in ``models.json``: how it was trained, read from its run folder, and how it
scored on the held-out split, read from step 4's results, and with ``--control`` how well it
obeys requests, read from step 7's (no hand-typed numbers). Users load
them by name: ``Inpainter.from_pretrained("celebahq64-full")``, ``semantic-inpaint models``.

``--embedders RESULTS`` also ships the pretrained embedders that steps 1 and 2 recorded in
``RESULTS/attribute.json`` and ``RESULTS/segmentation.json`` as standalone files
(``celebahq64-attribute``, ``celebahq64-segmentation``), with their validation scores, so that
a user training on a folder of faces can name them in a config
(``weights: shipped:celebahq64-attribute``) instead of pretraining their own. A shipped model
whose embedder has exactly a shipped embedder's weights refers to that file instead of holding
a second copy, which keeps the wheel small.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from common import hardware, last_record, run_script, write_json
from intervals import interval, rate

from semantic_inpaint.config import RunConfig, load_config
from semantic_inpaint.inference import export_for_inference, has_embedder_weights
from semantic_inpaint.io import load_checkpoint, read_weights_metadata
from semantic_inpaint.training import PretrainConfig

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "semantic_inpaint" / "assets"
LICENCE = (
    "Weights trained on CelebA-HQ (derived from CelebA): CelebA's terms allow non-commercial research use "
    "only; the weights are shipped for that use. The code is MIT."
)
SUMMARIES = {
    "full": "the boosted GAN: dilated-convolution generator told the attribute vector and the part map "
    "that frozen embedders read from the masked face, with global, attribute-matching and segmentation-matching "
    "discriminators",
    "none": "the same generator and global discriminator trained with no semantic condition (the GL-style baseline)",
    "controllable": "an experimental recipe of the boosted GAN trained to obey the attributes and parts a user "
    "sets (half of each batch told another face's signals, a consistency term toward them, FiLM and SPADE "
    "conditioning): it follows painted parts, at a cost in fill accuracy and colour that its card gives",
    **{
        name: f"an experimental recipe of the boosted GAN trained to obey the attributes and parts a user sets "
        f"({recipe}, FiLM and SPADE conditioning); its card gives how often it obeys and what that costs"
        for name, recipe in {
            "controllable_flip": "a quarter of each batch asked for the opposite of two of its attributes, another "
            "quarter for another face's parts in the hole, a consistency term toward the requests",
            "controllable_anchored": "half of each batch told another face's signals, a consistency term toward "
            "them in which each attribute and part pixel the request changed counts ten times the others, a term "
            "that keeps the original's colour in the hole",
            "controllable_matched_blended": "a quarter of each batch asked for the opposite of two of Male, Young, "
            "Smiling and Eyeglasses, another quarter for another face's parts in the hole, each fill judged against "
            "what was asked by a projection discriminator and Poisson-blended in training, no consistency term",
        }.items()
    },
}
PRETRAINING_SCRIPTS = {"attribute": "01_pretrain_attributes.py", "segmentation": "02_pretrain_segmentation.py"}
CARD_METRICS = (
    "psnr", "ssim", "l1", "hole_bias_r", "hole_bias_g", "hole_bias_b", "part_miou",
    "landmark_nme", "landmark_part_miou", "gender_agreement", "age_difference", "identity_distance",
)  # fmt: skip


def training_command(run: Path, variant: str, steps: int) -> str:
    """The command that trained ``run``, as ``03_train.py`` recorded it in the run folder; for a run
    trained before it kept one, the variant of the base config it was."""
    recorded = run / "command.txt"
    if recorded.exists():
        return recorded.read_text(encoding="utf-8").strip()
    script = "python examples/reproduce/03_train.py"
    return f"{script} --config <base config> --variants {variant} --set training.steps={steps}"


def describe(run: Path, variant: str, name: str, results: dict | None, control: dict | None) -> dict:
    """How the model in ``run`` was trained and exported, its held-out scores and, where step 7
    measured it, how well its fill obeys a requested attribute or part map."""
    config = load_config(run / "config.yaml", RunConfig)
    last = last_record(run / "metrics.jsonl")
    conditions = [{"embedder": c.embedder.name, "weight": c.weight} for c in config.model.conditions]
    data = config.data.model_dump(mode="json")
    description = {
        "name": name,
        "kind": "inpainter",
        "summary": SUMMARIES.get(variant, f"variant {variant} of the boosted GAN"),
        "file": f"{name}.safetensors",
        "card": f"{name}.md",
        "resolution": config.model.resolution,
        "training_data": f"CelebA-HQ images {data['options']['first']}..{data['options']['last']}, "
        f"{config.model.resolution} px (aligned faces)",
        "licence": LICENCE,
        "conditions": conditions,
        "trained_by": training_command(run, variant, config.training.steps),
        "run_folder": str(run),
        "exported_by": f"python examples/reproduce/06_ship_demo_models.py --runs {run.parent}",
        "steps": config.training.steps,
        "batch_size": config.training.batch_size,
        "average_half_life_images": config.training.average_half_life_images,
        "recalibration_batches": config.training.recalibration_batches,
        "final_reconstruction": round(last["reconstruction"], 4),
        "train_seconds": round(last["elapsed_seconds"]),
        "hardware": last.get("device") or hardware(),  # what it trained on, not what exports it
    }
    if results is not None:
        scores = results["masks"]["center"]["scores"].get(variant)
        if scores is not None:
            description["held_out"] = {
                "split": results["config"],
                "images": results["images"],
                "mask": "centred square, half the side",
                "blend": results.get("blend", "none"),
                "scores": {metric: scores[metric] for metric in CARD_METRICS if metric in scores},
            }
    measured = (control or {}).get("models", {}).get(variant)
    if measured is not None:
        description["control"] = {"images": control["images"], "attributes": measured["attributes"]}
        if "parts" in measured:
            description["control"]["parts"] = measured["parts"]
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
            f"{held['images']} faces no part of the project trained on ({held['split']}), {held['mask']}, "
            + (
                "the fill Poisson-blended as `Inpainter` does by default"
                if held["blend"] == "poisson"
                else "the generator's fill as it is (no blend)"
            )
            + "; mean and 95 % bootstrap interval over images (images in [-1, 1] for the colour bias).",
            "",
            "| metric | mean | 95 % interval |",
            "|---|---|---|",
        ]
        for metric, value in held["scores"].items():
            low, high = value["ci95"]
            lines.append(f"| {metric} | {value['mean']:.4g} | [{low:.4g}, {high:.4g}] |")
        lines.append("")
    if "control" in description:
        lines += control_section(description["control"])
    lines += ["## Licence", "", description["licence"], ""]
    return "\n".join(lines)


def control_section(control: dict) -> list[str]:
    """The card's control table: each requested attribute's flip rate and the others kept, and
    the mIoU of requested parts read back in the hole (``07_measure_control.py``)."""
    lines = [
        "## Control",
        "",
        f"The first {control['images']} held-out faces, centred hole, each asked for the opposite of what the "
        "attribute embedder reads on the original (flip rate: the share whose fill is read as asked, with its 95 % "
        "bootstrap interval; the independent age/gender judge's reading where given), and for another face's "
        "parts in the hole.",
        "",
        "| request | flip rate | without the request | other attributes kept | independent judge |",
        "|---|---|---|---|---|",
    ]
    for attribute, score in control["attributes"].items():
        judged = score.get("independent_flip_rate")
        judge = "" if judged is None else f"{judged:.3f} (without: {score['independent_without_request']:.3f})"
        lines.append(
            f"| {attribute} | {rate(score, 'flip_rate')} | {score['without_request']:.3f} "
            f"| {score['preserved']:.3f} | {judge} |"
        )
    for reader, miou in control.get("parts", {}).items():
        asked, plain = interval(miou["requested_miou"]), miou["without_request_miou"]["mean"]
        lines.append(f"| parts, read by {reader} (mIoU in the hole) | {asked} | {plain:.3f} | | |")
    return [*lines, ""]


def shipped_embedders(checkpoint: Path, config: RunConfig, described: dict) -> dict[str, str]:
    """The conditions whose embedder has exactly a shipped embedder's weights: the exported
    model refers to that file instead of holding a second copy."""
    state = load_checkpoint(checkpoint)["model"]
    shared = {}
    for condition in config.model.conditions:
        name = f"celebahq{config.model.resolution}-{condition.embedder.name}"
        if name in described and has_embedder_weights(state, condition.embedder.name, f"shipped:{name}"):
            shared[condition.embedder.name] = f"shipped:{name}"
    return shared


def repository_path(path: str) -> str:
    """``path`` relative to the repository when it lies inside it (a model card names no machine's folders)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else path


def describe_embedder(record_path: Path) -> dict:
    """A pretrained embedder as steps 1 and 2 recorded it (weights, config, validation scores)."""
    record = json.loads(record_path.read_text())
    config = load_config(Path(record["config"]), PretrainConfig)
    metadata = read_weights_metadata(record["weights"])
    name = f"celebahq{config.resolution}-{metadata['embedder']}"
    data = config.data.options
    scores = {k: round(v, 4) for k, v in record["validation"].items() if isinstance(v, int | float)}
    return {
        "name": name,
        "kind": "embedder",
        "embedder": metadata["embedder"],
        "summary": f"the {metadata['embedder']} embedder pretrained on CelebA-HQ faces, for conditioning and judging",
        "file": f"{name}.safetensors",
        "card": f"{name}.md",
        "resolution": config.resolution,
        "training_data": f"CelebA-HQ images {data['first']}..{data['last']}, {config.resolution} px (aligned faces)",
        "licence": LICENCE,
        "options": metadata["options"],
        "trained_by": f"python examples/reproduce/{PRETRAINING_SCRIPTS[metadata['embedder']]} "
        f"--config {record['config']}",
        "validation_data": f"images {config.validation.options['first']}..{config.validation.options['last']}"
        if config.validation
        else "none",
        "steps": record["steps"],
        "train_seconds": round(record["train_seconds"]),
        "hardware": record["hardware"],
        "validation": scores,
        "source": repository_path(record["weights"]),
    }


def embedder_card(description: dict) -> str:
    """The model card of a standalone embedder, in Markdown."""
    scores = ", ".join(f"{key} {value:g}" for key, value in description["validation"].items())
    return "\n".join([
        f"# {description['name']}",
        "",
        f"{description['summary'][0].upper()}{description['summary'][1:]}.",
        "",
        "In a run config, name it instead of a weights file; its architecture options are read from the file:",
        "",
        "```yaml",
        f"- embedder: {{name: {description['embedder']}, options: {{weights: \"shipped:{description['name']}\"}}}}",
        "```",
        "",
        "## Model",
        "",
        f"- Options: `{json.dumps(description['options'])}`.",
        f"- Input: {description['resolution']} px aligned faces, images in [-1, 1].",
        "",
        "## Training and validation",
        "",
        f"- Data: {description['training_data']}.",
        f"- Validation ({description['validation_data']}, never trained on): {scores}.",
        f"- {description['steps']} steps, {description['train_seconds']} s on {description['hardware']}.",
        f"- Command: `{description['trained_by']}`.",
        "",
        "## Licence",
        "",
        description["licence"],
        "",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, required=True, help="folder holding one training run per variant")
    parser.add_argument(
        "--variants", nargs="*", default=["full", "none"], metavar="RUN[=NAME]", help="run folders to ship"
    )
    parser.add_argument("--results", type=Path, help="step 4's inpainting.json, for the cards' held-out scores")
    parser.add_argument("--embedders", type=Path, help="results folder of steps 1 and 2: ship their embedders too")
    parser.add_argument("--control", type=Path, help="step 7's control.json, for the cards' control tables")
    args = parser.parse_args()
    results = json.loads(args.results.read_text()) if args.results else None
    control = json.loads(args.control.read_text()) if args.control else None
    manifest = ASSETS / "models.json"
    described = json.loads(manifest.read_text()) if manifest.exists() else {}
    for embedder in ("attribute", "segmentation") if args.embedders else ():
        described_embedder = describe_embedder(args.embedders / f"{embedder}.json")
        name = described_embedder["name"]
        shutil.copyfile(ROOT / described_embedder["source"], ASSETS / f"{name}.safetensors")
        (ASSETS / f"{name}.md").write_text(embedder_card(described_embedder), encoding="utf-8")
        described[name] = described_embedder
        print(f"shipped {described_embedder['source']} -> {ASSETS / name}.safetensors")
    if args.embedders:  # listed before the models are exported, so that those can refer to them
        write_json(manifest, dict(sorted(described.items())))
    for entry in args.variants:
        variant, _, shipped_as = entry.partition("=")
        run = args.runs / variant
        config = load_config(run / "config.yaml", RunConfig)
        name = f"celebahq{config.model.resolution}-{shipped_as or variant}"
        checkpoint = run / "checkpoints" / "last.pt"
        shared = shipped_embedders(checkpoint, config, described)
        output = export_for_inference(checkpoint, ASSETS / f"{name}.safetensors", shared_embedders=shared)
        described[name] = describe(run, variant, name, results, control)
        (ASSETS / f"{name}.md").write_text(card(described[name]), encoding="utf-8")
        print(f"exported {run} -> {output}" + (f", sharing {', '.join(shared.values())}" if shared else ""))
    write_json(manifest, dict(sorted(described.items())))


if __name__ == "__main__":
    run_script(main)

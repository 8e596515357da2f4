"""Step 4: evaluate every trained model and the classical peers on the held-out split.

    python examples/reproduce/04_evaluate.py --config examples/reproduce/configs/small64/04_evaluate.yaml

For each mask type of the config (the paper's centred half-side square and random
rectangles) it scores the input with holes (``masked``), OpenCV Telea and Navier–Stokes,
and every training run found under ``gan_runs`` (the full model, the no-conditions model,
the ablations) on the same images and masks: mean l1 / l2 (%), PSNR, SSIM (Table I),
retrieval mAP (Table III) and semantic consistency (attribute agreement, part mIoU between
the embedders' predictions on the output and on the original), and the metrics of the
judges the project did not train (``judges``: landmarks, gender and age, identity). Every
number gets a 95 % bootstrap interval over the images, and every method its paired
difference to ``reference``. The gender judge is also checked against CelebA's ``Male``
label on the original images. It writes ``RESULTS/inpainting.json`` and then regenerates
``docs/results.md`` (05_report.py).

Every method's per-image scores are kept in ``RESULTS/per_image/<mask>/<method>.npz`` with what
they were scored on (images, masks, seed, judges, embedder weights) and, for a trained model, the
digest of its checkpoint and how it was trained. A later run scores only what is new or changed
and takes the rest from those files, so the tables can grow one trained model at a time, on
machines that do not keep the run folders of earlier ones; the intervals and paired differences
are computed from the per-image values either way. A file scored under other settings is left
out (and named); after a change to the metrics' or the judges' code, ``--rescore all`` (or
``--rescore NAME ...``) scores again what can be scored.
"""

from __future__ import annotations

import argparse
import importlib
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import (
    add_set_argument,
    best_device,
    build_dataset,
    hardware,
    last_record,
    load_embedder,
    run_script,
    write_json,
)

from semantic_inpaint.config import DataConfig, EvaluationConfig, load_config
from semantic_inpaint.evaluation import (
    InpaintMethod,
    PerImage,
    TinyImageFeatures,
    VGG16FC2Features,
    batches,
    opencv_method,
    score_inpainting,
    summarise,
)
from semantic_inpaint.fid import InceptionFeatures
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.io import load_checkpoint
from semantic_inpaint.judge import Judge, judge_pixels
from semantic_inpaint.registry import get_registry
from semantic_inpaint.score_files import file_digest, fingerprint, load_scores, save_scores
from semantic_inpaint.statistics import estimate, mean_statistic, resample_weights
from semantic_inpaint.training import PretrainConfig

REPORT = Path(__file__).resolve().parents[2] / "docs" / "results.md"
CLASSICAL = {"telea": "INPAINT_TELEA", "navier_stokes": "INPAINT_NS"}


def trained_models(config: EvaluationConfig) -> dict[str, Path]:
    """The checkpoints named in the config and the last checkpoint of every *finished* run under
    ``gan_runs`` (a run still training, or interrupted, is left out and named)."""
    checkpoints = dict(config.checkpoints)
    if config.gan_runs is not None:
        for run in sorted(Path(config.gan_runs).iterdir()):
            last = run / "checkpoints" / "last.pt"
            if not last.exists():
                continue
            steps, done = load_config(run / "config.yaml").training.steps, int(load_checkpoint(last)["step"])
            if done < steps:
                print(f"{run.name}: left out, trained {done} of {steps} steps")
                continue
            checkpoints.setdefault(run.name, last)
    return checkpoints


def gender_judge_check(judge: Judge, data: DataConfig, config: EvaluationConfig) -> dict[str, Any]:
    """How often the gender judge's verdict on the *original* held-out images is CelebA's ``Male`` label."""
    options = {**data.options, "attributes": ["Male"]}
    dataset = get_registry().build("dataset", data.name, options, resolution=config.resolution)
    agreement = []
    for batch in batches(dataset, config.batch_size):
        for pixels, male in zip(judge_pixels(batch["image"], judge.size), batch["attributes"][:, 0], strict=True):
            verdict = judge.is_male(pixels)
            agreement.append(np.nan if verdict is None else float(verdict == bool(male)))
    values = torch.tensor(agreement)
    summary = estimate(mean_statistic(values), resample_weights(len(values), config.resamples, config.seed))
    return {"label": "Male", **summary, "images": int((~values.isnan()).sum()), "of": len(values)}


def training_summary(run: Path) -> dict[str, Any]:
    """How the run in folder ``run`` was trained: steps, seconds, device and condition weights.

    The steps are the last logged step: ``config.yaml`` keeps the first run's plan when a run is
    resumed to more steps."""
    config, last = load_config(run / "config.yaml"), last_record(run / "metrics.jsonl")
    return {
        "steps": last.get("step", config.training.steps),
        "seconds": last.get("elapsed_seconds"),
        "device": last.get("device"),
        "condition_weights": {c.embedder.name: c.weight for c in config.model.conditions},
    }


def scoring_setup(config: EvaluationConfig) -> dict[str, Any]:
    """What every score depends on besides the method and the mask type: two score files of one
    mask type with the same setup were computed on the same images, embedders and retrieval."""
    embedders = {
        name: file_digest(load_config(path, PretrainConfig).output)
        for name, path in (("attribute", config.attribute), ("segmentation", config.segmentation))
        if path is not None
    }
    data = {**config.data.model_dump(mode="json"), "options": dict(config.data.options)}
    data["options"].pop("root", None)  # a path on this machine: the split is name, first and last
    retrieval = config.retrieval.model_dump(mode="json", exclude={"weights"}) if config.retrieval else None
    if retrieval is not None:
        retrieval["database"]["options"].pop("root", None)
    return {
        "data": data,
        "resolution": config.resolution,
        "seed": config.seed,
        "batch_size": config.batch_size,
        "blend": config.blend,
        "embedders": embedders,
        "retrieval": retrieval,
        "fid_weights": file_digest(config.fid_weights) if config.fid_weights else None,
    }


def stored_scores(folder: Path, setup: str) -> dict[str, tuple[PerImage, dict[str, Any]]]:
    """The score files in ``folder`` scored under ``setup`` (the others are named and left out)."""
    stored = {}
    for path in sorted(folder.glob("*.npz")) if folder.is_dir() else []:
        scores, metadata = load_scores(path)
        if metadata.get("setup") != setup:
            print(f"{path}: scored under other settings, left out (scored again if its model is here)")
            continue
        stored[path.stem] = scores, metadata
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument(
        "--rescore", nargs="+", default=[], metavar="NAME", help="score these methods again ('all': every one)"
    )
    parser.add_argument("--report", type=Path, default=REPORT, help="the results page to write (default: %(default)s)")
    add_set_argument(parser)
    args = parser.parse_args()
    config = load_config(args.config, EvaluationConfig, args.set)
    device = best_device() if config.device == "auto" else config.device

    # every method that can be run here, and what identifies it: a checkpoint's digest, OpenCV's version
    methods: dict[str, InpaintMethod] = {name: opencv_method(CLASSICAL[name]) for name in config.classical}
    sources = {name: f"opencv {importlib.import_module('cv2').__version__}" for name in methods}
    trained: dict[str, dict[str, Any]] = {}
    for name, path in trained_models(config).items():
        methods[name] = Inpainter.from_checkpoint(path, device=device, blend=config.blend).inpaint_tensor
        sources[name] = f"checkpoint sha256 {file_digest(path)}"
        run = path.parent.parent  # RUN/checkpoints/last.pt; a shipped .safetensors has no run folder
        if (run / "config.yaml").exists():
            trained[name] = training_summary(run)
    attribute = load_embedder(config.attribute)[0].to(device) if config.attribute else None
    segmentation = load_embedder(config.segmentation)[0].to(device) if config.segmentation else None
    extractor, database = None, None
    if config.retrieval is not None:
        retrieval = config.retrieval
        extractor = (
            VGG16FC2Features(retrieval.weights, device) if retrieval.extractor == "vgg16_fc2" else TinyImageFeatures()
        )
        database = build_dataset(retrieval.database, config.resolution)
    dataset = build_dataset(config.data, config.resolution)
    judges = [get_registry().build("judge", spec.name, spec.options) for spec in config.judges]
    fid_features = InceptionFeatures(config.fid_weights).to(device) if config.fid_weights else None

    report: dict = {
        "config": str(args.config),
        "hardware": hardware(),
        "images": len(dataset),
        "retrieval_extractor": getattr(extractor, "name", None),
        "blend": config.blend,
        "masks": {},
    }
    for judge in judges:
        if judge.name == "age_gender" and "attributes" in dataset[0]:
            report["gender_judge_check"] = gender_judge_check(judge, config.data, config)
            print(f"gender judge vs CelebA Male label: {report['gender_judge_check']}")
    started = time.perf_counter()
    common_setup = scoring_setup(config)
    for mask_name, spec in config.masks.items():
        judged = config.judge_masks is None or mask_name in config.judge_masks
        judge_specs = [judge.model_dump(mode="json") for judge in config.judges] if judged else []
        setup = fingerprint({**common_setup, "mask": spec.model_dump(mode="json"), "judges": judge_specs})
        folder = Path(config.results) / "per_image" / mask_name
        stored = stored_scores(folder, setup)
        rescore = set(methods) if "all" in args.rescore else set(args.rescore)
        to_score = {
            name: method
            for name, method in methods.items()
            if name in rescore or name not in stored or stored[name][1].get("source") != sources[name]
        }
        print(
            f"\n{mask_name} masks: scoring {sorted(to_score) or 'nothing new'}; from {folder}: "
            f"{sorted(set(stored) - set(to_score)) or 'nothing'}"
        )
        masks = get_registry().build("mask_generator", spec.name, spec.options, resolution=config.resolution)
        scored = score_inpainting(
            to_score,
            dataset,
            masks,
            attribute=attribute,
            segmentation=segmentation,
            extractor=extractor,
            retrieval_database=database,
            judges=judges if judged else [],
            fid_features=fid_features,
            top_k=config.retrieval.top_k if config.retrieval else 10,
            batch_size=config.batch_size,
            seed=config.seed,
            device=device,
        )
        for name, scores in scored.items():
            metadata = {"setup": setup, "source": sources.get(name, "the input with its holes"), "method": name}
            if name in trained:
                metadata["training"] = trained[name]
            save_scores(folder / f"{name}.npz", scores, metadata)
            stored[name] = scores, metadata
        ordered = ["masked", *config.classical, *sorted(set(stored) - {"masked", *config.classical})]
        per_image = {name: stored[name][0] for name in ordered if name in stored}
        for name, (_, metadata) in stored.items():
            if "training" in metadata:
                trained.setdefault(name, metadata["training"])  # a model scored earlier, its run not here
        report["masks"][mask_name] = summarise(
            per_image, reference=config.reference, resamples=config.resamples, seed=config.seed
        )
        print(f"\n{mask_name} masks ({len(dataset)} held-out images)")
        for method, scores in report["masks"][mask_name]["scores"].items():
            print(f"  {method:<16} " + "  ".join(f"{k} {v['mean']:.4g}" for k, v in scores.items()))
    report["evaluation_seconds"] = time.perf_counter() - started
    runs = sorted(trained.items())
    report["train_seconds"] = {name: summary["seconds"] for name, summary in runs}
    report["train_devices"] = {name: summary["device"] for name, summary in runs}
    report["train_steps"] = {name: summary["steps"] for name, summary in runs}
    report["condition_weights"] = {name: summary["condition_weights"] for name, summary in runs}
    write_json(Path(config.results) / "inpainting.json", report)
    importlib.import_module("05_report").write_report(Path(config.results).parent, args.report)


if __name__ == "__main__":
    run_script(main)

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
    write_json,
)

from semantic_inpaint.config import DataConfig, EvaluationConfig, load_config
from semantic_inpaint.evaluation import (
    InpaintMethod,
    TinyImageFeatures,
    VGG16FC2Features,
    batches,
    evaluate_inpainting,
    opencv_method,
)
from semantic_inpaint.fid import InceptionFeatures
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.io import load_checkpoint
from semantic_inpaint.judge import Judge, judge_pixels
from semantic_inpaint.registry import get_registry
from semantic_inpaint.statistics import estimate, mean_statistic, resample_weights

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    add_set_argument(parser)
    args = parser.parse_args()
    config = load_config(args.config, EvaluationConfig, args.set)
    device = best_device() if config.device == "auto" else config.device

    methods: dict[str, InpaintMethod] = {name: opencv_method(CLASSICAL[name]) for name in config.classical}
    checkpoints = trained_models(config)
    for name, path in checkpoints.items():
        methods[name] = Inpainter.from_checkpoint(path, device=device, blend=config.blend).inpaint_tensor
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

    run_folders = {name: path.parent.parent for name, path in checkpoints.items()}  # RUN/checkpoints/last.pt
    runs = {name: load_config(folder / "config.yaml") for name, folder in run_folders.items()}
    last_records = {name: last_record(folder / "metrics.jsonl") for name, folder in run_folders.items()}
    report: dict = {
        "config": str(args.config),
        "hardware": hardware(),
        "images": len(dataset),
        "retrieval_extractor": getattr(extractor, "name", None),
        "blend": config.blend,
        "train_seconds": {name: last.get("elapsed_seconds") for name, last in last_records.items()},
        "train_devices": {name: last.get("device") for name, last in last_records.items()},
        "train_steps": {name: run.training.steps for name, run in runs.items()},
        "condition_weights": {
            name: {c.embedder.name: c.weight for c in run.model.conditions} for name, run in runs.items()
        },
        "masks": {},
    }
    for judge in judges:
        if judge.name == "age_gender" and "attributes" in dataset[0]:
            report["gender_judge_check"] = gender_judge_check(judge, config.data, config)
            print(f"gender judge vs CelebA Male label: {report['gender_judge_check']}")
    started = time.perf_counter()
    for mask_name, spec in config.masks.items():
        masks = get_registry().build("mask_generator", spec.name, spec.options, resolution=config.resolution)
        report["masks"][mask_name] = evaluate_inpainting(
            methods,
            dataset,
            masks,
            attribute=attribute,
            segmentation=segmentation,
            extractor=extractor,
            retrieval_database=database,
            judges=judges if config.judge_masks is None or mask_name in config.judge_masks else [],
            fid_features=fid_features,
            reference=config.reference,
            resamples=config.resamples,
            top_k=config.retrieval.top_k if config.retrieval else 10,
            batch_size=config.batch_size,
            seed=config.seed,
            device=device,
        )
        print(f"\n{mask_name} masks ({len(dataset)} held-out images)")
        for method, scores in report["masks"][mask_name]["scores"].items():
            print(f"  {method:<16} " + "  ".join(f"{k} {v['mean']:.4g}" for k, v in scores.items()))
    report["evaluation_seconds"] = time.perf_counter() - started
    write_json(Path(config.results) / "inpainting.json", report)
    importlib.import_module("05_report").write_report(Path(config.results).parent)


if __name__ == "__main__":
    main()

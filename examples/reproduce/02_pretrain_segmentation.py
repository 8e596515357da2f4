"""Step 2: pretrain the segmentation embedder and report per-class IoU and mIoU.

    python examples/reproduce/02_pretrain_segmentation.py \\
        --config examples/reproduce/configs/small64/02_segmentation.yaml \\
        --results examples/reproduce/results/small64
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import best_device, build_dataset, pretrain_then_evaluate


def evaluate(embedder, config):
    from semantic_inpaint.evaluation import evaluate_segmentation

    validation = build_dataset(config.validation, config.resolution)
    names = embedder.options.get("class_names") or [f"class_{i}" for i in range(embedder.channels)]
    return evaluate_segmentation(embedder, validation, names, device=best_device())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--force", action="store_true", help="pretrain again even if the weights exist")
    args = parser.parse_args()
    report = pretrain_then_evaluate(args.config, args.results, evaluate, args.force)["validation"]
    for name, iou in report["per_class_iou"].items():
        print(f"{name:<14} IoU {iou:.3f}")
    print(f"{'mIoU':<14}     {report['miou']:.3f}   (pixel accuracy {report['pixel_accuracy']:.3f})")


if __name__ == "__main__":
    main()

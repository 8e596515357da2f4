"""Step 2: pretrain the segmentation embedder and report per-class IoU and mIoU.

    python examples/reproduce/02_pretrain_segmentation.py \\
        --config examples/reproduce/configs/small64/02_segmentation.yaml \\
        --results examples/reproduce/results/small64
"""

from __future__ import annotations

from common import best_device, build_dataset, run_pretraining_script, run_script


def evaluate(embedder, config):
    from semantic_inpaint.evaluation import evaluate_segmentation

    validation = build_dataset(config.validation, config.resolution)
    names = embedder.options.get("class_names") or [f"class_{i}" for i in range(embedder.channels)]
    return evaluate_segmentation(embedder, validation, names, device=best_device())


def main() -> None:
    report = run_pretraining_script(__doc__, evaluate)
    for name, iou in report["per_class_iou"].items():
        print(f"{name:<14} IoU {iou:.3f}")
    print(f"{'mIoU':<14}     {report['miou']:.3f}   (pixel accuracy {report['pixel_accuracy']:.3f})")


if __name__ == "__main__":
    run_script(main)

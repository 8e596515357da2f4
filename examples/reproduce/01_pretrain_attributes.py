"""Step 1: pretrain the attribute embedder and report its validation accuracy.

    python examples/reproduce/01_pretrain_attributes.py \\
        --config examples/reproduce/configs/small64/01_attribute.yaml \\
        --results examples/reproduce/results/small64

Prints per-attribute and mean accuracy next to the majority-class baseline (each
attribute predicted as its most frequent class in the training split).
"""

from __future__ import annotations

import torch
from common import best_device, build_dataset, run_pretraining_script, run_script


def evaluate(embedder, config):
    from semantic_inpaint.evaluation import evaluate_attributes

    train = build_dataset(config.data, config.resolution)
    validation = build_dataset(config.validation, config.resolution)
    train_labels = getattr(train, "attribute_values", None)
    if train_labels is None:
        train_labels = torch.stack([train[i]["attributes"] for i in range(len(train))])
    names = (
        embedder.options.get("attribute_names")
        or getattr(validation, "attribute_names", None)
        or [f"attribute_{i}" for i in range(embedder.channels)]
    )
    return evaluate_attributes(embedder, validation, train_labels, names, device=best_device())


def main() -> None:
    report = run_pretraining_script(__doc__, evaluate)
    print(f"{'attribute':<22} {'accuracy':>9} {'majority':>9}")
    for name, scores in report["per_attribute"].items():
        print(f"{name:<22} {scores['accuracy']:>9.3f} {scores['majority_baseline']:>9.3f}")
    print(f"{'mean':<22} {report['mean_accuracy']:>9.3f} {report['mean_majority_baseline']:>9.3f}")


if __name__ == "__main__":
    run_script(main)

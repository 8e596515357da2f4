"""Paired differences between stored methods and any reference, from the per-image score files.

    python examples/reproduce/paired_differences.py --results examples/reproduce/results/small64 \\
        --mask center --reference full [--methods unet_full unet]

``04_evaluate.py`` reports every method's difference to one reference (the no-conditions
model). This answers "is A better than B?" for any pair without scoring anything again: it
reads ``<results>/per_image/<mask>/*.npz`` (scored under one setup; a file scored under another
is refused) and prints, per metric, each method's mean difference to the reference with a 95 %
bootstrap interval over the same images (the evaluation's resamples where ``--resamples`` and
``--seed`` are its config's: 2000 and 0 by default).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from intervals import interval

from semantic_inpaint.evaluation import summarise
from semantic_inpaint.score_files import load_scores

#: the metrics printed, in order, with their number format
METRICS = {
    "psnr": "+.2f",
    "ssim": "+.4f",
    "part_miou": "+.3f",
    "attribute_agreement": "+.3f",
    "landmark_nme": "+.4f",
    "landmark_part_miou": "+.3f",
    "gender_agreement": "+.3f",
    "age_difference": "+.2f",
    "identity_distance": "+.4f",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, required=True, help="a scale's results folder")
    parser.add_argument("--mask", default="center")
    parser.add_argument("--reference", required=True, help="the method every other is compared with")
    parser.add_argument("--methods", nargs="*", help="only these (default: every stored method)")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (as the evaluation's config)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (as the evaluation's config)")
    args = parser.parse_args()
    folder = args.results / "per_image" / args.mask
    stored = {path.stem: load_scores(path) for path in sorted(folder.glob("*.npz"))}
    if args.reference not in stored:
        raise SystemExit(f"--reference: expected one of {sorted(stored)}, received {args.reference!r}")
    setups = {metadata["setup"] for _, metadata in stored.values()}
    if len(setups) != 1:
        raise SystemExit(f"{folder}: the files were scored under {len(setups)} setups; run 04_evaluate.py first")
    chosen = [args.reference, *(args.methods or [name for name in stored if name != args.reference])]
    unknown = sorted(set(chosen) - set(stored))
    if unknown:
        raise SystemExit(f"--methods: no scores for {unknown}; stored: {sorted(stored)}")
    per_image = {name: stored[name][0] for name in chosen}
    report = summarise(per_image, reference=args.reference, resamples=args.resamples, seed=args.seed)
    metrics = [metric for metric in METRICS if metric in report["scores"][args.reference]]
    print(f"| minus {args.reference} ({args.mask}) | " + " | ".join(metrics) + " |")
    print("|---" * (len(metrics) + 1) + "|")
    for name, differences in report["differences"].items():
        cells = [interval(differences[metric], METRICS[metric][1:], sign="+") for metric in metrics]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

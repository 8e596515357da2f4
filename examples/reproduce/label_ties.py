"""Which attributes do the training labels tie to a requested one?

    python examples/reproduce/label_ties.py --attribute Eyeglasses

A request's *preservation* (``07_measure_control.py``: the share of the other attributes the
attribute embedder reads the same with and without the request) is judged by an embedder
trained on CelebA's labels. Where those labels almost never show two attributes together, the
embedder may learn to read one as the absence of the other, and a fill that draws the requested
attribute faithfully is then read as having changed the other. This script prints, over the
faces an embedder was trained on (the ``data`` of its pretraining config: images 1..20000 of
the 64 px attribute embedder by default), for every other attribute it reads, the share of
faces labelled with it among those labelled with the requested attribute and among those
without it, most different first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from common import build_dataset, run_script

from semantic_inpaint.config import load_config
from semantic_inpaint.training import PretrainConfig

#: the 64 px attribute embedder's pretraining config
DEFAULT_CONFIG = Path(__file__).parent / "configs" / "small64" / "01_attribute.yaml"


def label_ties(labels: torch.Tensor, names: list[str], attribute: str) -> list[tuple[str, float, float]]:
    """``(other, share with, share without)`` for every other attribute, the largest gap first.

    Args:
        labels: ``(N, A)`` labels in ``{0, 1}``, one column per name.
        names: the ``A`` attribute names.
        attribute: the requested attribute, one of ``names``.

    Examples:
        >>> labels = torch.tensor([[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 0]]).float()
        >>> label_ties(labels, ["glasses", "make-up", "hair"], "glasses")
        [('make-up', 0.0, 1.0), ('hair', 1.0, 0.5)]
    """
    if attribute not in names:
        raise ValueError(f"attribute: expected one of {names}, received {attribute!r}")
    column = names.index(attribute)
    present = labels[:, column] > 0.5
    if present.all() or not present.any():
        raise ValueError(f"attribute: {attribute} must be labelled on some faces and not others")
    rows = [
        (name, labels[present, index].mean().item(), labels[~present, index].mean().item())
        for index, name in enumerate(names)
        if index != column
    ]
    return sorted(rows, key=lambda row: -abs(row[1] - row[2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attribute", default="Eyeglasses", help="the requested attribute")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the embedder's pretraining config (its faces)")
    args = parser.parse_args()
    config = load_config(args.config, PretrainConfig)
    faces = build_dataset(config.data, config.resolution)
    try:
        rows = label_ties(faces.attribute_values, faces.attribute_names, args.attribute)
    except ValueError as error:
        parser.error(str(error))
    present = int(faces.attribute_values[:, faces.attribute_names.index(args.attribute)].sum())
    print(f"{len(faces)} training faces of {args.config}, {present} labelled {args.attribute}")
    print(f"{'other attribute':<20} {'with ' + args.attribute:>20} {'without':>10}")
    for other, with_it, without in rows:
        print(f"{other:<20} {with_it:>20.3f} {without:>10.3f}")


if __name__ == "__main__":
    run_script(main)

"""Which attributes do the training labels tie to a requested one?

    python examples/reproduce/label_ties.py --attribute Eyeglasses

A request's *preservation* (``07_measure_control.py``: the share of the other attributes the
attribute embedder reads the same with and without the request) is judged by an embedder
trained on CelebA's labels. Where those labels almost never show two attributes together, the
embedder may learn to read one as the absence of the other, and a fill that draws the requested
attribute faithfully is then read as having changed the other. This script prints, over the
faces an embedder was trained on (images 1..20000 of the 64 px attribute embedder by default),
for every other attribute of the model's 18, the share of faces labelled with it among those
labelled with the requested attribute and among those without it, most different first.
"""

from __future__ import annotations

import argparse

import torch
from common import FACES

from semantic_inpaint.data.faces import CelebAHQ, attribute_tensor, read_attribute_table

#: the attributes the 64 px attribute embedder reads (examples/reproduce/configs/small64/01_attribute.yaml)
EMBEDDER_ATTRIBUTES = [
    "Male", "Young", "Smiling", "Mouth_Slightly_Open", "Eyeglasses", "Heavy_Makeup", "Wearing_Lipstick", "No_Beard",
    "Mustache", "Goatee", "Bangs", "Bald", "Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair", "Pale_Skin",
    "Bushy_Eyebrows",
]  # fmt: skip


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
    parser.add_argument("--attribute", default="Eyeglasses", choices=EMBEDDER_ATTRIBUTES, help="the requested one")
    parser.add_argument("--faces", nargs=2, type=int, default=[1, 20000], metavar=("FIRST", "LAST"))
    args = parser.parse_args()
    names, table = read_attribute_table(FACES / "attributes.txt", CelebAHQ.LAYOUT)
    first, last = args.faces
    keys = [f"{number}.jpg" for number in range(first, last + 1) if f"{number}.jpg" in table]
    labels = attribute_tensor(table, keys, [names.index(name) for name in EMBEDDER_ATTRIBUTES])
    present = int(labels[:, EMBEDDER_ATTRIBUTES.index(args.attribute)].sum())
    print(f"faces {first}..{last}: {len(keys)}, {present} labelled {args.attribute}")
    print(f"{'other attribute':<20} {'with ' + args.attribute:>20} {'without':>10}")
    for other, with_it, without in label_ties(labels, EMBEDDER_ATTRIBUTES, args.attribute):
        print(f"{other:<20} {with_it:>20.3f} {without:>10.3f}")


if __name__ == "__main__":
    main()

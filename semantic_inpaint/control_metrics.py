"""Measured control: does a fill obey an attribute the user sets, or the parts they paint?

For each held-out face and each attribute, the request is the *opposite* of what the attribute
embedder reads on the original (so obeying it means changing something). The fill with the
request is read back by an attribute judge: the **flip rate** is the share of faces read as the
requested value, next to the same share for the fill made without a request (how often the fill
reads that way anyway). **Preservation** is the share of the *other* attributes that read the
same on the requested fill as on the unrequested one (overall, and per other attribute, to show
which traits a request drags along: asked for ``Male``, a fill that drops the lipstick lowers
it). An *independent* reader (e.g. a gender estimator the model was never trained against)
gives a second flip rate, and, for every *other* request, a second preservation: the share of
faces it reads the same on the requested fill as on the unrequested one (asked for
``Eyeglasses``, does the gender estimator still see the same gender?), a check on the
attribute judge's own habits (an embedder trained on labels where glasses and make-up rarely
meet may read drawn glasses as lost make-up). The flip rate and the rate without a request are also split by
direction: over the faces asked to gain the attribute (``adding``: it reads 0 on the original,
requested 1) and those asked to lose it (``removing``), since a model may take a trait away far
more easily than paint one in, and a fill may lose a trait with no request at all (a blurry
hole reads less male, less old).

For parts, each face is asked, inside its hole, for the parts the segmentation embedder reads
on *another* face of the batch (someone else's eyes, nose and mouth where the hole is); the
part map read back from the fill is compared with the request inside the hole (confusion
matrices, for a mIoU), next to the same for the fill made without the request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypedDict

import torch
from torch import Tensor

from semantic_inpaint.core import SemanticEmbedder, Strength
from semantic_inpaint.metrics import confusion_per_image
from semantic_inpaint.model import BoostedGAN
from semantic_inpaint.statistics import Estimate, estimate, mean_statistic, resample_weights

#: reads one attribute as ``(B,)`` 1.0 / 0.0 (NaN: no verdict) from ``(original, fill)``, both
#: ``(B, 3, H, W)`` in ``[-1, 1]`` (the original, e.g., to find the face box once)
IndependentReader = Callable[[Tensor, Tensor], Tensor]


class AttributeControl(TypedDict, total=False):
    """One attribute's control scores over ``images`` faces (``independent_*``: where an
    independent reader was given, over the ``independent_images`` faces it had a verdict on);
    each ``*_ci95`` is the 95 % bootstrap interval over faces of the score it names."""

    flip_rate: float
    flip_rate_ci95: list[float]
    without_request: float
    without_request_ci95: list[float]
    preserved: float
    preserved_ci95: list[float]
    preserved_each: dict[str, float]
    images: int
    independent_flip_rate: float
    independent_flip_rate_ci95: list[float]
    independent_without_request: float
    independent_without_request_ci95: list[float]
    independent_images: int
    independent_preserved_each: dict[str, Estimate]
    flip_rate_adding: float
    flip_rate_adding_ci95: list[float]
    without_request_adding: float
    without_request_adding_ci95: list[float]
    adding_images: int
    flip_rate_removing: float
    flip_rate_removing_ci95: list[float]
    without_request_removing: float
    without_request_removing_ci95: list[float]
    removing_images: int


@torch.no_grad()
def requested_fills(
    fill_with: Callable[[Tensor, Tensor, float], Tensor], image: Tensor, mask: Tensor, requested: Tensor
) -> Tensor:
    """Each face filled with its own requested value of one attribute: ``fill_with(image, mask,
    value)`` called once per value (``0.0``, ``1.0``) on the faces that ask for it, batched.

    Shape: ``image`` ``(B, 3, H, W)``, ``mask`` ``(B, 1, H, W)``, ``requested`` ``(B,)`` bool;
    the result like ``image``.

    Examples:
        >>> image, mask = torch.zeros(3, 3, 2, 2), torch.ones(3, 1, 2, 2)
        >>> fills = requested_fills(lambda i, m, v: i + v, image, mask, torch.tensor([True, False, True]))
        >>> fills[:, 0, 0, 0].tolist()
        [1.0, 0.0, 1.0]
    """
    fill = torch.empty_like(image)
    for value in (False, True):
        rows = requested == value
        if rows.any():
            fill[rows] = fill_with(image[rows], mask[rows], float(value))
    return fill


def attribute_control(
    model: BoostedGAN,
    batches: Iterable[tuple[Tensor, Tensor]],
    names: Sequence[str],
    judge: Callable[[Tensor], Tensor] | None = None,
    independent: Mapping[str, IndependentReader] | None = None,
    strength: Strength = 1.0,
) -> dict[str, AttributeControl]:
    """Flip rate, rate without a request, and preservation of the others, per attribute, each
    with its 95 % bootstrap interval over faces.

    Args:
        model: a model with an ``attribute`` condition (in eval mode).
        batches: ``(image (B, 3, H, W) in [-1, 1], mask (B, 1, H, W) in {0, 1})`` pairs.
        names: the attributes to request, by the embedder's names.
        judge: reads ``(B, N)`` attribute probabilities from images (default: the model's own
            attribute embedder; prefer one the model was not trained against). A judge that is
            an embedder with named entries must name the same attributes in the same order.
        independent: per attribute name, a second reader of that attribute alone: a flip rate
            when that attribute is requested, a preservation share when another one is.
        strength: how hard each request pushes (see :func:`semantic_inpaint.core.apply_overrides`).

    Examples:
        >>> from semantic_inpaint.config import ModelConfig
        >>> model = BoostedGAN(ModelConfig.model_validate({"resolution": 32,
        ...     "generator": {"name": "dilated", "options": {"width": 4}},
        ...     "conditions": [{"embedder": {"name": "attribute", "options": {"num_attributes": 3, "width": 4,
        ...         "attribute_names": ["a", "b", "c"]}}, "weight": 0.1}]})).eval()
        >>> mask = torch.zeros(2, 1, 32, 32); mask[..., 8:24, 8:24] = 1
        >>> bright = lambda original, fill: (fill.mean(dim=(1, 2, 3)) > 0).double()
        >>> batch = [(torch.rand(2, 3, 32, 32) * 2 - 1, mask)]
        >>> scores = attribute_control(model, batch, ["b"], independent={"b": bright})
        >>> scores["b"]["images"], len(scores["b"]["flip_rate_ci95"]), scores["b"]["independent_images"]
        (2, 2, 2)
        >>> sorted(scores["b"]["preserved_each"])  # the other attributes, each kept on a share of the faces
        ['a', 'c']
        >>> scores = attribute_control(model, batch, ["a"], independent={"b": bright})
        >>> sorted(scores["a"]["independent_preserved_each"]["b"])  # asked for a, does b read as before?
        ['ci95', 'images', 'mean']
    """
    embedder = model.conditions["attribute"].embedder
    if isinstance(judge, SemanticEmbedder) and judge.names is not None and judge.names != embedder.names:
        raise ValueError(
            f"judge: expected an embedder reading the model's attributes in its order {embedder.names}, "
            f"got one reading {judge.names}"
        )
    judge = judge or embedder
    independent = independent or {}
    indices = {name: embedder.names.index(name) if embedder.names else int(name) for name in names}
    labels = list(embedder.names) if embedder.names else [str(column) for column in range(embedder.channels)]
    # per face: flipped, flipped anyway, share of the others preserved; each other attribute
    # preserved or not; the independent reader's flipped and flipped anyway (NaN where it had no
    # verdict on either fill); each other independent reader's verdict kept or not (NaN: no verdict)
    outcomes: dict[str, list[Tensor]] = {name: [] for name in names}
    kept_each: dict[str, list[Tensor]] = {name: [] for name in names}
    second: dict[str, list[Tensor]] = {name: [] for name in independent if name in indices}
    second_kept: dict[str, dict[str, list[Tensor]]] = {
        name: {other: [] for other in independent if other != name} for name in names
    }
    for image, mask in batches:
        plain_fill = model.inpaint(image, mask)
        plain = judge(plain_fill) > 0.5
        plain_verdicts = {other: reader(image, plain_fill) for other, reader in independent.items()}
        original = judge(image) > 0.5
        for name, index in indices.items():
            requested = ~original[:, index]  # the opposite of what the face shows
            fill = requested_fills(
                lambda rows, holes, value, name=name: model.inpaint(
                    rows, holes, overrides={"attribute": {name: value}}, strength=strength
                ),
                image,
                mask,
                requested,
            )
            read = judge(fill) > 0.5
            others = torch.ones(plain.shape[1], dtype=torch.bool)
            others[index] = False
            kept = (read[:, others] == plain[:, others]).double()
            kept_each[name].append(kept.cpu())
            outcomes[name].append(
                torch.stack([
                    (read[:, index] == requested).double(),
                    (plain[:, index] == requested).double(),
                    kept.mean(dim=1),
                    requested.double(),
                ]).cpu()
            )  # fmt: skip
            verdicts = {other: reader(image, fill) for other, reader in independent.items()}
            for other, kept_by_judge in second_kept[name].items():
                verdict, verdict_plain = verdicts[other], plain_verdicts[other]
                judged = ~verdict.isnan() & ~verdict_plain.isnan()
                kept_by_judge.append(torch.where(judged, (verdict == verdict_plain).double(), torch.nan))
            if name in independent:
                asked = requested.double().cpu()
                verdict, verdict_plain = verdicts[name], plain_verdicts[name]
                judged = ~verdict.isnan() & ~verdict_plain.isnan()
                both = torch.stack([(verdict == asked).double(), (verdict_plain == asked).double()])
                second[name].append(torch.where(judged, both, torch.nan))
    results = {}
    for name, parts in outcomes.items():
        flipped, anyway, kept, asked = torch.cat(parts, dim=1)
        rates = {"flip_rate": flipped, "without_request": anyway, "preserved": kept}
        results[name] = AttributeControl(images=len(flipped), **rate_fields(rates))
        others_kept = torch.cat(kept_each[name]).mean(dim=0).tolist()
        other_labels = [label for column, label in enumerate(labels) if column != indices[name]]
        results[name]["preserved_each"] = dict(zip(other_labels, others_kept, strict=True))
        for direction, rows in (("adding", asked == 1), ("removing", asked == 0)):
            if rows.any():
                results[name][f"{direction}_images"] = int(rows.sum())
                split = {f"flip_rate_{direction}": flipped[rows], f"without_request_{direction}": anyway[rows]}
                results[name].update(rate_fields(split))
    for name, parts in second.items():
        flipped, anyway = torch.cat(parts, dim=1)
        rates = {"independent_flip_rate": flipped, "independent_without_request": anyway}
        results[name].update(independent_images=int((~flipped.isnan()).sum()), **rate_fields(rates))
    for name, by_other in second_kept.items():
        if by_other:
            results[name]["independent_preserved_each"] = {
                other: judged_share(torch.cat(kept)) for other, kept in by_other.items()
            }
    return results


def judged_share(outcomes: Tensor) -> Estimate:
    """The mean of per-face outcomes ``(N,)`` in ``{0, 1}`` (NaN: no verdict) with its 95 % interval
    over faces, over the faces that had a verdict."""
    return estimate(mean_statistic(outcomes), resample_weights(len(outcomes)), images=int((~outcomes.isnan()).sum()))


def rate_fields(outcomes: Mapping[str, Tensor]) -> dict[str, float | list[float]]:
    """``{key: mean, key_ci95: 95 % interval}`` of each key's per-face outcomes ``(N,)`` (NaN:
    not scored), the faces resampled alike for every key."""
    weights = resample_weights(len(next(iter(outcomes.values()))))
    fields: dict[str, float | list[float]] = {}
    for key, values in outcomes.items():
        score = estimate(mean_statistic(values), weights)
        fields[key], fields[f"{key}_ci95"] = score["mean"], score["ci95"]
    return fields


def hole_confusion(read: Tensor, requested: Tensor, hole: Tensor, num_classes: int) -> Tensor:
    """``(B, C, C)`` confusion (row: requested class, column: read) of ``(B, H, W)`` label maps,
    counting the pixels of the ``(B, 1, H, W)`` hole only.

    Examples:
        >>> hole = torch.tensor([[[[1, 0], [1, 1]]]])
        >>> hole_confusion(torch.tensor([[[1, 1], [0, 1]]]), torch.tensor([[[1, 0], [1, 1]]]), hole, 2).tolist()
        [[[0, 0], [1, 2]]]
    """
    outside = num_classes  # an extra class for the known pixels, dropped after counting
    inside = hole[:, 0] > 0
    read = torch.where(inside, read, outside)
    requested = torch.where(inside, requested, outside)
    return confusion_per_image(read, requested, num_classes + 1)[:, :num_classes, :num_classes]


@torch.no_grad()
def part_control(
    model: BoostedGAN,
    batches: Iterable[tuple[Tensor, Tensor]],
    readers: Mapping[str, Callable[[Tensor], Tensor]] | None = None,
    strength: Strength = 1.0,
) -> dict[str, dict[str, Tensor]]:
    """Per part reader, the hole's confusion matrices between the requested part map and the one
    read from the fill made with it (``requested``) and without it (``without_request``).

    Each face is asked for the parts the model's segmentation embedder reads on the next face
    of its batch (inside its own hole). The model's own segmentation embedder reads the fills
    (``"embedder"``), and so does each of ``readers``: images ``(B, 3, H, W)`` to ``(B, H, W)``
    class ids of the embedder's classes (e.g. part maps drawn from face landmarks). ``strength``:
    how hard the request pushes (see :func:`semantic_inpaint.core.apply_overrides`).

    Returns:
        ``{reader: {"requested": (N, C, C), "without_request": (N, C, C)}}`` over all faces
        (see :func:`semantic_inpaint.statistics.mean_iou_statistic` for a mIoU with an interval).

    Examples:
        >>> from semantic_inpaint.config import ModelConfig
        >>> model = BoostedGAN(ModelConfig.model_validate({"resolution": 32,
        ...     "generator": {"name": "dilated", "options": {"width": 4}},
        ...     "conditions": [{"embedder": {"name": "segmentation", "options": {"num_classes": 3, "width": 4,
        ...         "depth": 2}}, "weight": 0.1}]})).eval()
        >>> mask = torch.zeros(2, 1, 32, 32); mask[..., 8:24, 8:24] = 1
        >>> scores = part_control(model, [(torch.rand(2, 3, 32, 32) * 2 - 1, mask)])
        >>> scores["embedder"]["requested"].shape, int(scores["embedder"]["requested"].sum())
        (torch.Size([2, 3, 3]), 512)
    """
    embedder = model.conditions["segmentation"].embedder
    readers = {"embedder": lambda image: embedder(image).argmax(1), **(readers or {})}
    classes = embedder.channels
    found: dict[str, dict[str, list[Tensor]]] = {name: {"requested": [], "without_request": []} for name in readers}
    for image, mask in batches:
        requested = embedder(image).argmax(1).roll(1, dims=0)  # another face's parts
        fills = {
            "requested": model.inpaint(image, mask, overrides={"segmentation": requested}, strength=strength),
            "without_request": model.inpaint(image, mask),
        }
        for name, reader in readers.items():
            for kind, fill in fills.items():
                found[name][kind].append(hole_confusion(reader(fill).cpu(), requested.cpu(), mask.cpu(), classes))
    return {name: {kind: torch.cat(parts) for kind, parts in kinds.items()} for name, kinds in found.items()}

"""Evaluation of embedders and inpainting methods on a held-out split.

* :func:`evaluate_attributes`: per-attribute accuracy next to the majority-class baseline;
* :func:`evaluate_segmentation`: per-class IoU and mIoU against the part labels;
* :func:`evaluate_inpainting`: Table I metrics, Table III retrieval mAP, semantic
  consistency (attribute agreement, part mIoU between the embedders' predictions on the
  inpainted image and on the original), the judges' metrics and FID for any number of methods
  on the same images and masks, each with a 95 % bootstrap interval over the images (FID, a
  statistic of the whole set, without one).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import torch
import torchvision
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from semantic_inpaint.core import SemanticEmbedder, composite
from semantic_inpaint.fid import frechet_distance
from semantic_inpaint.judge import Judge
from semantic_inpaint.masks import MaskGenerator
from semantic_inpaint.metrics import (
    ConfusionMatrix,
    attribute_agreement,
    confusion_per_image,
    hole_colour_bias,
    pixel_metrics,
    retrieval_average_precision,
)
from semantic_inpaint.offline_weights import load_state_dict, local_weights_file
from semantic_inpaint.statistics import (
    Estimate,
    Statistic,
    difference,
    estimate,
    mean_iou_statistic,
    mean_statistic,
    resample_weights,
)

#: ``method(image, mask) -> inpainted``: ``(B, 3, H, W)`` in ``[-1, 1]`` and ``(B, 1, H, W)``
InpaintMethod = Callable[[Tensor, Tensor], Tensor]
#: ``extractor(image) -> features``: ``(B, 3, H, W)`` in ``[-1, 1]`` → ``(B, F)``
FeatureExtractor = Callable[[Tensor], Tensor]


def batches(dataset: Dataset[dict[str, Tensor]], batch_size: int, num_workers: int = 0) -> Iterator[dict[str, Tensor]]:
    """The dataset in order, batched."""
    yield from DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)


@torch.no_grad()
def evaluate_attributes(
    embedder: SemanticEmbedder,
    dataset: Dataset[dict[str, Tensor]],
    train_labels: Tensor,
    names: list[str],
    *,
    batch_size: int = 128,
    device: torch.device | str = "cpu",
) -> dict[str, Any]:
    """Accuracy of a pretrained attribute embedder and of the majority-class baseline.

    Args:
        embedder: the attribute embedder (vector signal), in eval mode.
        dataset: validation items with ``"image"`` and ``"attributes"`` ``(N,)`` in ``{0, 1}``.
        train_labels: ``(M, N)`` labels of the training split: the baseline predicts, for each
            attribute, the class that is most frequent there.
        names: the N attribute names.
    """
    embedder.eval().to(device)
    majority = (train_labels.float().mean(0) >= 0.5).float()
    correct = torch.zeros(len(names))
    baseline = torch.zeros(len(names))
    count = 0
    for batch in batches(dataset, batch_size):
        labels = batch["attributes"]
        predicted = (embedder(batch["image"].to(device)).cpu() > 0.5).float()
        correct += (predicted == labels).float().sum(0)
        baseline += (majority == labels).float().sum(0)
        count += labels.shape[0]
    accuracy, majority_accuracy = correct / count, baseline / count
    return {
        "images": count,
        "per_attribute": {
            name: {"accuracy": float(a), "majority_baseline": float(b)}
            for name, a, b in zip(names, accuracy, majority_accuracy, strict=True)
        },
        "mean_accuracy": float(accuracy.mean()),
        "mean_majority_baseline": float(majority_accuracy.mean()),
    }


@torch.no_grad()
def evaluate_segmentation(
    embedder: SemanticEmbedder,
    dataset: Dataset[dict[str, Tensor]],
    names: list[str],
    *,
    batch_size: int = 64,
    device: torch.device | str = "cpu",
) -> dict[str, Any]:
    """Per-class IoU, mIoU and pixel accuracy of a segmentation embedder against ``"parts"``."""
    embedder.eval().to(device)
    matrix = ConfusionMatrix(len(names))
    for batch in batches(dataset, batch_size):
        predicted = embedder(batch["image"].to(device)).argmax(1).cpu()
        matrix.update(predicted, batch["parts"])
    iou = matrix.iou()
    return {
        "images": len(dataset),  # type: ignore[arg-type]
        "per_class_iou": {name: float(v) for name, v in zip(names, iou, strict=True)},
        "miou": matrix.mean_iou(),
        "pixel_accuracy": float(matrix.counts.diag().sum() / matrix.counts.sum()),
    }


class TinyImageFeatures:
    """Retrieval features without learned weights: the image at ``size``×``size``, flattened
    and L2-normalised (Torralba et al.'s "tiny images")."""

    name = "tiny_image"

    def __init__(self, size: int = 16) -> None:
        self.size = size

    def __call__(self, image: Tensor) -> Tensor:
        small = torch.nn.functional.interpolate(image.float(), size=(self.size, self.size), mode="area")
        return torch.nn.functional.normalize(small.flatten(1), dim=1)


class VGG16FC2Features:
    """The paper's DF.FC2 features: VGG-16's second fully connected layer (4096-d).

    Args:
        weights: a local torchvision VGG-16 ImageNet state dict (``vgg16-397923af.pth``);
            nothing is downloaded.
    """

    name = "vgg16_fc2"

    def __init__(self, weights: str | Path, device: torch.device | str = "cpu") -> None:
        network = torchvision.models.vgg16(weights=None)
        network.load_state_dict(load_state_dict(local_weights_file(weights, "weights", "vgg16")))
        network.classifier = network.classifier[:5]  # fc1, relu, dropout, fc2, relu
        self.network = network.eval().to(device)
        self.mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
        self.std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)

    @torch.no_grad()
    def __call__(self, image: Tensor) -> Tensor:
        image = torch.nn.functional.interpolate((image + 1) / 2, size=(224, 224), mode="bilinear", antialias=True)
        return self.network((image - self.mean) / self.std)


def opencv_method(flag_name: str, radius: int = 3) -> InpaintMethod:
    """OpenCV's classical inpainting (``"INPAINT_TELEA"`` or ``"INPAINT_NS"``) as a method.

    Needs the optional dependency ``opencv-python-headless`` (``pip install
    semantic-inpaint[classical]``). OpenCV works one image at a time on the CPU.
    """
    try:
        import cv2
    except ImportError as error:
        raise ImportError("the classical peers need OpenCV: pip install 'semantic-inpaint[classical]'") from error
    flag = getattr(cv2, flag_name)

    def inpaint(image: Tensor, mask: Tensor) -> Tensor:
        pixels = ((image.cpu().permute(0, 2, 3, 1).numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
        holes = (mask.cpu()[:, 0].numpy() > 0).astype(np.uint8) * 255
        filled = np.stack([cv2.inpaint(p, h, radius, flag) for p, h in zip(pixels, holes, strict=True)])
        result = torch.from_numpy(filled).permute(0, 3, 1, 2).float().div(127.5).sub(1).to(image.device)
        return composite(result, image, mask)

    return inpaint


#: one method's per-image scores: ``{metric: (N,)}``, and ``"part_confusion"``: ``(N, C, C)``
PerImage = dict[str, Tensor]


class InpaintingReport(TypedDict):
    """Scores of every method with 95 % intervals, and paired differences to a reference method."""

    scores: dict[str, dict[str, Estimate]]
    reference: str | None
    differences: dict[str, dict[str, Estimate]]


@torch.no_grad()
def score_inpainting(
    methods: Mapping[str, InpaintMethod],
    dataset: Dataset[dict[str, Tensor]],
    masks: MaskGenerator,
    *,
    attribute: SemanticEmbedder | None = None,
    segmentation: SemanticEmbedder | None = None,
    extractor: FeatureExtractor | None = None,
    retrieval_database: Dataset[dict[str, Tensor]] | None = None,
    judges: Sequence[Judge] = (),
    fid_features: FeatureExtractor | None = None,
    top_k: int = 10,
    batch_size: int = 32,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> dict[str, PerImage]:
    """Score every method on the same images and the same masks, image by image.

    The masks are drawn once per batch from ``seed``; the method ``"masked"`` (the input
    with holes filled with zeros) is always included, as in the paper's Table III.

    Returns:
        ``{method: {metric: (N,)}}`` with ``l1``, ``l2``, ``psnr``, ``ssim``, ``hole_bias_r/g/b``
        (mean signed error in the hole, images in ``[-1, 1]``), and where asked
        ``attribute_agreement``, ``retrieval_ap``, every judge's metrics (NaN where a judge
        could not score an image), ``part_confusion`` ``(N, C, C)`` and, with ``fid_features``
        (e.g. :class:`~semantic_inpaint.fid.InceptionFeatures`), ``fid_features`` ``(N, F)`` of the
        outputs next to ``fid_reference`` ``(N, F)`` of the originals.
    """
    if extractor is not None and retrieval_database is None:
        raise ValueError("retrieval_database: needed when an extractor is given")
    methods = {"masked": lambda image, mask: image * (1 - mask), **methods}
    generator = torch.Generator().manual_seed(seed)
    scores: dict[str, dict[str, list[Tensor]]] = {name: defaultdict(list) for name in methods}
    features: dict[str, list[Tensor]] = {name: [] for name in [*methods, "original"]}
    fid: dict[str, list[Tensor]] = {name: [] for name in [*methods, "original"]}
    for batch in batches(dataset, batch_size):
        image = batch["image"].to(device)
        mask = masks(image.shape[0], generator=generator).to(device)
        reference_attributes = attribute(image) if attribute else None
        reference_parts = segmentation(image).argmax(1) if segmentation else None
        if extractor is not None:
            features["original"].append(extractor(image).cpu())
        if fid_features is not None:
            fid["original"].append(fid_features(image).cpu())
        for name, method in methods.items():
            result = method(image, mask).clamp(-1, 1)
            batch_scores = {**pixel_metrics(result, image), **hole_colour_bias(result, image, mask)}
            if attribute is not None:
                batch_scores["attribute_agreement"] = attribute_agreement(attribute(result), reference_attributes)
            if segmentation is not None:
                parts = segmentation(result).argmax(1)
                batch_scores["part_confusion"] = confusion_per_image(parts, reference_parts, segmentation.channels)
            for judge in judges:
                batch_scores.update(judge(image, result))
            if extractor is not None:
                features[name].append(extractor(result).cpu())
            if fid_features is not None:
                fid[name].append(fid_features(result).cpu())
            for key, value in batch_scores.items():
                scores[name][key].append(value.cpu())
    per_image = {name: {key: torch.cat(values) for key, values in method.items()} for name, method in scores.items()}
    if extractor is not None:
        database = torch.cat([extractor(b["image"].to(device)).cpu() for b in batches(retrieval_database, batch_size)])
        for name in methods:
            per_image[name]["retrieval_ap"] = retrieval_average_precision(
                torch.cat(features[name]), torch.cat(features["original"]), database, top_k
            )
    if fid_features is not None:
        reference = torch.cat(fid["original"])
        for name in methods:
            per_image[name].update(fid_features=torch.cat(fid[name]), fid_reference=reference)
    return per_image


def summarise(
    per_image: Mapping[str, PerImage], *, reference: str | None = None, resamples: int = 2000, seed: int = 0
) -> InpaintingReport:
    """Each method's metrics with 95 % bootstrap intervals over images, and each method's
    paired difference to ``reference`` (the same resamples for every method).

    ``part_confusion`` becomes ``part_miou`` (pooled over the images, as the paper's mIoU),
    ``retrieval_ap`` becomes ``retrieval_map`` and ``fid_features`` becomes ``fid``, whose
    interval is NaN (a bootstrap of 2048-d covariances would cost minutes per resample on a
    CPU); every other metric is a mean over the images its method could be scored on.
    """
    if reference is not None and reference not in per_image:
        raise ValueError(f"reference: expected one of the methods {sorted(per_image)}, received {reference!r}")
    images = len(next(iter(next(iter(per_image.values())).values())))
    weights = resample_weights(images, resamples, seed)
    statistics = {name: _statistics(values) for name, values in per_image.items()}
    report: InpaintingReport = {
        "scores": {
            name: {metric: estimate(statistic, weights, scored) for metric, (statistic, scored) in method.items()}
            for name, method in statistics.items()
        },
        "reference": reference,
        "differences": {},
    }
    for name, values in per_image.items():
        if "fid_features" in values:
            fid = frechet_distance(values["fid_reference"], values["fid_features"])
            report["scores"][name]["fid"] = {"mean": fid, "ci95": [math.nan, math.nan], "images": images}
    if reference is not None:
        baseline = statistics[reference]
        for name, method in statistics.items():
            if name != reference:
                report["differences"][name] = {
                    metric: estimate(difference(statistic, baseline[metric][0]), weights)
                    for metric, (statistic, _) in method.items()
                    if metric in baseline
                }
    return report


def _statistics(values: PerImage) -> dict[str, tuple[Statistic, int]]:
    """Each reported metric's statistic and the number of images it rests on."""
    statistics: dict[str, tuple[Statistic, int]] = {}
    for metric, tensor in values.items():
        if metric in ("fid_features", "fid_reference"):
            continue  # a statistic of the whole set: summarise computes it once
        if metric == "part_confusion":
            statistics["part_miou"] = mean_iou_statistic(tensor), len(tensor)
        else:
            name = "retrieval_map" if metric == "retrieval_ap" else metric
            statistics[name] = mean_statistic(tensor), int((~tensor.isnan()).sum())
    return statistics


def evaluate_inpainting(
    methods: Mapping[str, InpaintMethod],
    dataset: Dataset[dict[str, Tensor]],
    masks: MaskGenerator,
    *,
    reference: str | None = None,
    resamples: int = 2000,
    **options: Any,
) -> InpaintingReport:
    """:func:`score_inpainting` then :func:`summarise`: every method's metrics with intervals.

    Args:
        methods: ``{name: method(image, mask)}``.
        dataset: the held-out images.
        masks: the hole masks, drawn once for all methods.
        reference: a method whose paired differences to every other method are reported.
        resamples: bootstrap resamples of the images.
        options: keyword arguments of :func:`score_inpainting` (embedders, judges, ...).
    """
    per_image = score_inpainting(methods, dataset, masks, **options)
    return summarise(per_image, reference=reference, resamples=resamples, seed=options.get("seed", 0))

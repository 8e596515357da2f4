"""The paper's metrics: pixel errors (Table I), retrieval mAP (Table III) and semantic consistency.

Images are ``(B, 3, H, W)`` in ``[-1, 1]``; pixel metrics are computed on ``[0, 1]`` values,
per image, and returned per image so a caller can average over a whole split. As in the
paper, mean l1 and mean l2 are reported as percentages of the value range.
"""

from __future__ import annotations

import kornia
import torch
from torch import Tensor
from torchmetrics.functional.image import peak_signal_noise_ratio

from semantic_inpaint.validation import check_image, check_same_shape

#: the PSNR of identical images (infinite) is reported as this many dB
MAX_PSNR = 100.0


def _unit(image: Tensor) -> Tensor:
    return (image.float() + 1) / 2


def pixel_metrics(prediction: Tensor, target: Tensor) -> dict[str, Tensor]:
    """Per-image ``l1`` (%), ``l2`` (%), ``psnr`` (dB) and ``ssim`` over the whole image.

    PSNR is torchmetrics' (capped at 100 dB, which identical images would exceed); SSIM is
    kornia's with an 11×11 Gaussian window (smaller for images under 11 px), which matches
    torchmetrics' SSIM (tests/test_metrics.py checks both against torchmetrics).

    Args:
        prediction: ``(B, 3, H, W)`` in ``[-1, 1]``, the inpainted (composited) images.
        target: ``(B, 3, H, W)`` in ``[-1, 1]``, the originals.

    Returns:
        A dict of ``(B,)`` tensors.

    Examples:
        >>> target = torch.zeros(2, 3, 16, 16)
        >>> scores = pixel_metrics(target + 0.2, target)  # 0.1 off in [0, 1]
        >>> [round(v, 2) for v in (scores["l1"][0].item(), scores["l2"][0].item(), scores["psnr"][0].item())]
        [10.0, 1.0, 20.0]
    """
    check_image(prediction, "prediction")
    check_image(target, "target")
    check_same_shape(prediction, target, "prediction", "target")
    x, y = _unit(prediction), _unit(target)
    window = min(11, *x.shape[-2:])
    window -= 1 - window % 2  # SSIM's Gaussian window: 11 px, or the largest odd size that fits
    return {
        "l1": (x - y).abs().mean(dim=(1, 2, 3)) * 100,
        "l2": (x - y).pow(2).mean(dim=(1, 2, 3)) * 100,
        "psnr": peak_signal_noise_ratio(x, y, data_range=1.0, reduction="none", dim=(1, 2, 3)).clamp_max(MAX_PSNR),
        "ssim": kornia.metrics.ssim(x, y, window_size=window, max_val=1.0).mean(dim=(1, 2, 3)),
    }


def hole_colour_bias(prediction: Tensor, target: Tensor, mask: Tensor) -> dict[str, Tensor]:
    """Per-image mean signed error inside the hole, per channel (``hole_bias_r/g/b``, ``(B,)`` each).

    A fill that is systematically too blue shows as a positive ``hole_bias_b``: a coloured
    seam around every hole. Images in ``[-1, 1]``; images without a hole get NaN.

    Examples:
        >>> target = torch.zeros(1, 3, 4, 4); mask = torch.zeros(1, 1, 4, 4); mask[..., :2, :2] = 1
        >>> prediction = target.clone(); prediction[:, 2] += 0.5 * mask[:, 0]
        >>> {k: round(v.item(), 3) for k, v in hole_colour_bias(prediction, target, mask).items()}
        {'hole_bias_r': 0.0, 'hole_bias_g': 0.0, 'hole_bias_b': 0.5}
    """
    check_same_shape(prediction, target, "prediction", "target")
    error = ((prediction.float() - target.float()) * mask).sum(dim=(2, 3))
    bias = error / mask.sum(dim=(2, 3))
    return {f"hole_bias_{channel}": bias[:, index] for index, channel in enumerate("rgb")}


def attribute_agreement(predicted: Tensor, reference: Tensor, threshold: float = 0.5) -> Tensor:
    """Per-image fraction of attributes on which two ``(B, N)`` probability vectors agree."""
    return ((predicted > threshold) == (reference > threshold)).float().mean(dim=1)


def confusion_per_image(predicted: Tensor, target: Tensor, num_classes: int) -> Tensor:
    """``(B, C, C)`` confusion counts (row: target class, column: predicted) of each image's
    ``(B, ...)`` int label maps.

    Examples:
        >>> confusion_per_image(torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 1], [0, 1]]), 2).tolist()
        [[[1, 0], [0, 1]], [[0, 1], [0, 1]]]
    """
    check_same_shape(predicted, target, "predicted", "target")
    batch = target.shape[0]
    cells = num_classes**2
    index = target.reshape(batch, -1).long().cpu() * num_classes + predicted.reshape(batch, -1).long().cpu()
    index = index + torch.arange(batch)[:, None] * cells
    return torch.bincount(index.flatten(), minlength=batch * cells).view(batch, num_classes, num_classes)


class ConfusionMatrix:
    """Accumulates a ``C × C`` confusion matrix of label maps, for IoU and pixel accuracy.

    Examples:
        >>> matrix = ConfusionMatrix(2)
        >>> matrix.update(torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 1], [0, 1]]))
        >>> [round(v, 3) for v in matrix.iou().tolist()]
        [0.5, 0.667]
    """

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.counts = torch.zeros(num_classes, num_classes, dtype=torch.long)

    def update(self, predicted: Tensor, target: Tensor) -> None:
        """Add ``(B, H, W)`` (or any shape) int label maps of the same shape."""
        self.counts += confusion_per_image(predicted.reshape(1, -1), target.reshape(1, -1), self.num_classes)[0]

    def iou(self) -> Tensor:
        """Per-class IoU ``(C,)``; NaN for a class absent from both prediction and target."""
        true_positive = self.counts.diag().double()
        union = self.counts.sum(0).double() + self.counts.sum(1).double() - true_positive
        return torch.where(union > 0, true_positive / union.clamp_min(1), torch.nan)

    def mean_iou(self) -> float:
        """mIoU over the classes that occur."""
        return float(self.iou().nanmean())


def average_precision(ranking: Tensor, relevant: Tensor) -> Tensor:
    """AP of each query: ``ranking`` ``(Q, D)`` database indices best first, ``relevant``
    ``(Q, D)`` bool. Queries with no relevant item get AP 0."""
    hits = torch.gather(relevant, 1, ranking).float()
    precision_at_k = hits.cumsum(1) / torch.arange(1, hits.shape[1] + 1, device=hits.device)
    return (precision_at_k * hits).sum(1) / relevant.sum(1).clamp_min(1)


def retrieval_average_precision(
    query_features: Tensor, reference_features: Tensor, database: Tensor, top_k: int = 10
) -> Tensor:
    """The paper's semantic metric (Table III), per query: ``(Q,)`` average precisions.

    The ground truth of each query is what the *original* query image retrieves from the
    database (its ``top_k`` nearest neighbours by Euclidean distance); the restored query
    is then scored by the average precision of its full ranking against that set.

    Args:
        query_features: ``(Q, F)`` features of the restored (or masked) query images.
        reference_features: ``(Q, F)`` features of the original query images.
        database: ``(D, F)`` features of the retrieval database.
        top_k: size of each query's ground-truth set.
    """
    if top_k > database.shape[0]:
        raise ValueError(f"top_k: expected at most the database size {database.shape[0]}, received {top_k}")
    truth = torch.cdist(reference_features, database).topk(top_k, largest=False).indices
    relevant = torch.zeros(query_features.shape[0], database.shape[0], dtype=torch.bool, device=database.device)
    relevant.scatter_(1, truth, True)
    ranking = torch.cdist(query_features, database).argsort(dim=1)
    return average_precision(ranking, relevant)


def retrieval_map(query_features: Tensor, reference_features: Tensor, database: Tensor, top_k: int = 10) -> float:
    """Mean of :func:`retrieval_average_precision` over the queries (Table III's mAP)."""
    return float(retrieval_average_precision(query_features, reference_features, database, top_k).mean())

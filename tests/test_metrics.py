"""The paper's metrics against hand computations, and the evaluation loop end to end."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint.data import SyntheticFaces
from semantic_inpaint.evaluation import TinyImageFeatures, evaluate_inpainting, evaluate_segmentation
from semantic_inpaint.masks import CenteredSquare
from semantic_inpaint.metrics import (
    ConfusionMatrix,
    attribute_agreement,
    average_precision,
    pixel_metrics,
    retrieval_map,
)
from semantic_inpaint.registry import get_registry


def test_pixel_metrics_match_hand_computation() -> None:
    target = torch.zeros(1, 3, 4, 4)  # 0.5 in [0, 1]
    prediction = target.clone()
    prediction[..., :2, :] = 0.4  # 0.7 in [0, 1]: half the pixels off by 0.2
    scores = pixel_metrics(prediction, target)
    assert scores["l1"].item() == pytest.approx(10.0)  # mean |diff| = 0.1 -> 10 %
    assert scores["l2"].item() == pytest.approx(2.0)  # mean diff² = 0.02 -> 2 %
    assert scores["psnr"].item() == pytest.approx(10 * math.log10(1 / 0.02), rel=1e-5)
    assert 0 < scores["ssim"].item() < 1


def test_identical_images_have_perfect_ssim_and_zero_error() -> None:
    image = torch.rand(2, 3, 16, 16) * 2 - 1
    scores = pixel_metrics(image, image)
    assert torch.all(scores["l1"] == 0)
    assert torch.allclose(scores["ssim"], torch.ones(2), atol=1e-4)


def test_pixel_metrics_refuse_mismatched_shapes() -> None:
    with pytest.raises(
        ValueError, match=r"prediction: expected the shape of target \(1, 3, 8, 8\), received \(1, 3, 4, 4\)"
    ):
        pixel_metrics(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 8, 8))


def test_confusion_matrix_iou_by_hand() -> None:
    matrix = ConfusionMatrix(3)
    predicted = torch.tensor([0, 0, 1, 1, 2])
    target = torch.tensor([0, 1, 1, 1, 0])
    matrix.update(predicted, target)
    # class 0: tp 1, fp 1, fn 1 -> 1/3; class 1: tp 2, fp 0, fn 1 -> 2/3; class 2: tp 0, fp 1 -> 0
    assert matrix.iou().tolist() == pytest.approx([1 / 3, 2 / 3, 0.0])
    assert matrix.mean_iou() == pytest.approx(1 / 3)


def test_average_precision_by_hand() -> None:
    ranking = torch.tensor([[2, 0, 1, 3]])
    relevant = torch.tensor([[True, False, False, True]])
    # hits at ranks 2 and 4: precision 1/2 and 2/4 -> AP = (0.5 + 0.5) / 2
    assert average_precision(ranking, relevant).item() == pytest.approx(0.5)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), top_k=st.integers(1, 5))
def test_retrieval_map_is_one_for_the_original_queries(seed: int, top_k: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    database, queries = torch.randn(20, 8, generator=generator), torch.randn(4, 8, generator=generator)
    assert retrieval_map(queries, queries, database, top_k) == pytest.approx(1.0)
    assert 0 <= retrieval_map(torch.randn(4, 8, generator=generator), queries, database, top_k) <= 1


def test_attribute_agreement_counts_matching_decisions() -> None:
    agreement = attribute_agreement(torch.tensor([[0.9, 0.2, 0.6]]), torch.tensor([[0.8, 0.7, 0.55]]))
    assert agreement.tolist() == pytest.approx([2 / 3])


def test_evaluate_inpainting_scores_methods_on_the_same_masks() -> None:
    dataset = SyntheticFaces(resolution=32, length=12)
    segmentation = get_registry().build("embedder", "segmentation", {"num_classes": 10, "width": 4, "depth": 2})
    attribute = get_registry().build("embedder", "attribute", {"num_attributes": 6, "width": 4})
    results = evaluate_inpainting(
        {"oracle": lambda image, mask: image},
        dataset,
        CenteredSquare(32),
        attribute=attribute.eval(),
        segmentation=segmentation.eval(),
        extractor=TinyImageFeatures(8),
        retrieval_database=SyntheticFaces(resolution=32, length=20, seed=3),
        top_k=3,
        batch_size=5,
    )
    assert results["reference"] is None and results["differences"] == {}
    oracle = {metric: value["mean"] for metric, value in results["scores"]["oracle"].items()}
    masked = {metric: value["mean"] for metric, value in results["scores"]["masked"].items()}
    assert oracle["l1"] == 0 and oracle["ssim"] == pytest.approx(1, abs=1e-4)
    assert oracle["attribute_agreement"] == 1 and oracle["part_miou"] == pytest.approx(1)
    assert oracle["retrieval_map"] == pytest.approx(1)
    assert masked["psnr"] < oracle["psnr"] and masked["l1"] > 0
    for method in results["scores"].values():
        for metric, value in method.items():
            low, high = value["ci95"]
            assert low <= value["mean"] <= high, metric
            assert value["images"] == 12


def test_evaluate_segmentation_of_a_perfect_labeller() -> None:
    class Oracle(torch.nn.Module):
        def forward(self, image):
            return torch.nn.functional.one_hot(self.parts, 10).permute(0, 3, 1, 2).float()

    dataset = SyntheticFaces(resolution=32, length=4)
    oracle = Oracle()
    oracle.parts = torch.stack([dataset[i]["parts"] for i in range(4)])
    report = evaluate_segmentation(oracle, dataset, [str(i) for i in range(10)], batch_size=4)
    assert report["miou"] == pytest.approx(1.0) and report["pixel_accuracy"] == 1.0


def test_opencv_telea_fills_holes_and_keeps_known_pixels() -> None:
    pytest.importorskip("cv2", reason="OpenCV is an optional dependency (semantic-inpaint[classical])")
    from semantic_inpaint.evaluation import opencv_method

    image = torch.linspace(-1, 1, 32).expand(1, 3, 32, 32).contiguous()
    mask = CenteredSquare(32, fraction=0.25)(1)
    result = opencv_method("INPAINT_TELEA")(image, mask)
    known = (mask == 0).expand_as(image)
    assert torch.equal(result[known], image[known])
    assert (result - image).abs()[~known].mean() < 0.1  # a smooth ramp is easy to continue

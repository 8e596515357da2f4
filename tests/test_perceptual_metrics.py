"""FID and LPIPS through torchmetrics with feature networks from local files, and the pixel
metrics checked against torchmetrics where the project computes them itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
import torchvision
from hypothesis import given, settings
from hypothesis import strategies as st
from torchmetrics.functional.classification import multiclass_jaccard_index
from torchmetrics.functional.image import structural_similarity_index_measure

from semantic_inpaint.data import SyntheticFaces
from semantic_inpaint.evaluation import TinyImageFeatures, evaluate_inpainting
from semantic_inpaint.fid import InceptionFeatures, frechet_distance
from semantic_inpaint.masks import CenteredSquare
from semantic_inpaint.metrics import ConfusionMatrix, pixel_metrics
from semantic_inpaint.registry import get_registry


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), side=st.sampled_from([16, 24, 32]), noise=st.floats(0.01, 0.5))
def test_ssim_agrees_with_torchmetrics(seed: int, side: int, noise: float) -> None:
    generator = torch.Generator().manual_seed(seed)
    target = torch.rand(2, 3, side, side, generator=generator) * 2 - 1
    prediction = (target + noise * torch.randn(target.shape, generator=generator)).clamp(-1, 1)
    ours = pixel_metrics(prediction, target)["ssim"]
    theirs = structural_similarity_index_measure(
        (prediction + 1) / 2, (target + 1) / 2, data_range=1.0, reduction="none"
    )
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=0)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), classes=st.integers(2, 6))
def test_part_iou_agrees_with_torchmetrics(seed: int, classes: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    target = torch.randint(0, classes, (3, 16, 16), generator=generator)
    predicted = torch.where(
        torch.rand(target.shape, generator=generator) < 0.7, target, torch.randint_like(target, classes)
    )
    matrix = ConfusionMatrix(classes)
    matrix.update(predicted, target)
    theirs = multiclass_jaccard_index(predicted, target, num_classes=classes, average="none")
    torch.testing.assert_close(matrix.iou().float(), theirs, atol=1e-6, rtol=0)


def test_frechet_distance_matches_the_closed_form() -> None:
    generator = torch.Generator().manual_seed(0)
    first = torch.randn(400, 6, generator=generator, dtype=torch.float64)
    second = torch.randn(300, 6, generator=generator, dtype=torch.float64) * 1.5 + 0.3
    mean = (first.mean(0) - second.mean(0)).numpy()
    cov_first, cov_second = np.cov(first.numpy(), rowvar=False), np.cov(second.numpy(), rowvar=False)
    root = scipy.linalg.sqrtm(cov_first @ cov_second).real
    expected = mean @ mean + np.trace(cov_first + cov_second - 2 * root)
    assert frechet_distance(first, second) == pytest.approx(expected, rel=1e-6)
    assert abs(frechet_distance(first, first)) < 1e-6


def test_frechet_distance_refuses_features_of_different_widths() -> None:
    with pytest.raises(ValueError, match=r"generated: expected \(N, F\) features like the reference's \(4, 3\)"):
        frechet_distance(torch.zeros(4, 3), torch.zeros(4, 2))


def test_inception_features_come_from_the_local_file_and_stay_in_eval_mode(tmp_path: Path) -> None:
    torch.manual_seed(0)
    network = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
    torch.save(network.state_dict(), tmp_path / "inception.pth")
    features = InceptionFeatures(tmp_path / "inception.pth").train()
    assert not features.training and not features.network.training
    torch.testing.assert_close(features.network.Conv2d_1a_3x3.conv.weight, network.Conv2d_1a_3x3.conv.weight)
    output = features(torch.rand(2, 3, 32, 32) * 2 - 1)
    assert output.shape == (2, 2048) and torch.isfinite(output).all()


def test_a_missing_feature_network_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "inception.pth"
    with pytest.raises(FileNotFoundError, match=r"weights: no file at .*inception\.pth; .*inception_v3_google"):
        InceptionFeatures(missing)
    with pytest.raises(FileNotFoundError, match=r"weights: no file at .*alex\.pth; .*alexnet-owt-7be5be79\.pth"):
        get_registry().build("judge", "lpips", {"weights": tmp_path / "alex.pth"})


@pytest.fixture(scope="module")
def alexnet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("weights") / "alexnet.pth"
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), path)
    return path


def test_the_lpips_judge_loads_its_backbone_from_the_file_without_downloading(
    alexnet_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to download")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    hub = torch.hub.get_dir()
    judge = get_registry().build("judge", "lpips", {"weights": alexnet_file})
    assert torch.hub.get_dir() == hub
    saved = torch.load(alexnet_file, weights_only=True)
    torch.testing.assert_close(judge.metric.net.net.slice1[0].weight, saved["features.0.weight"])


def test_lpips_is_zero_for_the_original_and_grows_with_the_damage(alexnet_file: Path) -> None:
    judge = get_registry().build("judge", "lpips", {"weights": alexnet_file})
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(2, 3, 64, 64, generator=generator) * 2 - 1
    noise = torch.randn(image.shape, generator=generator)
    same = judge(image, image)["lpips"]
    slightly, badly = (judge(image, (image + scale * noise).clamp(-1, 1))["lpips"] for scale in (0.05, 0.5))
    assert torch.all(same == 0)
    assert torch.all(slightly > 0) and torch.all(badly > slightly)


def test_evaluation_reports_fid_per_method_without_an_interval() -> None:
    dataset = SyntheticFaces(resolution=32, length=24)
    report = evaluate_inpainting(
        {"copy": lambda image, mask: image},
        dataset,
        CenteredSquare(32),
        fid_features=TinyImageFeatures(size=4),
        reference="masked",
        resamples=100,
        batch_size=8,
    )
    copy, masked = report["scores"]["copy"]["fid"], report["scores"]["masked"]["fid"]
    assert abs(copy["mean"]) < 1e-6 < masked["mean"]
    assert all(np.isnan(bound) for bound in masked["ci95"]) and masked["images"] == 24
    assert "fid" not in report["differences"]["copy"]
    assert not {"fid_features", "fid_reference"} & set(report["scores"]["copy"])

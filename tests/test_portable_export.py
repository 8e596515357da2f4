"""ONNX and TorchScript files run the model as eager PyTorch does, without this library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from semantic_inpaint.config import ModelConfig
from semantic_inpaint.core import composite
from semantic_inpaint.inference_graph import InpaintingGraph
from semantic_inpaint.model import BoostedGAN
from semantic_inpaint.poisson_blend import poisson_blend
from semantic_inpaint.portable_export import BLEND_STEPS_PER_PIXEL, export_portable
from tests.conftest import tiny_model

#: fp32 parity asked of an exported file against eager PyTorch
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def model() -> BoostedGAN:
    """A tiny full model whose BatchNorm statistics are not the initial ones."""
    torch.manual_seed(0)
    model = BoostedGAN(ModelConfig.model_validate(tiny_model()))
    image, mask = InpaintingGraph(model).example_inputs(batch=4)
    model.train()
    for _ in range(3):
        model.generate(torch.rand_like(image) * 2 - 1, mask)
    return model.eval()


def blended_graph(model: BoostedGAN) -> InpaintingGraph:
    """The eager graph an export holds by default: the fill Poisson-blended in a fixed number of steps."""
    return InpaintingGraph(model, blend_iterations=BLEND_STEPS_PER_PIXEL * model.config.resolution)


def inputs(batch: int, height: int, width: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, height, width, generator=generator) * 2 - 1
    mask = torch.zeros(batch, 1, height, width)
    mask[..., height // 4 : height // 2, width // 3 : 3 * width // 4] = 1
    return image, mask


def test_the_onnx_file_matches_eager_pytorch_at_any_batch_and_size(model: BoostedGAN, tmp_path: Path) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    path = export_portable(model, tmp_path / "model.onnx", "onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    metadata = session.get_modelmeta().custom_metadata_map
    assert metadata["resolution"] == "32" and metadata["conditions"] == "attribute=0.1, segmentation=0.1"
    multiple = int(metadata["size_multiple"])
    for batch, height, width in ((1, 32, 32), (3, 32, 32), (2, 2 * multiple, 3 * multiple)):
        image, mask = inputs(batch, height, width)
        (exported,) = session.run(None, {"image": image.numpy(), "mask": mask.numpy()})
        with torch.no_grad():
            eager = blended_graph(model)(image, mask).numpy()
        difference = np.abs(exported - eager).max()
        assert difference <= TOLERANCE, f"batch {batch}, {height}x{width}: max abs difference {difference:.2e}"
        known = mask.numpy().repeat(3, axis=1) == 0
        assert np.array_equal(exported[known], image.numpy()[known])


def test_the_torchscript_file_runs_in_a_fresh_process_without_the_library(model: BoostedGAN, tmp_path: Path) -> None:
    path = export_portable(model, tmp_path / "model.pt", "torchscript")
    image, mask = inputs(3, 32, 32, seed=1)
    torch.save({"image": image, "mask": mask}, tmp_path / "inputs.pt")
    script = (
        "import sys, warnings, torch; warnings.simplefilter('ignore');"
        f"model = torch.jit.load({str(path)!r}); given = torch.load({str(tmp_path / 'inputs.pt')!r});"
        f"torch.save(model(given['image'], given['mask']), {str(tmp_path / 'output.pt')!r});"
        "print('semantic_inpaint' in sys.modules)"
    )
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert finished.stdout.strip() == "False"
    with torch.no_grad():
        eager = blended_graph(model)(image, mask)
    torch.testing.assert_close(torch.load(tmp_path / "output.pt"), eager, atol=TOLERANCE, rtol=0)


def test_an_exported_file_blends_as_the_inpainter_does_or_not_at_all(model: BoostedGAN, tmp_path: Path) -> None:
    image, mask = inputs(2, 32, 32, seed=2)
    with torch.no_grad():
        raw = model.generate(image, mask)
        inpainter_blend = composite(poisson_blend(raw, image, mask), image, mask)  # converged, inside the hole's box
        plain = InpaintingGraph(model)(image, mask)
    blended = torch.jit.load(str(export_portable(model, tmp_path / "blended.pt", "torchscript")))(image, mask)
    unblended = torch.jit.load(str(export_portable(model, tmp_path / "plain.pt", "torchscript", blend="none")))
    torch.testing.assert_close(blended, inpainter_blend, atol=1e-3, rtol=0)
    assert (blended - plain).abs().amax() > 1e-3  # the blend did something
    torch.testing.assert_close(unblended(image, mask), plain, atol=TOLERANCE, rtol=0)


def test_the_graph_is_the_models_inpaint(model: BoostedGAN) -> None:
    image, mask = inputs(2, 32, 32)
    with torch.no_grad():
        assert torch.equal(InpaintingGraph(model)(image, mask), model.inpaint(image, mask))
    assert not any(name.startswith("discriminator") for name, _ in InpaintingGraph(model).named_parameters())


def test_onnx_without_its_packages_names_the_extra(
    model: BoostedGAN, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(
        ModuleNotFoundError, match=r"onnxscript is not installed: pip install \"semantic-inpaint\[export\]\""
    ):
        export_portable(model, tmp_path / "model.onnx", "onnx")
    assert not (tmp_path / "model.onnx").exists()

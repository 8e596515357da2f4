"""The native strategy: the model on the photo's own pixels, whole or in tiles of bounded size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint import Inpainter
from semantic_inpaint.core import composite
from semantic_inpaint.native_tiles import native_tiles
from semantic_inpaint.poisson_blend import poisson_blend
from tests.conftest import assert_windows_cover_the_hole_once, rectangle_holes


@settings(max_examples=60, deadline=None)
@given(hole=rectangle_holes(sides=(20, 300), rectangles=4, largest=150), tile=st.sampled_from([None, 32, 64, 100]))
def test_tiles_are_bounded_and_every_hole_pixel_is_written_once(hole: np.ndarray, tile: int | None) -> None:
    windows = native_tiles(hole, tile)
    assert_windows_cover_the_hole_once(hole, windows)
    if tile is not None:
        assert all(window.height <= tile and window.width <= tile for window in windows)


@pytest.fixture(scope="module")
def inpainter() -> Inpainter:
    return Inpainter.from_pretrained("celebahq64-none", device="cpu")


def photo(height: int = 150, width: int = 230) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("tile", [None, 64])
def test_native_keeps_known_pixels_on_a_photo_of_any_size(inpainter: Inpainter, tile: int | None) -> None:
    image, mask = photo(), np.zeros((150, 230), np.uint8)  # not a multiple of the generator's 16
    mask[30:90, 100:200] = 255
    filled = inpainter.inpaint(image, mask, strategy="native", tile=tile)
    assert filled.shape == image.shape and filled.dtype == np.uint8
    assert np.array_equal(filled[mask == 0], image[mask == 0])
    assert not np.array_equal(filled[30:90, 100:200], image[30:90, 100:200])


def test_native_without_tiles_is_one_run_at_the_photos_scale(inpainter: Inpainter) -> None:
    image, mask = photo(128, 192), np.zeros((128, 192), np.uint8)  # already a multiple: no padding
    mask[40:80, 60:120] = 255
    filled = inpainter.inpaint(image, mask, strategy="native")
    tensor = torch.from_numpy((image.astype(np.float32) / 127.5 - 1).transpose(2, 0, 1)[None])
    hole = torch.from_numpy(mask[None, None] / 255.0).float()
    with torch.no_grad():  # the model itself at the photo's size, blended: what native promises
        expected = composite(poisson_blend(inpainter.model.eval().generate(tensor, hole), tensor, hole), tensor, hole)
    expected = np.clip(np.round((expected[0].permute(1, 2, 0).numpy() + 1) * 127.5), 0, 255).astype(np.uint8)
    assert np.abs(filled.astype(int) - expected.astype(int)).max() <= 1


def test_a_tile_is_named_when_it_cannot_work(inpainter: Inpainter) -> None:
    image, mask = photo(), np.zeros((150, 230), np.uint8)
    mask[30:90, 100:200] = 255
    with pytest.raises(ValueError, match="tile: expected None, or a number of pixels with strategy='native'"):
        inpainter.inpaint(image, mask, strategy="crop", tile=64)
    with pytest.raises(ValueError, match="tile: expected at least 32 px"):
        inpainter.inpaint(image, mask, strategy="native", tile=20)

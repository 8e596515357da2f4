"""The crop strategy: a window per hole region, every hole pixel filled once, at the photo's scale."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from semantic_inpaint import Inpainter
from semantic_inpaint.hole_windows import hole_windows
from tests.conftest import assert_windows_cover_the_hole_once, rectangle_holes


@settings(max_examples=60, deadline=None)
@given(hole=rectangle_holes(sides=(40, 400), rectangles=5, largest=120), resolution=st.sampled_from([32, 64]))
def test_every_hole_pixel_belongs_to_exactly_one_window_that_holds_it(hole: np.ndarray, resolution: int) -> None:
    height, width = hole.shape
    windows = hole_windows(hole, resolution)
    assert_windows_cover_the_hole_once(hole, windows)
    for window in windows:
        assert window.height == window.width or (window.height, window.width) == (height, width)
        assert min(window.height, window.width) >= min(resolution, height, width)


def test_a_small_hole_in_a_large_photo_gets_a_window_at_the_models_resolution() -> None:
    hole = np.zeros((768, 1024), bool)
    hole[400:420, 500:530] = True
    (window,) = hole_windows(hole, resolution=64)
    assert (window.height, window.width) == (64, 64)
    assert window.top <= 400 and window.top + 64 >= 420


@pytest.fixture(scope="module")
def inpainter() -> Inpainter:
    return Inpainter.from_pretrained("celebahq64-full", device="cpu")


def photo() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (300, 500, 3), dtype=np.uint8)


def test_crop_keeps_known_pixels_and_fills_far_apart_holes_independently(inpainter: Inpainter) -> None:
    image, mask = photo(), np.zeros((300, 500), np.uint8)
    mask[40:70, 40:80] = 255
    mask[200:240, 380:430] = 255
    filled = inpainter.inpaint(image, mask, strategy="crop")
    assert np.array_equal(filled[mask == 0], image[mask == 0])
    assert not np.array_equal(filled[40:70, 40:80], image[40:70, 40:80])
    changed = image.copy()
    changed[150:300, 300:500] = 255 - changed[150:300, 300:500]  # around the second hole only
    again = inpainter.inpaint(changed, mask, strategy="crop")
    assert np.array_equal(again[40:70, 40:80], filled[40:70, 40:80])


def test_a_tensor_is_resized_and_a_wrong_strategy_is_named(inpainter: Inpainter) -> None:
    image, mask = torch.rand(1, 3, 64, 64) * 2 - 1, torch.zeros(1, 1, 64, 64)
    with pytest.raises(ValueError, match="strategy: 'crop' works on photos"):
        inpainter.inpaint(image, mask, strategy="crop")
    with pytest.raises(ValueError, match="strategy: expected 'resize', 'crop', 'native' or 'face', received 'tile'"):
        inpainter.inpaint(photo(), np.zeros((300, 500), np.uint8), strategy="tile")

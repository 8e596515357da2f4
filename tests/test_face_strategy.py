"""The ``face`` strategy: faces found in a photo, aligned as the training faces were, filled there
and warped back; the rest of the hole, and photos without a face, filled with ``crop``."""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from semantic_inpaint.face_alignment import ALIGNED_KEYPOINTS, Face, FaceWindow, similarity_transform
from semantic_inpaint.inference import Inpainter
from tests.conftest import SHARED_CELEBAHQ

HAS_MEDIAPIPE = importlib.util.find_spec("mediapipe") is not None
FACES = SHARED_CELEBAHQ / "64" / "images"
needs_faces = pytest.mark.skipif(
    not (HAS_MEDIAPIPE and FACES.is_dir()), reason="needs mediapipe (semantic-inpaint[faces]) and the shared faces"
)


@settings(max_examples=30, deadline=None)
@given(
    angle=st.floats(-math.pi, math.pi),
    scale=st.floats(0.1, 10),
    shift=st.tuples(st.floats(-500, 500), st.floats(-500, 500)),
)
def test_a_similarity_is_recovered_from_three_of_its_points(angle: float, scale: float, shift: tuple) -> None:
    matrix = np.array(
        [
            [scale * math.cos(angle), -scale * math.sin(angle), shift[0]],
            [scale * math.sin(angle), scale * math.cos(angle), shift[1]],
        ]
    )
    source = np.array([[10.0, 20.0], [60.0, 25.0], [35.0, 70.0]])
    target = source @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(similarity_transform(source, target), matrix, atol=1e-6 * max(1.0, scale) * 500)


def test_a_face_window_maps_the_keypoints_onto_the_template_and_back() -> None:
    # a face whose eyes and mouth sit at the template scaled by 3, turned 20 degrees, moved
    turn = np.array([[math.cos(0.35), -math.sin(0.35)], [math.sin(0.35), math.cos(0.35)]])
    keypoints = (ALIGNED_KEYPOINTS * 192) @ turn.T + np.array([300.0, 100.0])
    window = FaceWindow.of(Face(keypoints, 0.9), 64, (600, 800))
    assert window is not None
    local = keypoints - 0.5 - np.array([window.left, window.top])
    aligned = local @ window.to_aligned[:, :2].T + window.to_aligned[:, 2]
    np.testing.assert_allclose(aligned, ALIGNED_KEYPOINTS * 64 - 0.5, atol=1e-6)
    # a smooth image survives the trip photo -> aligned square -> photo inside the square
    ys, xs = torch.meshgrid(torch.arange(600.0), torch.arange(800.0), indexing="ij")
    smooth = torch.stack([torch.sin(xs / 60), torch.cos(ys / 50), torch.sin((xs + ys) / 80)])[None]
    box = smooth[(..., *window.crop)]
    back = window.from_face(window.to_face(box))
    covered = torch.from_numpy(window.covered())
    assert covered.float().mean() > 0.3
    assert (back - box)[..., covered].abs().max() < 0.05


def test_a_face_outside_the_photo_has_no_window() -> None:
    assert FaceWindow.of(Face(ALIGNED_KEYPOINTS * 64 + 5000, 0.9), 64, (100, 100)) is None


def test_the_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from semantic_inpaint.face_alignment import FaceDetector

    monkeypatch.setitem(sys.modules, "mediapipe", None)  # as if not installed
    with pytest.raises(ModuleNotFoundError, match=r'pip install "semantic-inpaint\[faces\]"'):
        FaceDetector()


def turned_face(index: int, angle: float, size: int, at: tuple[int, int], photo: np.ndarray) -> tuple[int, int, int]:
    """Paste held-out face ``index`` turned by ``angle`` degrees at ``size`` px into ``photo``;
    the centre (x, y) of its mouth and the side of a hole over it."""
    face = Image.open(FACES / f"{index}.jpg").convert("RGB").resize((256, 256), Image.Resampling.BICUBIC)
    turned = face.convert("RGBA").resize((size, size)).rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    canvas = Image.fromarray(photo)
    canvas.paste(turned, at, turned)
    photo[:] = np.asarray(canvas)
    theta = math.radians(angle)
    x = at[0] + turned.width / 2 + 0.22 * size * math.sin(theta)
    y = at[1] + turned.height / 2 + 0.22 * size * math.cos(theta)
    return int(x), int(y), int(0.36 * size)


def square_hole(hole: np.ndarray, x: int, y: int, side: int) -> None:
    hole[y - side // 2 : y + side // 2, x - side // 2 : x + side // 2] = 1


@pytest.fixture(scope="module")
def inpainter() -> Inpainter:
    return Inpainter.from_pretrained("celebahq64-full", device="cpu")


@needs_faces
def test_two_turned_faces_are_found_aligned_and_filled_in_their_own_square(inpainter: Inpainter) -> None:
    photo = np.full((480, 720, 3), 120, np.uint8)
    hole = np.zeros((480, 720), np.float32)
    square_hole(hole, *turned_face(24001, 25, 220, (20, 60), photo))
    square_hole(hole, *turned_face(24002, -15, 180, (430, 200), photo))
    faces = inpainter.face_detector()(photo)
    assert len(faces) == 2
    for face in faces:  # eyes and mouth land where the training faces have them (std 1-2 % of the side there)
        window = FaceWindow.of(face, 64, photo.shape[:2])
        local = face.keypoints - 0.5 - np.array([window.left, window.top])
        aligned = (local @ window.to_aligned[:, :2].T + window.to_aligned[:, 2] + 0.5) / 64
        np.testing.assert_allclose(aligned, ALIGNED_KEYPOINTS, atol=0.02)

    filled = inpainter.inpaint(photo, hole, strategy="face")
    cropped = inpainter.inpaint(photo, hole, strategy="crop")
    assert np.array_equal(filled[hole == 0], photo[hole == 0])
    assert not np.array_equal(filled[hole > 0], cropped[hole > 0])
    assert not np.array_equal(filled[hole > 0], photo[hole > 0])
    detailed = inpainter.inpaint(photo, hole, strategy="face", detail="residual")  # faces larger than 64 px
    assert np.array_equal(detailed[hole == 0], photo[hole == 0])
    assert not np.array_equal(detailed[hole > 0], filled[hole > 0])


@needs_faces
def test_a_hole_over_a_face_and_the_far_background_is_filled_everywhere(inpainter: Inpainter) -> None:
    photo = np.full((480, 720, 3), 90, np.uint8)
    hole = np.zeros((480, 720), np.float32)
    square_hole(hole, *turned_face(24003, 10, 200, (40, 40), photo))
    hole[380:440, 600:700] = 1  # far from the face: no aligned square covers it
    photo[380:440, 600:700] = 0  # what a user paints over, not what belongs there
    filled = inpainter.inpaint(photo, hole, strategy="face")
    assert np.array_equal(filled[hole == 0], photo[hole == 0])
    far = filled[380:440, 600:700].astype(int)
    assert abs(far.mean() - 90) < 20, "the background hole is filled from its surroundings (crop), not left black"


def test_a_photo_with_no_face_falls_back_to_crop_with_a_warning(inpainter: Inpainter) -> None:
    if not HAS_MEDIAPIPE:
        pytest.skip("needs mediapipe (semantic-inpaint[faces])")
    photo = (np.random.default_rng(0).random((200, 300, 3)) * 255).astype(np.uint8)
    hole = np.zeros((200, 300), np.float32)
    hole[80:120, 100:160] = 1
    with pytest.warns(UserWarning, match="strategy 'face': no face found in the photo; filled with strategy 'crop'"):
        filled = inpainter.inpaint(photo, hole, strategy="face")
    assert np.array_equal(filled, inpainter.inpaint(photo, hole, strategy="crop"))

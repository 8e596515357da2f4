"""Faces in photos: find them, and map each between the photo and the aligned square a face
model was trained on.

CelebA-HQ faces are aligned by their eyes and mouth: the keypoints of MediaPipe's face
detector (the model ships inside the ``mediapipe`` wheel, so this works offline) sit within
about 1 % of the side of fixed positions in every training image. A face found in a photo
is mapped onto those positions by a similarity transform (rotation, uniform scale,
translation; least squares over both eyes and the mouth), so a face at an angle, of any
size, anywhere in the photo reaches the model as the training faces did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from kornia.geometry.transform import warp_affine
from torch import Tensor

from semantic_inpaint.core import KEEP_LABEL
from semantic_inpaint.judge import require

#: where the subject's right eye, left eye and mouth centre sit in the aligned square of the
#: training faces, as fractions of its side (x, y): the mean of MediaPipe face detection's
#: keypoints over CelebA-HQ faces 1..500 at 256 px (standard deviation 0.01 for the eyes,
#: 0.02 for the mouth; ``python examples/face_template.py`` measures them)
ALIGNED_KEYPOINTS = np.array([[0.3789, 0.4862], [0.6250, 0.4920], [0.4985, 0.7580]])
#: indices of those three keypoints among MediaPipe face detection's six
DETECTOR_KEYPOINTS = (0, 1, 3)


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The ``(2, 3)`` matrix of the similarity (rotation, uniform scale, translation) that maps
    ``source`` points ``(N, 2)`` closest to ``target`` ``(N, 2)`` in least squares.

    Examples:
        >>> square = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        >>> turned = square @ np.array([[0.0, 2.0], [-2.0, 0.0]]) + 5  # a quarter turn, twice the size
        >>> np.round(similarity_transform(square, turned), 6).tolist()
        [[0.0, -2.0, 5.0], [2.0, 0.0, 5.0]]
    """
    z, w = source[:, 0] + 1j * source[:, 1], target[:, 0] + 1j * target[:, 1]
    z_mean, w_mean = z.mean(), w.mean()
    centred = z - z_mean
    scale_rotation = np.vdot(centred, w - w_mean) / np.vdot(centred, centred)  # w ≈ a·z + b
    shift = w_mean - scale_rotation * z_mean
    a, b = scale_rotation.real, scale_rotation.imag
    return np.array([[a, -b, shift.real], [b, a, shift.imag]])


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a ``(2, 3)`` affine matrix."""
    linear = np.linalg.inv(matrix[:, :2])
    return np.concatenate([linear, -linear @ matrix[:, 2:]], axis=1)


@dataclass(frozen=True)
class Face:
    """One face found in a photo.

    ``keypoints``: ``(3, 2)`` (x, y) in the photo's pixel coordinates (0 at the left / top
    edge) of the subject's right eye, left eye and mouth centre; ``score``: the detector's
    confidence in ``[0, 1]``.
    """

    keypoints: np.ndarray
    score: float

    def to_aligned(self, side: int) -> np.ndarray:
        """``(2, 3)``: photo pixel centres → pixel centres of the aligned ``side × side`` square
        (coordinates where pixel ``i`` is centred at ``i``, as ``kornia.geometry.warp_affine`` uses)."""
        return similarity_transform(self.keypoints - 0.5, ALIGNED_KEYPOINTS * side - 0.5)


#: a photo pixel whose warped sample weighs at least this much inside the other frame counts as inside
INSIDE = 1 - 1e-3


@dataclass(frozen=True)
class FaceWindow:
    """The box of a photo that one face's aligned square covers, and the warps between them.

    ``top, bottom, left, right``: the box (clipped to the photo); ``to_aligned``: ``(2, 3)``,
    pixel centres of the box → pixel centres of the aligned ``side × side`` square.
    """

    top: int
    bottom: int
    left: int
    right: int
    to_aligned: np.ndarray
    side: int

    @classmethod
    def of(cls, face: Face, side: int, photo_size: tuple[int, int]) -> FaceWindow | None:
        """The window of ``face`` in a photo of ``photo_size`` ``(H, W)``; ``None`` if its square
        lies outside the photo."""
        to_aligned = face.to_aligned(side)
        corners = np.array([[-0.5, -0.5, 1], [side - 0.5, -0.5, 1], [-0.5, side - 0.5, 1], [side - 0.5, side - 0.5, 1]])
        x, y = (corners @ invert_affine(to_aligned).T).T
        height, width = photo_size
        top, bottom = max(0, math.floor(y.min() + 0.5)), min(height, math.ceil(y.max() + 0.5))
        left, right = max(0, math.floor(x.min() + 0.5)), min(width, math.ceil(x.max() + 0.5))
        if top >= bottom or left >= right:
            return None
        shifted = to_aligned.copy()
        shifted[:, 2] += to_aligned[:, :2] @ np.array([left, top])  # box coordinates, not the photo's
        return cls(top, bottom, left, right, shifted, side)

    @property
    def crop(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    @property
    def photo_pixels_per_face_pixel(self) -> float:
        """How many photo pixels one aligned pixel spans along a side (above 1: the face is larger than the square)."""
        return float(abs(np.linalg.det(self.to_aligned[:, :2])) ** -0.5)

    def _matrix(self, forward: bool, like: Tensor) -> Tensor:
        matrix = self.to_aligned if forward else invert_affine(self.to_aligned)
        return torch.as_tensor(matrix, dtype=torch.float32, device=like.device)[None].expand(like.shape[0], -1, -1)

    def to_face(self, values: Tensor, mode: str = "bilinear") -> Tensor:
        """``(B, C, h, w)`` values of the box → ``(B, C, side, side)`` in the aligned square (0 outside the photo)."""
        dtype = values.dtype
        warped = warp_affine(values.float(), self._matrix(True, values), (self.side, self.side), mode=mode)
        return warped.to(dtype)

    def from_face(self, values: Tensor) -> Tensor:
        """``(B, C, side, side)`` values of the aligned square → ``(B, C, h, w)`` over the box."""
        size = (self.bottom - self.top, self.right - self.left)
        return warp_affine(values.float(), self._matrix(False, values), size)

    def labels_to_face(self, labels: Tensor) -> Tensor:
        """``(B, h, w)`` int64 class ids of the box → ``(B, side, side)``, nearest; 255 (keep the
        prediction) outside the photo."""
        shifted = (labels - KEEP_LABEL).float()[:, None]  # the warp pads with 0, i.e. KEEP_LABEL
        return self.to_face(shifted, mode="nearest")[:, 0].round().long() + KEEP_LABEL

    def outside_photo(self) -> Tensor:
        """``(1, 1, side, side)`` bool: aligned pixels not wholly inside the photo."""
        box = torch.ones(1, 1, self.bottom - self.top, self.right - self.left)
        return self.to_face(box) < INSIDE

    def covered(self) -> np.ndarray:
        """``(h, w)`` bool: the box's pixels wholly inside the aligned square (what it can fill)."""
        return (self.from_face(torch.ones(1, 1, self.side, self.side))[0, 0] >= INSIDE).numpy()


class FaceDetector:
    """MediaPipe's full-range face detector, returning :class:`Face` objects, most confident first.

    Needs ``pip install "semantic-inpaint[faces]"`` (``mediapipe``; its model ships in the wheel).

    Args:
        min_confidence: the least detection score a face needs, in ``(0, 1)``.
    """

    def __init__(self, min_confidence: float = 0.5) -> None:
        if not 0 < min_confidence < 1:
            raise ValueError(f"min_confidence: expected a number in (0, 1), received {min_confidence!r}")
        mediapipe = require("mediapipe", extra="faces")
        self.detector = mediapipe.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=min_confidence
        )

    def __call__(self, photo: np.ndarray) -> list[Face]:
        """The faces in an ``(H, W, 3)`` uint8 RGB photo."""
        if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
            raise ValueError(f"photo: expected an (H, W, 3) uint8 RGB array, received {photo.dtype} {photo.shape}")
        height, width = photo.shape[:2]
        found = self.detector.process(np.ascontiguousarray(photo)).detections or []
        faces = []
        for detection in found:
            points = detection.location_data.relative_keypoints
            keypoints = np.array([[points[i].x * width, points[i].y * height] for i in DETECTOR_KEYPOINTS])
            faces.append(Face(keypoints, float(detection.score[0])))
        return sorted(faces, key=lambda face: -face.score)

    def close(self) -> None:
        self.detector.close()

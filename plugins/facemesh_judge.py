"""Face-landmark judge: MediaPipe FaceMesh (478 landmarks, model inside the ``mediapipe`` wheel).

Compares the landmarks found on the output with those found on the original, and the face
parts drawn from each set of landmarks. Needs ``pip install "semantic-inpaint[judges]"``.
"""

from __future__ import annotations

from itertools import chain
from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field

from semantic_inpaint import hookimpl
from semantic_inpaint.judge import Judge, ReferenceCache, require

#: FaceMesh indices of the outer eye corners (subject's right, subject's left): the NME unit
OUTER_EYE_CORNERS = (33, 263)
#: FaceMesh indices of the inner lip contour: the open mouth
INNER_LIPS = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
#: part classes drawn from the landmarks, painted in this order (class id = position + 1)
PARTS = ("skin", "left_brow", "right_brow", "left_eye", "right_eye", "nose", "lips", "inner_mouth")


def _indices(connections: frozenset[tuple[int, int]]) -> tuple[int, ...]:
    return tuple(sorted(set(chain.from_iterable(connections))))


def part_iou(predicted: np.ndarray, target: np.ndarray, num_classes: int) -> float:
    """Mean IoU over the classes 1..num_classes present in either ``(H, W)`` label map.

    Examples:
        >>> a = np.array([[1, 1], [2, 0]]); b = np.array([[1, 0], [2, 0]])
        >>> part_iou(a, b, 2)  # class 1: 1/2, class 2: 1/1
        0.75
    """
    scores = []
    for label in range(1, num_classes + 1):
        union = np.logical_or(predicted == label, target == label).sum()
        if union:
            scores.append(np.logical_and(predicted == label, target == label).sum() / union)
    return float(np.mean(scores)) if scores else float("nan")


class FaceMeshJudge(Judge):
    """Landmark NME and landmark-drawn part mIoU between output and original.

    Metrics, per image:

    - ``landmark_nme``: mean distance between the 478 landmarks of output and original,
      divided by the original's outer-eye-corner distance (NaN when either has no face);
    - ``landmark_part_miou``: mIoU of the part maps (skin, brows, eyes, nose, lips, inner
      mouth: convex hulls of the landmark groups) drawn from each (0 when the output has no
      face, NaN when the original has none);
    - ``landmark_face_found``: 1 when a face is found on the output (NaN without one on the
      original), so that a model cannot improve its NME by destroying faces.

    Args:
        size: side both images are resized to (FaceMesh works on faces of ~192 px).
        min_detection_confidence: FaceMesh's face-detection threshold.

    Examples:
        >>> import torch
        >>> judge = FaceMeshJudge()  # doctest: +SKIP
        >>> judge(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 64))["landmark_nme"]  # doctest: +SKIP
        tensor([nan], dtype=torch.float64)
    """

    name: ClassVar[str] = "facemesh"
    metrics: ClassVar = {"landmark_nme": "lower", "landmark_part_miou": "higher", "landmark_face_found": "higher"}

    def __init__(
        self, *, size: Annotated[int, Field(ge=64, le=2048)] = 256, min_detection_confidence: float = 0.5
    ) -> None:
        super().__init__(size=size)
        mediapipe = require("mediapipe")
        self.cv2 = require("cv2")
        self.mesh = mediapipe.solutions.face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=1,
            refine_landmarks=True,
            min_detection_confidence=min_detection_confidence,
        )
        mesh = mediapipe.solutions.face_mesh_connections
        lips = _indices(mesh.FACEMESH_LIPS)
        self.part_landmarks = [
            _indices(mesh.FACEMESH_FACE_OVAL),
            _indices(mesh.FACEMESH_LEFT_EYEBROW),
            _indices(mesh.FACEMESH_RIGHT_EYEBROW),
            _indices(mesh.FACEMESH_LEFT_EYE),
            _indices(mesh.FACEMESH_RIGHT_EYE),
            _indices(mesh.FACEMESH_NOSE),
            lips,
            INNER_LIPS,
        ]
        self.reference = ReferenceCache(self.landmarks)

    def landmarks(self, image: np.ndarray) -> np.ndarray | None:
        """``(478, 2)`` landmark positions in pixels of one ``(S, S, 3)`` uint8 image, or ``None``."""
        found = self.mesh.process(image).multi_face_landmarks
        if not found:
            return None
        return np.array([(point.x, point.y) for point in found[0].landmark]) * self.size

    def parts(self, landmarks: np.ndarray | None) -> np.ndarray:
        """``(S, S)`` uint8 part map painted from the landmarks (all background without them)."""
        canvas = np.zeros((self.size, self.size), np.uint8)
        if landmarks is None:
            return canvas
        for label, group in enumerate(self.part_landmarks, start=1):
            hull = self.cv2.convexHull(np.round(landmarks[list(group)]).astype(np.int32))
            self.cv2.fillConvexPoly(canvas, hull, label)
        return canvas

    def score(self, original: np.ndarray, output: np.ndarray) -> dict[str, np.ndarray]:
        count = len(original)
        nme, miou, found = np.full(count, np.nan), np.full(count, np.nan), np.full(count, np.nan)
        for index in range(count):
            reference = self.reference(original[index])
            if reference is None:
                continue
            candidate = self.landmarks(output[index])
            found[index] = candidate is not None
            miou[index] = part_iou(self.parts(candidate), self.parts(reference), len(PARTS))
            if candidate is not None:
                unit = np.linalg.norm(reference[OUTER_EYE_CORNERS[0]] - reference[OUTER_EYE_CORNERS[1]])
                nme[index] = np.linalg.norm(candidate - reference, axis=1).mean() / unit
        return {"landmark_nme": nme, "landmark_part_miou": miou, "landmark_face_found": found}


@hookimpl
def register_judges(register):
    register("facemesh", FaceMeshJudge, description="MediaPipe FaceMesh: landmark NME and landmark part mIoU")

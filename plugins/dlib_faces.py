"""The face box both dlib-based judges take from the original image."""

from __future__ import annotations

from typing import Any

import numpy as np


def largest_face(detector: Any, image: np.ndarray) -> Any | None:
    """The largest face (a ``dlib.rectangle``) that dlib's frontal ``detector`` finds in an
    ``(H, W, 3)`` uint8 RGB image, or ``None`` when there is none."""
    faces = detector(image, 0)
    return max(faces, key=lambda face: face.area()) if faces else None

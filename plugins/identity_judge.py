"""Identity judge: dlib's ResNet face descriptor (``face_recognition_models``, CC0 model files).

Needs ``pip install "semantic-inpaint[judges]"``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field
from semantic_inpaint_plugins.dlib_faces import largest_face

from semantic_inpaint import hookimpl
from semantic_inpaint.judge import Judge, ReferenceCache, require

#: dlib's own threshold: two descriptors closer than this are the same person
SAME_PERSON_DISTANCE = 0.6


def face_recognition_model(name: str) -> Path:
    """A model file shipped in ``face_recognition_models``, found without importing that package
    (its ``__init__`` needs ``pkg_resources``, which recent setuptools no longer ship)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError('face_recognition_models is not installed: pip install "semantic-inpaint[judges]"')
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise FileNotFoundError(f"face_recognition_models: model file {path} is missing; reinstall the package")
    return path


class IdentityJudge(Judge):
    """Face-identity distance between output and original (dlib ResNet descriptor, 128-d).

    The face box is found on the original (dlib's frontal face detector); the five-point
    landmarks that align the descriptor's input are found in that same box on each image.

    Metrics, per image (NaN when no face is found on the original):

    - ``identity_distance``: Euclidean distance of the two descriptors;
    - ``same_identity``: 1 when that distance is under dlib's 0.6 threshold.

    Args:
        size: side both images are resized to before judging.

    Examples:
        >>> import torch
        >>> judge = IdentityJudge()  # doctest: +SKIP
        >>> judge(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 64))["identity_distance"]  # doctest: +SKIP
        tensor([nan], dtype=torch.float64)
    """

    name: ClassVar[str] = "identity"
    metrics: ClassVar = {"identity_distance": "lower", "same_identity": "higher"}

    def __init__(self, *, size: Annotated[int, Field(ge=64, le=2048)] = 256) -> None:
        super().__init__(size=size)
        dlib = require("dlib")
        self.detector = dlib.get_frontal_face_detector()
        self.landmarks = dlib.shape_predictor(str(face_recognition_model("shape_predictor_5_face_landmarks.dat")))
        self.encoder = dlib.face_recognition_model_v1(
            str(face_recognition_model("dlib_face_recognition_resnet_model_v1.dat"))
        )
        self.reference = ReferenceCache(self.analyse_original)

    def analyse_original(self, image: np.ndarray) -> tuple[object, np.ndarray] | None:
        """The original's largest face box and its descriptor, or ``None`` without a face."""
        box = largest_face(self.detector, image)
        return None if box is None else (box, self.descriptor(image, box))

    def descriptor(self, image: np.ndarray, box: object) -> np.ndarray:
        """The ``(128,)`` descriptor of the face in ``box`` (a dlib rectangle) of one image."""
        return np.asarray(self.encoder.compute_face_descriptor(image, self.landmarks(image, box)))

    def score(self, original: np.ndarray, output: np.ndarray) -> dict[str, np.ndarray]:
        count = len(original)
        distance = np.full(count, np.nan)
        for index in range(count):
            analysed = self.reference(original[index])
            if analysed is None:
                continue
            box, reference = analysed
            distance[index] = np.linalg.norm(self.descriptor(output[index], box) - reference)
        same = np.where(np.isnan(distance), np.nan, distance < SAME_PERSON_DISTANCE)
        return {"identity_distance": distance, "same_identity": same}


@hookimpl
def register_judges(register):
    register("identity", IdentityJudge, description="dlib ResNet face descriptor: identity distance, same-person share")

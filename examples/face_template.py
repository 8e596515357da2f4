"""Measure where the training faces' eyes and mouth sit: the ``face`` strategy's alignment template.

    python examples/face_template.py [--images 500]

Runs MediaPipe's face detector (the one the ``face`` strategy uses) on CelebA-HQ training faces
1..N at 256 px, each centred in a black square twice its size (the detector expects a face with
some margin), and prints the mean and the standard deviation of the right eye, left eye and
mouth keypoints as fractions of the face image's side: the numbers in
``semantic_inpaint.face_alignment.ALIGNED_KEYPOINTS``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from semantic_inpaint.face_alignment import DETECTOR_KEYPOINTS, FaceDetector

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celebahq" / "256" / "images"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    detector = FaceDetector()
    found = []
    for index in range(1, args.images + 1):
        face = np.asarray(Image.open(args.data / f"{index}.jpg").convert("RGB"))
        side = face.shape[0]
        framed = np.zeros((2 * side, 2 * side, 3), np.uint8)
        framed[side // 2 : side // 2 + side, side // 2 : side // 2 + side] = face
        faces = detector(framed)
        if faces:
            found.append((faces[0].keypoints - side / 2) / side)
    keypoints = np.array(found)
    print(f"faces found: {len(found)} of {args.images} (keypoints {DETECTOR_KEYPOINTS} of the detector's six)")
    print("mean (x, y):", np.round(keypoints.mean(0), 4).tolist())
    print("std  (x, y):", np.round(keypoints.std(0), 4).tolist())


if __name__ == "__main__":
    main()

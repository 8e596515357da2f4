"""Datasets: plain folders, the usual face and scene layouts, and procedural faces."""

from semantic_inpaint.data.faces import CelebA, CelebAHQ, CelebAMaskHQ, Helen
from semantic_inpaint.data.folder import ImageFolder
from semantic_inpaint.data.scenes import ADE20K, Places365, SUNAttributes
from semantic_inpaint.data.synthetic import SyntheticFaces

__all__ = [
    "ADE20K",
    "CelebA",
    "CelebAHQ",
    "CelebAMaskHQ",
    "Helen",
    "ImageFolder",
    "Places365",
    "SUNAttributes",
    "SyntheticFaces",
]

"""Datasets: plain folders of images, CelebA-HQ with labels, and procedural faces."""

from semantic_inpaint.data.celebahq import CelebAHQ
from semantic_inpaint.data.folder import ImageFolder
from semantic_inpaint.data.synthetic import SyntheticFaces

__all__ = ["CelebAHQ", "ImageFolder", "SyntheticFaces"]

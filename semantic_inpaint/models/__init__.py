"""Reference networks of the boosted GAN: the dilated-conv generator and conv discriminator."""

from semantic_inpaint.models.discriminator import ConvDiscriminator
from semantic_inpaint.models.generator import DilatedGenerator

__all__ = ["ConvDiscriminator", "DilatedGenerator"]

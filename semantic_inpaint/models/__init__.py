"""Networks of the library: the paper's dilated-conv generator and conv discriminator, and the
SN-PatchGAN and projection discriminators."""

from semantic_inpaint.models.discriminator import ConvDiscriminator
from semantic_inpaint.models.generator import DilatedGenerator
from semantic_inpaint.models.patch_discriminator import PatchDiscriminator
from semantic_inpaint.models.projection_discriminator import ProjectionDiscriminator

__all__ = ["ConvDiscriminator", "DilatedGenerator", "PatchDiscriminator", "ProjectionDiscriminator"]

"""Networks of the library: the paper's dilated-conv generator and conv discriminator, the
Table I peers' generators (context encoder, GL, PConv, DeepFill v2), a fast U-Net backbone,
the SN-PatchGAN and projection discriminators, and one shared trunk for realness and every condition."""

from semantic_inpaint.models.context_encoder import ContextEncoderGenerator
from semantic_inpaint.models.discriminator import ConvDiscriminator
from semantic_inpaint.models.gated_generator import GatedGenerator
from semantic_inpaint.models.generator import DilatedGenerator
from semantic_inpaint.models.global_local_generator import GlobalLocalGenerator
from semantic_inpaint.models.partial_conv_generator import PartialConvGenerator
from semantic_inpaint.models.patch_discriminator import PatchDiscriminator
from semantic_inpaint.models.projection_discriminator import ProjectionDiscriminator
from semantic_inpaint.models.shared_trunk_discriminator import SharedTrunkDiscriminator
from semantic_inpaint.models.unet_generator import UNetGenerator

__all__ = [
    "ContextEncoderGenerator",
    "ConvDiscriminator",
    "DilatedGenerator",
    "GatedGenerator",
    "GlobalLocalGenerator",
    "PartialConvGenerator",
    "PatchDiscriminator",
    "ProjectionDiscriminator",
    "SharedTrunkDiscriminator",
    "UNetGenerator",
]

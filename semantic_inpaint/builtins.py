"""The library's own plugin: reference networks, mask generators and datasets.

Registered exactly like a third-party plugin, through the hooks of
:mod:`semantic_inpaint.hookspecs`.
"""

from __future__ import annotations

from semantic_inpaint.data import (
    ADE20K,
    CelebA,
    CelebAHQ,
    CelebAMaskHQ,
    Helen,
    ImageFolder,
    Places365,
    SUNAttributes,
    SyntheticFaces,
)
from semantic_inpaint.hole_weighted_l1 import HoleWeightedL1
from semantic_inpaint.hookspecs import Register, hookimpl
from semantic_inpaint.lama_masks import LamaMasks
from semantic_inpaint.losses import WholeImageL2
from semantic_inpaint.masks import CenteredSquare, FreeFormStrokes, RandomRectangles
from semantic_inpaint.models import (
    ContextEncoderGenerator,
    ConvDiscriminator,
    DilatedGenerator,
    GatedGenerator,
    GlobalLocalGenerator,
    PartialConvGenerator,
    PatchDiscriminator,
    ProjectionDiscriminator,
    SharedTrunkDiscriminator,
    UNetGenerator,
)
from semantic_inpaint.perceptual_loss import PerceptualLoss


@hookimpl
def register_generators(register: Register) -> None:
    register(
        "dilated",
        DilatedGenerator,
        description="GL-style encoder-decoder with dilated convs; maps at input, vectors at M1xM1",
    )
    register(
        "context_encoder",
        ContextEncoderGenerator,
        description="Context Encoder (Pathak et al. 2016): conv encoder, channel-wise FC, deconv decoder",
    )
    register(
        "global_local",
        GlobalLocalGenerator,
        description="GL completion network (Iizuka et al. 2017) at its own stride 4",
    )
    register(
        "partial_conv",
        PartialConvGenerator,
        description="PConv U-Net (Liu et al. 2018): partial convolutions with mask updates",
    )
    register(
        "gated",
        GatedGenerator,
        description="DeepFill v2 (Yu et al. 2019): coarse-to-fine gated convs, contextual attention optional",
    )
    register("unet", UNetGenerator, description="fast U-Net: skips + residual dilated bottleneck at stride 8")


@hookimpl
def register_discriminators(register: Register) -> None:
    register(
        "conv",
        ConvDiscriminator,
        description="conv trunk to M2xM2 + FC; global, or matching (map at input, vector at M2)",
    )
    register("patch", PatchDiscriminator, description="SN-PatchGAN (DeepFill v2): spectral norm, one logit per patch")
    register(
        "projection",
        ProjectionDiscriminator,
        description="projection discriminator (Miyato & Koyama 2018): the signal enters as an inner product",
    )
    register(
        "shared_trunk",
        SharedTrunkDiscriminator,
        description="one conv trunk: realness head + a matching head per condition (projection / map joined at depth)",
    )


@hookimpl
def register_mask_generators(register: Register) -> None:
    register("rectangles", RandomRectangles, description="one random rectangle (paper: 80-160 px at 256)")
    register(
        "center_square",
        CenteredSquare,
        description="centred square (paper's evaluation: half the side)",
    )
    register("strokes", FreeFormStrokes, description="free-form brush strokes (DeepFill v2 / LaMa style)")
    register("lama", LamaMasks, description="LaMa's thin / medium / thick free-form masks and large boxes")


@hookimpl
def register_datasets(register: Register) -> None:
    register("folder", ImageFolder, description="any folder of images, searched recursively")
    register("celebahq", CelebAHQ, description="CelebA-HQ copies + attributes + part maps (shared-data layout)")
    register("celebamask_hq", CelebAMaskHQ, description="CelebAMask-HQ release: 40 attributes + 18 part masks")
    register("celeba", CelebA, description="CelebA aligned images + 40 attributes + official split")
    register("helen", Helen, description="Helen face parts (SmithCVPR2013_labels layout)")
    register("places365", Places365, description="Places365-Standard 256 px, a subset of categories")
    register("ade20k", ADE20K, description="ADE20K scene parsing (ADEChallengeData2016)")
    register("sun_attributes", SUNAttributes, description="SUN attribute database (102 attributes)")
    register("synthetic_faces", SyntheticFaces, description="procedural faces with parts and attributes")


@hookimpl
def register_reconstruction_losses(register: Register) -> None:
    register("l2", WholeImageL2, description="the paper's whole-image mean squared error (eq. 3)")
    register("hole_l1", HoleWeightedL1, description="L1 weighted 6:1 between hole and known pixels (PConv, LaMa)")
    register(
        "perceptual",
        PerceptualLoss,
        description="hole-weighted L1 + L1 of a frozen embedder's conv features (offline perceptual loss)",
    )

"""The library's own plugin: reference networks, mask generators and datasets.

Registered exactly like a third-party plugin, through the hooks of
:mod:`semantic_inpaint.hookspecs`.
"""

from __future__ import annotations

from semantic_inpaint.data import CelebAHQ, ImageFolder, SyntheticFaces
from semantic_inpaint.hookspecs import Register, hookimpl
from semantic_inpaint.masks import CenteredSquare, FreeFormStrokes, RandomRectangles
from semantic_inpaint.models import ConvDiscriminator, DilatedGenerator


@hookimpl
def register_generators(register: Register) -> None:
    register(
        "dilated",
        DilatedGenerator,
        description="GL-style encoder-decoder with dilated convs; maps at input, vectors at M1xM1",
    )


@hookimpl
def register_discriminators(register: Register) -> None:
    register(
        "conv",
        ConvDiscriminator,
        description="conv trunk to M2xM2 + FC; global, or matching (map at input, vector at M2)",
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


@hookimpl
def register_datasets(register: Register) -> None:
    register("folder", ImageFolder, description="any folder of images, searched recursively")
    register("celebahq", CelebAHQ, description="CelebA-HQ images + 40 attributes + part maps")
    register("synthetic_faces", SyntheticFaces, description="procedural faces with parts and attributes")

"""Small building blocks shared by the reference networks."""

from __future__ import annotations

import math
from typing import Literal

from einops import repeat
from torch import Tensor, nn

Normalization = Literal["batch", "group", "none"]


def conv_norm_act(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 3,
    *,
    stride: int = 1,
    dilation: int = 1,
    norm: Normalization = "batch",
    activation: nn.Module | None = None,
) -> nn.Sequential:
    """``Conv2d`` (same padding) → normalisation → activation (ReLU default).

    ``norm``: ``"batch"`` (BatchNorm: batch statistics in training, running averages in
    eval mode), ``"group"`` (GroupNorm over groups of up to 8 channels: the same computation
    in both modes, no statistics to recalibrate) or ``"none"``.
    """
    padding = dilation * (kernel_size - 1) // 2
    layers: list[nn.Module] = [
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            bias=norm == "none",
        )
    ]
    if norm == "batch":
        layers.append(nn.BatchNorm2d(out_channels))
    elif norm == "group":
        layers.append(nn.GroupNorm(math.gcd(out_channels, max(1, out_channels // 8)), out_channels))
    layers.append(activation if activation is not None else nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def strided_convolutions(
    in_channels: int, width: int, levels: range, kernel_size: int = 5
) -> tuple[nn.Sequential, int]:
    """A discriminator trunk: one stride-2 convolution + LeakyReLU(0.2) per level (no
    normalisation), level ``l`` with ``width · min(2^l, 8)`` channels; and its output channels.

    ``levels`` may start above 0, to continue a trunk cut at that level.

    Examples:
        >>> import torch
        >>> trunk, channels = strided_convolutions(3, 8, range(3))
        >>> trunk(torch.zeros(1, 3, 32, 32)).shape, channels
        (torch.Size([1, 32, 4, 4]), 32)
    """
    layers: list[nn.Module] = []
    previous = in_channels
    for level in levels:
        channels = level_width(width, level)
        activation = nn.LeakyReLU(0.2, inplace=True)
        layers.append(conv_norm_act(previous, channels, kernel_size, stride=2, norm="none", activation=activation))
        previous = channels
    return nn.Sequential(*layers), previous


def replicate_vector(vector: Tensor, height: int, width: int) -> Tensor:
    """Spatially replicate ``(B, N)`` to ``(B, N, height, width)`` (the paper's M×M×N tensor)."""
    return repeat(vector, "b n -> b n h w", h=height, w=width)


def log2_exact(value: int, name: str) -> int:
    """``log2(value)`` for a power of two, else a ``ValueError`` naming ``name``."""
    exponent = int(math.log2(value)) if value > 0 else -1
    if value <= 0 or 2**exponent != value:
        raise ValueError(f"{name}: expected a power of two, received {value}")
    return exponent


def level_width(width: int, level: int, cap: int = 8) -> int:
    """Channels at ``level`` of an encoder that doubles them at each halving, up to ``cap · width``.

    Examples:
        >>> level_width(16, 2), level_width(16, 5)
        (64, 128)
    """
    return width * min(2**level, cap)


def level_widths(width: int, levels: int, cap: int = 8) -> list[int]:
    """:func:`level_width` of levels ``0 .. levels - 1``.

    Examples:
        >>> level_widths(16, 5)
        [16, 32, 64, 128, 128]
    """
    return [level_width(width, level, cap) for level in range(levels)]


def trunk_levels(resolution: int, condition_stride: int) -> tuple[int, int]:
    """Stride-2 levels of a discriminator trunk that downsamples by ``condition_stride`` (at most
    down to 1 px), and the side M2 of its last features.

    Examples:
        >>> trunk_levels(256, 64), trunk_levels(32, 64)
        ((6, 4), (5, 1))
    """
    log2_exact(condition_stride, "condition_stride")
    stride = min(condition_stride, resolution)
    return log2_exact(stride, "min(condition_stride, resolution)"), resolution // stride


def scaled_width(resolution: int) -> int:
    """Default first-layer width for a resolution: the paper's 64 at 256 px, ``resolution / 4``
    below it, at least 16 (a 64 px model trains at over 1 step/s on two CPU cores).

    Examples:
        >>> [scaled_width(r) for r in (32, 64, 128, 256, 512)]
        [16, 16, 32, 64, 64]
    """
    return min(64, max(16, resolution // 4))

"""BatchNorm folded into the convolution before it, for inference.

In eval mode a BatchNorm after a convolution is an affine map per channel, which the
convolution's weights and bias can absorb: one layer instead of two, the same outputs to
float rounding. Works for any component (plugins included) that writes its layers as
``nn.Sequential(conv, BatchNorm, ...)``.
"""

from __future__ import annotations

import copy
from typing import TypeVar

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

CONVOLUTIONS = (nn.Conv2d, nn.ConvTranspose2d)


def fold_batchnorm(module: nn.Module) -> int:
    """Fold every ``BatchNorm2d`` that directly follows a convolution in an ``nn.Sequential``.

    The module must be in eval mode (folding uses the running statistics); each folded
    BatchNorm becomes ``nn.Identity``. Returns how many were folded.

    Examples:
        >>> import torch
        >>> layers = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        >>> _ = layers[1].running_mean.uniform_(), layers[1].running_var.uniform_(0.5, 2.0)
        >>> image = torch.rand(2, 3, 8, 8)
        >>> before = layers.eval()(image)
        >>> fold_batchnorm(layers), type(layers[1]).__name__
        (1, 'Identity')
        >>> torch.allclose(layers(image), before, atol=1e-6)
        True
    """
    if module.training:
        raise ValueError("module: expected eval mode (folding uses the running statistics), received training mode")
    folded = 0
    for sequential in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        for index in range(len(sequential) - 1):
            conv, norm = sequential[index], sequential[index + 1]
            if isinstance(conv, CONVOLUTIONS) and isinstance(norm, nn.BatchNorm2d) and norm.track_running_stats:
                sequential[index] = fuse_conv_bn_eval(conv, norm, transpose=isinstance(conv, nn.ConvTranspose2d))
                sequential[index + 1] = nn.Identity()
                folded += 1
    return folded


Module = TypeVar("Module", bound=nn.Module)


def folded_copy(module: Module) -> Module:
    """A frozen eval-mode copy of ``module`` with its BatchNorm folded (``module`` is untouched).

    Examples:
        >>> import torch
        >>> layers = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).eval()
        >>> copy_ = folded_copy(layers)
        >>> type(copy_[1]).__name__, type(layers[1]).__name__, copy_[0].weight.requires_grad
        ('Identity', 'BatchNorm2d', False)
    """
    folded = copy.deepcopy(module).eval().requires_grad_(False)
    fold_batchnorm(folded)
    return folded

"""Discriminator feature matching (Salimans et al. 2016; pix2pixHD, Wang et al. 2018).

The generator is also pulled toward the *features* the discriminator computes from the real
image: the mean L1 distance between the outputs of every convolution of the global
discriminator for the fill and for the original (the original's taken as constants). It
gives the generator a denser signal than the one logit per image, and works with any
registered discriminator (the features are read with forward hooks, no API needed).
"""

from __future__ import annotations

from torch import Tensor, nn

from semantic_inpaint.convolution_features import feature_distance


def feature_matching_loss(discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
    """Mean over the discriminator's convolutions of the mean L1 distance between its features
    of ``fake`` and of ``real`` (both ``(B, 3, H, W)`` in ``[-1, 1]``); gradients reach ``fake`` only.

    Examples:
        >>> import torch
        >>> from semantic_inpaint.models import ConvDiscriminator
        >>> d = ConvDiscriminator(resolution=32, width=4)
        >>> image = torch.rand(2, 3, 32, 32) * 2 - 1
        >>> float(feature_matching_loss(d, image, image))
        0.0
    """
    return feature_distance(discriminator, fake, real)

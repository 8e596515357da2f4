"""The boosted GAN's objectives, equations (2)–(6) of the paper.

With ``D(·) = sigmoid(logit)``, ``-log D = softplus(-logit)`` and
``-log(1 - D) = softplus(logit)``, which is how the BCE terms are computed (stable for any
logit).

* (3) ``L_Dg = -E[log Dg(y)] - E[log(1 - Dg(z))]``
* (4), (5) ``L_Dc = -E[log Dc(y, W(y))] - E[log(1 - Dc(z, W(y)))] - E[log(1 - Dc(y, W̄(y)))]``
* (2) ``L_D = L_Dg + λa L_Da + λs L_Ds``
* (6) ``L_I = E‖z - y‖² + β(-log Dg(z) - λa log Da(z, Wa(y)) - λs log Ds(z, Ws(y)))``

``E‖z - y‖²`` is the mean squared error over pixels and channels (images in ``[-1, 1]``);
:class:`ReconstructionLoss` plugins replace it (``reconstruction`` in the model config).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor

from semantic_inpaint.core import MatchingLoss


class BCEMatchingLoss(MatchingLoss):
    """The paper's loss: binary cross-entropy on sigmoid logits (eqs. 3–6).

    Examples:
        >>> import torch
        >>> loss = BCEMatchingLoss()
        >>> zero = torch.zeros(4)
        >>> round(loss.discriminator_loss(zero, zero).item(), 4)  # 2·log 2
        1.3863
    """

    name: ClassVar[str] = "bce"

    def discriminator_loss(self, real_right: Tensor, fake_right: Tensor, real_wrong: Tensor | None = None) -> Tensor:
        loss = F.softplus(-real_right).mean() + F.softplus(fake_right).mean()
        if real_wrong is not None:
            loss = loss + F.softplus(real_wrong).mean()
        return loss

    def generator_loss(self, fake_right: Tensor) -> Tensor:
        return F.softplus(-fake_right).mean()


class HingeMatchingLoss(MatchingLoss):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018) with the same matching negatives."""

    name: ClassVar[str] = "hinge"

    def discriminator_loss(self, real_right: Tensor, fake_right: Tensor, real_wrong: Tensor | None = None) -> Tensor:
        loss = F.relu(1 - real_right).mean() + F.relu(1 + fake_right).mean()
        if real_wrong is not None:
            loss = loss + F.relu(1 + real_wrong).mean()
        return loss

    def generator_loss(self, fake_right: Tensor) -> Tensor:
        return -fake_right.mean()


MATCHING_LOSSES: dict[str, type[MatchingLoss]] = {
    BCEMatchingLoss.name: BCEMatchingLoss,
    HingeMatchingLoss.name: HingeMatchingLoss,
}


def reconstruction_loss(prediction: Tensor, target: Tensor) -> Tensor:
    """``E‖z - y‖²``: mean squared error of ``(B, 3, H, W)`` tensors over every element."""
    return F.mse_loss(prediction, target)


class ReconstructionLoss(ABC):
    """The generator's pixel term: how far its raw output is from the original.

    Registered through ``register_reconstruction_losses`` and chosen by the model config's
    ``reconstruction``; the paper's whole-image L2 (``l2``) is the default.

    Shape:
        - prediction, target: ``(B, 3, H, W)`` in ``[-1, 1]`` (the generator's raw output, the original)
        - mask: ``(B, 1, H, W)`` in ``{0, 1}``, 1 = missing
        - output: a scalar
    """

    @abstractmethod
    def __call__(self, prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor: ...


class WholeImageL2(ReconstructionLoss):
    """Equation (3) of the paper: the mean squared error over every pixel, hole or not.

    Examples:
        >>> import torch
        >>> WholeImageL2()(torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2), torch.zeros(1, 1, 2, 2))
        tensor(1.)
    """

    def __call__(self, prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        return reconstruction_loss(prediction, target)


def weighted_sum(first: Tensor, weighted: Sequence[tuple[float, Tensor]]) -> Tensor:
    """``first + Σ λ·term``: equation (2) for the discriminators, the bracket of (6)."""
    total = first
    for weight, term in weighted:
        total = total + weight * term
    return total


def inpainting_loss(
    reconstruction: Tensor,
    global_adversarial: Tensor,
    condition_adversarial: Sequence[tuple[float, Tensor]],
    beta: float,
) -> Tensor:
    """Equation (6): ``L_I = reconstruction + β(adv_g + Σ λc adv_c)``."""
    return reconstruction + beta * weighted_sum(global_adversarial, condition_adversarial)

"""Joint, on-device augmentation of image, part map and hole mask (kornia)."""

from __future__ import annotations

from collections.abc import Sequence

import kornia.augmentation as K
import torch
from torch import Tensor


class JointAugmentation(torch.nn.Module):
    """Random flip and affine jitter applied identically to an image, its labels and mask.

    Built on :class:`kornia.augmentation.AugmentationSequential`: images are interpolated
    bilinearly, part maps and masks with nearest neighbour so labels stay labels and masks
    stay binary. A horizontal flip turns the subject's left eye into the right one, so
    ``flip_label_pairs`` (e.g. ``[(2, 3), (4, 5)]`` for brows and eyes) swaps those class ids
    in the part maps of flipped samples.

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]``
        - parts: ``(B, H, W)`` int64 class ids, optional
        - mask: ``(B, 1, H, W)`` in ``{0, 1}``, optional
    """

    def __init__(
        self,
        *,
        hflip: bool = True,
        degrees: float = 0.0,
        translate: float = 0.0,
        scale: tuple[float, float] = (1.0, 1.0),
        flip_label_pairs: Sequence[tuple[int, int]] = (),
    ) -> None:
        super().__init__()
        self.hflip = hflip
        transforms: list[torch.nn.Module] = [K.RandomHorizontalFlip(p=0.5 if hflip else 0.0)]
        if degrees or translate or scale != (1.0, 1.0):
            transforms.append(K.RandomAffine(degrees=degrees, translate=(translate, translate), scale=scale, p=1.0))
        self.transforms = transforms
        self.flip_label_pairs = tuple(flip_label_pairs)

    def forward(
        self, image: Tensor, parts: Tensor | None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        if not self.hflip and len(self.transforms) == 1:  # nothing can change: skip the work
            return image, parts, mask
        keys = ["input"] + (["mask"] if parts is not None else []) + (["mask"] if mask is not None else [])
        sequential = K.AugmentationSequential(*self.transforms, data_keys=keys)
        params = sequential.forward_parameters(image.shape)
        inputs = (
            [image] + ([parts[:, None].float()] if parts is not None else []) + ([mask] if mask is not None else [])
        )
        outputs = sequential(*inputs, params=params)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        image_out = outputs.pop(0).clamp(-1, 1)
        parts_out = outputs.pop(0)[:, 0].round().long() if parts is not None else None
        mask_out = outputs.pop(0).round() if mask is not None else None
        if parts_out is not None and self.flip_label_pairs:
            flipped = params[0].data["batch_prob"].to(parts_out.device).bool()[:, None, None]
            swapped = parts_out.clone()
            for left, right in self.flip_label_pairs:
                swapped[parts_out == left] = right
                swapped[parts_out == right] = left
            parts_out = torch.where(flipped, swapped, parts_out)
        return image_out, parts_out, mask_out

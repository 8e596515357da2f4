"""Input checks with messages that name the argument, the expected and the received value.

These run at the top of every public tensor function. They only look at shapes and
dtypes, except for value-range checks, which read the data: those are skipped while
tracing with ``torch.compile`` and can be disabled for a training loop (see
:func:`value_checks`) because they force a host-device synchronisation on CUDA.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor

_VALUE_CHECKS = True


@contextlib.contextmanager
def value_checks(enabled: bool) -> Iterator[None]:
    """Turn the data-reading checks (range, binary) on or off inside the block.

    Shape, rank and dtype checks always run. The trainer disables value checks in its
    hot loop after validating the first batch, so a step never waits for the device.
    """
    global _VALUE_CHECKS
    previous, _VALUE_CHECKS = _VALUE_CHECKS, enabled
    try:
        yield
    finally:
        _VALUE_CHECKS = previous


def _reads_values() -> bool:
    return _VALUE_CHECKS and not torch.compiler.is_compiling()


def check_tensor(value: object, name: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, received {type(value).__name__}")
    return value


def check_image(image: Tensor, name: str = "image", *, multiple_of: int = 1) -> None:
    """Check an image batch: ``(B, 3, H, W)`` floating point, finite, in ``[-1, 1]``."""
    check_tensor(image, name)
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"{name}: expected shape (B, 3, H, W), received {tuple(image.shape)}")
    if not image.is_floating_point():
        raise TypeError(f"{name}: expected a floating point tensor, received {image.dtype}")
    height, width = image.shape[-2:]
    if height % multiple_of or width % multiple_of:
        raise ValueError(
            f"{name}: expected height and width to be multiples of {multiple_of}, received {height}x{width}"
        )
    if _reads_values():
        low, high = image.aminmax()  # NaN propagates into both, ±Inf into one
        if not (torch.isfinite(low) and torch.isfinite(high)):
            bad = int((~torch.isfinite(image)).sum())
            raise ValueError(f"{name}: expected finite values in [-1, 1], received {bad} NaN or infinite values")
        if low < -1 - 1e-3 or high > 1 + 1e-3:
            raise ValueError(
                f"{name}: expected values in [-1, 1], received values in [{low.item():.4g}, {high.item():.4g}]"
            )


def check_square(image: Tensor, side: int, name: str = "image") -> None:
    """Refuse a ``(B, C, H, W)`` image whose size is not ``side × side``, naming both sizes."""
    height, width = image.shape[-2:]
    if (height, width) != (side, side):
        raise ValueError(f"{name}: expected size {side}x{side}, received {height}x{width}")


def check_mask(mask: Tensor, name: str = "mask", *, like: Tensor | None = None) -> None:
    """Check a hole mask: ``(B, 1, H, W)`` with values in ``{0, 1}`` (1 = missing).

    Args:
        mask: the mask to check.
        name: the argument's name, for the message.
        like: an image ``(B, 3, H, W)`` whose batch size and spatial size must match.
    """
    check_tensor(mask, name)
    if mask.ndim != 4 or mask.shape[1] != 1:
        raise ValueError(f"{name}: expected shape (B, 1, H, W), received {tuple(mask.shape)}")
    if like is not None and (mask.shape[0] != like.shape[0] or mask.shape[-2:] != like.shape[-2:]):
        raise ValueError(
            f"{name}: expected batch and size to match the image "
            f"({like.shape[0]}, 1, {like.shape[-2]}, {like.shape[-1]}), "
            f"received {tuple(mask.shape)}"
        )
    if _reads_values():
        non_binary = (mask != 0) & (mask != 1)
        if non_binary.any():
            bad = mask[non_binary].flatten()[:5].tolist()
            raise ValueError(
                f"{name}: expected a binary mask with values in {{0, 1}} (1 = missing), "
                f"received other values such as {bad} (Inpainter.inpaint binarises a soft mask with mask_threshold)"
            )


def check_signal(
    signal: Tensor,
    name: str,
    *,
    kind: str,
    channels: int,
    batch: int,
    size: tuple[int, int] | torch.Size | None = None,
) -> None:
    """Check a semantic signal: ``(B, N)`` vector or ``(B, C, H, W)`` map (of ``size`` if given)."""
    check_tensor(signal, name)
    expected: tuple[object, ...] = (batch, channels) if kind == "vector" else (batch, channels, "H", "W")
    if size is not None:
        expected = (batch, channels, *size)
    if signal.ndim != len(expected) or tuple(signal.shape[:2]) != (batch, channels):
        raise ValueError(f"{name}: expected a {kind} signal of shape {expected}, received {tuple(signal.shape)}")
    if size is not None and tuple(signal.shape[-2:]) != tuple(size):
        raise ValueError(f"{name}: expected a {kind} signal of shape {expected}, received {tuple(signal.shape)}")


def check_pairing(pairing: Tensor | None, batch: int) -> int:
    """Check optional discriminator pairing indices (1-D int64) and return the number of rows
    they ask for (``batch`` when ``None``)."""
    if pairing is None:
        return batch
    if pairing.dim() != 1 or pairing.dtype != torch.int64:
        raise ValueError(
            f"pairing: expected a 1-D int64 tensor of image indices, received {pairing.dtype} tensor "
            f"{tuple(pairing.shape)}"
        )
    return pairing.shape[0]


def check_names(names: list[str] | None, count: int, name: str, count_name: str) -> None:
    """Check that an optional list of labels has one entry per output channel."""
    if names is not None and len(names) != count:
        raise ValueError(f"{name}: expected {count} names ({count_name}), received {len(names)}")


def check_same_shape(value: Tensor, reference: Tensor, name: str, reference_name: str) -> None:
    """Check that ``value`` has the shape of ``reference``."""
    if value.shape != reference.shape:
        raise ValueError(
            f"{name}: expected the shape of {reference_name} {tuple(reference.shape)}, received {tuple(value.shape)}"
        )

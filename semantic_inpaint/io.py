"""Files in and out: images, embedder weights (safetensors) and training checkpoints.

Everything written goes to a temporary file in the same folder first and is then renamed
over the target (:func:`os.replace` is atomic), so a crash never leaves a half-written
file. Everything read loads without executing code: safetensors, or
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

Converted = TypeVar("Converted")

#: PIL modes that convert to RGB without guessing (palette, greyscale, alpha dropped)
READABLE_MODES = frozenset({"RGB", "RGBA", "L", "LA", "P", "1"})


#: how the temporary files of :func:`atomic_path` are named: ``.<name>.<random>.tmp``
TEMPORARY_PATTERN = ".*.tmp"


def _default_file_mode() -> int:
    """The permissions a newly created file gets under the current umask (0o644 under 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` if the block succeeds.

    The file ends with the permissions of a normally created file (``mkstemp``'s are 0600),
    and an interrupted write leaves only a ``.<name>.*.tmp`` file that
    :func:`remove_temporary_files` cleans up.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        if os.path.exists(temporary):
            os.chmod(temporary, _default_file_mode())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def remove_temporary_files(folder: str | Path) -> list[Path]:
    """Delete what interrupted :func:`atomic_path` writes left in ``folder``; returns the paths."""
    stale = sorted(Path(folder).glob(TEMPORARY_PATTERN))
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return stale


def upright_rgb(image: Image.Image, name: str = "image") -> Image.Image:
    """An RGB copy of a PIL image, turned upright by its EXIF orientation (phone photos).

    Modes that do not convert to RGB without guessing (16-bit ``I;16``, 32-bit ``I`` and
    ``F``, ``CMYK``, ...) are refused by name: a naive conversion would change the known
    pixels (a 16-bit PNG comes out almost white).
    """
    if image.mode not in READABLE_MODES:
        raise ValueError(
            f"{name}: expected one of the modes {sorted(READABLE_MODES)}, received mode {image.mode!r}; "
            f"convert it to 8-bit RGB first (e.g. with an image editor or PIL, choosing how to map its values)"
        )
    return ImageOps.exif_transpose(image).convert("RGB")


def upright_hole(mask: Image.Image, name: str = "mask") -> np.ndarray:
    """``(H, W)`` uint8 hole mask (255 = missing) of a PIL mask, upright by its EXIF orientation.

    White marks the hole. A mask with an alpha channel whose colour channels are all black
    takes its hole from the alpha channel, as drawing tools that paint transparency produce.

    Examples:
        >>> painted = Image.new("LA", (4, 4), (0, 0)); painted.putpixel((1, 2), (0, 255))
        >>> upright_hole(painted)[2].tolist()
        [0, 255, 0, 0]
    """
    if mask.mode not in READABLE_MODES:
        raise ValueError(f"{name}: expected one of the modes {sorted(READABLE_MODES)}, received mode {mask.mode!r}")
    mask = ImageOps.exif_transpose(mask)
    grey = np.asarray(mask.convert("L"))
    if "A" in mask.getbands() and not grey.any():
        return np.asarray(mask.getchannel("A"))
    return grey


def _open_image(path: str | Path, name: str) -> Image.Image:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{name}: no such file {path}")
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy() if image.mode in READABLE_MODES else image
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"{name}: cannot read image file {path}: {error}") from None


def _read_image_file(path: str | Path, name: str, convert: Callable[[Image.Image, str], Converted]) -> Converted:
    try:
        return convert(_open_image(path, name), name)
    except ValueError as error:
        raise ValueError(f"{error} (file {path})") from None


def read_rgb_image(path: str | Path, name: str = "image") -> Image.Image:
    """Open an image file as upright RGB, with clear errors for missing, corrupt or odd files."""
    return _read_image_file(path, name, upright_rgb)


def read_mask_image(path: str | Path, name: str = "mask") -> np.ndarray:
    """Open a mask file as an upright ``(H, W)`` uint8 array (see :func:`upright_hole`)."""
    return _read_image_file(path, name, upright_hole)


def save_weights(module: nn.Module, path: str | Path, metadata: Mapping[str, Any]) -> None:
    """Save ``module``'s state dict as safetensors with JSON-encoded ``metadata``.

    Examples:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "linear.safetensors"
        >>> save_weights(nn.Linear(2, 1), path, {"architecture": "linear-2-1"})
        >>> target = nn.Linear(2, 1)
        >>> load_weights(target, path, {"architecture": "linear-2-1"})
        >>> load_weights(target, path, {"architecture": "linear-3-1"})
        Traceback (most recent call last):
        ...
        ValueError: weights: ... was saved for architecture='linear-2-1', expected architecture='linear-3-1'
    """
    tensors = {name: tensor.detach().contiguous().cpu() for name, tensor in module.state_dict().items()}
    encoded = {key: json.dumps(value, sort_keys=True) for key, value in metadata.items()}
    with atomic_path(path) as temporary:
        save_file(tensors, str(temporary), metadata=encoded)


def read_weights_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata stored by :func:`save_weights`."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return {key: json.loads(value) for key, value in (handle.metadata() or {}).items()}


def load_weights(module: nn.Module, path: str | Path, expected: Mapping[str, Any]) -> None:
    """Load safetensors weights into ``module`` after checking their metadata.

    Examples:
        See :func:`save_weights`.

    Args:
        module: the network to fill.
        path: a file written by :func:`save_weights`.
        expected: metadata entries that must match (e.g. the embedder name and its
            architecture options), so weights of another architecture fail clearly.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights: no such file {path}")
    try:
        metadata = read_weights_metadata(path)
        state = load_file(str(path))
    except (SafetensorError, OSError, json.JSONDecodeError) as error:
        raise ValueError(f"weights: cannot read safetensors file {path}: {error}") from None
    for key, value in expected.items():
        if metadata.get(key) != json.loads(json.dumps(value, sort_keys=True)):
            raise ValueError(f"weights: {path} was saved for {key}={metadata.get(key)!r}, expected {key}={value!r}")
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"weights: {path} does not fit this network: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )


def payload_digest(value: Any, digest: Any = None) -> str:
    """SHA-256 of a checkpoint's content: every tensor's dtype, shape and bytes and every other
    value, walked in a fixed order, so that a damaged copy of the file is caught on load."""
    digest = digest if digest is not None else hashlib.sha256()
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"tensor {tensor.dtype} {tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, Mapping):
        digest.update(f"dict {len(value)};".encode())
        for key in sorted(value, key=str):
            digest.update(f"{key!r}:".encode())
            payload_digest(value[key], digest)
    elif isinstance(value, list | tuple):
        digest.update(f"{type(value).__name__} {len(value)};".encode())
        for item in value:
            payload_digest(item, digest)
    else:
        digest.update(f"{type(value).__name__} {value!r};".encode())
    return digest.hexdigest()


def save_checkpoint(payload: Mapping[str, Any], path: str | Path) -> None:
    """Atomically ``torch.save`` a checkpoint made of tensors, numbers, strings and dicts,
    with the SHA-256 of its content (``sha256``) that :func:`load_checkpoint` verifies."""
    with atomic_path(path) as temporary:
        torch.save({**payload, "sha256": payload_digest(payload)}, temporary)


def is_safetensors(path: str | Path) -> bool:
    """Whether a file is safetensors, by its content (an 8-byte header length, then JSON), not its name."""
    with open(path, "rb") as handle:
        start = handle.read(9)
    size = Path(path).stat().st_size
    return len(start) == 9 and start[8:9] == b"{" and 0 < int.from_bytes(start[:8], "little") <= size - 8


def without_unsafe_advice(message: str) -> str:
    """A load error without torch's advice to retry with ``weights_only=False`` (which runs code).

    Examples:
        >>> without_unsafe_advice("Weights only load failed.\\n(1) Re-running `torch.load` with `weights_only` "
        ...                       "set to `False` will likely succeed\\nUnsupported global: os.system")
        'Weights only load failed. Unsupported global: os.system'
    """
    kept = [line.strip() for line in message.splitlines() if line.strip() and "weights_only" not in line]
    return " ".join(kept)


#: format tag of the trainer's checkpoints
CHECKPOINT_FORMAT = "semantic-inpaint/checkpoint-v1"


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a training checkpoint with ``weights_only=True`` (no code runs), with clear errors."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint: no such file {path}")
    if is_safetensors(path):
        raise ValueError(
            f"checkpoint: {path} is a safetensors file (an exported model), not a training checkpoint; "
            f"load it with Inpainter.from_checkpoint"
        )
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many types for corrupt or foreign files
        raise ValueError(f"checkpoint: cannot load {path}: {without_unsafe_advice(str(error))}") from None
    if not isinstance(payload, dict) or "format" not in payload:
        raise ValueError(f"checkpoint: {path} is not a semantic-inpaint checkpoint")
    if payload["format"] != CHECKPOINT_FORMAT:
        raise ValueError(f"checkpoint: {path} has format {payload['format']!r}, expected {CHECKPOINT_FORMAT!r}")
    stored = payload.pop("sha256", None)  # absent from checkpoints written before it was stored
    if stored is not None and payload_digest(payload) != stored:
        raise ValueError(
            f"checkpoint: {path} is damaged: its content no longer matches the SHA-256 stored in it "
            f"(use another checkpoint, e.g. an earlier step_*.pt)"
        )
    return payload

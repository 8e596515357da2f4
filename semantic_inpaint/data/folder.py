"""Any folder of images (searched recursively), e.g. a user's own photos."""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.utils.data import Dataset

from semantic_inpaint.data.transforms import image_to_tensor
from semantic_inpaint.io import READABLE_MODES, read_rgb_image

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def list_images(root: Path) -> list[Path]:
    """Image files under ``root``, recursively, in a stable (sorted) order."""
    if not root.is_dir():
        raise FileNotFoundError(f"root: expected a folder of images, received {root} (not a folder)")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(
            f"root: expected image files ({', '.join(sorted(IMAGE_SUFFIXES))}) under {root}, found none"
        )
    return files


def unreadable_images(files: list[Path]) -> list[tuple[Path, str]]:
    """The files whose header PIL cannot read (truncated, not an image, odd mode), with why.

    Only the headers are read, so checking thousands of files takes seconds.
    """
    bad = []
    for path in files:
        try:
            with Image.open(path) as image:
                if image.mode not in READABLE_MODES:
                    bad.append((path, f"mode {image.mode!r}"))
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
            bad.append((path, str(error).splitlines()[0] if str(error) else type(error).__name__))
    return bad


class ImageFolder(Dataset[dict[str, Tensor]]):
    """Every image under ``root``, resized (shorter side) and centre-cropped to ``resolution``.

    Items are ``{"image": (3, R, R) float in [-1, 1]}``. Every file's header is checked when
    the dataset is built, so a corrupt file stops a run before it starts (naming every bad
    file), not half-way through inside a DataLoader worker.

    Args:
        root: folder to search recursively.
        resolution: output size in pixels (context from the model config).
        skip_unreadable: leave unreadable files out, with a warning listing them, instead
            of refusing the folder.
    """

    def __init__(self, root: Path, *, resolution: int, skip_unreadable: bool = False) -> None:
        self.root = Path(root)
        self.resolution = resolution
        files = list_images(self.root)
        bad = unreadable_images(files)
        if bad:
            listing = "; ".join(f"{path} ({why})" for path, why in bad[:10]) + (" ..." if len(bad) > 10 else "")
            if not skip_unreadable:
                raise ValueError(
                    f"root: {len(bad)} of {len(files)} files under {self.root} cannot be read as images: {listing} "
                    f"(remove them, or set the dataset option skip_unreadable: true)"
                )
            warnings.warn(f"root: leaving out {len(bad)} unreadable files: {listing}", stacklevel=2)
            unreadable = {path for path, _ in bad}
            files = [path for path in files if path not in unreadable]
        if not files:
            raise FileNotFoundError(f"root: no readable image under {self.root}")
        self.files = files

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {"image": image_to_tensor(read_rgb_image(self.files[index]), self.resolution)}

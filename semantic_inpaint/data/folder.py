"""Any folder of images (searched recursively), e.g. a user's own photos."""

from __future__ import annotations

from pathlib import Path

from torch import Tensor
from torch.utils.data import Dataset

from semantic_inpaint.data.transforms import image_to_tensor
from semantic_inpaint.io import read_rgb_image

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


class ImageFolder(Dataset[dict[str, Tensor]]):
    """Every image under ``root``, resized (shorter side) and centre-cropped to ``resolution``.

    Items are ``{"image": (3, R, R) float in [-1, 1]}``. A corrupt or unreadable file raises
    an error naming the file when it is loaded.

    Args:
        root: folder to search recursively.
        resolution: output size in pixels (context from the model config).
    """

    def __init__(self, root: Path, *, resolution: int) -> None:
        self.root = Path(root)
        self.resolution = resolution
        self.files = list_images(self.root)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {"image": image_to_tensor(read_rgb_image(self.files[index]), self.resolution)}

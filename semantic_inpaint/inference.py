"""Inpainting images with a trained checkpoint, from PIL, numpy or tensors.

Masks mark missing pixels: white (255) in a PIL image or uint8 array, ``1``/``True`` in a
float or bool array or tensor. The model runs at its training resolution: an image of
another size is resized for the prediction, the prediction is resized back inside the box
around the hole only, and only the hole pixels are replaced, so the known pixels come back
unchanged (bit-identical) and the cost outside the model follows the hole, not the photo.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args, overload

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from semantic_inpaint.config import SHIPPED_PREFIX, RunConfig
from semantic_inpaint.core import (
    KEEP_LABEL,
    OverrideWhere,
    Strength,
    check_conditions,
    composite,
    strengths_by_condition,
)
from semantic_inpaint.face_alignment import FaceDetector, FaceWindow
from semantic_inpaint.hole_windows import Bounds, HoleWindow, hole_bounds, hole_windows
from semantic_inpaint.inference_graph import InpaintingGraph
from semantic_inpaint.io import (
    atomic_path,
    is_safetensors,
    load_checkpoint,
    read_weights_metadata,
    upright_hole,
    upright_rgb,
)
from semantic_inpaint.model import BoostedGAN, conditions_summary
from semantic_inpaint.native_tiles import native_tiles, pad_to_multiple
from semantic_inpaint.poisson_blend import poisson_blend
from semantic_inpaint.registry import Registry
from semantic_inpaint.residual_detail import residual_detail
from semantic_inpaint.training.runtime import resolve_device
from semantic_inpaint.validation import check_image, check_mask, check_tensor

#: the range of a tensor image's values: ``(-1, 1)`` or ``(0, 1)``
ValueRange = tuple[float, float]

#: how a photo meets the model: ``resize`` the whole photo to its resolution, ``crop`` a window
#: around each hole region (see :mod:`semantic_inpaint.hole_windows`), or ``native``: the photo's
#: own pixels, whole or in tiles (see :mod:`semantic_inpaint.native_tiles`)
Strategy = Literal["resize", "crop", "native", "face"]
#: how the fill meets the known pixels: Poisson-blended (see :mod:`semantic_inpaint.poisson_blend`) or as generated
Blend = Literal["poisson", "none"]
#: the fill's finest detail: as the model made it (``none``), or, where the model worked below
#: the photo's scale, with the known context's residual detail added (see :mod:`semantic_inpaint.residual_detail`)
Detail = Literal["none", "residual"]
#: windows filled in one batch by the ``crop`` strategy (bounds the memory of many holes)
WINDOWS_PER_BATCH = 16

#: format of a weights-only file for inference (generator + embedders or references to shipped ones, safetensors)
INFERENCE_FORMAT = "semantic-inpaint/inference-v1"


def export_for_inference(
    checkpoint: str | Path, output: str | Path, *, half: bool = True, shared_embedders: Mapping[str, str] | None = None
) -> Path:
    """Write the parts of a training checkpoint that inference needs, as safetensors.

    Keeps the generator and the embedders (the discriminators and optimiser states are only
    needed to train), optionally with float16 weights (BatchNorm statistics stay float32),
    with the run's config in the metadata. The
    result loads with :meth:`Inpainter.from_checkpoint` and executes no code when read.

    Args:
        shared_embedders: per condition name, a shipped embedder (``"shipped:NAME"``) whose
            weights the condition's embedder has exactly: the file then refers to it instead of
            holding a copy (the package's own models share their embedders this way). A
            condition whose weights differ from the named ones is an error.
    """
    from safetensors.torch import save_file

    payload = load_checkpoint(checkpoint)
    shared = dict(shared_embedders or {})
    for condition, reference in shared.items():
        if not has_embedder_weights(payload["model"], condition, reference):
            raise ValueError(
                f"shared_embedders[{condition!r}]: the checkpoint's {condition} embedder does not have the weights "
                f"of {reference}; export it with its own weights instead"
            )
    kept_prefixes = tuple(f"conditions.{condition}.embedder." for condition in shared)
    state = {
        name: (tensor.half() if half and _halvable(name, tensor) else tensor).contiguous()
        for name, tensor in payload["model"].items()
        if (name.startswith("generator.") or ".embedder." in name) and not name.startswith(kept_prefixes)
    }
    metadata = {"format": INFERENCE_FORMAT, "config": payload["config"], "step": str(payload["step"])}
    if shared:
        metadata["shared_embedders"] = shared
    with atomic_path(output) as temporary:
        save_file(state, str(temporary), metadata={k: json.dumps(v) for k, v in metadata.items()})
    return Path(output)


def _shared_embedder_state(condition: str, reference: str) -> dict[str, Tensor]:
    """The weights of the shipped embedder ``reference`` under ``condition``'s keys in a model."""
    from safetensors.torch import load_file

    from semantic_inpaint.pretrained import resolve_weights

    if not isinstance(reference, str) or not reference.startswith(SHIPPED_PREFIX):
        raise ValueError(
            f"shared_embedders[{condition!r}]: expected a shipped embedder as 'shipped:NAME', received {reference!r}"
        )
    weights = load_file(str(resolve_weights(reference)))
    return {f"conditions.{condition}.embedder.{name}": tensor for name, tensor in weights.items()}


def has_embedder_weights(model_state: Mapping[str, Tensor], condition: str, reference: str) -> bool:
    """Whether the embedder of ``condition`` in a model's state dict has exactly the weights of
    the shipped embedder ``reference`` (``"shipped:NAME"``)."""
    shared = _shared_embedder_state(condition, reference)
    prefix = f"conditions.{condition}.embedder."
    own = {name: tensor for name, tensor in model_state.items() if name.startswith(prefix)}
    return set(own) == set(shared) and all(torch.equal(own[name], shared[name]) for name in shared)


def _halvable(name: str, tensor: Tensor) -> bool:
    """Weights may go to float16; normalisation statistics stay float32 (tiny, and a variance
    near zero in float16 would turn rounding of the mean into visible error)."""
    return tensor.is_floating_point() and not name.endswith(("running_mean", "running_var"))


def _load_inference_file(path: Path) -> tuple[RunConfig, dict[str, Tensor]]:
    """The config and weights of an exported file, with the shipped embedders it refers to."""
    from safetensors.torch import load_file

    try:
        metadata = read_weights_metadata(path)
        state = load_file(str(path))
    except Exception as error:  # safetensors raises several types for foreign files
        raise ValueError(f"checkpoint: cannot read safetensors file {path}: {error}") from None
    if metadata.get("format") != INFERENCE_FORMAT:
        raise ValueError(f"checkpoint: {path} has format {metadata.get('format')!r}, expected {INFERENCE_FORMAT!r}")
    for condition, reference in metadata.get("shared_embedders", {}).items():
        state.update(_shared_embedder_state(condition, reference))
    return RunConfig.model_validate(json.loads(metadata["config"])), state


SOFT_MASK_HINT = (
    "a soft-edged (antialiased) or JPEG mask can be binarised with mask_threshold, e.g. 0.5 "
    "(CLI: --mask-threshold 0.5): pixels above that share of full scale are the hole"
)


def check_mask_threshold(mask_threshold: float | None) -> None:
    if mask_threshold is not None and not 0 <= mask_threshold < 1:
        raise ValueError(f"mask_threshold: expected a number in [0, 1) or None, received {mask_threshold!r}")


def binary_hole(mask: np.ndarray, mask_threshold: float | None) -> np.ndarray:
    """``(H, W)`` float32 hole in ``{0, 1}`` of an ``(H, W)`` mask (uint8 ``{0, 255}`` or ``{0, 1}``).

    With ``mask_threshold`` (a share of full scale, 255 for uint8 and 1 otherwise) any values
    are accepted and those above it form the hole; without it a non-binary mask is an error.

    Examples:
        >>> binary_hole(np.array([[0, 128, 255]], np.uint8), 0.5).tolist()
        [[0.0, 1.0, 1.0]]
    """
    scale = 255 if mask.dtype == np.uint8 else 1
    if mask.dtype == np.bool_:
        return mask.astype(np.float32)
    if mask_threshold is not None:
        if not np.issubdtype(mask.dtype, np.integer) and not (
            np.isfinite(mask).all() and 0 <= mask.min() <= mask.max() <= 1
        ):
            raise ValueError(
                f"mask: expected values in [0, 1] for dtype {mask.dtype}, received [{mask.min():.4g}, {mask.max():.4g}]"
            )
        return (mask > mask_threshold * scale).astype(np.float32)
    if not ((mask == 0) | (mask == scale)).all():  # vectorised: np.unique costs 25x more on a photo
        values = np.unique(mask[(mask != 0) & (mask != scale)])[:8].tolist()
        raise ValueError(
            f"mask: expected a binary mask with values [0, {scale}] for dtype {mask.dtype}, "
            f"received other values such as {values}; {SOFT_MASK_HINT}"
        )
    return (mask != 0).astype(np.float32)


def _checked_arrays(image: np.ndarray, mask: np.ndarray, mask_threshold: float | None) -> np.ndarray:
    """Validate an ``(H, W, 3)`` uint8 or ``[0, 1]`` float image and its mask; the ``(H, W)`` float32 hole."""
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"mask: expected a numpy array like the image, received {type(mask).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image: expected an (H, W, 3) array, received shape {image.shape}")
    if np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all():
            bad = int((~np.isfinite(image)).sum())
            raise ValueError(f"image: expected finite float values in [0, 1], received {bad} NaN or infinite values")
        if image.min() < 0 or image.max() > 1:
            raise ValueError(f"image: expected float values in [0, 1], received [{image.min():.4g}, {image.max():.4g}]")
    elif image.dtype != np.uint8:
        raise TypeError(f"image: expected a uint8 or float array, received dtype {image.dtype}")
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise ValueError(f"mask: expected an (H, W) array, received shape {mask.shape}")
    if mask.shape != image.shape[:2]:
        raise ValueError(f"mask: expected the image's size {image.shape[:2]}, received {mask.shape}")
    return binary_hole(mask, mask_threshold)


def _channels_first(pixels: np.ndarray) -> Tensor:
    """``(H, W, C)`` array → ``(1, C, H, W)`` tensor sharing its memory, read-only arrays included
    (a PIL image's pixels): nothing here writes to it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable", category=UserWarning)
        return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None]


def _array_as_tensor(pixels: np.ndarray) -> Tensor:
    """``(H, W, 3)`` uint8 or ``[0, 1]`` float → ``(1, 3, H, W)`` float32 in ``[-1, 1]``."""
    tensor = _channels_first(pixels)
    return tensor.float().div(127.5).sub(1) if pixels.dtype == np.uint8 else tensor.float().mul(2).sub(1)


def _array_at_resolution(image: np.ndarray, side: int) -> Tensor:
    """``(1, 3, side, side)`` float32 in ``[-1, 1]``: the image resized bilinearly with antialiasing.

    A uint8 image is resized as uint8 (torch's fast path, as torchvision does), then scaled:
    converting a whole photo to float first would cost more than the model at 64 px.
    """
    if image.dtype != np.uint8:
        return resize_to(_array_as_tensor(image), side)
    resized = resize_to(_channels_first(image), side)
    return resized.float().div(127.5).sub(1)


def photo_values(values: Tensor, dtype: np.dtype) -> np.ndarray:
    """``(1, 3, H, W)`` in ``[-1, 1]`` → ``(H, W, 3)`` pixels of a photo's ``dtype`` (uint8, or float in ``[0, 1]``)."""
    array = values[0].permute(1, 2, 0).cpu().numpy()
    if dtype == np.uint8:
        return np.clip(np.round((array + 1) * 127.5), 0, 255).astype(np.uint8)
    return np.clip((array + 1) / 2, 0, 1).astype(dtype)


def photo_uint8(pixels: np.ndarray) -> np.ndarray:
    """An ``(H, W, 3)`` photo as uint8 (a float photo in ``[0, 1]`` rounded)."""
    return pixels if pixels.dtype == np.uint8 else np.clip(np.round(pixels * 255), 0, 255).astype(np.uint8)


def resize_to(image: Tensor, side: int) -> Tensor:
    """``(B, C, H, W)`` → ``(B, C, side, side)``, bilinear with antialiasing (unchanged if already that size)."""
    if image.shape[-2:] == (side, side):
        return image
    return F.interpolate(image, size=(side, side), mode="bilinear", antialias=True, align_corners=False)


def hole_at_resolution(mask: Tensor, side: int) -> Tensor:
    """``(B, 1, side, side)`` hole: a cell is missing if any pixel under it is."""
    if mask.shape[-2:] == (side, side):
        return mask
    return (F.adaptive_max_pool2d(mask, (side, side)) > 0).to(mask.dtype)


class Requests(NamedTuple):
    """Signals a user sets in place of the predicted ones, by condition name (see :meth:`Inpainter.requests`).

    Vector requests are mappings; map requests are ``(B, H, W)`` int64 label maps at the image's size.
    """

    signals: dict[str, Any]
    where: OverrideWhere
    strength: dict[str, float]


def label_map(request: Any, size: tuple[int, int], name: str) -> Tensor:
    """A user's part map as ``(B, H, W)`` int64 class ids: a PIL image (palette or greyscale),
    an ``(H, W)`` int array, or an ``(H, W)`` / ``(B, H, W)`` int tensor, the image's size."""
    if isinstance(request, Image.Image):
        if request.mode not in ("P", "L", "I", "I;16"):
            raise ValueError(
                f"{name}: expected a palette or greyscale image of class ids, received mode {request.mode}"
            )
        request = np.asarray(request)
    if isinstance(request, np.ndarray):
        if not np.issubdtype(request.dtype, np.integer):
            raise TypeError(f"{name}: expected an integer array of class ids, received dtype {request.dtype}")
        request = torch.from_numpy(request.astype(np.int64))
    if not isinstance(request, Tensor) or request.is_floating_point() or request.ndim not in (2, 3):
        received = f"{type(request).__name__} {tuple(getattr(request, 'shape', ()))}"
        raise TypeError(f"{name}: expected a label map (PIL image, int array or int tensor), received {received}")
    labels = request.long()
    labels = labels[None] if labels.ndim == 2 else labels
    if tuple(labels.shape[-2:]) != tuple(size):
        raise ValueError(f"{name}: expected the image's size {tuple(size)}, received {tuple(labels.shape[-2:])}")
    return labels


def pad_labels(labels: Tensor, multiple: int) -> Tensor:
    """``(B, H, W)`` int64 labels padded at the bottom and right to ``multiple``s with
    :data:`~semantic_inpaint.core.KEEP_LABEL` (the padding keeps the prediction)."""
    return pad_to_multiple(labels[:, None].float(), multiple, KEEP_LABEL)[:, 0].long()


def resize_labels(labels: Tensor, side: int) -> Tensor:
    """``(B, H, W)`` int64 labels → ``(B, side, side)``, nearest neighbour (class ids are not blended)."""
    if tuple(labels.shape[-2:]) == (side, side):
        return labels
    return F.interpolate(labels[:, None].float(), size=(side, side), mode="nearest-exact")[:, 0].long()


def resize_window(image: Tensor, size: tuple[int, int], bounds: Bounds) -> Tensor:
    """The box ``bounds`` of ``image`` resized bilinearly to ``size``, without resizing the rest.

    Equal (to float rounding) to ``F.interpolate(image, size, mode="bilinear",
    align_corners=False)[..., top:bottom, left:right]``, at the cost of the box alone.

    Examples:
        >>> image = torch.rand(1, 3, 8, 8)
        >>> whole = F.interpolate(image, size=(40, 30), mode="bilinear", align_corners=False)
        >>> torch.allclose(resize_window(image, (40, 30), (5, 17, 3, 29)), whole[..., 5:17, 3:29], atol=1e-6)
        True
    """
    top, bottom, left, right = bounds
    height, width = size
    # a pixel centre's position in the source, in grid_sample's [-1, 1] (align_corners=False)
    ys = (torch.arange(top, bottom, device=image.device, dtype=image.dtype) + 0.5) / height * 2 - 1
    xs = (torch.arange(left, right, device=image.device, dtype=image.dtype) + 0.5) / width * 2 - 1
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).expand(image.shape[0], -1, -1, -1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)


class Inpainter:
    """A trained model ready to fill holes.

    Args:
        model: the trained model (put in eval mode on ``device``).
        device: where it runs.
        compile: run the network through ``torch.compile``: the first call of each new batch
            size or resolution compiles for tens of seconds, later calls run faster (about
            1.8x at batch 32 on a CPU, ``benchmarks/inference_speed.py``). Worth it for many
            calls of the same shape, not for one image.
        blend: ``"poisson"`` (default): the fill is Poisson-blended into the known pixels
            around the hole (:func:`~semantic_inpaint.poisson_blend.poisson_blend`: its detail
            kept, a colour offset that would show as a seam removed); ``"none"``: the
            generator's output as it is.

    Examples:
        >>> from importlib import resources
        >>> inpainter = Inpainter.from_pretrained("celebahq64-full", device="cpu")
        >>> photo = Image.open(resources.files("semantic_inpaint") / "assets" / "astronaut.png")
        >>> hole = Image.new("L", photo.size, 0)
        >>> hole.paste(255, (40, 40, 90, 70))
        >>> filled = inpainter.inpaint(photo, hole)  # PIL in, PIL out
        >>> filled.size, filled.getpixel((0, 0)) == photo.convert("RGB").getpixel((0, 0))
        ((128, 128), True)
    """

    def __init__(
        self, model: BoostedGAN, device: torch.device | str = "cpu", *, compile: bool = False, blend: Blend = "poisson"
    ) -> None:
        if blend not in get_args(Blend):
            raise ValueError(f"blend: expected one of {list(get_args(Blend))}, received {blend!r}")
        self.blend = blend
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.resolution = model.config.resolution
        #: what runs: a copy of the model's embedders and generator with BatchNorm folded into the
        #: convolutions and channels-last weights (changes made to ``model`` later do not reach it)
        self.graph = InpaintingGraph.fast_copy(self.model)
        self.compiled = compile
        self._face_detector: FaceDetector | None = None
        self._predict = torch.compile(self.graph.predict) if compile else self.graph.predict

    def __repr__(self) -> str:
        config = self.model.config
        parameters = sum(p.numel() for p in self.model.generator.parameters())
        return (
            f"Inpainter(resolution={self.resolution}, generator={config.generator.name!r} "
            f"({parameters / 1e6:.2f} M parameters), conditions=[{conditions_summary(config)}], "
            f"device={str(self.device)!r}, blend={self.blend!r})"
        )

    @classmethod
    def from_pretrained(
        cls,
        name: str,
        device: str = "auto",
        registry: Registry | None = None,
        *,
        compile: bool = False,
        blend: Blend = "poisson",
    ) -> Inpainter:
        """A model shipped in the package, by name (``semantic-inpaint models`` lists them).

        Examples:
            >>> Inpainter.from_pretrained("celebahq64-full", device="cpu")  # doctest: +ELLIPSIS
            Inpainter(resolution=64, generator='dilated' (...), conditions=[...], device='cpu', blend='poisson')
        """
        from semantic_inpaint.pretrained import pretrained_weights

        path = pretrained_weights(name, kind="inpainter")
        return cls.from_checkpoint(path, device=device, registry=registry, compile=compile, blend=blend)

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        device: str = "auto",
        registry: Registry | None = None,
        *,
        compile: bool = False,
        blend: Blend = "poisson",
    ) -> Inpainter:
        """Rebuild the model a checkpoint was trained as and load its weights.

        ``path`` is a training checkpoint (``.pt``) or a file written by
        :func:`export_for_inference` (``.safetensors``). The embedders' weights come from
        it; their original weight files are not needed.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint: no such file {path}")
        if is_safetensors(path):  # by content: an export may have any name
            config, state = _load_inference_file(path)
        else:
            payload = load_checkpoint(path)
            config, state = RunConfig.model_validate(json.loads(payload["config"])), payload["model"]
        model = BoostedGAN(config.model, registry, load_embedder_weights=False)
        missing, unexpected = model.load_state_dict(state, strict=False)
        needed = [name for name in missing if name.startswith("generator.") or ".embedder." in name]
        if needed or unexpected:
            raise ValueError(
                f"checkpoint: {path} does not fit the model its config describes: "
                f"missing {needed[:5]}, unexpected {unexpected[:5]}"
            )
        return cls(model, resolve_device(device), compile=compile, blend=blend)

    @torch.inference_mode()
    def inpaint_tensor(self, image: Tensor, mask: Tensor, requests: Requests | None = None) -> Tensor:
        """``(B, 3, H, W)`` in ``[-1, 1]`` and ``(B, 1, H, W)`` in ``{0, 1}`` → ``(B, 3, H, W)``.

        ``requests`` come from :meth:`requests` (signals a user sets in place of the predicted ones).
        """
        check_image(image, "image")
        check_mask(mask, "mask", like=image)
        result = image.clone()
        bounds = self._hole_bounds(mask)
        if bounds is None:
            return result
        image_in, mask_in = image.to(self.device).float(), mask.to(self.device).float()
        side = self.resolution
        whole = (slice(None), slice(None))
        overrides = self._requests_at(requests, [whole], partial(resize_labels, side=side), image.shape[0])
        prediction = self._prediction(resize_to(image_in, side), hole_at_resolution(mask_in, side), overrides)
        window = (..., slice(bounds[0], bounds[1]), slice(bounds[2], bounds[3]))
        region = self._composite_window(prediction, image_in[window], mask_in[window], image.shape[-2:], bounds)
        result[window] = region.to(image.device, image.dtype)
        return result

    @staticmethod
    def _hole_bounds(mask: Tensor) -> Bounds | None:
        bounds = hole_bounds(mask)
        if bounds is None:
            warnings.warn("mask: no pixel is marked as missing (white); the image comes back unchanged", stacklevel=4)
        return bounds

    def _prediction(self, image: Tensor, mask: Tensor, overrides: dict[str, Any] | None = None) -> Tensor:
        """The generator's output for an image and hole already at the model's resolution,
        Poisson-blended into the image's known pixels unless ``blend="none"``."""
        image = image.to(self.device).clamp(-1, 1).contiguous(memory_format=torch.channels_last)
        mask = mask.to(self.device).contiguous(memory_format=torch.channels_last)
        if not overrides:
            prediction = self._predict(image, mask)
        else:
            prediction = self._predict(image, mask, overrides["signals"], overrides["where"], overrides["strength"])
        return poisson_blend(prediction, image, mask) if self.blend == "poisson" else prediction

    def requests(
        self,
        size: tuple[int, int],
        *,
        attributes: Mapping[str | int, float] | None = None,
        parts: Any = None,
        parts_where: OverrideWhere = "hole",
        signals: Mapping[str, Any] | None = None,
        strength: Strength = 1.0,
    ) -> Requests | None:
        """What a user asks of the fill, checked against the model: ``None`` when nothing is asked.

        Args:
            size: ``(H, W)`` of the image the requests are for.
            attributes: ``{name: value in [0, 1]}`` for the ``attribute`` condition (names from
                its embedder's ``attribute_names``), e.g. ``{"Smiling": 1.0}``.
            parts: a label map for the ``segmentation`` condition, the image's size: a PIL
                image (palette or greyscale: pixel values are class ids), an int array
                ``(H, W)`` or a tensor ``(H, W)`` / ``(B, H, W)``; 255 keeps the predicted parts.
            parts_where: apply painted parts inside the hole only (``"hole"``) or everywhere.
            signals: requests for any condition by name (plugin signals included), in the
                same forms: a mapping for a vector, a label map for a map.
            strength: how far each request pushes its signal from the prediction, in
                ``[0, 4]``: 1 sets it to the request; 2 twice as far; one number for every
                condition or ``{condition: number}`` (see :func:`~semantic_inpaint.core.apply_overrides`).
        """
        embedders = dict(self.graph.embedders.items())
        strengths = strengths_by_condition(strength, embedders)
        wanted = dict(signals or {})
        for name, request in (("attribute", attributes), ("segmentation", parts)):
            if request is not None:
                wanted[name] = request
        if not wanted:
            return None
        check_conditions(wanted, embedders, "signals")
        if parts_where not in ("hole", "everywhere"):
            raise ValueError(f"parts_where: expected 'hole' or 'everywhere', received {parts_where!r}")
        checked = {
            name: label_map(request, size, name) if embedders[name].kind == "map" else request
            for name, request in wanted.items()
        }
        return Requests(checked, parts_where, strengths)

    def _requests_at(
        self,
        requests: Requests | None,
        crops: list[tuple[slice, slice]],
        fit: Callable[[Tensor], Tensor],
        batch: int,
    ) -> dict[str, Any] | None:
        """The requests for a batch of windows as the model sees them: label maps cropped and
        ``fit`` (resized to its resolution, or padded to its size multiple), one row per window
        (or per image for a tensor batch)."""
        if requests is None:
            return None
        signals = {}
        for name, request in requests.signals.items():
            if isinstance(request, Tensor):
                rows = [fit(request[(..., *crop)]) for crop in crops]
                signals[name] = torch.cat(rows).expand(batch, -1, -1).to(self.device)
            else:
                signals[name] = request
        return {"signals": signals, "where": requests.where, "strength": requests.strength}

    def _composite_window(
        self,
        prediction: Tensor,
        image: Tensor,
        mask: Tensor,
        size: tuple[int, int],
        bounds: Bounds,
        detail: Detail = "none",
    ) -> Tensor:
        """The fill brought to the image's ``size`` inside the box ``bounds`` only, composited
        into that box's known pixels (``image``, ``mask``: the box's contents), with the
        context's residual detail where ``detail="residual"``."""
        top, bottom, left, right = bounds
        if tuple(size) == tuple(prediction.shape[-2:]):
            fill = prediction[..., top:bottom, left:right]
        else:
            fill = resize_window(prediction, size, bounds)
        image, mask = image.to(fill.device, fill.dtype), mask.to(fill.device, fill.dtype)
        if detail == "residual":
            scale = (size[0] / prediction.shape[-2], size[1] / prediction.shape[-1])
            fill = residual_detail(image, mask, fill, scale).clamp(-1, 1)
        return composite(fill, image, mask)

    @torch.inference_mode()
    def _inpaint_array(
        self,
        image: np.ndarray,
        hole: np.ndarray,
        strategy: Strategy = "resize",
        requests: Requests | None = None,
        tile: int | None = None,
        detail: Detail = "none",
    ) -> np.ndarray:
        """``(H, W, 3)`` uint8 or ``[0, 1]`` float image, ``(H, W)`` float32 hole → the image filled.

        Each window (the whole image for ``resize``, one per hole region for ``crop``) is
        resized to the model's resolution; only the box around its hole is converted, resized
        back and written, so the rest of a large photo is copied as it is. ``native`` runs
        the model on the image's own pixels instead (:meth:`_inpaint_native`).
        """
        pixels = image.copy()  # known pixels: the caller's exact values, no float round trip
        mask = torch.from_numpy(hole)[None, None]
        bounds = self._hole_bounds(mask)
        if bounds is None:
            return pixels
        if strategy == "native":
            return self._inpaint_native(pixels, image, hole, requests, tile)
        if strategy == "face":
            return self._inpaint_faces(image, hole, requests, detail)
        if strategy == "crop":
            windows = hole_windows(hole > 0, self.resolution)
        else:
            windows = [HoleWindow.whole_image(*hole.shape, bounds)]
        side = self.resolution
        for first in range(0, len(windows), WINDOWS_PER_BATCH):
            chunk = windows[first : first + WINDOWS_PER_BATCH]
            crops = [(slice(w.top, w.top + w.height), slice(w.left, w.left + w.width)) for w in chunk]
            prediction = self._prediction(
                torch.cat([_array_at_resolution(image[crop], side) for crop in crops]),
                torch.cat([hole_at_resolution(mask[(..., *crop)], side) for crop in crops]),
                self._requests_at(requests, crops, partial(resize_labels, side=side), len(crops)),
            )
            for index, window in enumerate(chunk):
                self._write_window(pixels, image, hole, window, prediction[index : index + 1], detail)
        return pixels

    def _inpaint_native(
        self, pixels: np.ndarray, image: np.ndarray, hole: np.ndarray, requests: Requests | None, tile: int | None
    ) -> np.ndarray:
        """Fill ``pixels`` in place at the image's own scale, one window (the whole image, or a
        tile of at most ``tile`` px a side) at a time, each padded to the generator's size multiple."""
        multiple = self.graph.size_multiple
        for window in native_tiles(hole > 0, tile):
            crop = (slice(window.top, window.top + window.height), slice(window.left, window.left + window.width))
            prediction = self._prediction(
                pad_to_multiple(_array_as_tensor(image[crop]), multiple),
                pad_to_multiple(torch.from_numpy(hole[crop])[None, None], multiple, 0.0),
                self._requests_at(requests, [crop], partial(pad_labels, multiple=multiple), 1),
            )
            self._write_window(pixels, image, hole, window, prediction[..., : window.height, : window.width])
        return pixels

    def _inpaint_faces(
        self, image: np.ndarray, hole: np.ndarray, requests: Requests | None, detail: Detail = "none"
    ) -> np.ndarray:
        """Fill the hole of each face in its aligned square, the rest of the hole with ``crop``.

        The detector looks at a first ``crop`` fill, so that a hole over the eyes or the mouth
        does not hide the face; faces are taken most confident first, each filling the hole
        pixels its square covers and no other face has filled.
        """
        context = self._inpaint_array(image, hole, "crop", requests, detail=detail)
        faces = self.face_detector()(photo_uint8(context))
        if not faces:
            warnings.warn("strategy 'face': no face found in the photo; filled with strategy 'crop'", stacklevel=4)
            return context
        pixels = image.copy()
        remaining = hole > 0
        for face in faces:
            window = FaceWindow.of(face, self.resolution, hole.shape)
            if window is None or not remaining[window.crop].any():
                continue
            crop = window.crop
            aligned_hole = (window.to_face(torch.from_numpy(hole[crop])[None, None]) > 0) | window.outside_photo()
            prediction = self._prediction(
                window.to_face(_array_as_tensor(image[crop])).clamp(-1, 1),
                aligned_hole.float(),
                self._requests_at(requests, [crop], window.labels_to_face, 1),
            )
            filled = window.from_face(prediction.float().cpu())
            if detail == "residual":
                scale = (window.photo_pixels_per_face_pixel,) * 2
                box_hole = torch.from_numpy(hole[crop] > 0)[None, None].float()
                filled = residual_detail(_array_as_tensor(image[crop]), box_hole, filled, scale).clamp(-1, 1)
            owned = remaining[crop] & window.covered()
            np.copyto(pixels[crop], photo_values(filled, image.dtype), where=owned[..., None])
            remaining[crop] &= ~owned
        if remaining.any():
            return self._inpaint_array(pixels, remaining.astype(np.float32), "crop", requests, detail=detail)
        return pixels

    def face_detector(self) -> FaceDetector:
        """The face detector of the ``face`` strategy, made on first use."""
        if self._face_detector is None:
            self._face_detector = FaceDetector()
        return self._face_detector

    def _write_window(
        self,
        pixels: np.ndarray,
        image: np.ndarray,
        hole: np.ndarray,
        window: HoleWindow,
        prediction: Tensor,
        detail: Detail = "none",
    ) -> None:
        """Composite one window's prediction into the hole pixels of its region, in place.

        With ``detail="residual"`` the fill is computed over the region grown by its own size
        (inside the window), so that the known context around it can lend its detail.
        """
        region = window.region
        top, bottom, left, right = region
        if detail == "residual":
            margin = max(bottom - top, right - left)
            top, bottom = max(window.top, top - margin), min(window.top + window.height, bottom + margin)
            left, right = max(window.left, left - margin), min(window.left + window.width, right + margin)
        local = (top - window.top, bottom - window.top, left - window.left, right - window.left)
        filled = self._composite_window(
            prediction,
            _array_as_tensor(image[top:bottom, left:right]),
            torch.from_numpy(hole[top:bottom, left:right])[None, None],
            (window.height, window.width),
            local,
            detail,
        )
        inside = filled[..., region[0] - top : region[1] - top, region[2] - left : region[3] - left]
        owned = window.owned(hole > 0)[..., None]
        np.copyto(pixels[region[0] : region[1], region[2] : region[3]], photo_values(inside, image.dtype), where=owned)

    @overload
    def inpaint(
        self, image: Tensor, mask: Tensor, *, value_range: ValueRange = (-1, 1), mask_threshold: float | None = None
    ) -> Tensor: ...
    @overload
    def inpaint(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        *,
        mask_threshold: float | None = None,
        strategy: Strategy = "resize",
        tile: int | None = None,
        detail: Detail = "none",
    ) -> np.ndarray: ...
    @overload
    def inpaint(
        self,
        image: Image.Image,
        mask: Image.Image,
        *,
        mask_threshold: float | None = None,
        strategy: Strategy = "resize",
        tile: int | None = None,
        detail: Detail = "none",
    ) -> Image.Image: ...

    def inpaint(
        self,
        image: Any,
        mask: Any,
        *,
        value_range: ValueRange = (-1, 1),
        mask_threshold: float | None = None,
        strategy: Strategy = "resize",
        tile: int | None = None,
        detail: Detail = "none",
        attributes: Mapping[str | int, float] | None = None,
        parts: Any = None,
        parts_where: OverrideWhere = "hole",
        signals: Mapping[str, Any] | None = None,
        strength: Strength = 1.0,
    ) -> Any:
        """Fill the hole of ``image`` marked by ``mask``; returns the same type as ``image``.

        Accepted pairs: PIL images (mask white = hole, or its alpha where its colours are all
        black; both turned upright by their EXIF orientation, and the result is upright);
        numpy ``(H, W, 3)`` uint8 or float in ``[0, 1]`` with an ``(H, W)`` mask; tensors
        ``(3, H, W)`` or ``(B, 3, H, W)`` with ``(1, H, W)`` or ``(B, 1, H, W)`` masks in
        ``{0, 1}``.

        Args:
            value_range: the range of a tensor's values, ``(-1, 1)`` (the library's own) or
                ``(0, 1)`` (torchvision's ``ToTensor``); the result comes back in the same
                range. A tensor with no negative value under the default range triggers a
                warning, since it is most likely a ``[0, 1]`` image read as ``[-1, 1]``.
            mask_threshold: ``None`` (default) accepts only binary masks; a number in
                ``[0, 1)`` turns a soft-edged or JPEG mask into a hole wherever its value is
                above that share of full scale (255 for uint8 and PIL, 1 for float arrays
                and tensors).
            strategy: for photos (PIL, numpy): ``resize`` the whole photo to the model's
                resolution (a hole in a large photo is filled from a thumbnail), or ``crop``
                a window about twice the size of each separate hole region (at least the
                model's resolution) and fill each at the photo's own scale, or run the model
                ``native``ly on the photo's own pixels, padded to the generator's size multiple
                (scene models trained on crops of large photos), or find the faces (``face``) around
                the hole, align each as the training faces were aligned, fill it there and warp
                the fill back (face models; the rest of the hole, or a photo with no face
                found, is filled with ``crop``, the latter with a warning; needs
                ``semantic-inpaint[faces]``). Tensors, batches of training-size images, are
                resized.
            tile: ``native`` only: fill windows of at most ``tile × tile`` pixels one at a time
                (bounded memory for very large photos); ``None``: the whole photo at once.
            detail: for photos: ``"none"`` (default) keeps the fill as the model made it;
                ``"residual"`` adds, where the model worked below the photo's scale
                (``resize``, ``crop`` and ``face`` on a large photo), the fine detail of the
                known pixels around the hole, each patch of the hole taking that of the known
                patch most like it (:mod:`semantic_inpaint.residual_detail`): grain and texture
                at the photo's scale instead of a blur, at a small cost in pixel error.
            attributes: set attributes instead of the predicted ones, e.g. ``{"Smiling": 1.0,
                "Eyeglasses": 1.0}`` (names: the attribute embedder's ``attribute_names``).
            parts: a part map to fill by instead of the predicted one, the image's size (PIL
                palette / greyscale image, int array or int tensor of class ids; 255 keeps the
                prediction there).
            parts_where: ``"hole"`` (default) uses the painted parts inside the hole only,
                ``"everywhere"`` everywhere.
            signals: the same for any condition by name, plugin signals included.
            strength: how hard the requests push, in ``[0, 4]``: ``1`` (default) feeds the
                model the requested values; ``2`` moves each requested signal twice as far
                from the predicted one (past 0 or 1), so that the fill follows the request
                more often, and moves more of what the training faces tie to it (make-up with
                gender). One number for every condition, or ``{condition: number}``, e.g.
                ``{"attribute": 2}`` (painted parts are followed best at 1). The control
                recipes page gives measured rates per strength.

        The requests steer the fill only as far as the model learnt to follow its signals.
        """
        check_mask_threshold(mask_threshold)
        if strategy not in get_args(Strategy):
            raise ValueError(f"strategy: expected 'resize', 'crop', 'native' or 'face', received {strategy!r}")
        if tile is not None and (strategy != "native" or isinstance(tile, bool) or not isinstance(tile, int)):
            raise ValueError(f"tile: expected None, or a number of pixels with strategy='native', received {tile!r}")
        if tile is not None and tile < 2 * self.graph.size_multiple:
            raise ValueError(
                f"tile: expected at least {2 * self.graph.size_multiple} px (twice the generator's size multiple), "
                f"received {tile}"
            )
        if detail not in get_args(Detail):
            raise ValueError(f"detail: expected 'none' or 'residual', received {detail!r}")
        asked = {
            "attributes": attributes,
            "parts": parts,
            "parts_where": parts_where,
            "signals": signals,
            "strength": strength,
        }
        if isinstance(image, Tensor):
            if not isinstance(mask, Tensor):
                raise TypeError(f"mask: expected a tensor like the image, received {type(mask).__name__}")
            if strategy != "resize":
                raise ValueError(
                    f"strategy: {strategy!r} works on photos (PIL images, numpy arrays); tensors are resized"
                )
            if detail != "none":
                raise ValueError(f"detail: {detail!r} works on photos (PIL images, numpy arrays); received a tensor")
            requests = self.requests(tuple(image.shape[-2:]), **asked)
            if image.ndim == 3:
                return self._inpaint_tensor_input(image[None], mask[None], value_range, mask_threshold, requests)[0]
            return self._inpaint_tensor_input(image, mask, value_range, mask_threshold, requests)
        if isinstance(image, Image.Image):
            if not isinstance(mask, Image.Image):
                raise TypeError(f"mask: expected a PIL image like the image, received {type(mask).__name__}")
            upright = np.asarray(upright_rgb(image))
            filled = self.inpaint(
                upright,
                upright_hole(mask),
                mask_threshold=mask_threshold,
                strategy=strategy,
                tile=tile,
                detail=detail,
                **asked,
            )
            return Image.fromarray(filled)
        if not isinstance(image, np.ndarray):
            raise TypeError(f"image: expected a PIL image, numpy array or tensor, received {type(image).__name__}")
        hole = _checked_arrays(image, mask, mask_threshold)
        return self._inpaint_array(image, hole, strategy, self.requests(image.shape[:2], **asked), tile, detail)

    def _inpaint_tensor_input(
        self,
        image: Tensor,
        mask: Tensor,
        value_range: ValueRange,
        mask_threshold: float | None,
        requests: Requests | None,
    ) -> Tensor:
        """:meth:`inpaint` for a ``(B, 3, H, W)`` tensor in ``value_range``."""
        if mask_threshold is not None:
            check_tensor(mask, "mask")
            if mask.numel() and (mask.min() < 0 or mask.max() > 1):
                raise ValueError(f"mask: expected values in [0, 1], received [{mask.min():.4g}, {mask.max():.4g}]")
            mask = (mask > mask_threshold).to(image.dtype if image.is_floating_point() else torch.float32)
        if tuple(value_range) == (0, 1):  # known pixels come back as given, not through a round trip
            return composite(self.inpaint_tensor(image * 2 - 1, mask, requests).add(1).div(2), image, mask)
        if tuple(value_range) != (-1, 1):
            raise ValueError(f"value_range: expected (-1, 1) or (0, 1), received {tuple(value_range)}")
        if image.numel() and image.min() >= 0:
            warnings.warn(
                "image: no value is negative, so this looks like a [0, 1] image read as [-1, 1]; "
                "pass value_range=(0, 1) if that is its range",
                stacklevel=3,
            )
        return self.inpaint_tensor(image, mask, requests)

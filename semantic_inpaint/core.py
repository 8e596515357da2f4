"""The four core abstractions of semantic-inpaint and the notion of a *condition*.

Conventions used everywhere in the library:

* an image is ``(B, 3, H, W)`` float in ``[-1, 1]``;
* a hole mask is ``(B, 1, H, W)`` float in ``{0, 1}`` where **1 marks a missing pixel**;
* a semantic signal is either a *vector* ``(B, N)`` in ``[0, 1]`` (e.g. attribute
  probabilities) or a *map* ``(B, C, H, W)`` of per-pixel class probabilities.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from semantic_inpaint.io import load_weights, save_weights
from semantic_inpaint.validation import check_image, check_mask, check_pairing, check_signal

SignalKind = Literal["vector", "map"]
#: where a user's map overrides the predicted one: inside the hole only, or everywhere
OverrideWhere = Literal["hole", "everywhere"]
#: in a user's label map, this label keeps the predicted signal (an unpainted pixel)
KEEP_LABEL = 255
#: the largest request strength (see :func:`apply_overrides`): a bound on how far past ``[0, 1]``,
#: the range every generator is trained on, a request may push its signal
MAX_STRENGTH = 4.0
#: how hard requests push: one number for every condition, or ``{condition: number}``
Strength = float | Mapping[str, float]


@dataclass(frozen=True)
class SignalSpec:
    """What a semantic signal looks like: the embedder's name, its kind and its channels.

    Generators and discriminators are built from these, never from embedders themselves,
    so that a network can be constructed (e.g. for loading a checkpoint) without weights.

    Examples:
        >>> SignalSpec("attribute", "vector", 18)
        SignalSpec(name='attribute', kind='vector', channels=18)
    """

    name: str
    kind: SignalKind
    channels: int


class SemanticEmbedder(nn.Module, ABC):
    """Turns an image into a semantic signal (a pretrained, frozen network in GAN training).

    Subclasses set :attr:`kind`, :attr:`channels` and :attr:`target_key` (the dataset key
    holding the supervision used to pretrain it), and implement :meth:`logits` and
    :meth:`pretrain_loss`.

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]``
        - output of :meth:`forward`: ``(B, N)`` in ``[0, 1]`` for ``kind="vector"``,
          ``(B, C, H, W)`` probabilities summing to 1 over ``C`` for ``kind="map"``.

    Examples:
        A mean-colour vector with one learnable gain:

        >>> class MeanColour(SemanticEmbedder):
        ...     kind, target_key = "vector", "attributes"
        ...     def __init__(self, *, weights=None):
        ...         super().__init__("mean_colour", 3)
        ...         self.gain = nn.Parameter(torch.ones(1))
        ...     def logits(self, image):
        ...         return image.mean(dim=(2, 3)) * self.gain
        ...     def activate(self, logits):
        ...         return (logits + 1) / 2
        ...     def pretrain_loss(self, image, target):
        ...         return (self.logits(image) - target).square().mean()
        >>> MeanColour()(torch.zeros(2, 3, 8, 8))
        tensor([[0.5000, 0.5000, 0.5000],
                [0.5000, 0.5000, 0.5000]], grad_fn=<DivBackward0>)
    """

    kind: ClassVar[SignalKind]
    target_key: ClassVar[str]

    def __init__(self, name: str, channels: int, options: Mapping[str, Any] | None = None) -> None:
        """
        Args:
            name: the registry name; also the key of its signal in ``conditions``.
            channels: N for a vector, C for a map.
            options: the architecture options, stored with saved weights so that weights of
                another architecture are refused when loaded.
        """
        super().__init__()
        self.name = name
        self.channels = channels
        self.options = dict(options or {})

    def save_pretrained(self, path: str | Path) -> None:
        """Write the weights (safetensors) with the name and architecture options."""
        save_weights(self, path, {"embedder": self.name, "options": self.options})

    def load_pretrained(self, path: str | Path) -> None:
        """Load weights written by :meth:`save_pretrained` for the same architecture."""
        load_weights(self, path, {"embedder": self.name, "options": self.options})

    @property
    def spec(self) -> SignalSpec:
        return SignalSpec(self.name, self.kind, self.channels)

    @abstractmethod
    def logits(self, image: Tensor) -> Tensor:
        """Unnormalised scores: ``(B, N)`` for vectors, ``(B, C, H, W)`` for maps."""

    @abstractmethod
    def activate(self, logits: Tensor) -> Tensor:
        """Map :meth:`logits` to the signal's value range (sigmoid, softmax, ...)."""

    @abstractmethod
    def pretrain_loss(self, image: Tensor, target: Tensor) -> Tensor:
        """Supervised loss used to pretrain the embedder on its auxiliary labels.

        Args:
            image: ``(B, 3, H, W)`` in ``[-1, 1]``.
            target: the dataset's ``target_key`` entry for the batch.

        Returns:
            A scalar tensor.
        """

    def forward(self, image: Tensor) -> Tensor:
        check_image(image, "image")
        return self.activate(self.logits(image))

    #: names of the N vector entries or C map classes, where the embedder knows them
    names: list[str] | None = None

    def override(self, signal: Tensor, request: Any, hole: Tensor, where: OverrideWhere = "hole") -> Tensor:
        """The signal with a user's request in place of the prediction: how a user steers a fill.

        Vectors: ``request`` maps entries, by name (:attr:`names`) or index, to values in
        ``[0, 1]``; the other entries keep their predicted values. Maps: ``request`` is a
        ``(B, H, W)`` int label map at the signal's size; each label becomes a one-hot class
        (label :data:`KEEP_LABEL` keeps the prediction there), applied inside the hole only
        (``where="hole"``) or everywhere. Plugins may override this for other kinds of request.

        Args:
            signal: the predicted signal, ``(B, N)`` or ``(B, C, H, W)``.
            request: what the user asks for (see above).
            hole: ``(B, 1, H, W)`` in ``{0, 1}`` at the signal's size (maps only).
            where: ``"hole"`` or ``"everywhere"`` (maps only).

        Examples:
            >>> class Colour(SemanticEmbedder):
            ...     kind, target_key, names = "vector", "colour", ["red", "green"]
            ...     def logits(self, image): return image.mean(dim=(2, 3))[:, :2]
            ...     def activate(self, logits): return logits.sigmoid()
            ...     def pretrain_loss(self, image, target): return (self.logits(image) - target).square().mean()
            >>> Colour("colour", 2).override(torch.full((1, 2), 0.5), {"green": 1.0}, None)
            tensor([[0.5000, 1.0000]])
        """
        if self.kind == "vector":
            return self._override_vector(signal, request)
        return self._override_map(signal, request, hole, where)

    def _override_vector(self, signal: Tensor, request: Any) -> Tensor:
        if not isinstance(request, Mapping):
            raise TypeError(f"{self.name}: expected a mapping of names to values, received {type(request).__name__}")
        result = signal.clone()
        for key, value in request.items():
            index = self.entry_index(key)
            if not 0 <= float(value) <= 1:
                raise ValueError(f"{self.name}[{key!r}]: expected a value in [0, 1], received {value!r}")
            result[:, index] = float(value)
        return result

    def entry_index(self, key: str | int) -> int:
        """The position of vector entry ``key``, a name of :attr:`names` or an index; an unknown
        one is a ``ValueError`` listing the valid entries."""
        if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < self.channels:
            return key
        if isinstance(key, str) and self.names is not None and key in self.names:
            return self.names.index(key)
        valid = self.names if self.names is not None else f"indices 0..{self.channels - 1}"
        raise ValueError(f"{self.name}: unknown entry {key!r}; valid entries: {valid}")

    def _override_map(self, signal: Tensor, request: Any, hole: Tensor, where: OverrideWhere) -> Tensor:
        if not isinstance(request, Tensor) or request.dtype != torch.long or request.shape[1:] != signal.shape[2:]:
            shape = tuple(request.shape) if isinstance(request, Tensor) else type(request).__name__
            raise ValueError(
                f"{self.name}: expected a (B, {signal.shape[2]}, {signal.shape[3]}) int64 label map, received {shape}"
            )
        painted = request != KEEP_LABEL
        bad = painted & ((request < 0) | (request >= self.channels))
        if bad.any():
            raise ValueError(
                f"{self.name}: expected labels in 0..{self.channels - 1} (or {KEEP_LABEL}: keep the prediction), "
                f"received {sorted(request[bad].unique().tolist())[:8]}"
            )
        one_hot = F.one_hot(request.clamp(0, self.channels - 1), self.channels).permute(0, 3, 1, 2).to(signal.dtype)
        chosen = painted[:, None] if where == "everywhere" else painted[:, None] & (hole > 0)
        return torch.where(chosen, one_hot, signal)

    def consistency(self, read: Tensor, requested: Tensor, hole: Tensor, weight: Tensor | None = None) -> Tensor:
        """How far the signal read from a fill is from the one that was requested (a scalar).

        The default: binary cross-entropy for a vector of values in ``[0, 1]``, averaged over
        the entries; for a map of class probabilities, the cross-entropy of the read map against
        the requested one, averaged over the hole's pixels. A plugin whose signal is neither
        overrides it (``weight`` is only passed when a recipe weighs entries, see
        :attr:`~semantic_inpaint.config.ControlConfig.changed_entry_weight`).

        Args:
            read: this embedder's signal of the fill, ``(B, N)`` or ``(B, C, H, W)``.
            requested: the signal the generator was asked for, the same shape.
            hole: ``(B, 1, H, W)`` in ``{0, 1}``.
            weight: how much each entry ``(B, N)`` or pixel ``(B, 1, H, W)`` counts, ``>= 0``;
                ``None``: all alike.
        """
        read, requested = read.float(), requested.float()
        if self.kind == "vector":
            return F.binary_cross_entropy(read.clamp(1e-6, 1 - 1e-6), requested, weight=weight)
        cross_entropy = -(requested * read.clamp_min(1e-6).log()).sum(dim=1, keepdim=True)
        counted = hole if weight is None else hole * weight
        return (cross_entropy * counted).sum() / hole.sum().clamp_min(1)

    def mismatched(self, signal: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """A *wrong* signal for each sample, for the matching-aware negatives.

        The default gives every sample the signal of another sample of the batch (a cyclic
        shift by a random offset in ``[1, B-1]``, so never the sample's own).

        Args:
            signal: ``(B, ...)`` signal of the real images, ``B >= 2``.
            generator: CPU random generator for the offset (``None``: global RNG).
        """
        batch = signal.shape[0]
        if batch < 2:
            raise ValueError(
                f"mismatched signals need a batch of at least 2 samples, received batch size "
                f"{batch} (signal shape {tuple(signal.shape)})"
            )
        offset = int(torch.randint(1, batch, (), generator=generator))
        return signal.roll(offset, dims=0)


def strength_value(value: Any, name: str = "strength") -> float:
    """``value`` as a float in ``[0, MAX_STRENGTH]``, or a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_STRENGTH:
        raise ValueError(f"{name}: expected a number in [0, {MAX_STRENGTH:g}], received {value!r}")
    return float(value)


def check_conditions(named: Collection[str], conditions: Collection[str], argument: str) -> None:
    """Raise a ``ValueError`` naming ``argument`` when ``named`` holds a condition not in ``conditions``.

    Examples:
        >>> check_conditions(["colour"], ["attribute"], "overrides")
        Traceback (most recent call last):
        ...
        ValueError: overrides: this model has no condition ['colour']; its conditions: ['attribute']
    """
    unknown = sorted(set(named) - set(conditions))
    if unknown:
        raise ValueError(f"{argument}: this model has no condition {unknown}; its conditions: {sorted(conditions)}")


def strengths_by_condition(strength: Strength, conditions: Collection[str]) -> dict[str, float]:
    """Each of ``conditions``' request strength (see :func:`apply_overrides`): one number for all,
    or ``{condition: number}`` with the conditions it leaves out at 1.

    Raises:
        ValueError: a number outside ``[0, MAX_STRENGTH]``, or a condition not in ``conditions``.

    Examples:
        >>> strengths_by_condition({"attribute": 2}, ["attribute", "segmentation"])
        {'attribute': 2.0, 'segmentation': 1.0}
    """
    if not isinstance(strength, Mapping):
        return dict.fromkeys(conditions, strength_value(strength))
    check_conditions(strength, conditions, "strength")
    return {name: strength_value(strength.get(name, 1.0), f"strength[{name!r}]") for name in conditions}


def apply_overrides(
    embedders: Mapping[str, SemanticEmbedder],
    signals: dict[str, Tensor],
    overrides: Mapping[str, Any],
    hole: Tensor,
    where: OverrideWhere = "hole",
    strength: Strength = 1.0,
) -> dict[str, Tensor]:
    """``signals`` with each requested override applied by its own embedder (:meth:`SemanticEmbedder.override`).

    ``strength`` sets how far each overridden signal moves from the prediction towards the
    request and beyond: ``lerp(predicted, requested, strength)``, for every condition alike
    (vectors and maps, built-in and plugin); one number for all, or ``{condition: number}``
    (the others at 1). ``1`` gives the request itself, bit for bit; ``2`` moves twice as far
    (an attribute predicted at 0.1 and set to 1 enters as 1.9), a stronger push that also
    moves what the training data ties to the request; ``0`` keeps the prediction. Where a
    request keeps the prediction (unpainted parts), nothing moves.

    Raises:
        ValueError: a request or a strength names a condition the model does not have, or a
            strength is not in ``[0, MAX_STRENGTH]``.

    Examples:
        >>> from semantic_inpaint.registry import get_registry
        >>> options = {"num_attributes": 2, "width": 4, "attribute_names": ["Male", "Smiling"]}
        >>> embedders = {"attribute": get_registry().build("embedder", "attribute", options)}
        >>> signals = {"attribute": torch.tensor([[0.5, 0.25]])}
        >>> apply_overrides(embedders, signals, {"attribute": {"Smiling": 1.0}}, None, strength=2)
        {'attribute': tensor([[0.5000, 1.7500]])}
    """
    check_conditions(overrides, embedders, "overrides")
    if where not in ("hole", "everywhere"):
        raise ValueError(f"where: expected 'hole' or 'everywhere', received {where!r}")
    strengths = strengths_by_condition(strength, embedders)

    def steered(name: str, signal: Tensor) -> Tensor:
        requested = embedders[name].override(signal, overrides[name], hole, where)
        return requested if strengths[name] == 1 else torch.lerp(signal, requested, strengths[name])

    return {name: steered(name, signal) if name in overrides else signal for name, signal in signals.items()}


class InpaintGenerator(nn.Module, ABC):
    """Fills the hole of a masked image, guided by semantic signals.

    ``conditions`` maps embedder names to signals; vectors enter at the bottleneck, maps
    at the input. A generator built with no signal specs is a plain inpainter.

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]`` (hole pixels are ignored: the generator
          zeroes them itself)
        - mask: ``(B, 1, H, W)`` in ``{0, 1}``, 1 = missing
        - output: ``(B, 3, H, W)`` in ``[-1, 1]``, the raw prediction for every pixel
          (see :func:`composite` to keep the known pixels).

    Examples:
        >>> from semantic_inpaint.models import DilatedGenerator
        >>> generator = DilatedGenerator(resolution=32, width=4, signals=(SignalSpec("a", "vector", 2),))
        >>> generator(torch.zeros(1, 3, 32, 32), torch.ones(1, 1, 32, 32), {"a": torch.rand(1, 2)}).shape
        torch.Size([1, 3, 32, 32])
    """

    #: height and width of an input must be a multiple of this
    size_multiple: int = 1

    def __init__(self, signals: tuple[SignalSpec, ...] = ()) -> None:
        super().__init__()
        self.signals = tuple(signals)

    @abstractmethod
    def predict(self, masked_image: Tensor, mask: Tensor, conditions: Mapping[str, Tensor]) -> Tensor:
        """The network itself, called with validated inputs and ``masked_image = image·(1-m)``."""

    def forward(self, image: Tensor, mask: Tensor, conditions: Mapping[str, Tensor] | None = None) -> Tensor:
        check_image(image, "image", multiple_of=self.size_multiple)
        check_mask(mask, "mask", like=image)
        conditions = dict(conditions or {})
        expected = sorted(s.name for s in self.signals)
        if sorted(conditions) != expected:
            raise ValueError(f"conditions: expected signals for {expected}, received {sorted(conditions)}")
        for spec in self.signals:
            check_signal(
                conditions[spec.name],
                f"conditions[{spec.name!r}]",
                kind=spec.kind,
                channels=spec.channels,
                batch=image.shape[0],
                size=image.shape[-2:] if spec.kind == "map" else None,
            )
        return self.predict(image * (1 - mask), mask, conditions)


class ConditionalDiscriminator(nn.Module, ABC):
    """Scores how real an image is, optionally *given* a semantic signal.

    Built with ``signal=None`` it is the global (unconditioned) discriminator.

    Shape:
        - image: ``(B, 3, H, W)`` in ``[-1, 1]``
        - condition: the signal matching :attr:`signal` (``None`` when unconditioned), one
          row per image, or per entry of ``pairing``
        - pairing: optional ``(P,)`` int64 indices into the image batch: row ``i`` scores
          ``image[pairing[i]]`` against ``condition[i]`` (one call judges each image against
          several signals; a network whose features do not depend on the signal computes them
          once per image, see :meth:`score_pairs`)
        - output: ``(B,)`` (or ``(P,)``) logits (larger = more real / better matching), or
          ``(B, h, w)`` for a patch discriminator (the losses average over every patch)

    Examples:
        >>> from semantic_inpaint.models import ConvDiscriminator
        >>> matching = ConvDiscriminator(resolution=32, width=4, signal=SignalSpec("s", "map", 3))
        >>> matching(torch.zeros(2, 3, 32, 32), torch.rand(2, 3, 32, 32)).shape
        torch.Size([2])
        >>> matching(torch.zeros(2, 3, 32, 32), torch.rand(3, 3, 32, 32), pairing=torch.tensor([0, 1, 0])).shape
        torch.Size([3])
    """

    def __init__(self, signal: SignalSpec | None = None) -> None:
        super().__init__()
        self.signal = signal

    @abstractmethod
    def score(self, image: Tensor, condition: Tensor | None) -> Tensor:
        """The network itself, called with validated inputs (the image, and the condition
        against :attr:`signal`)."""

    def score_pairs(self, image: Tensor, condition: Tensor | None, pairing: Tensor) -> Tensor:
        """:meth:`score` of ``image[pairing]`` against ``condition``; override it where the
        image's features can be computed once and shared by its rows."""
        return self.score(image[pairing], condition)

    def forward(self, image: Tensor, condition: Tensor | None = None, pairing: Tensor | None = None) -> Tensor:
        check_image(image, "image")
        rows = check_pairing(pairing, image.shape[0])
        if (condition is None) != (self.signal is None):
            wanted = "no condition" if self.signal is None else f"a {self.signal.kind} signal"
            received = "None" if condition is None else f"tensor {tuple(condition.shape)}"
            raise ValueError(f"condition: this discriminator expects {wanted}, received {received}")
        if self.signal is not None:
            spec = self.signal
            check_signal(condition, "condition", kind=spec.kind, channels=spec.channels, batch=rows)
        return self.score(image, condition) if pairing is None else self.score_pairs(image, condition, pairing)


class MatchingLoss(ABC):
    """Turns discriminator logits into the adversarial terms of both players.

    Matching-aware scheme (Reed et al. 2016): the positive pair is (real, right signal);
    the negatives are (fake, right signal) and (real, mismatched signal). The global
    discriminator has no mismatched pair (``real_wrong=None``).

    Examples:
        >>> from semantic_inpaint.losses import HingeMatchingLoss
        >>> logits = torch.tensor([2.0, -2.0])
        >>> HingeMatchingLoss().discriminator_loss(logits, -logits, -logits)
        tensor(4.5000)
    """

    name: ClassVar[str]

    @abstractmethod
    def discriminator_loss(self, real_right: Tensor, fake_right: Tensor, real_wrong: Tensor | None = None) -> Tensor:
        """Scalar loss the discriminator minimises. Inputs are ``(B,)`` logits."""

    @abstractmethod
    def generator_loss(self, fake_right: Tensor) -> Tensor:
        """Scalar adversarial loss the generator minimises, from ``(B,)`` logits."""


def composite(prediction: Tensor, image: Tensor, mask: Tensor) -> Tensor:
    """Keep known pixels of ``image`` and take hole pixels from ``prediction``.

    ``ẑ = z·m + x·(1-m)``, computed with :func:`torch.where` so that known pixels are
    bit-identical to the input.

    Args:
        prediction: ``(B, 3, H, W)`` generator output.
        image: ``(B, 3, H, W)`` the original image.
        mask: ``(B, 1, H, W)`` in ``{0, 1}``, 1 = missing.

    Examples:
        >>> import torch
        >>> x = torch.zeros(1, 3, 4, 4); z = torch.ones(1, 3, 4, 4)
        >>> m = torch.zeros(1, 1, 4, 4); m[..., :2, :2] = 1
        >>> composite(z, x, m)[0, 0]
        tensor([[1., 1., 0., 0.],
                [1., 1., 0., 0.],
                [0., 0., 0., 0.],
                [0., 0., 0., 0.]])
    """
    return torch.where(mask.bool(), prediction, image)

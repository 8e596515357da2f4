"""The boosted GAN assembled from a :class:`~semantic_inpaint.config.ModelConfig`.

A model is a generator, a global discriminator and a list of *conditions*; adding a
semantic signal is adding one condition, nothing else changes. With no conditions it is
the plain GL-style inpainter used as the ablation baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from semantic_inpaint.config import ComponentConfig, ConditionConfig, ModelConfig
from semantic_inpaint.core import (
    ConditionalDiscriminator,
    InpaintGenerator,
    OverrideWhere,
    SemanticEmbedder,
    SignalSpec,
    Strength,
    apply_overrides,
    composite,
)
from semantic_inpaint.io import is_safetensors, read_weights_metadata
from semantic_inpaint.losses import MATCHING_LOSSES, MatchingLoss
from semantic_inpaint.models.shared_trunk_discriminator import SharedTrunkDiscriminator
from semantic_inpaint.pretrained import resolve_weights
from semantic_inpaint.registry import Registry, get_registry


class Condition(nn.Module):
    """One semantic signal: a frozen embedder, its matching discriminator and weight λ.

    ``discriminator`` is ``None`` where the model's shared-trunk discriminator judges the
    condition with a head of its own (or where λ = 0 leaves nothing to judge there).
    ``region``: what that discriminator judges, ``"image"`` (the paper) or ``"hole"`` (the
    model's ``local_size`` square centred on each hole, see :func:`~semantic_inpaint.hole_crops.hole_crops`).

    Examples:
        >>> from semantic_inpaint.models import ConvDiscriminator
        >>> from semantic_inpaint.registry import get_registry
        >>> embedder = get_registry().build("embedder", "attribute", {"num_attributes": 3, "width": 4})
        >>> condition = Condition(embedder, ConvDiscriminator(resolution=32, width=4, signal=embedder.spec), 0.1)
        >>> condition.train().embedder.training, condition.discriminator.training
        (False, True)
    """

    def __init__(
        self,
        embedder: SemanticEmbedder,
        discriminator: ConditionalDiscriminator | None,
        weight: float,
        region: str = "image",
    ) -> None:
        super().__init__()
        self.embedder = embedder.requires_grad_(False).eval()
        self.discriminator = discriminator
        self.weight = weight
        self.region = region

    def train(self, mode: bool = True) -> Condition:
        """Train the discriminator only: the pretrained embedder always stays in eval mode."""
        super().train(mode)
        self.embedder.eval()
        return self


def build_embedder(
    registry: Registry, spec: ComponentConfig, load_weights: bool
) -> tuple[SemanticEmbedder, ComponentConfig]:
    """The embedder and its spec with every option spelled out (``weights`` kept as given).

    Options the config leaves out are read from the weights file, which records the
    architecture it was saved with; ``weights: "shipped:NAME"`` names an embedder shipped in
    the package.
    """
    options: dict[str, Any] = dict(spec.options)
    if not load_weights:
        options["weights"] = None
    elif options.get("weights") is not None:
        weights = resolve_weights(options["weights"])
        if weights.is_file() and is_safetensors(weights):
            options = {**read_weights_metadata(weights).get("options", {}), **options}
        options["weights"] = weights
    embedder, resolved = registry.build_resolved("embedder", spec.name, options)
    if "weights" in resolved:
        resolved["weights"] = spec.options.get("weights")
    if not isinstance(embedder, SemanticEmbedder):
        raise TypeError(
            f"embedder {spec.name!r}: expected the factory to return a SemanticEmbedder, "
            f"received {type(embedder).__name__}"
        )
    return embedder, ComponentConfig(name=spec.name, options=resolved)


def issubclass_safe(factory: object, base: type) -> bool:
    """Whether a registered factory is a class deriving from ``base`` (a function is not)."""
    return isinstance(factory, type) and issubclass(factory, base)


def matching_discriminator(
    registry: Registry, config: ModelConfig, index: int, signal: SignalSpec, shares_trunk: bool
) -> tuple[ConditionalDiscriminator | None, ComponentConfig | None]:
    """Condition ``index``'s own discriminator and its resolved spec (``None`` where it follows
    the global one's); no discriminator where the global one judges it with a head on its trunk.
    One that judges the hole's crop is built for the crop's side."""
    spec = config.conditions[index]
    if shares_trunk:
        if spec.matching_region != "image":
            raise ValueError(
                f"conditions[{index}].matching_region: the model's discriminator {config.discriminator.name!r} "
                f"judges every condition on the whole image with a head on its own trunk; expected 'image', "
                f"received {spec.matching_region!r}"
            )
        if spec.discriminator is not None:
            raise ValueError(
                f"conditions[{index}].discriminator: the model's discriminator {config.discriminator.name!r} "
                f"judges every condition with a head on its own trunk; leave it unset, received "
                f"{spec.discriminator.name!r}"
            )
        return None, None
    discriminator_spec = spec.discriminator or config.discriminator
    discriminator, options = registry.build_resolved(
        "discriminator",
        discriminator_spec.name,
        discriminator_spec.options,
        resolution=config.resolution if spec.matching_region == "image" else local_side(config),
        signal=signal,
    )
    own = ComponentConfig(name=discriminator_spec.name, options=options) if spec.discriminator else None
    return discriminator, own


def local_side(config: ModelConfig) -> int:
    """Side of the square centred on the hole that a local discriminator judges: ``local_size``,
    by default half the resolution."""
    return config.local_size or config.resolution // 2


def conditions_summary(config: ModelConfig) -> str:
    """``"attribute=0.1, segmentation=0.1"``: each condition's embedder and weight λ, or ``"none"``."""
    return ", ".join(f"{c.embedder.name}={c.weight:g}" for c in config.conditions) or "none"


class BoostedGAN(nn.Module):
    """Generator + global discriminator + conditions, built by name through the registry.

    Args:
        config: what to build.
        registry: where components are looked up (default: the process-wide registry).
        load_embedder_weights: load each embedder's ``weights`` file; ``False`` when the
            weights come from a checkpoint instead.

    Examples:
        >>> from semantic_inpaint.config import ModelConfig
        >>> model = BoostedGAN(ModelConfig.model_validate({
        ...     "resolution": 32, "generator": {"name": "dilated", "options": {"width": 8}},
        ...     "discriminator": {"name": "conv", "options": {"width": 8}}}))
        >>> image, mask = torch.zeros(2, 3, 32, 32), torch.ones(2, 1, 32, 32)
        >>> model.inpaint(image, mask).shape
        torch.Size([2, 3, 32, 32])
    """

    def __init__(
        self,
        config: ModelConfig,
        registry: Registry | None = None,
        *,
        load_embedder_weights: bool = True,
    ) -> None:
        super().__init__()
        registry = registry or get_registry()
        resolution = config.resolution
        shares_trunk = issubclass_safe(
            registry.get("discriminator", config.discriminator.name).factory, SharedTrunkDiscriminator
        )
        conditions: dict[str, Condition] = {}
        resolved_conditions: list[ConditionConfig] = []
        for index, spec in enumerate(config.conditions):
            embedder, embedder_spec = build_embedder(registry, spec.embedder, load_embedder_weights)
            if embedder.name != spec.embedder.name:
                raise ValueError(
                    f"embedder {spec.embedder.name!r}: the factory built an embedder named "
                    f"{embedder.name!r}; the names must agree"
                )
            matching, own = matching_discriminator(registry, config, index, embedder.spec, shares_trunk)
            conditions[embedder.name] = Condition(embedder, matching, spec.weight, spec.matching_region)
            resolved_conditions.append(  # a matching discriminator that follows the global one stays unset
                spec.model_copy(update={"embedder": embedder_spec, "discriminator": own})
            )
        self.conditions = nn.ModuleDict(conditions)
        generator, generator_options = registry.build_resolved(
            "generator",
            config.generator.name,
            config.generator.options,
            resolution=resolution,
            signals=tuple(c.embedder.spec for c in conditions.values()),
        )
        self.generator: InpaintGenerator = generator
        discriminator, discriminator_options = registry.build_resolved(
            "discriminator",
            config.discriminator.name,
            config.discriminator.options,
            resolution=resolution,
            signal=None,
        )
        self.discriminator: ConditionalDiscriminator = discriminator
        if isinstance(discriminator, SharedTrunkDiscriminator):
            for condition in conditions.values():
                if condition.weight != 0:  # a head nobody trains would be an unused parameter (DDP refuses those)
                    discriminator.add_matching_head(condition.embedder.spec)
        #: GL's local discriminator of the hole's crop (``None``: the paper's model has none)
        self.local_size = local_side(config)
        self.local_discriminator: ConditionalDiscriminator | None = None
        local_spec = config.local_discriminator
        if local_spec is not None:
            self.local_discriminator, local_options = registry.build_resolved(
                "discriminator", local_spec.name, local_spec.options, resolution=self.local_size, signal=None
            )
            local_spec = ComponentConfig(name=local_spec.name, options=local_options)
        self.reconstruction, reconstruction_options = registry.build_resolved(
            "reconstruction_loss", config.reconstruction.name, config.reconstruction.options
        )
        #: the config with every component option spelled out, as built (what checkpoints record)
        self.config = config.model_copy(
            update={
                "generator": ComponentConfig(name=config.generator.name, options=generator_options),
                "discriminator": ComponentConfig(name=config.discriminator.name, options=discriminator_options),
                "conditions": resolved_conditions,
                "reconstruction": ComponentConfig(name=config.reconstruction.name, options=reconstruction_options),
                "local_discriminator": local_spec,
            }
        )
        self.matching_loss: MatchingLoss = MATCHING_LOSSES[config.gan_loss]()

    def extra_repr(self) -> str:
        """The first line of ``repr(model)``: what was built, before the module tree."""
        config = self.config
        return (
            f"resolution={config.resolution}, generator={config.generator.name!r}, "
            f"discriminator={config.discriminator.name!r}, conditions=[{conditions_summary(config)}], "
            f"beta={config.beta:g}, gan_loss={config.gan_loss!r}"
        )

    def condition_items(self) -> list[tuple[str, Condition]]:
        return list(self.conditions.items())  # type: ignore[arg-type]

    def generator_parameters(self) -> list[nn.Parameter]:
        return list(self.generator.parameters())

    def discriminator_parameters(self) -> list[nn.Parameter]:
        params = list(self.discriminator.parameters())
        if self.local_discriminator is not None:
            params += list(self.local_discriminator.parameters())
        for _, condition in self.condition_items():
            if condition.discriminator is not None:
                params += list(condition.discriminator.parameters())
        return params

    @torch.no_grad()
    def embed(self, image: Tensor) -> dict[str, Tensor]:
        """Every embedder's signal for ``image`` ``(B, 3, H, W)`` in ``[-1, 1]``."""
        return {name: condition.embedder(image) for name, condition in self.condition_items()}

    def generate(
        self,
        image: Tensor,
        mask: Tensor,
        generator: nn.Module | None = None,
        overrides: Mapping[str, Any] | None = None,
        where: OverrideWhere = "hole",
        strength: Strength = 1.0,
    ) -> Tensor:
        """Raw generator output ``z = G(x, Ws(x), Wa(x))`` with ``x = image·(1-mask)``.

        The embedders see the masked image ``x`` (holes filled with zeros), as in the paper.
        ``generator`` replaces the model's own for this call (the trainer's weight average).
        ``overrides`` replaces predicted signals with a user's requests, by condition name
        (see :meth:`SemanticEmbedder.override`; maps inside the hole or ``where="everywhere"``),
        each pushed ``strength`` times as far from the prediction (see :func:`apply_overrides`).
        """
        conditions = self.embed(image * (1 - mask))
        if overrides:
            embedders = {name: condition.embedder for name, condition in self.condition_items()}
            conditions = apply_overrides(embedders, conditions, overrides, mask, where, strength)
        return (generator or self.generator)(image, mask, conditions)

    def inpaint(
        self,
        image: Tensor,
        mask: Tensor,
        generator: nn.Module | None = None,
        overrides: Mapping[str, Any] | None = None,
        where: OverrideWhere = "hole",
        strength: Strength = 1.0,
    ) -> Tensor:
        """Generator output composited into the known pixels: ``z·m + image·(1-m)``."""
        return composite(self.generate(image, mask, generator, overrides, where, strength), image, mask)

    def forward(self, image: Tensor, mask: Tensor) -> Tensor:
        return self.inpaint(image, mask)

"""semantic-inpaint: composable GAN components for semantically guided image inpainting.

The public API: the core abstractions, the plugin hooks and registry, configs, the
reference model, masks, the trainer and the :class:`Inpainter`.
"""

from semantic_inpaint.config import (
    ComponentConfig,
    ConditionConfig,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainingConfig,
    load_config,
)
from semantic_inpaint.core import (
    ConditionalDiscriminator,
    InpaintGenerator,
    MatchingLoss,
    SemanticEmbedder,
    SignalSpec,
    composite,
)
from semantic_inpaint.hookspecs import hookimpl
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.io import load_weights, save_weights
from semantic_inpaint.model import BoostedGAN, Condition
from semantic_inpaint.registry import Registry, RegistryError, get_registry
from semantic_inpaint.training import Trainer

__version__ = "0.1.0"

__all__ = [
    "BoostedGAN",
    "ComponentConfig",
    "Condition",
    "ConditionConfig",
    "ConditionalDiscriminator",
    "DataConfig",
    "InpaintGenerator",
    "Inpainter",
    "MatchingLoss",
    "ModelConfig",
    "Registry",
    "RegistryError",
    "RunConfig",
    "SemanticEmbedder",
    "SignalSpec",
    "Trainer",
    "TrainingConfig",
    "composite",
    "get_registry",
    "hookimpl",
    "load_config",
    "load_weights",
    "save_weights",
]

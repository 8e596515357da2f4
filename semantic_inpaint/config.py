"""Validated configuration (pydantic, ``extra="forbid"``) loaded from YAML, TOML or JSON.

A run's config has three parts: ``model`` (what to build), ``data`` (what to train on) and
``training`` (how). Components are named by their registry name with an ``options`` dict;
those options are validated against the component's own signature when it is built.

Examples:
    >>> config = RunConfig.model_validate({
    ...     "model": {"resolution": 64},
    ...     "data": {"name": "folder", "options": {"root": "photos"}},
    ...     "training": {"steps": 10, "output_dir": "runs/demo"},
    ... })
    >>> config.model.beta, config.training.batch_size
    (0.01, 16)
"""

from __future__ import annotations

import copy
import json
import os
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo

#: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``
DeviceName = Annotated[str, Field(pattern=r"^(auto|cpu|cuda(:\d+)?|mps)$")]
#: how a GAN run's learning rates change over its steps (see ``semantic_inpaint.training.learning_rate``)
LearningRateSchedule = Literal["constant", "cosine"]


def _numeric(annotation: Any) -> bool:
    """Whether a field holds a number or a tuple of numbers (not a bool)."""
    if annotation in (int, float):
        return True
    if get_origin(annotation) is Annotated:
        return _numeric(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):  # int | None: a number when given
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        return bool(members) and all(_numeric(arg) for arg in members)
    return get_origin(annotation) is tuple and all(_numeric(arg) for arg in get_args(annotation) if arg is not ...)


def refuse_booleans_as_numbers(model: type[BaseModel], data: Any) -> Any:
    """``steps: true`` would otherwise be read as 1: a bool where a number belongs is an error.

    Everything else keeps pydantic's lax reading, so YAML's ``lr: 1e-3`` (a string to YAML)
    is still the number it looks like.
    """
    if not isinstance(data, dict):
        return data
    for name, field in model.model_fields.items():
        value = data.get(name, data.get(field.alias) if field.alias else None)
        values = value if isinstance(value, list | tuple) else [value]
        if _numeric(field.annotation) and any(isinstance(v, bool) for v in values):
            raise ValueError(f"{name}: expected a number, received {value!r}")
    return data


class StrictModel(BaseModel):
    """Base of every config section: unknown fields are errors, assignments are validated,
    and a bool is not accepted as a number."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_booleans(cls, data: Any) -> Any:
        return refuse_booleans_as_numbers(cls, data)


class ComponentConfig(StrictModel):
    """A registered component by name, with the options its factory accepts.

    Examples:
        >>> ComponentConfig(name="rectangles", options={"min_fraction": 0.25}).name
        'rectangles'
    """

    name: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)


class ConditionConfig(StrictModel):
    """One semantic condition: an embedder, its matching discriminator and its weight λ.

    Examples:
        >>> ConditionConfig.model_validate({"embedder": {"name": "attribute"}}).weight
        0.1
    """

    embedder: ComponentConfig
    weight: float = Field(0.1, ge=0, le=100, description="λ of equations (2) and (6)")
    discriminator: ComponentConfig | None = Field(
        None, description="matching discriminator; default: the model's global discriminator spec"
    )
    matching_region: Literal["image", "hole"] = Field(
        "image",
        description="what the matching discriminator judges against the signal: the whole image (the paper), or "
        "the square of side local_size centred on the hole (a map signal cropped alike), the only pixels a fill "
        "can change, so a request that the known pixels contradict is still judged on what the generator drew",
    )


class ControlConfig(StrictModel):
    """Training that turns the semantic signals into a control a user can set (all 0: the paper).

    Examples:
        >>> ControlConfig(swap_share=0.5, consistency_weight=1.0).swap_share
        0.5
    """

    swap_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="share of each batch whose generator is told another sample's signals (maps inside the hole "
        "only) and is judged against them, not reconstructed: it learns to follow a requested signal",
    )
    consistency_weight: float = Field(
        0.0,
        ge=0,
        le=100,
        description="weight of the term pulling what the frozen embedders read from the fill toward the signal "
        "the generator was asked for",
    )
    told_real_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="share of each batch, after the perturbed samples, whose generator is told the signals the "
        "embedders read from the real, unmasked image (maps inside the hole only) and reconstructs it: paired examples "
        "of what a signal means for the hole, which a reading of the masked image (where e.g. the mouth is hidden) "
        "cannot give; the rest of the batch keeps the paper's input",
    )
    vector_requests: Literal["swap", "flip"] = Field(
        "swap",
        description="what a perturbed sample's vector signals ask for: another sample's whole vector ('swap') or "
        "its own with `flipped_entries` entries, drawn uniformly, set to the opposite of the real image's reading "
        "('flip': single requests, rare entries as often as common ones)",
    )
    flipped_entries: int = Field(1, ge=1, le=1000, description="entries flipped per perturbed vector ('flip')")
    flip_entries: dict[str, list[str | int]] = Field(
        default_factory=dict,
        description="per vector condition, the entries (by name or index) a 'flip' request draws from, e.g. "
        "{attribute: [Male, Smiling]}: the attributes a hole can show, so that no request asks the fill for what only "
        "the known pixels hold (hair colour) and each drawn entry is asked for more often; a condition not named "
        "draws from all its entries",
    )
    flip_entry_weights: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="per vector condition, entries (by name) a 'flip' request draws more or less often than "
        "the others, which weigh 1, e.g. {attribute: {Male: 3}}: the flipped entries are drawn without replacement "
        "with chances in proportion to their weights, so an attribute the fill learns slowly is asked for more often",
    )
    changed_entry_weight: float = Field(
        1.0,
        ge=0,
        le=1000,
        description="in the consistency term, each vector entry or hole pixel that a request changed (its requested "
        "value differs from the real image's reading) counts this many times an unchanged one, in a weighted mean that "
        "keeps the term's scale; 1: a plain mean, under which one requested attribute of N weighs 1/N of its vector; "
        "0: only what a request kept counts, a term that holds the unasked attributes and parts to their reading on "
        "the input without pulling toward the request",
    )
    perturbed_known_weight: float = Field(
        0.0,
        ge=0,
        le=100,
        description="weight of the reconstruction term on the known pixels of the perturbed samples (their hole "
        "taken from the original, so only the pixels outside it count): a request changes what belongs in the "
        "hole, not the pixels the user gave (0: perturbed samples have no pixel term there)",
    )
    low_pass_weight: float = Field(
        0.0,
        ge=0,
        le=100,
        description="weight of a pixel term on the perturbed samples that asks only for the original's colour: "
        "an L2 between the `low_pass_window`-pixel square means of fill and original inside the hole (0: perturbed "
        "samples have no pixel term)",
    )
    low_pass_window: int = Field(8, ge=2, le=256, description="side in pixels of the squares of `low_pass_weight`")
    consistency_keeps_colour: bool = Field(
        False,
        description="the consistency term cannot move the fill's mean colour in the hole (its gradient along each "
        "image's per-channel hole mean is removed): a request steers what the hole shows, not its cast, which the "
        "pixel and adversarial terms keep (it did not remove the controllable recipe's colour cast: see "
        "docs/reproduce.md)",
    )
    donor_target_weight: float = Field(
        0.0,
        ge=0,
        le=100,
        description="weight of a pixel target for the flipped samples ('flip'): the hole of another image of the "
        "batch whose real reading already shows every requested entry (of those, the one agreeing on most other "
        "entries), Poisson-blended into the sample's own known pixels, so a request to add a trait is paired with "
        "real pixels that show it; a sample no image of its batch can serve keeps a target on its known pixels only "
        "(0: no pixel target for the requested hole); with a map condition, set `one_condition_per_sample`, or a "
        "sample's swapped map and its donor's hole ask for different parts",
    )
    consistency_readers: dict[str, ComponentConfig] = Field(
        default_factory=dict,
        description="per condition, the frozen embedder the consistency term reads the fill with instead of the "
        "condition's own, of the same kind and size, e.g. {attribute: {name: attribute, options: {weights: "
        "robust.safetensors}}}: a robust embedder (`adversarial` pretraining) whose reading a texture cannot move, "
        "so the term asks for glasses, not stripes; the condition's own embedder, never pulled toward, stays a "
        "judge of the control",
    )
    consistency_views: int = Field(
        0,
        ge=0,
        le=16,
        description="how many random views of each fill (shifted, blurred, noised: the `consistency_view_*` "
        "settings) a vector condition's consistency term reads, the term being their mean: a texture tuned to fool "
        "the reader at one exact rendering moves few views, a change a person sees moves all (0: the fill itself; "
        "map conditions always read the fill itself)",
    )
    consistency_view_shift: float = Field(
        0.0625, ge=0, le=0.25, description="the largest shift of a view, as a share of the image's side"
    )
    consistency_view_blur: float = Field(
        1.0, ge=0, le=4, description="the largest Gaussian blur sigma of a view, in pixels (0: no blur)"
    )
    consistency_view_noise: float = Field(
        0.05, ge=0, le=1, description="the standard deviation of a view's Gaussian noise, images in [-1, 1]"
    )
    one_condition_per_sample: bool = Field(
        False,
        description="each condition perturbs its own share of the perturbed samples (the others keep their own "
        "signal), so that two requests never contradict each other on one sample",
    )

    @model_validator(mode="after")
    def _paper_input_kept(self) -> ControlConfig:
        if self.swap_share + self.told_real_share >= 1:
            raise ValueError(
                "told_real_share: expected swap_share + told_real_share < 1 (some samples keep the paper's input, "
                f"what inference gives without a request), received {self.swap_share} + {self.told_real_share}"
            )
        return self

    @model_validator(mode="after")
    def _readers_used(self) -> ControlConfig:
        for field in ("consistency_readers", "consistency_views"):
            if getattr(self, field) and not self.consistency_weight:
                raise ValueError(f"{field}: used only with consistency_weight > 0, received consistency_weight 0")
        return self

    @model_validator(mode="after")
    def _flip_entries_used(self) -> ControlConfig:
        if self.donor_target_weight and self.vector_requests != "flip":
            raise ValueError(
                f"donor_target_weight: used only with vector_requests 'flip', received {self.vector_requests!r}"
            )
        if self.flip_entries and self.vector_requests != "flip":
            raise ValueError(f"flip_entries: used only with vector_requests 'flip', received {self.vector_requests!r}")
        if self.flip_entry_weights and self.vector_requests != "flip":
            raise ValueError(
                f"flip_entry_weights: used only with vector_requests 'flip', received {self.vector_requests!r}"
            )
        for name, weights in self.flip_entry_weights.items():
            for entry, weight in weights.items():
                if not 0 < weight <= 1000:
                    raise ValueError(
                        f"flip_entry_weights[{name!r}][{entry!r}]: expected a weight in (0, 1000], received {weight}"
                    )
        empty = sorted(name for name, entries in self.flip_entries.items() if not entries)
        if empty:
            raise ValueError(f"flip_entries: expected at least one entry per condition, received none for {empty}")
        return self


class ModelConfig(StrictModel):
    """The boosted GAN: generator, global discriminator, conditions and loss weights.

    Examples:
        >>> ModelConfig(resolution=128).generator.name, ModelConfig().beta
        ('dilated', 0.01)
    """

    resolution: int = Field(256, ge=16, le=4096, description="training size in pixels (square)")
    generator: ComponentConfig = Field(default_factory=lambda: ComponentConfig(name="dilated"))
    discriminator: ComponentConfig = Field(default_factory=lambda: ComponentConfig(name="conv"))
    conditions: list[ConditionConfig] = Field(default_factory=list)
    beta: float = Field(0.01, ge=0, le=100, description="β of equation (6)")
    gan_loss: Literal["bce", "hinge"] = "bce"
    reconstruction: ComponentConfig = Field(
        default_factory=lambda: ComponentConfig(name="l2"),
        description="the generator's pixel term: l2 (the paper, whole image) or hole_l1 (hole/valid-weighted L1)",
    )
    r1_gamma: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="R1 penalty γ (Mescheder et al. 2018): γ/2·E‖∇D(real)‖² on every discriminator; 0: off (the paper)",
    )
    feature_matching: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="weight of discriminator feature matching: the L1 distance of the global discriminator's "
        "convolution features of fill and original, added to the generator's loss; 0: off (the paper)",
    )
    hole_colour_weight: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="weight of an L2 between the mean colour of fill and original inside each hole (per image and "
        "channel; the fill as the losses judge it, blended where blend_in_training) on the samples the pixel term "
        "reconstructs: it holds the colour a seam shows against the adversarial terms, which leave it free and can "
        "shift it as training goes on; the whole-image L2 pulls on that mean only in proportion to the hole's share of "
        "the image; 0: off (the paper)",
    )
    raw_colour_weight: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="weight of the same mean-colour L2 on the generator's output before the blend, inside each hole "
        "and on the known pixels that touch it (each held to the original's), on the samples the pixel term "
        "reconstructs: the blend cancels a shift the fill and its ring share, so losses on the blended fill leave both "
        "free to drift together, and what the blend leaves of their difference depends on the hole's shape; only with "
        "blend_in_training; 0: off (the paper)",
    )
    blend_in_training: bool = Field(
        False,
        description="every loss judges the fill Poisson-blended into the known pixels, as Inpainter returns it "
        "(differentiably, one solver step per pixel of the side): a colour step between the fill and the "
        "generator's own known-pixel ring costs; false: the losses judge the generator's output (the paper)",
    )
    local_discriminator: ComponentConfig | None = Field(
        None,
        description="GL's local discriminator (Iizuka et al. 2017): any registered discriminator, judging the "
        "square of side local_size centred on the hole, its term added to the global one; null: none (the paper)",
    )
    local_size: int | None = Field(
        None, ge=8, le=4096, description="side of the local discriminator's crop (default: half the resolution)"
    )
    control: ControlConfig = Field(
        default_factory=ControlConfig, description="the controllable recipe: swapped signals and a consistency term"
    )

    @model_validator(mode="after")
    def _unique_embedders(self) -> ModelConfig:
        names = [condition.embedder.name for condition in self.conditions]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"conditions: each embedder may appear once, received {duplicates} twice")
        unknown = sorted(set(self.control.flip_entries) - set(names))
        if unknown:
            raise ValueError(f"control.flip_entries: expected names of conditions among {names}, received {unknown}")
        if self.raw_colour_weight and not self.blend_in_training:
            raise ValueError(
                f"raw_colour_weight: used only with blend_in_training true (without the blend, hole_colour_weight "
                f"holds the output itself), received {self.raw_colour_weight} with blend_in_training false"
            )
        if self.local_size is not None and self.local_size > self.resolution:
            raise ValueError(
                f"local_size: expected at most the resolution ({self.resolution}), received {self.local_size}"
            )
        return self


class DataConfig(StrictModel):
    """A registered dataset by name (``folder``, ``celebahq``, ``synthetic_faces``, ...).

    Examples:
        >>> DataConfig(name="folder", options={"root": "photos"}).options["root"]
        'photos'
    """

    name: str = "folder"
    options: dict[str, Any] = Field(default_factory=dict)


class AugmentConfig(StrictModel):
    """Joint on-device augmentation of image and mask (see ``JointAugmentation``)."""

    hflip: bool = True
    degrees: float = Field(0.0, ge=0, le=45)
    translate: float = Field(0.0, ge=0, le=0.5)
    scale: tuple[Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]] = (1.0, 1.0)


class TrainingConfig(StrictModel):
    """How to train: optimisation, masks, logging, checkpoints and devices.

    Examples:
        >>> TrainingConfig(output_dir="runs/x", steps=100).masks.name
        'rectangles'
    """

    output_dir: Path
    steps: int = Field(ge=1, description="number of iterations (one D step then one G step each)")
    batch_size: int = Field(16, ge=2, le=4096, description="at least 2: mismatched pairs need a partner")
    lr_generator: float = Field(2e-4, gt=0, le=1)
    lr_discriminator: float = Field(2e-4, gt=0, le=1)
    lr_schedule: LearningRateSchedule = Field(
        "constant",
        description="how both learning rates change over the run: 'constant' (the paper) or 'cosine' (decayed "
        "from the configured rate to 0 at training.steps; a resume cannot then change training.steps)",
    )
    betas: tuple[Annotated[float, Field(ge=0, lt=1)], Annotated[float, Field(ge=0, lt=1)]] = (
        0.5,
        0.999,
    )
    seed: int = Field(0, ge=0)
    masks: ComponentConfig = Field(default_factory=lambda: ComponentConfig(name="rectangles"))
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    device: DeviceName = "auto"
    amp: Literal["auto", "off", "bf16", "fp16"] = Field(
        "auto", description="autocast precision: 'auto' is bf16 on CUDA and off on CPU; fp16 (CUDA) uses a GradScaler"
    )
    channels_last: bool = Field(True, description="channels_last memory format for images and networks")
    compile: bool = Field(False, description="torch.compile the generator and discriminators for training")
    num_workers: int = Field(0, ge=0, le=64)
    log_every: int = Field(10, ge=1)
    sample_every: int = Field(100, ge=1)
    checkpoint_every: int = Field(100, ge=1)
    keep_checkpoints: int = Field(2, ge=1, description="step checkpoints kept besides last.pt")
    sample_count: int = Field(8, ge=1, le=64)
    recalibration_batches: int = Field(
        32,
        ge=0,
        le=100_000,
        description="training batches whose average replaces the BatchNorm running statistics before every "
        "sample grid and checkpoint, so eval mode computes what training did (0: keep the moving averages)",
    )
    tensorboard: bool = Field(
        False,
        description="also write TensorBoard events (metrics and sample grids) to output_dir/tensorboard "
        '(pip install "semantic-inpaint[tensorboard]")',
    )
    average_half_life_images: float = Field(
        10_000,
        ge=0,
        le=1e9,
        description="half-life, in training images, of the moving average of the generator's weights that "
        "checkpoints, samples and exports hold (0: the last step's weights, no average)",
    )
    average_rampup: float = Field(
        0.05,
        ge=0,
        le=1,
        description="early in training the half-life is at most this share of the images seen so far, so the "
        "average forgets the initialisation (0: no ramp-up)",
    )


class RetrievalConfig(StrictModel):
    """Table III's retrieval mAP: the feature extractor and the database it searches."""

    extractor: Literal["tiny_image", "vgg16_fc2"] = "tiny_image"
    weights: Path | None = Field(None, description="local VGG-16 state dict for vgg16_fc2")
    database: DataConfig
    top_k: int = Field(10, ge=1, le=1000)


class EvaluationConfig(StrictModel):
    """Evaluating trained models and classical peers on a held-out split."""

    data: DataConfig = Field(description="the held-out split (no pretraining or training saw it)")
    resolution: int = Field(ge=16, le=4096)
    masks: dict[str, ComponentConfig] = Field(
        default_factory=lambda: {
            "center": ComponentConfig(name="center_square", options={"fraction": 0.5}),
            "rectangles": ComponentConfig(name="rectangles"),
        }
    )
    gan_runs: Path | None = Field(None, description="folder whose subfolders are training runs to evaluate")
    checkpoints: dict[str, Path] = Field(default_factory=dict, description="more models: name -> checkpoint")
    classical: list[Literal["telea", "navier_stokes"]] = Field(default_factory=lambda: ["telea", "navier_stokes"])
    attribute: Path | None = Field(None, description="pretraining config of the attribute embedder (consistency)")
    segmentation: Path | None = Field(None, description="pretraining config of the segmentation embedder")
    retrieval: RetrievalConfig | None = None
    judges: list[ComponentConfig] = Field(
        default_factory=list,
        description="judges the project did not train (e.g. facemesh, age_gender, identity: semantic-inpaint[judges])",
    )
    fid_weights: Path | None = Field(
        None,
        description="torchvision's Inception-v3 ImageNet weights (inception_v3_google-0cc3c7bd.pth), "
        "a local file: adds FID to the tables; none: no FID",
    )
    judge_masks: list[str] | None = Field(
        None, description="the mask types (keys of masks) the judges score; default: all (judges are slow on a CPU)"
    )
    blend: Literal["poisson", "none"] = Field(
        "poisson",
        description="how the trained models' fills meet the known pixels, as Inpainter's blend: Poisson-blended "
        "(what users get by default) or the generator's output as it is",
    )
    reference: str | None = Field(None, description="method whose paired differences to every other are reported")
    resamples: int = Field(2000, ge=100, le=100_000, description="bootstrap resamples of the images (95 % intervals)")
    batch_size: int = Field(50, ge=1, le=4096)
    seed: int = Field(0, ge=0)
    device: DeviceName = "auto"
    results: Path = Field(description="folder for the results JSON (and the report's sources)")

    @model_validator(mode="after")
    def _judged_masks_exist(self) -> EvaluationConfig:
        unknown = sorted(set(self.judge_masks or ()) - set(self.masks))
        if unknown:
            raise ValueError(f"judge_masks: expected names from masks {sorted(self.masks)}, received {unknown}")
        return self


class RunConfig(StrictModel):
    """A whole training run.

    Examples:
        >>> RunConfig.model_validate({"training": {"output_dir": "runs/x", "steps": 1}}).data.name
        'folder'
    """

    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    training: TrainingConfig


ConfigT = TypeVar("ConfigT", bound=BaseModel)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Parse a ``.yaml``/``.yml``, ``.toml`` or ``.json`` file into a dict."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config: no such file {path}")
    text = path.read_text(encoding="utf-8")
    parsers = {".yaml": yaml.safe_load, ".yml": yaml.safe_load, ".toml": tomllib.loads, ".json": json.loads}
    parse = parsers.get(path.suffix.lower())
    if parse is None:
        raise ValueError(f"config: expected a .yaml, .yml, .toml or .json file, received {path}")
    try:
        data = parse(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        details = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
        raise ValueError(f"config: cannot parse {path}: {details}") from None
    if not isinstance(data, dict):
        raise ValueError(f"config: expected a mapping at the top of {path}, received {type(data).__name__}")
    return data


def apply_overrides(
    data: dict[str, Any], overrides: Sequence[str], model: type[BaseModel] | None = None
) -> dict[str, Any]:
    """``data`` with dotted ``KEY=VALUE`` overrides applied (values parsed as YAML).

    A list item is addressed by its index (``model.conditions.0.weight=0``). The result is
    validated by the caller, so a misspelt key is reported by name. A section that ``data``
    leaves out is created by the override: with ``model`` (the config class ``data`` is
    validated as) it starts from that field's default, so ``training.masks.options.X=1``
    sets an option of the default mask generator instead of dropping its name.

    Examples:
        >>> apply_overrides({"training": {"steps": 5}}, ["training.steps=100", "training.amp=off"])
        {'training': {'steps': 100, 'amp': 'off'}}
        >>> apply_overrides({}, ["training.masks.options.centred_share=0.5"], RunConfig)["training"]
        {'masks': {'name': 'rectangles', 'options': {'centred_share': 0.5}}}
    """
    data = copy.deepcopy(data)
    for override in overrides:
        key, separator, text = override.partition("=")
        if not separator or not key.strip():
            raise ValueError(f"--set: expected KEY=VALUE with a dotted KEY (training.steps=100), received {override!r}")
        value = _parse_value(text)
        *parents, leaf = key.strip().split(".")
        node: Any = data
        section = model
        for depth, part in enumerate(parents):
            field = section.model_fields.get(part) if section is not None else None
            node = _child(node, part, ".".join(parents[: depth + 1]), field)
            section = _config_class(field)
        if isinstance(node, list):
            node[_index(node, leaf, key)] = value
        elif isinstance(node, dict):
            node[leaf] = value
        else:
            raise ValueError(f"--set: {key} goes inside {'.'.join(parents)}, which is a value, not a section")
    return data


def _parse_value(text: str) -> Any:
    """YAML, except that only ``true``/``false`` are booleans (YAML 1.1 reads ``off`` as false)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, bool) and text.strip().lower() not in ("true", "false"):
        return text.strip()
    return value


def _config_class(field: FieldInfo | None) -> type[BaseModel] | None:
    """The config class of ``field``'s values, where it is one (not a list, a dict or optional)."""
    annotation = field.annotation if field is not None else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _child(node: Any, part: str, path: str, field: FieldInfo | None) -> Any:
    """Item ``part`` of ``node``; where it is missing, created from the default of ``field`` (the
    config field it is, where known) if that default is a config section, else empty."""
    if isinstance(node, list):
        return node[_index(node, part, path)]
    if not isinstance(node, dict):
        raise ValueError(f"--set: {path} goes inside a value, not a section")
    if node.get(part) is None:
        default = field.get_default(call_default_factory=True) if field is not None else None
        node[part] = default.model_dump(mode="json") if isinstance(default, BaseModel) else {}
    return node[part]


def _index(node: list[Any], part: str, path: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ValueError(f"--set: {path}: expected an index below {len(node)} into the list, received {part!r}")
    return int(part)


#: where a component's kind is known from the field that holds it (a DataConfig is a dataset)
COMPONENT_FIELDS = {
    "generator": "generator",
    "discriminator": "discriminator",
    "embedder": "embedder",
    "masks": "mask_generator",
    "judges": "judge",
    "reconstruction": "reconstruction_loss",
}
#: a weights option naming a model shipped in the package rather than a file
SHIPPED_PREFIX = "shipped:"


def map_paths(config: ConfigT, convert: Callable[[Path], Path]) -> ConfigT:
    """A copy of ``config`` with every file path passed through ``convert``.

    The paths are the fields typed ``Path`` and the component options whose factory types
    them ``Path`` (a dataset's ``root``, an embedder's ``weights``), found through the
    registry; ``shipped:NAME`` weights are names, not paths, and stay as they are.

    Examples:
        >>> run = RunConfig.model_validate({"data": {"name": "folder", "options": {"root": "photos"}},
        ...                                 "training": {"output_dir": "runs/x", "steps": 1}})
        >>> moved = map_paths(run, lambda path: Path("/base") / path)
        >>> moved.training.output_dir.as_posix(), moved.data.options["root"]
        ('/base/runs/x', '/base/photos')
    """
    return type(config).model_validate(_map_model(config, convert))


def _map_model(model: BaseModel, convert: Callable[[Path], Path]) -> dict[str, Any]:
    return {name: _map_value(getattr(model, name), name, convert) for name in type(model).model_fields}


def _map_value(value: Any, field: str, convert: Callable[[Path], Path]) -> Any:
    if isinstance(value, ComponentConfig | DataConfig):
        kind = "dataset" if isinstance(value, DataConfig) else COMPONENT_FIELDS.get(field)
        return {"name": value.name, "options": _map_options(value, kind, convert)}
    if isinstance(value, BaseModel):
        return _map_model(value, convert)
    if isinstance(value, list | tuple):
        return [_map_value(item, field, convert) for item in value]
    if isinstance(value, dict):
        return {key: _map_value(item, field, convert) for key, item in value.items()}
    if isinstance(value, Path):
        return convert(value)
    return value


def _map_options(
    component: ComponentConfig | DataConfig, kind: str | None, convert: Callable[[Path], Path]
) -> dict[str, Any]:
    from semantic_inpaint.registry import RegistryError, get_registry

    options = dict(component.options)
    if kind is None:
        return options
    try:
        fields = get_registry().get(kind, component.name).options_model.model_fields  # type: ignore[arg-type]
    except RegistryError:
        return options  # an unknown component is reported by name when it is built
    for key, value in options.items():
        typed_path = key in fields and _is_path(fields[key].annotation)
        if typed_path and isinstance(value, str | Path) and not str(value).startswith(SHIPPED_PREFIX):
            options[key] = str(convert(Path(value)))
    return options


def _is_path(annotation: Any) -> bool:
    if annotation is Path:
        return True
    if get_origin(annotation) in (Annotated, Union, UnionType):
        return any(_is_path(argument) for argument in get_args(annotation))
    return False


def absolute_from(folder: Path) -> Callable[[Path], Path]:
    """A relative path read as relative to ``folder`` (made absolute and normalised)."""
    base = folder.resolve()
    return lambda path: path if path.is_absolute() else Path(os.path.normpath(base / path))


def relative_inside(folder: Path) -> Callable[[Path], Path]:
    """A path under ``folder`` written relative to it; any other path written absolute."""
    base = folder.resolve()

    def convert(path: Path) -> Path:
        absolute = Path(os.path.normpath(Path.cwd() / path))
        return absolute.relative_to(base) if absolute.is_relative_to(base) else absolute

    return convert


def load_config(path: str | Path, model: type[ConfigT] = RunConfig, overrides: Sequence[str] = ()) -> ConfigT:  # type: ignore[assignment]
    """Load and validate a config file (a :class:`RunConfig` unless ``model`` says otherwise).

    Relative paths in it are relative to the file's folder, not to the current directory,
    so a config works from anywhere (the loaded config holds them absolute). ``overrides``
    are dotted ``KEY=VALUE`` settings applied before validation (the CLI's ``--set``, see
    :func:`apply_overrides`); their relative paths are read the same way.

    Examples:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.yaml"
        >>> _ = path.write_text("training: {output_dir: runs/x, steps: 5}")
        >>> load_config(path).training.steps
        5
        >>> load_config(path, overrides=["training.steps=7"]).training.steps
        7
    """
    config = model.model_validate(apply_overrides(read_config_file(path), overrides, model))
    return map_paths(config, absolute_from(Path(path).parent))


def save_config(config: BaseModel, path: str | Path) -> None:
    """Write the resolved config as YAML, every default spelled out.

    Paths under the file's folder are written relative to it (the folder can move), any
    other path absolute, so that :func:`load_config` reads back the same config.
    """
    path = Path(path)
    portable = map_paths(config, relative_inside(path.parent))
    path.write_text(yaml.safe_dump(portable.model_dump(mode="json"), sort_keys=False), encoding="utf-8")

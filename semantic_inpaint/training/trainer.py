"""The GAN trainer: one discriminator step, then one generator step, per iteration.

Output folder of a run::

    OUTPUT_DIR/config.yaml             the resolved config (every default spelled out)
    OUTPUT_DIR/metrics.jsonl           one JSON line per ``log_every`` steps
    OUTPUT_DIR/samples/step_NNNNNN.png original | masked | inpainted, one row each
    OUTPUT_DIR/checkpoints/step_NNNNNN.pt and last.pt
    OUTPUT_DIR/tensorboard/            TensorBoard events, with ``training.tensorboard: true``

A checkpoint's ``model`` holds the model as users run it: its generator is the moving average
of the trained weights (``training.average_half_life_images``); the weights the optimiser
works on are kept beside it, under ``generator_training``, for an exact resume.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torchvision
from pydantic_core import to_jsonable_python
from torch import Tensor
from tqdm import tqdm

from semantic_inpaint.augment import JointAugmentation
from semantic_inpaint.config import ComponentConfig, ModelConfig, RunConfig, map_paths, save_config
from semantic_inpaint.core import composite
from semantic_inpaint.feature_matching import feature_matching_loss
from semantic_inpaint.folding import folded_copy
from semantic_inpaint.hole_colour_loss import hole_colour_l2, raw_colour_l2
from semantic_inpaint.hole_crops import hole_crops
from semantic_inpaint.io import (
    CHECKPOINT_FORMAT,
    atomic_path,
    load_checkpoint,
    remove_temporary_files,
    save_checkpoint,
)
from semantic_inpaint.losses import inpainting_loss, weighted_sum
from semantic_inpaint.model import BoostedGAN, Condition
from semantic_inpaint.models import SharedTrunkDiscriminator
from semantic_inpaint.poisson_blend import blend_for_training
from semantic_inpaint.registry import ComponentKind, Registry, get_registry
from semantic_inpaint.training.control import (
    Requests,
    consistency_loss,
    consistency_readers,
    donor_targets,
    draw_requests,
    flip_entry_indices,
    flip_entry_weights,
    known_pixels_reconstruction,
    low_pass_hole_l2,
    pick_donors,
    requested_signals,
    swapped_count,
    told_real_count,
    told_real_signals,
)
from semantic_inpaint.training.distributed import setup_distributed
from semantic_inpaint.training.learning_rate import learning_rate_factor, set_learning_rate
from semantic_inpaint.training.normalization import batch_norm_layers, recalibrate_batch_norm
from semantic_inpaint.training.reading_views import ReadingViews
from semantic_inpaint.training.run_lock import RunFolderLock
from semantic_inpaint.training.runtime import (
    JsonlLog,
    autocast,
    device_description,
    fused_adam_available,
    grad_scaler,
    make_loader,
    resolve_device,
    step_seed,
    warn_if_slow_amp,
)
from semantic_inpaint.training.tensorboard import TensorBoardLog
from semantic_inpaint.training.weight_average import WeightAverage, average_decay
from semantic_inpaint.validation import check_image, value_checks


def describe_model_difference(saved: dict[str, Any], current: dict[str, Any], prefix: str = "model") -> list[str]:
    """Dotted paths where two model configs (as dicts) differ, with both values."""
    differences = []
    for key in sorted(set(saved) | set(current)):
        a, b = saved.get(key), current.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            differences += describe_model_difference(a, b, f"{prefix}.{key}")
        elif a != b:
            differences.append(f"{prefix}.{key}: checkpoint has {a!r}, config has {b!r}")
    return differences


def with_new_option_defaults(config: ModelConfig, registry: Registry) -> ModelConfig:
    """``config`` with every component option it does not name set to that option's default.

    A checkpoint records the options its components were built with; an option the library
    added later is absent there, and the model it describes is the one that option's default
    builds (a new option's default keeps the old behaviour).
    """

    def filled(spec: ComponentConfig, kind: ComponentKind) -> ComponentConfig:
        fields = registry.get(kind, spec.name).options_model.model_fields
        defaults = {
            name: to_jsonable_python(field.default)
            for name, field in fields.items()
            if name not in spec.options and not field.is_required()
        }
        return spec.model_copy(update={"options": {**defaults, **spec.options}})

    conditions = [
        condition.model_copy(
            update={
                "embedder": filled(condition.embedder, "embedder"),
                "discriminator": condition.discriminator and filled(condition.discriminator, "discriminator"),
            }
        )
        for condition in config.conditions
    ]
    return config.model_copy(
        update={
            "generator": filled(config.generator, "generator"),
            "discriminator": filled(config.discriminator, "discriminator"),
            "reconstruction": filled(config.reconstruction, "reconstruction_loss"),
            "local_discriminator": config.local_discriminator and filled(config.local_discriminator, "discriminator"),
            "conditions": conditions,
        }
    )


def absolute(path: Path) -> Path:
    """``path`` as it was meant when written relative to the working folder."""
    return path if path.is_absolute() else path.resolve()


def comparable(config: ModelConfig) -> dict[str, Any]:
    """A model config as a dict, without the embedders' weight files: the checkpoint holds the
    embedders' weights, so where their files were (a path written relative to another folder,
    a file moved since) does not change the model a resume continues."""
    model = config.model_dump(mode="json")
    for condition in model["conditions"]:
        condition["embedder"]["options"].pop("weights", None)
    return model


#: training settings a resume may change: how long, how often to log and save, on what hardware
RESUMABLE_CHANGES = tuple(
    f"training.{name}:"
    for name in (
        "steps", "output_dir", "device", "amp", "channels_last", "compile", "num_workers", "log_every",
        "sample_every", "checkpoint_every", "keep_checkpoints", "sample_count", "recalibration_batches",
        "tensorboard",
    )
)  # fmt: skip


def step_checkpoints(checkpoint_dir: Path) -> list[Path]:
    """The ``step_NNNNNN.pt`` files of a run, oldest first (by step number: names outgrow their padding)."""
    return sorted(checkpoint_dir.glob("step_*.pt"), key=lambda path: int(path.stem.removeprefix("step_")))


def newest_checkpoint(checkpoint_dir: Path) -> Path:
    """The checkpoint a resume continues from: the ``step_NNNNNN.pt`` of the highest step, or
    ``last.pt`` where no step file is left.

    Each file is written atomically, but ``last.pt`` is pointed at a new step file only after
    that file is complete: a run killed in between has a newer step file than ``last.pt``.
    """
    by_step = step_checkpoints(checkpoint_dir)
    return by_step[-1] if by_step else checkpoint_dir / "last.pt"


class StepSignals(NamedTuple):
    """One training batch's signals as :meth:`Trainer._step_signals` draws them."""

    swapped: int
    input: dict[str, Tensor]
    real: dict[str, Tensor]
    wrong: dict[str, Tensor]
    asked: dict[str, Tensor]
    requests: Requests | None


class Trainer:
    """Trains a :class:`~semantic_inpaint.model.BoostedGAN` as its config says.

    Args:
        config: the run.
        registry: where components are looked up (default: the process-wide registry).
        resume: continue from the newest checkpoint in ``output_dir/checkpoints`` (see
            :func:`newest_checkpoint`); without it, an output folder that already holds
            checkpoints is an error (nothing is overwritten).

    Examples:
        >>> import tempfile
        >>> config = RunConfig.model_validate({
        ...     "model": {"resolution": 32, "generator": {"name": "dilated", "options": {"width": 4}},
        ...               "discriminator": {"name": "conv", "options": {"width": 4}}},
        ...     "data": {"name": "synthetic_faces", "options": {"length": 8}},
        ...     "training": {"output_dir": tempfile.mkdtemp(), "steps": 2, "batch_size": 4, "device": "cpu"}})
        >>> Trainer(config).fit(progress=False)["step"]
        2
    """

    def __init__(self, config: RunConfig, *, registry: Registry | None = None, resume: bool = False) -> None:
        registry = registry or get_registry()
        self.registry = registry
        self.config = config
        settings = config.training
        self.settings = settings
        self.dist, device_name = setup_distributed(settings.device)
        self.device = resolve_device(device_name)
        self.local = self.dist.local_slice(settings.batch_size)
        self.output_dir = Path(settings.output_dir)
        self.checkpoint_dir = self.output_dir / "checkpoints"
        resolution = config.model.resolution

        torch.manual_seed(settings.seed)
        self.model = BoostedGAN(config.model, registry).to(self.device)
        self.config = config = config.model_copy(update={"model": self.model.config})  # every option spelled out
        if self.dist.enabled and self.device.type == "cuda":
            self.model.generator = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.model.generator)
        self.memory_format = torch.channels_last if settings.channels_last else torch.contiguous_format
        self.model.to(memory_format=self.memory_format)
        # what the training step calls: the same modules, wrapped for DDP and compiled if asked
        self.generator = self._prepare(self.model.generator)
        self.discriminator = self._prepare(self.model.discriminator)
        local = self.model.local_discriminator
        self.local_discriminator = self._prepare(local) if local is not None else None
        #: what the step reads signals with: each frozen embedder with its BatchNorm folded into its
        #: convolutions (the same signals to float rounding, in fewer layers); the model keeps the originals
        self.signal_embedders = {name: folded_copy(c.embedder) for name, c in self.model.condition_items()}
        #: what the consistency term reads fills with: the signal embedders, or the readers the config names
        self.consistency_readers = {
            **self.signal_embedders,
            **consistency_readers(config.model.control, self.signal_embedders, registry, self.device),
        }
        #: the random views a vector condition's consistency term reads, or None: the fill itself
        views = config.model.control.consistency_views
        self.reading_views = ReadingViews.of(config.model.control) if views else None
        #: per vector condition a flip request changes, the entries it draws from
        self.flip_indices = flip_entry_indices(self.signal_embedders, config.model.control)
        #: and how often each of those entries is drawn
        weights = flip_entry_weights(self.signal_embedders, config.model.control, self.flip_indices)
        self.flip_weights = {name: entry_weights.to(self.device) for name, entry_weights in weights.items()}
        if config.model.control.donor_target_weight and not self.flip_indices:
            raise ValueError(
                "control.donor_target_weight: expected a vector condition to flip, received conditions "
                f"{sorted(self.signal_embedders)} with none"
            )
        #: conditions with a discriminator term to train (λ ≠ 0)
        self.weighted = [name for name, c in self.model.condition_items() if c.weight != 0]
        #: the weighted conditions whose matching discriminator judges the square around each hole
        self.judged_on_holes = {name for name in self.weighted if self.model.conditions[name].region == "hole"}
        #: a shared-trunk discriminator judges realness and every weighted condition in one pass
        self.shared_trunk = isinstance(self.model.discriminator, SharedTrunkDiscriminator)
        self.matching = {
            name: self._prepare(self.model.conditions[name].discriminator)
            for name in self.weighted
            if not self.shared_trunk
        }
        self.average = WeightAverage(self.model.generator) if settings.average_half_life_images > 0 else None
        self.dataset = registry.build("dataset", config.data.name, config.data.options, resolution=resolution)
        self.masks = registry.build(
            "mask_generator", settings.masks.name, settings.masks.options, resolution=resolution
        )
        self.augment = JointAugmentation(
            hflip=settings.augment.hflip,
            degrees=settings.augment.degrees,
            translate=settings.augment.translate,
            scale=settings.augment.scale,
        )
        fused = fused_adam_available(self.device)  # one kernel for all tensors instead of a loop over them
        self.optimizer_g = torch.optim.Adam(
            self.model.generator_parameters(), lr=settings.lr_generator, betas=settings.betas, fused=fused
        )
        self.optimizer_d = torch.optim.Adam(
            self.model.discriminator_parameters(), lr=settings.lr_discriminator, betas=settings.betas, fused=fused
        )
        warn_if_slow_amp(self.device, settings.amp)
        self.scaler_g, self.scaler_d = grad_scaler(self.device, settings.amp), grad_scaler(self.device, settings.amp)
        self.step = 0
        self.elapsed_seconds = 0.0  # training time so far, carried across resumes by the checkpoint
        self.log_window: list[dict[str, Tensor]] = []  # metrics of the steps since the last log line
        self.resumed_changes: list[str] = []  # harmless settings a resume changed
        last = self.checkpoint_dir / "last.pt"
        if not resume and last.exists():
            raise FileExistsError(
                f"output_dir: {self.output_dir} already holds a run ({last}); pass resume=True "
                f"(CLI: --resume) to continue it, or choose another output_dir"
            )
        self.lock = RunFolderLock(self.output_dir)
        if self.dist.is_main:
            self.lock.acquire()  # before anything in the folder is read or written; released by fit
        if resume:
            try:
                self.load(newest_checkpoint(self.checkpoint_dir))
            except BaseException:
                self.lock.release()  # a refused checkpoint leaves the folder free
                raise
        if self.dist.is_main:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            remove_temporary_files(self.checkpoint_dir)  # left by a write that a crash interrupted
            if not resume:
                save_config(config, self.output_dir / "config.yaml")
            elif self.resumed_changes:  # config.yaml stays the original run's; the changes go beside it
                save_config(config, self.output_dir / f"config.resumed_at_step_{self.step:06d}.yaml")
            self.log = JsonlLog(self.output_dir / "metrics.jsonl", self.step if resume else None)
        self.tensorboard = (
            TensorBoardLog(self.output_dir / "tensorboard", self.step if resume else None)
            if settings.tensorboard and self.dist.is_main
            else None
        )

    def _prepare(self, module: torch.nn.Module) -> torch.nn.Module:
        wrapped = self.dist.wrap(module, self.device)
        return torch.compile(wrapped) if self.settings.compile else wrapped

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "step": self.step,
            "elapsed_seconds": self.elapsed_seconds,
            "config": self.config.model_dump_json(),
            "model": self.model_state(),
            **({"generator_training": self.model.generator.state_dict()} if self.average else {}),
            "optimizer_g": self.optimizer_g.state_dict(),
            "optimizer_d": self.optimizer_d.state_dict(),
            "scaler_g": self.scaler_g.state_dict(),  # fp16 loss scales: an exact resume needs them
            "scaler_d": self.scaler_d.state_dict(),
            # a log line after a resume must average the same steps as without the interruption
            "log_window": [{key: value.cpu() for key, value in metrics.items()} for metrics in self.log_window],
        }

    def model_state(self) -> dict[str, Tensor]:
        """The model's state dict, with the averaged generator in place of the trained one."""
        state = self.model.state_dict()
        if self.average:
            state.update({f"generator.{name}": value for name, value in self.average.module.state_dict().items()})
        return state

    def user_generator(self) -> torch.nn.Module:
        """The generator that samples, checkpoints and exports hold: the average where there is one."""
        return self.average.module if self.average else self.model.generator

    def save(self) -> Path:
        """Write ``step_NNNNNN.pt`` atomically, point ``last.pt`` at it, prune old ones.

        Only the main process writes; the others wait until the file is complete.
        """
        path = self.checkpoint_dir / f"step_{self.step:06d}.pt"
        payload = self.state()
        networks = {
            **payload["model"],
            **{f"generator_training.{k}": v for k, v in payload.get("generator_training", {}).items()},
        }
        broken = [name for name, tensor in networks.items() if not torch.isfinite(tensor).all()]
        if broken:
            raise FloatingPointError(
                f"training diverged by step {self.step}: non-finite values in {broken[:3]}; "
                f"no checkpoint was written, the earlier ones in {self.checkpoint_dir} are kept"
            )
        if not self.dist.is_main:
            self.dist.barrier()
            return path
        save_checkpoint(payload, path)
        with atomic_path(self.checkpoint_dir / "last.pt") as temporary:
            temporary.unlink()
            os.link(path, temporary)
        for old in step_checkpoints(self.checkpoint_dir)[: -self.settings.keep_checkpoints]:
            old.unlink()
        self.dist.barrier()
        return path

    def load(self, path: Path) -> None:
        payload = load_checkpoint(path, map_location=self.device)
        # settings added to the library after the checkpoint was written take their defaults
        saved = ModelConfig.model_validate(json.loads(payload["config"])["model"])
        saved = comparable(with_new_option_defaults(saved, self.registry))
        differences = describe_model_difference(saved, comparable(self.config.model))
        if differences:
            raise ValueError(f"checkpoint: {path} was trained with a different model config: " + "; ".join(differences))
        # paths of checkpoints written before paths were made absolute are relative to the working folder
        saved_run = map_paths(RunConfig.model_validate(json.loads(payload["config"])), absolute).model_dump(mode="json")
        self.resumed_changes = self._check_resumed_settings(saved_run, path)
        self.model.load_state_dict(payload["model"])
        if self.average:  # "model" holds the average; the trained weights are beside it
            self.average.module.load_state_dict(self.model.generator.state_dict())
            if "generator_training" in payload:  # absent when the checkpoint's run kept no average
                self.model.generator.load_state_dict(payload["generator_training"])
        self.optimizer_g.load_state_dict(payload["optimizer_g"])
        self.optimizer_d.load_state_dict(payload["optimizer_d"])
        for name, scaler in (("scaler_g", self.scaler_g), ("scaler_d", self.scaler_d)):
            if payload.get(name):  # absent from checkpoints written before they were saved
                scaler.load_state_dict(payload[name])
        self.step = int(payload["step"])
        self.log_window = [
            {key: value.to(self.device) for key, value in metrics.items()} for metrics in payload.get("log_window", [])
        ]
        # Checkpoints written before the clock was saved lack it: their time restarts at zero.
        self.elapsed_seconds = float(payload.get("elapsed_seconds", 0.0))

    def _check_resumed_settings(self, saved: dict[str, Any], path: Path) -> list[str]:
        """Refuse a resume whose data or optimisation differ from the checkpoint's run (the
        optimiser state, the batch order and the masks would silently not follow); return the
        harmless changes (steps, cadence, devices, ...), which are recorded."""
        current = self.config.model_dump(mode="json")
        # settings added to the library after the checkpoint was written take their current value
        saved_training = {**current["training"], **saved.get("training", {})}
        changed = describe_model_difference(saved.get("data", {}), current["data"], "data")
        changed += describe_model_difference(saved_training, current["training"], "training")
        resumable, why = RESUMABLE_CHANGES, ""
        if current["training"]["lr_schedule"] != "constant":  # the schedule's rates depend on the run's length
            resumable = tuple(prefix for prefix in RESUMABLE_CHANGES if prefix != "training.steps:")
            why = "; its learning rates follow a schedule over training.steps"
        refused = [line for line in changed if not line.startswith(resumable)]
        if refused:
            raise ValueError(
                f"checkpoint: {path} belongs to a run with other settings, which a resume cannot change: "
                + "; ".join(refused)
                + f" (start a new run in another output_dir instead{why})"
            )
        return changed

    # ------------------------------------------------------------------ one iteration
    def _set_discriminators_trainable(self, trainable: bool) -> None:
        for parameter in self.model.discriminator_parameters():
            parameter.requires_grad_(trainable)

    def _signals(self, image: Tensor, mask: Tensor) -> tuple[dict[str, Tensor], dict[str, Tensor], dict[str, Tensor]]:
        """The embedders' signals of the masked and the real image, and the mismatched real ones.

        Each embedder runs once, on ``[masked | real]``; the real image only for the
        conditions that use it (a weighted one, or all under the controllable recipe).
        """
        control = self.config.model.control
        every_real = control.swap_share > 0 or control.consistency_weight > 0 or control.told_real_share > 0
        masked = image * (1 - mask)
        batch = image.shape[0]
        signals_input, signals_real = {}, {}
        for name, embedder in self.signal_embedders.items():
            if every_real or name in self.weighted:
                signals_input[name], signals_real[name] = embedder(torch.cat([masked, image])).split(batch)
            else:
                signals_input[name] = embedder(masked)
        signals_wrong = {
            name: self.signal_embedders[name].mismatched(self.dist.gather(signals_real[name]))[self.local]
            for name in self.weighted
        }
        return signals_input, signals_real, signals_wrong

    def _step_signals(self, image: Tensor, mask: Tensor) -> StepSignals:
        """The signals of one training batch as the controllable recipe draws them.

        Returns a :class:`StepSignals`: how many leading rows were asked for
        other signals, what the generator is given (requests in the first ``swapped`` rows,
        the real image's signals in the ``told_real_share`` rows after them, the masked
        image's reading elsewhere), the real and mismatched signals of :meth:`_signals`,
        what each fill is judged against, and the drawn :class:`Requests` (``None`` when no row was
        perturbed). Without control, ``input`` is the masked reading and ``asked`` the real one.
        BatchNorm recalibration draws its batches here too: statistics
        averaged over clean batches only would normalise every sample differently from the
        mixed batches it was trained in.
        """
        control = self.config.model.control
        embedders = self.signal_embedders
        swapped = swapped_count(control.swap_share, image.shape[0]) if embedders else 0
        signals_input, signals_real, signals_wrong = self._signals(image, mask)
        signals_asked, requests = signals_real, None
        if swapped:
            requests = draw_requests(signals_real, swapped, control, self.flip_indices, self.flip_weights)
            signals_input = requested_signals(embedders, signals_input, mask, requests)
            signals_asked = requested_signals(embedders, signals_real, mask, requests)
        told = told_real_count(control, image.shape[0], swapped) if embedders else 0
        if told:  # paired examples: these rows are told their real image's signals and reconstruct it
            rows = slice(swapped, swapped + told)
            signals_input = told_real_signals(embedders, signals_input, signals_real, mask, rows)
        return StepSignals(swapped, signals_input, signals_real, signals_wrong, signals_asked, requests)

    def _pairs(
        self,
        batch: int,
        signals_real: dict[str, Tensor],
        signals_asked: dict[str, Tensor],
        signals_wrong: dict[str, Tensor],
    ) -> tuple[dict[str, Tensor], Tensor]:
        """What the D step's matching terms judge for ``[real | fake]``: the signal rows
        ``[right | asked | wrong]`` per weighted condition, and the pairing ``[real, fake, real]``
        (real images twice, their features computed once)."""
        pairing = torch.cat([torch.arange(2 * batch, device=self.device), torch.arange(batch, device=self.device)])
        rows = {name: [signals_real[name], signals_asked[name], signals_wrong[name]] for name in self.weighted}
        return {name: torch.cat(signals) for name, signals in rows.items()}, pairing

    def _judge(
        self,
        images: Tensor,
        mask: Tensor,
        signals: dict[str, Tensor],
        pairing: Tensor | None = None,
        *,
        training: bool,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Realness logits ``(B,)`` of ``images`` and, per weighted condition, matching logits
        ``(P,)`` of ``images[pairing]`` against ``signals[name]``, on the whole images or their
        holes' crops as the condition's ``region`` says: every trunk runs once per image.

        ``mask``: ``(b, 1, H, W)``, the holes of one batch; ``images`` stacks whole copies of
        that batch (``[real | fake]``), repeated to match only where a condition judges holes.

        ``training``: through the wrappers the D step trains (DDP, compile); the G step calls
        the frozen modules themselves.
        """
        if self.shared_trunk:
            shared = self.discriminator if training else self.model.discriminator
            return shared(images, signals=signals, pairing=pairing)
        realness = (self.discriminator if training else self.model.discriminator)(images)
        size, on_holes = self.model.local_size, self.judged_on_holes
        if on_holes:
            mask = mask.repeat(images.shape[0] // mask.shape[0], 1, 1, 1)
        crops = hole_crops(images, mask, size) if on_holes else None
        matching = {}
        for name in self.weighted:
            judged, signal = images, signals[name]
            if name in on_holes:
                judged = crops
                if signal.dim() == 4:  # a map: the same square of the image each row is paired with
                    signal = hole_crops(signal, mask if pairing is None else mask[pairing], size)
            discriminator = self.matching[name] if training else self.model.conditions[name].discriminator
            matching[name] = discriminator(judged, signal, pairing=pairing)
        return realness, matching

    @staticmethod
    def _r1_penalty(
        real: Tensor, global_logits: Tensor, matching_logits: dict[str, Tensor], weighted: list[tuple[str, Condition]]
    ) -> Tensor:
        """R1: ``E‖∇x D(x)‖²`` on the real images, for the global discriminator and, weighted by
        their λ, each matching one (on its real, right-signal pairs); differentiable, so that
        ``loss_d``'s backward trains the discriminators to be smooth around the data."""
        batch = real.shape[0]
        scores = [(1.0, global_logits[:batch])]
        scores += [(condition.weight, matching_logits[name][:batch]) for name, condition in weighted]
        penalty = real.new_zeros(())
        for weight, logits in scores:
            (gradient,) = torch.autograd.grad(logits.float().sum(), real, create_graph=True)
            penalty = penalty + weight * gradient.float().pow(2).sum(dim=(1, 2, 3)).mean()
        return penalty

    def train_step(self, image: Tensor) -> dict[str, Tensor]:
        """One D step then one G step on this process's batch ``(b, 3, H, W)`` in ``[-1, 1]``.

        Masks and mismatched signals are drawn for the global batch (identically on every
        process) and sliced, so the step equals a single-process step on the global batch.
        Returns detached scalar tensors (no host-device synchronisation happens here).
        """
        model, loss, amp = self.model, self.model.matching_loss, self.settings.amp
        image, _, _ = self.augment(image)
        image = image.contiguous(memory_format=self.memory_format)
        mask = self.masks(self.settings.batch_size, device=self.device)[self.local]
        weighted = [(name, model.conditions[name]) for name in self.weighted]
        control = self.config.model.control
        with torch.no_grad():
            swapped, signals_input, signals_real, signals_wrong, signals_asked, requests = self._step_signals(
                image, mask
            )
            if control.donor_target_weight and requests is not None:
                donor, donor_found = pick_donors(requests, signals_real, swapped)
        r1_gamma = self.config.model.r1_gamma
        real = image.detach().requires_grad_(True) if r1_gamma > 0 else image
        with autocast(self.device, amp):
            output = self.generator(image, mask, signals_input)
            # the losses judge what Inpainter returns
            prediction = blend_for_training(output, image, mask) if self.config.model.blend_in_training else output
            fake = composite(prediction, image, mask)
            pairs, pairing = self._pairs(image.shape[0], signals_real, signals_asked, signals_wrong)
            both = torch.cat([real, fake.detach()])
            global_logits, matching_logits = self._judge(both, mask, pairs, pairing, training=True)
            d_global = loss.discriminator_loss(*global_logits.chunk(2))
            d_terms = [
                (condition.weight, loss.discriminator_loss(*matching_logits[name].chunk(3)))
                for name, condition in weighted
            ]
            loss_d = weighted_sum(d_global, d_terms)
            if self.local_discriminator is not None:  # GL: the hole's crop, judged on its own
                size = model.local_size
                crops = torch.cat([hole_crops(real, mask, size), hole_crops(fake.detach(), mask, size)])
                loss_d = loss_d + loss.discriminator_loss(*self.local_discriminator(crops).chunk(2))
            if r1_gamma > 0:
                penalty = self._r1_penalty(real, global_logits, matching_logits, weighted)
                loss_d = loss_d + r1_gamma / 2 * penalty
        self.optimizer_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(loss_d).backward()
        self.scaler_d.step(self.optimizer_d)
        self.scaler_d.update()

        self._set_discriminators_trainable(False)  # the G step only needs gradients for G
        with autocast(self.device, amp):
            # perturbed samples were asked for other signals: their original is no target
            reconstruction = model.reconstruction(prediction[swapped:].float(), image[swapped:], mask[swapped:])
            realness, matching_fake = self._judge(
                fake, mask, {name: signals_asked[name] for name in self.weighted}, training=False
            )
            g_global = loss.generator_loss(realness)
            g_unconditioned = g_global  # the global term, and GL's local one where there is one
            if self.local_discriminator is not None:
                g_local = loss.generator_loss(self.local_discriminator(hole_crops(fake, mask, model.local_size)))
                g_unconditioned = g_global + g_local
            g_terms = [(condition.weight, loss.generator_loss(matching_fake[name])) for name, condition in weighted]
            loss_g = inpainting_loss(reconstruction, g_unconditioned, g_terms, self.config.model.beta)
            if control.consistency_weight:
                consistency = consistency_loss(
                    self.consistency_readers,
                    fake,
                    signals_asked,
                    signals_real,
                    mask,
                    control.changed_entry_weight,
                    control.consistency_keeps_colour,
                    self.reading_views,
                )
                loss_g = loss_g + control.consistency_weight * consistency
            if control.perturbed_known_weight and swapped:  # a request changes the hole, not the known pixels
                known = known_pixels_reconstruction(
                    model.reconstruction, prediction[:swapped].float(), image[:swapped], mask[:swapped]
                )
                loss_g = loss_g + control.perturbed_known_weight * known
            if control.donor_target_weight and requests is not None:  # real pixels that show the request
                with torch.no_grad():
                    targets = donor_targets(image, mask, prediction, donor, donor_found)
                donor_term = model.reconstruction(prediction[:swapped].float(), targets.float(), mask[:swapped])
                loss_g = loss_g + control.donor_target_weight * donor_term
            if control.low_pass_weight and swapped:
                window = control.low_pass_window
                low_pass = low_pass_hole_l2(prediction[:swapped].float(), image[:swapped], mask[:swapped], window)
                loss_g = loss_g + control.low_pass_weight * low_pass
            if self.config.model.hole_colour_weight:  # the seam's colour, on the samples reconstructed
                hole_colour = hole_colour_l2(prediction[swapped:].float(), image[swapped:], mask[swapped:])
                loss_g = loss_g + self.config.model.hole_colour_weight * hole_colour
            if self.config.model.raw_colour_weight:  # what the blend would have to correct
                raw_colour = raw_colour_l2(output[swapped:].float(), image[swapped:], mask[swapped:])
                loss_g = loss_g + self.config.model.raw_colour_weight * raw_colour
            if self.config.model.feature_matching:
                matching = feature_matching_loss(self.discriminator, image, fake)
                loss_g = loss_g + self.config.model.feature_matching * matching
        self.optimizer_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss_g).backward()
        self.scaler_g.step(self.optimizer_g)
        self.scaler_g.update()
        self._set_discriminators_trainable(True)
        if self.average:
            settings = self.settings
            images_seen = (self.step + 1) * settings.batch_size
            decay = average_decay(
                images_seen, settings.batch_size, settings.average_half_life_images, settings.average_rampup
            )
            self.average.update(self.model.generator, decay)

        metrics = {"loss_d": loss_d, "loss_g": loss_g, "reconstruction": reconstruction, "adv_global": g_global}
        if r1_gamma > 0:
            metrics["r1"] = penalty
        if control.consistency_weight:
            metrics["consistency"] = consistency
        if control.perturbed_known_weight and swapped:
            metrics["perturbed_known"] = known
        if control.low_pass_weight and swapped:
            metrics["low_pass"] = low_pass
        if self.config.model.hole_colour_weight:
            metrics["hole_colour"] = hole_colour
        if self.config.model.raw_colour_weight:
            metrics["raw_colour"] = raw_colour
        if control.donor_target_weight and requests is not None:
            metrics["donor_target"] = donor_term
            metrics["donor_found"] = donor_found.float().mean()
        if self.local_discriminator is not None:
            metrics["adv_local"] = g_local
        if self.config.model.feature_matching:
            metrics["feature_matching"] = matching
        for (name, _), (_, term) in zip(weighted, g_terms, strict=True):
            metrics[f"adv_{name}"] = term
        return {key: value.detach().float() for key, value in metrics.items()}

    # ------------------------------------------------------------------ eval-mode statistics
    @torch.no_grad()
    def recalibrate(self) -> int:
        """Recompute the BatchNorm statistics of the generator and discriminators for the current weights.

        Eval mode normalises with running statistics; left as the exponential moving average
        of training, they lag a fast-moving generator and bias every fill (see
        :mod:`~semantic_inpaint.training.normalization`). They are replaced by the average
        over ``training.recalibration_batches`` batches of un-augmented training images with
        training masks and the signals the training step draws (a controllable recipe's requests
        included), run as the training step runs them. The weights, the optimiser and
        the training's random stream are untouched, so a resumed run stays exact. The frozen
        embedders keep the statistics of their pretraining.

        Returns:
            The number of batches averaged (0 when disabled or without BatchNorm layers).
        """
        count = min(self.settings.recalibration_batches, len(self.dataset) // self.settings.batch_size)
        model = self.model
        discriminators = [model.discriminator, *(model.conditions[name].discriminator for name in self.matching)]
        # (a shared trunk's heads are part of model.discriminator)
        modules = [self.model.generator, *discriminators, *([self.average.module] if self.average else [])]
        if count == 0 or not batch_norm_layers(modules):
            return 0
        run_discriminators = bool(batch_norm_layers(discriminators))
        loader = make_loader(self.dataset, self.settings.batch_size, self.settings.seed, 0, 0, self.device, self.local)
        masks = torch.Generator().manual_seed(self.settings.seed)

        def forward(batch: dict[str, Tensor]) -> None:
            image = batch["image"].to(self.device).contiguous(memory_format=self.memory_format)
            mask = self.masks(self.settings.batch_size, generator=masks)[self.local].to(self.device)
            _, signals_input, signals_real, signals_wrong, signals_asked, _ = self._step_signals(image, mask)
            fake = composite(self.model.generator(image, mask, signals_input), image, mask)
            if self.average:
                self.average.module(image, mask, signals_input)
            if run_discriminators:
                pairs, pairing = self._pairs(image.shape[0], signals_real, signals_asked, signals_wrong)
                self._judge(torch.cat([image, fake]), mask, pairs, pairing, training=True)

        was_training = self.model.training
        self.model.eval()
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), autocast(self.device, self.settings.amp):
            recalibrated = recalibrate_batch_norm(modules, (next(loader) for _ in range(count)), forward)
        self.model.train(was_training)
        return recalibrated

    # ------------------------------------------------------------------ samples
    @torch.no_grad()
    def write_samples(self) -> Path:
        """Save a grid of fixed validation samples: original | masked | inpainted rows."""
        count = min(self.settings.sample_count, len(self.dataset))
        images = torch.stack([self.dataset[i]["image"] for i in range(count)]).to(self.device)
        masks = self.masks(count, generator=torch.Generator().manual_seed(self.settings.seed)).to(self.device)
        was_training = self.model.training
        self.model.eval()
        with autocast(self.device, self.settings.amp):
            inpainted = self.model.inpaint(images, masks, generator=self.user_generator()).float()
        self.model.train(was_training)
        masked = torch.where(masks.bool(), torch.ones_like(images), images)
        grid = torchvision.utils.make_grid(torch.cat([images, masked, inpainted]), nrow=count, padding=2)
        pixels = grid.add(1).div(2).clamp(0, 1)  # (3, H, W) in [0, 1]
        path = self.output_dir / "samples" / f"step_{self.step:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        torchvision.utils.save_image(pixels, path)
        if self.tensorboard:
            self.tensorboard.image("samples", pixels, self.step)
        return path

    # ------------------------------------------------------------------ the loop
    def fit(self, progress: bool = True) -> dict[str, Any]:
        """Train until ``training.steps``; returns the last logged metrics."""
        settings = self.settings
        loader = make_loader(
            self.dataset, settings.batch_size, settings.seed, self.step, settings.num_workers, self.device, self.local
        )
        if self.dist.is_main:
            self.lock.acquire()  # again, if an earlier fit of this trainer gave the folder back
        try:
            return self._fit(loader, progress)
        finally:
            self.lock.release()

    def close(self) -> None:
        """Give the run folder back without training (fit does so when it ends)."""
        self.lock.release()

    def _schedule_learning_rates(self) -> None:
        """Both optimisers' rates for the coming step: the configured ones times the schedule's factor."""
        settings = self.settings
        factor = learning_rate_factor(settings.lr_schedule, self.step, settings.steps)
        set_learning_rate(self.optimizer_g, settings.lr_generator * factor)
        set_learning_rate(self.optimizer_d, settings.lr_discriminator * factor)

    def _fit(self, loader: Iterator[dict[str, Tensor]], progress: bool) -> dict[str, Any]:
        settings = self.settings
        window = self.log_window  # steps since the last log line (restored on resume)
        last_record: dict[str, Any] = {"step": self.step}
        self.model.train()
        started = time.perf_counter() - self.elapsed_seconds
        window_start = time.perf_counter()
        show = progress and self.dist.is_main
        bar = tqdm(total=settings.steps, initial=self.step, disable=not show, desc="train", unit="step")
        while self.step < settings.steps:
            batch = next(loader)
            image = batch["image"]
            check_image(image, "batch['image']")  # on the host: no device synchronisation
            torch.manual_seed(step_seed(settings.seed, self.step))
            self._schedule_learning_rates()
            with value_checks(False):
                window.append(self.train_step(image.to(self.device, non_blocking=True)))
            self.step += 1
            self.elapsed_seconds = time.perf_counter() - started
            bar.update(1)
            if self.step % settings.log_every == 0 or self.step == settings.steps:
                means = self.dist.gather(torch.stack([torch.stack(list(m.values())) for m in window]).mean(0)[None])
                elapsed = time.perf_counter() - window_start
                window_keys = list(window[0].keys())
                last_record = {
                    "step": self.step,
                    **dict(zip(window_keys, means.mean(0).tolist(), strict=True)),
                    "images_per_second": len(window) * settings.batch_size / elapsed,
                    "elapsed_seconds": self.elapsed_seconds,
                }
                if self.dist.is_main:
                    self.log.write({**last_record, "device": device_description(self.device)})
                if self.tensorboard:
                    self.tensorboard.scalars(last_record)
                diverged = [key for key in window_keys if not math.isfinite(last_record[key])]
                if diverged:
                    raise FloatingPointError(
                        f"training diverged by step {self.step}: {', '.join(diverged)} not finite; the "
                        f"checkpoints in {self.checkpoint_dir} are kept (lower the learning rates, or check the data)"
                    )
                bar.set_postfix(loss_g=f"{last_record['loss_g']:.3f}", loss_d=f"{last_record['loss_d']:.3f}")
                window.clear()
                window_start = time.perf_counter()
            sample_due = self.step % settings.sample_every == 0 or self.step == settings.steps
            checkpoint_due = self.step % settings.checkpoint_every == 0 or self.step == settings.steps
            if sample_due or checkpoint_due:
                self.recalibrate()  # samples and checkpoints show the model as eval mode runs it
            if self.dist.is_main and sample_due:
                self.write_samples()
            if checkpoint_due:
                self.save()
        bar.close()
        return last_record

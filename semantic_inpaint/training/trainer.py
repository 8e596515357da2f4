"""The GAN trainer: one discriminator step, then one generator step, per iteration.

Output folder of a run::

    OUTPUT_DIR/config.yaml             the resolved config (every default spelled out)
    OUTPUT_DIR/metrics.jsonl           one JSON line per ``log_every`` steps
    OUTPUT_DIR/samples/step_NNNNNN.png original | masked | inpainted, one row each
    OUTPUT_DIR/checkpoints/step_NNNNNN.pt and last.pt
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import torch
import torchvision
from torch import Tensor
from tqdm import tqdm

from semantic_inpaint.augment import JointAugmentation
from semantic_inpaint.config import RunConfig, save_config
from semantic_inpaint.core import composite
from semantic_inpaint.io import CHECKPOINT_FORMAT, atomic_path, load_checkpoint, save_checkpoint
from semantic_inpaint.losses import inpainting_loss, reconstruction_loss, weighted_sum
from semantic_inpaint.model import BoostedGAN
from semantic_inpaint.registry import Registry, get_registry
from semantic_inpaint.training.runtime import (
    JsonlLog,
    autocast,
    make_loader,
    resolve_device,
    step_seed,
)
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


class Trainer:
    """Trains a :class:`~semantic_inpaint.model.BoostedGAN` as its config says.

    Args:
        config: the run.
        registry: where components are looked up (default: the process-wide registry).
        resume: continue from ``output_dir/checkpoints/last.pt``; without it, an output
            folder that already holds checkpoints is an error (nothing is overwritten).

    Examples:
        >>> trainer = Trainer(config)          # doctest: +SKIP
        >>> summary = trainer.fit()            # doctest: +SKIP
    """

    def __init__(self, config: RunConfig, *, registry: Registry | None = None, resume: bool = False) -> None:
        registry = registry or get_registry()
        self.config = config
        settings = config.training
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.output_dir = Path(settings.output_dir)
        self.checkpoint_dir = self.output_dir / "checkpoints"
        resolution = config.model.resolution

        torch.manual_seed(settings.seed)
        self.model = BoostedGAN(config.model, registry).to(self.device)
        self.memory_format = torch.channels_last if settings.channels_last else torch.contiguous_format
        self.model.to(memory_format=self.memory_format)
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
        self.optimizer_g = torch.optim.Adam(
            self.model.generator_parameters(), lr=settings.lr_generator, betas=settings.betas
        )
        self.optimizer_d = torch.optim.Adam(
            self.model.discriminator_parameters(),
            lr=settings.lr_discriminator,
            betas=settings.betas,
        )
        self.step = 0
        last = self.checkpoint_dir / "last.pt"
        if resume:
            self.load(last)
        elif last.exists():
            raise FileExistsError(
                f"output_dir: {self.output_dir} already holds a run ({last}); pass resume=True "
                f"(CLI: --resume) to continue it, or choose another output_dir"
            )
        self.output_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, self.output_dir / "config.yaml")
        self.log = JsonlLog(self.output_dir / "metrics.jsonl", self.step if resume else None)

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "step": self.step,
            "config": self.config.model_dump_json(),
            "model": self.model.state_dict(),
            "optimizer_g": self.optimizer_g.state_dict(),
            "optimizer_d": self.optimizer_d.state_dict(),
        }

    def save(self) -> Path:
        """Write ``step_NNNNNN.pt`` atomically, point ``last.pt`` at it, prune old ones."""
        path = self.checkpoint_dir / f"step_{self.step:06d}.pt"
        save_checkpoint(self.state(), path)
        with atomic_path(self.checkpoint_dir / "last.pt") as temporary:
            temporary.unlink()
            os.link(path, temporary)
        kept = sorted(self.checkpoint_dir.glob("step_*.pt"))[: -self.settings.keep_checkpoints]
        for old in kept:
            old.unlink()
        return path

    def load(self, path: Path) -> None:
        payload = load_checkpoint(path, map_location=self.device)
        saved = json.loads(payload["config"])["model"]
        differences = describe_model_difference(saved, self.config.model.model_dump(mode="json"))
        if differences:
            raise ValueError(f"checkpoint: {path} was trained with a different model config: " + "; ".join(differences))
        self.model.load_state_dict(payload["model"])
        self.optimizer_g.load_state_dict(payload["optimizer_g"])
        self.optimizer_d.load_state_dict(payload["optimizer_d"])
        self.step = int(payload["step"])

    # ------------------------------------------------------------------ one iteration
    def _set_discriminators_trainable(self, trainable: bool) -> None:
        for parameter in self.model.discriminator_parameters():
            parameter.requires_grad_(trainable)

    def train_step(self, image: Tensor) -> dict[str, Tensor]:
        """One D step then one G step on a batch ``(B, 3, H, W)`` in ``[-1, 1]`` on the device.

        Returns detached scalar tensors (no host-device synchronisation happens here).
        """
        model, loss = self.model, self.model.matching_loss
        image, _, _ = self.augment(image)
        image = image.contiguous(memory_format=self.memory_format)
        mask = self.masks(image.shape[0], device=self.device)
        conditions = model.condition_items()
        with torch.no_grad():
            signals_input = model.embed(image * (1 - mask))
            signals_real = model.embed(image)
        with autocast(self.device, self.settings.amp):
            prediction = model.generator(image, mask, signals_input)
            fake = composite(prediction, image, mask)

            self._set_discriminators_trainable(True)
            fake_detached = fake.detach()
            d_global = loss.discriminator_loss(model.discriminator(image), model.discriminator(fake_detached))
            d_terms = []
            for name, condition in conditions:
                if condition.weight == 0:
                    continue
                right = signals_real[name]
                wrong = condition.embedder.mismatched(right)
                disc = condition.discriminator
                d_terms.append(
                    (
                        condition.weight,
                        loss.discriminator_loss(disc(image, right), disc(fake_detached, right), disc(image, wrong)),
                    )
                )
            loss_d = weighted_sum(d_global, d_terms)
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizer_d.step()

        self._set_discriminators_trainable(False)
        with autocast(self.device, self.settings.amp):
            reconstruction = reconstruction_loss(prediction.float(), image)
            g_global = loss.generator_loss(model.discriminator(fake))
            g_terms = [
                (
                    condition.weight,
                    loss.generator_loss(condition.discriminator(fake, signals_real[name])),
                )
                for name, condition in conditions
                if condition.weight != 0
            ]
            loss_g = inpainting_loss(reconstruction, g_global, g_terms, self.config.model.beta)
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizer_g.step()
        self._set_discriminators_trainable(True)

        metrics = {
            "loss_d": loss_d,
            "loss_g": loss_g,
            "reconstruction": reconstruction,
            "adv_global": g_global,
        }
        weighted_names = [name for name, condition in conditions if condition.weight != 0]
        for name, (_, term) in zip(weighted_names, g_terms, strict=True):
            metrics[f"adv_{name}"] = term
        return {key: value.detach().float() for key, value in metrics.items()}

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
            inpainted = self.model.inpaint(images, masks).float()
        self.model.train(was_training)
        masked = torch.where(masks.bool(), torch.ones_like(images), images)
        grid = torchvision.utils.make_grid(torch.cat([images, masked, inpainted]), nrow=count, padding=2)
        path = self.output_dir / "samples" / f"step_{self.step:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        torchvision.utils.save_image(grid.add(1).div(2).clamp(0, 1), path)
        return path

    # ------------------------------------------------------------------ the loop
    def fit(self, progress: bool = True) -> dict[str, Any]:
        """Train until ``training.steps``; returns the last logged metrics."""
        settings = self.settings
        loader = make_loader(
            self.dataset,
            settings.batch_size,
            settings.seed,
            self.step,
            settings.num_workers,
            self.device,
        )
        window: list[dict[str, Tensor]] = []
        last_record: dict[str, Any] = {"step": self.step}
        self.model.train()
        started, window_start = time.perf_counter(), time.perf_counter()
        bar = tqdm(total=settings.steps, initial=self.step, disable=not progress, desc="train", unit="step")
        while self.step < settings.steps:
            batch = next(loader)
            image = batch["image"]
            check_image(image, "batch['image']")  # on the host: no device synchronisation
            torch.manual_seed(step_seed(settings.seed, self.step))
            with value_checks(False):
                window.append(self.train_step(image.to(self.device, non_blocking=True)))
            self.step += 1
            bar.update(1)
            if self.step % settings.log_every == 0 or self.step == settings.steps:
                means = torch.stack([torch.stack(list(m.values())) for m in window]).mean(0).tolist()
                elapsed = time.perf_counter() - window_start
                last_record = {
                    "step": self.step,
                    **dict(zip(window[0].keys(), means, strict=True)),
                    "images_per_second": len(window) * settings.batch_size / elapsed,
                    "elapsed_seconds": time.perf_counter() - started,
                }
                self.log.write(last_record)
                bar.set_postfix(loss_g=f"{last_record['loss_g']:.3f}", loss_d=f"{last_record['loss_d']:.3f}")
                window, window_start = [], time.perf_counter()
            if self.step % settings.sample_every == 0 or self.step == settings.steps:
                self.write_samples()
            if self.step % settings.checkpoint_every == 0 or self.step == settings.steps:
                self.save()
        bar.close()
        return last_record

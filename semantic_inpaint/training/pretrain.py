"""Supervised pretraining of a semantic embedder on its auxiliary labels."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import Field
from tqdm import tqdm

from semantic_inpaint.augment import JointAugmentation
from semantic_inpaint.config import (
    AugmentConfig,
    ComponentConfig,
    DataConfig,
    DeviceName,
    StrictModel,
    save_config,
)
from semantic_inpaint.core import SemanticEmbedder
from semantic_inpaint.registry import Registry, get_registry
from semantic_inpaint.training.adversarial import l2_adversarial_images
from semantic_inpaint.training.normalization import recalibrate_batch_norm
from semantic_inpaint.training.runtime import (
    JsonlLog,
    autocast,
    device_description,
    make_loader,
    resolve_device,
    step_seed,
    warn_if_slow_amp,
)
from semantic_inpaint.validation import value_checks


class AdversarialConfig(StrictModel):
    """Robust pretraining: each batch is replaced by its worst case within an L2 ball (see
    :func:`~semantic_inpaint.training.adversarial.l2_adversarial_images`)."""

    epsilon: float = Field(gt=0, le=100, description="L2 radius per image, over all its values in [-1, 1]")
    steps: int = Field(3, ge=1, le=100, description="projected gradient steps per batch")


class PretrainConfig(StrictModel):
    """Pretraining one embedder: which, on what, how long, and where to save its weights."""

    embedder: ComponentConfig
    data: DataConfig
    validation: DataConfig | None = Field(None, description="held-out labelled data to report accuracy / IoU on")
    resolution: int = Field(ge=16, le=4096)
    output: Path = Field(description="weights file to write (.safetensors)")
    steps: int = Field(ge=1)
    batch_size: int = Field(32, ge=1, le=4096)
    lr: float = Field(1e-3, gt=0, le=1)
    weight_decay: float = Field(1e-4, ge=0, le=1)
    seed: int = Field(0, ge=0)
    device: DeviceName = "auto"
    amp: Literal["auto", "off", "bf16"] = "auto"
    num_workers: int = Field(0, ge=0, le=64)
    log_every: int = Field(10, ge=1)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    flip_label_pairs: list[tuple[int, int]] = Field(
        default_factory=list,
        description="part ids swapped by a horizontal flip, e.g. [[2, 3], [4, 5]]",
    )
    initial_weights: Path | None = Field(
        None, description="weights file (.safetensors) to start from, e.g. to make a trained embedder robust"
    )
    adversarial: AdversarialConfig | None = Field(
        None,
        description="train on adversarial examples, so that the embedder's gradients follow shapes a person sees "
        "(a consistency term that pulls a fill toward its reading then asks for glasses, not stripes)",
    )
    recalibration_batches: int = Field(
        32,
        ge=0,
        le=100_000,
        description="training batches whose average replaces the BatchNorm running statistics before the weights "
        "are saved, so eval mode computes what training did (0: keep the moving averages)",
    )


def pretrain_embedder(
    config: PretrainConfig, *, registry: Registry | None = None, progress: bool = True
) -> dict[str, Any]:
    """Train ``config.embedder`` on ``config.data`` with its own :meth:`pretrain_loss`.

    The dataset must provide the embedder's ``target_key`` (``"attributes"``,
    ``"parts"``, ...). Writes ``config.output`` (safetensors), ``<output>.yaml`` (the
    resolved config) and ``<output>.metrics.jsonl``; returns the last logged record.
    """
    registry = registry or get_registry()
    device = resolve_device(config.device)
    warn_if_slow_amp(device, config.amp)
    torch.manual_seed(config.seed)
    options = {**config.embedder.options, "weights": config.initial_weights}
    embedder: SemanticEmbedder = registry.build("embedder", config.embedder.name, options).to(device)
    dataset = registry.build("dataset", config.data.name, config.data.options, resolution=config.resolution)
    key = embedder.target_key
    if key not in dataset[0]:
        raise ValueError(
            f"data: embedder {embedder.name!r} pretrains on {key!r}, but dataset {config.data.name!r} "
            f"items only hold {sorted(dataset[0])}"
        )
    augment = JointAugmentation(
        hflip=config.augment.hflip,
        degrees=config.augment.degrees,
        translate=config.augment.translate,
        scale=config.augment.scale,
        flip_label_pairs=[tuple(pair) for pair in config.flip_label_pairs],
    )
    optimizer = torch.optim.AdamW(embedder.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=config.steps)
    loader = make_loader(dataset, config.batch_size, config.seed, 0, config.num_workers, device)
    output = Path(config.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    save_config(config, output.with_suffix(".yaml"))
    log = JsonlLog(output.with_suffix(".metrics.jsonl"), None)
    embedder.train()
    window: list[torch.Tensor] = []
    record: dict[str, Any] = {}
    started = time.perf_counter()
    for step in tqdm(range(config.steps), disable=not progress, desc=f"pretrain {embedder.name}"):
        batch = next(loader)
        torch.manual_seed(step_seed(config.seed, step))
        image = batch["image"].to(device, non_blocking=True)
        target = batch[key].to(device, non_blocking=True)
        if key == "parts":
            image, target, _ = augment(image, target)
        else:
            image, _, _ = augment(image)
        with value_checks(False), autocast(device, config.amp):
            if config.adversarial is not None:  # pretrain_loss called positionally: plugins name its arguments freely
                image = l2_adversarial_images(
                    lambda images, target=target: embedder.pretrain_loss(images, target),
                    image,
                    config.adversarial.epsilon,
                    config.adversarial.steps,
                )
            loss = embedder.pretrain_loss(image, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        window.append(loss.detach())
        if (step + 1) % config.log_every == 0 or step + 1 == config.steps:
            record = {
                "step": step + 1,
                "loss": torch.stack(window).mean().item(),
                "elapsed_seconds": time.perf_counter() - started,
                "device": device_description(device),
            }
            log.write(record)
            window = []
    embedder.eval()
    batches = min(config.recalibration_batches, len(dataset) // config.batch_size)
    if batches:
        recalibration = make_loader(dataset, config.batch_size, config.seed, 0, 0, device)
        with autocast(device, config.amp):
            recalibrate_batch_norm(
                [embedder], (next(recalibration)["image"].to(device) for _ in range(batches)), embedder.logits
            )
    embedder.save_pretrained(output)
    return record

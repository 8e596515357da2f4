"""Distributed data-parallel training under ``torchrun`` (PyTorch's own engine).

Launched with ``torchrun --nproc_per_node N -m semantic_inpaint.cli train --config ...``,
each process reads ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` from the environment, joins
the process group (NCCL on CUDA, gloo on CPU) and trains on its slice of every global
batch. ``training.batch_size`` is the *global* batch, so a run gives the same result on one
process or many (up to BatchNorm statistics, which are per process on CPU and synchronised
with ``SyncBatchNorm`` on CUDA).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: its rank among ``world_size`` processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process writes logs, samples and checkpoints."""
        return self.rank == 0

    def local_slice(self, global_batch: int) -> slice:
        """This process's share of a global batch (an error when it does not divide)."""
        if global_batch % self.world_size:
            raise ValueError(
                f"batch_size: expected a multiple of the {self.world_size} processes, received {global_batch}"
            )
        size = global_batch // self.world_size
        return slice(self.rank * size, (self.rank + 1) * size)

    def gather(self, tensor: Tensor) -> Tensor:
        """Concatenate every process's ``tensor`` along the batch (identity on one process)."""
        if not self.enabled:
            return tensor
        parts = [torch.empty_like(tensor) for _ in range(self.world_size)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    def wrap(self, module: nn.Module, device: torch.device) -> nn.Module:
        """``DistributedDataParallel`` around a trained network (identity on one process)."""
        if not self.enabled:
            return module
        ids = [device.index] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(module, device_ids=ids)

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def setup_distributed(device_name: str) -> tuple[DistributedContext, str]:
    """Join the process group when launched by ``torchrun``; returns the context and the
    device this process should use (``cuda:LOCAL_RANK`` on GPUs)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return DistributedContext(), device_name
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_name.startswith("cuda") or (device_name == "auto" and torch.cuda.is_available())
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device_name = f"cuda:{local_rank}"
    return DistributedContext(rank, world_size, local_rank), device_name

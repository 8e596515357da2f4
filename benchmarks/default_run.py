"""Checkpoint size and training speed of a 64 px run with every default, with and without the two conditions.

    python benchmarks/default_run.py      # writes benchmarks/results/default_run.json

The run config names only the resolution (and, for the full model, the two conditions with
their default embedders): every width is the library's default, scaled with the resolution.
Speed is measured over 20 training steps at batch 16 after 3 warm-up steps (without the
end-of-run statistics recalibration), on the CPU, in this process (torch's default threads);
the figures to keep are ≤ 50 MB per checkpoint and ≥ 1 step/s on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from semantic_inpaint.config import RunConfig
from semantic_inpaint.training import Trainer

HERE = Path(__file__).resolve().parent
CONDITIONS = [{"embedder": {"name": "attribute"}}, {"embedder": {"name": "segmentation"}}]


def default_run(output_dir: str, conditions: list, steps: int) -> RunConfig:
    return RunConfig.model_validate(
        {
            "model": {"resolution": 64, "conditions": conditions},
            "data": {"name": "synthetic_faces", "options": {"length": 1024}},
            "training": {"output_dir": output_dir, "steps": steps, "batch_size": 16, "device": "cpu",
                         "log_every": 1000, "sample_every": 1000, "checkpoint_every": 1000},
        }
    )  # fmt: skip


def measure(conditions: list, steps: int = 20, warmup: int = 3) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(default_run(folder, conditions, warmup))
        trainer.fit(progress=False)  # warm-up, and the checkpoint whose size is reported
        size = os.path.getsize(Path(folder) / "checkpoints" / "last.pt")
        trainer.settings.steps = warmup + steps
        trainer.settings.checkpoint_every = trainer.settings.sample_every = 10**6
        trainer.settings.recalibration_batches = 0  # the timed steps are training steps, not the end-of-run work
        started = time.perf_counter()
        trainer.fit(progress=False)
        seconds = time.perf_counter() - started
    return {
        "conditions": [c["embedder"]["name"] for c in conditions],
        "checkpoint_mb": round(size / 1e6, 1),
        "steps_per_second": round(steps / seconds, 2),
        "generator_parameters_m": round(sum(p.numel() for p in trainer.model.generator_parameters()) / 1e6, 3),
        "discriminator_parameters_m": round(sum(p.numel() for p in trainer.model.discriminator_parameters()) / 1e6, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "default_run.json")
    args = parser.parse_args()
    result = {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "load_average_before": round(os.getloadavg()[0], 2),
        "runs": [measure([]), measure(CONDITIONS)],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

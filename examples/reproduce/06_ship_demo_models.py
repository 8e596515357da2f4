"""Step 6: export the trained ``full`` and ``none`` models into the package as its demo models.

    python examples/reproduce/06_ship_demo_models.py --runs runs/reproduce/small64/gan

Writes ``semantic_inpaint/assets/{full,none}.safetensors`` (generator + embedders, float16
weights, float32 BatchNorm statistics) and ``demo_models.json``, which records how each was
trained, read from its run folder (no hand-typed numbers).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import hardware, write_json

from semantic_inpaint.config import RunConfig, load_config
from semantic_inpaint.inference import export_for_inference
from semantic_inpaint.training.runtime import read_jsonl

ASSETS = Path(__file__).resolve().parents[2] / "semantic_inpaint" / "assets"


def describe(run: Path, name: str, output: Path) -> dict:
    """How the model in ``run`` was trained and exported."""
    config = load_config(run / "config.yaml", RunConfig)
    last = read_jsonl(run / "metrics.jsonl")[-1]
    return {
        "trained_by": f"python examples/reproduce/03_train.py --config <base config> --variants {name}",
        "run_folder": str(run),
        "exported_by": f"python examples/reproduce/06_ship_demo_models.py --runs {run.parent}",
        "file": output.name,
        "data": config.data.model_dump(mode="json"),
        "resolution": config.model.resolution,
        "steps": config.training.steps,
        "batch_size": config.training.batch_size,
        "conditions": [{"embedder": c.embedder.name, "weight": c.weight} for c in config.model.conditions],
        "recalibration_batches": config.training.recalibration_batches,
        "final_reconstruction": round(last["reconstruction"], 4),
        "train_seconds": round(last["elapsed_seconds"]),
        "hardware": hardware(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, required=True, help="folder holding the full/ and none/ runs")
    parser.add_argument("--models", nargs="+", default=["full", "none"])
    args = parser.parse_args()
    manifest = ASSETS / "demo_models.json"
    described = json.loads(manifest.read_text()) if manifest.exists() else {}
    for name in args.models:
        run = args.runs / name
        output = export_for_inference(run / "checkpoints" / "last.pt", ASSETS / f"{name}.safetensors")
        described[name] = describe(run, name, output)
        print(f"exported {run} -> {output}")
    write_json(manifest, described)


if __name__ == "__main__":
    main()

"""Helpers shared by the numbered reproduction scripts."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from semantic_inpaint.cli import exit_code
from semantic_inpaint.config import ComponentConfig, DataConfig, load_config
from semantic_inpaint.core import SemanticEmbedder
from semantic_inpaint.data.faces import CelebAHQ
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.model import build_embedder
from semantic_inpaint.registry import get_registry
from semantic_inpaint.training import PretrainConfig, pretrain_embedder
from semantic_inpaint.training.runtime import read_jsonl

#: the shared CelebA-HQ faces, one folder per resolution (``../shared`` beside the repository; never copied into it)
FACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "celebahq"


def run_script(main: Callable[[], None]) -> None:
    """Run a script's ``main`` as the CLI runs a command: a user error (a bad config or ``--set``,
    a missing file) ends with one line on stderr and exit code 2, no traceback
    (``SEMANTIC_INPAINT_TRACEBACK=1`` shows it)."""
    raise SystemExit(exit_code(main, Path(sys.argv[0]).name))


def faces(first: int, last: int, resolution: int = 64) -> Tensor:
    """CelebA-HQ images ``first..last`` as ``(N, 3, resolution, resolution)`` in ``[-1, 1]`` (no part maps)."""
    split = CelebAHQ(FACES / str(resolution), resolution=resolution, first=first, last=last, parts=False)
    return torch.stack([split[index]["image"] for index in range(len(split))])


def save_sheet(rows: Sequence[Tensor], out: Path, zoom: int) -> None:
    """Write ``rows``, each ``(N, 3, H, W)`` in ``[-1, 1]``, as one PNG: a row of images per
    tensor, side by side, scaled ``zoom`` times, nearest neighbour."""
    sheet = torch.cat([torch.cat(list(row), dim=2) for row in rows], dim=1)  # (3, rows·H, N·W)
    pixels = ((sheet.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    picture = Image.fromarray(pixels)
    picture.resize((picture.width * zoom, picture.height * zoom), Image.NEAREST).save(out)


def load_reader(weights: str) -> SemanticEmbedder:
    """The attribute embedder saved at ``weights`` (or ``shipped:NAME``), its options read from
    the file as a run config's are, frozen, in eval mode."""
    spec = ComponentConfig(name="attribute", options={"weights": weights})
    embedder, _ = build_embedder(get_registry(), spec, load_weights=True)
    return embedder.eval().requires_grad_(False)


def cpu_inpainter(source: str) -> Inpainter:
    """The model ``source`` names on the CPU: a training run folder (its last checkpoint), a
    checkpoint or export file, or a shipped model's name."""
    path = Path(source) / "checkpoints" / "last.pt" if Path(source).is_dir() else Path(source)
    return Inpainter.from_checkpoint(path, "cpu") if path.is_file() else Inpainter.from_pretrained(source, "cpu")


def hardware() -> str:
    """A one-line description of the machine a result was measured on."""
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {torch.get_num_threads()} threads, {device}, torch {torch.__version__}"


def build_dataset(data: DataConfig, resolution: int) -> Dataset[dict[str, Tensor]]:
    """The dataset a config section names, at ``resolution``."""
    return get_registry().build("dataset", data.name, data.options, resolution=resolution)


def best_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path}")


def last_record(metrics: Path) -> dict[str, Any]:
    """The last line of a run's metrics log: its training time so far (``elapsed_seconds``) and,
    in logs written since runs record it, what it trained on (``device``: every device its lines
    name, in order, see :func:`devices_trained_on`); ``{}`` without a log."""
    records = read_jsonl(metrics) if metrics.exists() else []
    if not records:
        return {}
    return {**records[-1], "device": devices_trained_on(records) or None}


def devices_trained_on(records: Sequence[dict[str, Any]]) -> str:
    """Every device a metrics log's lines name, in the order the run trained on them ("CPU, 2
    threads then CPU, 1 threads" for a run resumed at another thread count); empty where no line
    names one."""
    devices = [record["device"] for record in records if record.get("device")]
    changes = [device for index, device in enumerate(devices) if index == 0 or device != devices[index - 1]]
    return " then ".join(changes)


def load_embedder(config_path: Path, overrides: Sequence[str] = ()) -> tuple[SemanticEmbedder, PretrainConfig]:
    """The embedder a pretraining config (with ``--set`` overrides) produced, with its weights loaded."""
    config = load_config(config_path, PretrainConfig, overrides)
    options = {**config.embedder.options, "weights": config.output}
    return get_registry().build("embedder", config.embedder.name, options).eval(), config


def pretrain_then_evaluate(
    config_path: Path,
    results: Path,
    evaluate: Callable[[SemanticEmbedder, PretrainConfig], dict[str, Any]],
    force: bool = False,
    overrides: Sequence[str] = (),
) -> dict[str, Any]:
    """Pretrain (unless its weights exist), evaluate on the validation split, save JSON."""
    config = load_config(config_path, PretrainConfig, overrides)
    if config.validation is None:
        raise SystemExit(f"{config_path}: needs a 'validation' split to report on")
    if force or not Path(config.output).exists():
        pretrain_embedder(config)
    embedder, _ = load_embedder(config_path, overrides)
    last = last_record(Path(config.output).with_suffix(".metrics.jsonl"))
    report = {
        "config": str(config_path),
        "weights": str(config.output),
        "steps": config.steps,
        "train_seconds": last.get("elapsed_seconds"),
        "train_device": last.get("device"),
        "hardware": hardware(),
        "validation": evaluate(embedder, config),
    }
    write_json(results / f"{Path(config.output).stem}.json", report)  # attribute.json, attribute_robust.json
    return report


def run_pretraining_script(
    description: str | None, evaluate: Callable[[SemanticEmbedder, PretrainConfig], dict[str, Any]]
) -> dict[str, Any]:
    """The command line of steps 1 and 2: parse ``--config --results [--force] [--set KEY=VALUE]``, run,
    return the report."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--force", action="store_true", help="pretrain again even if the weights exist")
    add_set_argument(parser)
    args = parser.parse_args()
    return pretrain_then_evaluate(args.config, args.results, evaluate, args.force, args.set)["validation"]


def add_set_argument(parser: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (repeatable): change one value of the step's config, e.g. a quick run's steps."""
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override one config value: --set steps=100"
    )

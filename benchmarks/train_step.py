"""Speed of the reference model, library against its plain-PyTorch twin, in one run.

    python benchmarks/train_step.py --res 64 128

At each resolution it builds three models, for the library and for ``twin.py``: ``full``
(attribute + segmentation conditions, the paper's three discriminators), ``full_shared`` (the
same with one shared-trunk discriminator) and ``none`` (no conditions). Every round times one
training step (one D step + one G step) of each of the six, and a large dense matmul, in
turn; each ratio (library / twin, model / ``none``, achieved FLOP/s / matmul FLOP/s) is taken
*per round*, then its median and quartiles are reported, so that a shared machine's drift
hits both sides of a ratio alike. It also measures inference latency per image (embedders +
generator, batch 1), model FLOPs per training image (``torch.utils.flop_counter``) and the peak
memory of each configuration, each in a fresh process. Results go to
``benchmarks/results/<device>.json`` and ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode
from twin import TwinGAN, twin_step

from semantic_inpaint.config import RunConfig
from semantic_inpaint.masks import RandomRectangles
from semantic_inpaint.registry import get_registry
from semantic_inpaint.training import Trainer
from semantic_inpaint.validation import value_checks

HERE = Path(__file__).resolve().parent
DEVICES = ("cpu", "cuda")
#: name -> (conditions, shared-trunk discriminator)
MODELS = {"full": (True, False), "full_shared": (True, True), "none": (False, False)}
WARMUP_ROUNDS = 2


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(function: Callable[[], object], device: torch.device) -> float:
    synchronize(device)
    started = time.perf_counter()
    function()
    synchronize(device)
    return time.perf_counter() - started


def interleaved_times(
    functions: dict[str, Callable[[], object]], device: torch.device, rounds: int
) -> dict[str, list[float]]:
    """Seconds of each call, per round: every round calls every function once, in turn, after
    ``WARMUP_ROUNDS`` rounds that warm up caches and allocators."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for round_ in range(rounds + WARMUP_ROUNDS):
        for name, function in functions.items():
            seconds = timed(function, device)
            if round_ >= WARMUP_ROUNDS:
                times[name].append(seconds)
    return times


def summary(values: list[float]) -> dict[str, float]:
    """Median and quartiles of per-round values."""
    if len(values) == 1:
        return {"median": values[0], "q1": values[0], "q3": values[0]}
    q1, _, q3 = statistics.quantiles(values, n=4)
    return {"median": statistics.median(values), "q1": q1, "q3": q3}


def per_round(numerator: list[float], denominator: list[float]) -> dict[str, float]:
    return summary([a / b for a, b in zip(numerator, denominator, strict=True)])


def flops(function: Callable[[], object]) -> int:
    with FlopCounterMode(display=False) as counter:
        function()
    return counter.get_total_flops()


def matmul_call(device: torch.device, dtype: torch.dtype) -> tuple[Callable[[], object], int]:
    """A large dense matmul and its FLOPs: the device's practical ceiling, timed every round."""
    n = 4096 if device.type == "cuda" else 1024
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    return (lambda: a @ b), 2 * n**3


def library_config(res: int, width: int, model: str, batch: int, device: str, output: Path) -> RunConfig:
    conditions, shared = MODELS[model]
    embedders = [
        {"name": "attribute", "options": {"num_attributes": 18, "width": 32}},
        {"name": "segmentation", "options": {"num_classes": 10, "width": 16, "depth": 3}},
    ]
    return RunConfig.model_validate(
        {
            "model": {
                "resolution": res,
                "generator": {"name": "dilated", "options": {"width": width}},
                "discriminator": {"name": "shared_trunk" if shared else "conv", "options": {"width": width}},
                "conditions": [{"embedder": e, "weight": 0.1} for e in embedders] if conditions else [],
            },
            "data": {"name": "synthetic_faces", "options": {"length": batch}},
            "training": {
                "output_dir": output,
                "steps": 1,
                "batch_size": batch,
                "device": device,
                "augment": {"hflip": False},
                "amp": "off",
            },
        }
    )


def sample_images(res: int, batch: int, device: torch.device) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(batch, 3, res, res, device=device) * 2 - 1


def library_side(res: int, width: int, model: str, batch: int, device: torch.device) -> tuple[Callable, Callable]:
    """One training step and one batch-1 inference of the library's model."""
    images = sample_images(res, batch, device)
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(library_config(res, width, model, batch, str(device), Path(folder)))
    images = images.contiguous(memory_format=trainer.memory_format)
    masks = RandomRectangles(res)
    trainer.model.train()

    def train() -> None:
        with value_checks(False):
            trainer.train_step(images)

    def infer() -> None:
        with torch.no_grad(), value_checks(False):
            trainer.model.eval().generate(images[:1], masks(1, device=device))
        trainer.model.train()

    return train, infer


def twin_side(res: int, width: int, model: str, batch: int, device: torch.device) -> tuple[Callable, Callable]:
    """The same for the plain-PyTorch twin, on the same images."""
    images = sample_images(res, batch, device).contiguous(memory_format=torch.channels_last)
    masks = RandomRectangles(res)
    conditions, shared = MODELS[model]
    twin = TwinGAN(res, width, conditions, shared).to(device).to(memory_format=torch.channels_last)
    d_params = [p for d in (twin.dg, twin.da, twin.ds) if d is not None for p in d.parameters()]
    fused = device.type in ("cpu", "cuda")  # as the library's trainer
    opt_g = torch.optim.Adam(twin.g.parameters(), 2e-4, (0.5, 0.999), fused=fused)
    opt_d = torch.optim.Adam(d_params, 2e-4, (0.5, 0.999), fused=fused)
    twin.train()

    def train() -> None:
        twin_step(twin, opt_g, opt_d, images, masks(batch, device=device))

    def infer() -> None:
        with torch.no_grad():
            twin.eval()
            m = masks(1, device=device)
            maps, vectors = twin.embed(images[:1] * (1 - m))
            twin.g(images[:1], m, maps, vectors)
        twin.train()

    return train, infer


SIDES = {"library": library_side, "twin": twin_side}


def build_sides(res: int, width: int, model: str, batch: int, device: torch.device) -> dict[str, tuple]:
    """``{"library": (train, infer), "twin": (train, infer)}`` for one model."""
    return {side: build(res, width, model, batch, device) for side, build in SIDES.items()}


def measure(
    res: int, width: int, batch: int, device: torch.device, rounds: int, models: tuple[str, ...] = tuple(MODELS)
) -> dict[str, dict]:
    """Every model's library and twin at one resolution, interleaved round by round."""
    sides = {model: build_sides(res, width, model, batch, device) for model in models}
    matmul_dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    matmul, matmul_flops = matmul_call(device, matmul_dtype)
    step_flops = {(m, side): flops(calls[0]) for m, pair in sides.items() for side, calls in pair.items()}
    trains = {f"{m}/{side}": calls[0] for m, pair in sides.items() for side, calls in pair.items()}
    times = interleaved_times({**trains, "matmul": matmul}, device, rounds)
    infers = {f"{m}/{side}": calls[1] for m, pair in sides.items() for side, calls in pair.items()}
    latencies = interleaved_times(infers, device, rounds)
    results = {}
    for model in models:
        run: dict = {}
        for side in ("library", "twin"):
            seconds = times[f"{model}/{side}"]
            step_seconds = statistics.median(seconds)
            run[side] = {
                "train_images_per_second": batch / step_seconds,
                "inference_ms_per_image": statistics.median(latencies[f"{model}/{side}"]) * 1000,
                "train_flops_per_image": step_flops[model, side] / batch,
                "achieved_flops_per_second": step_flops[model, side] / step_seconds,
            }
        library, twin = times[f"{model}/library"], times[f"{model}/twin"]
        ratio = per_round(twin, library)  # library img/s over twin img/s, per round
        run["library_over_twin_throughput"] = ratio["median"]
        run["library_over_twin_quartiles"] = [ratio["q1"], ratio["q3"]]
        achieved = [step_flops[model, "library"] / t for t in library]
        ceiling = [matmul_flops / t for t in times["matmul"]]
        run["achieved_over_matmul"] = per_round(achieved, ceiling)["median"]
        run["matmul_flops_per_second"] = statistics.median(ceiling)
        if "none" in models:
            speed = per_round(times["none/library"], library)  # model img/s over none's img/s
            run["speed_over_none"] = speed["median"]
            run["speed_over_none_quartiles"] = [speed["q1"], speed["q3"]]
        run["flops_match"] = abs(step_flops[model, "library"] / step_flops[model, "twin"] - 1)
        run["rounds"] = rounds
        results[model] = run
    return results


def peak_memory_mb(res: int, width: int, model: str, batch: int, device: str, side: str) -> float:
    """Peak memory of three training steps of one configuration, in a fresh process (see :func:`memory_of`)."""
    command = [sys.executable, __file__, "--memory-of", str(res), model, side, "--width", str(width)]
    command += ["--batch", str(batch), "--device", device]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=HERE).stdout
    return float(output.strip().splitlines()[-1])


def resident_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last reset) of this process, in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"field: {field} not in /proc/self/status")


def memory_of(res: int, width: int, model: str, batch: int, device: torch.device, side: str) -> float:
    """What ``--memory-of`` prints: MiB of peak memory over three steps (see :func:`peak_memory_mb`):
    on CPU the peak resident set above the resident set before the model was built (imports and
    plugins loaded first, and the peak reset, so that they do not count), on CUDA torch's peak
    allocation."""
    get_registry().components("generator")  # plugins are imported once per process, not per model
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    before = resident_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM restarts from the current resident set
    train = SIDES[side](res, width, model, batch, device)[0]
    for _ in range(3):
        train()
    synchronize(device)
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resident_mb("VmHWM") - before


DEVICE_NOTES = {
    "cpu": "Peak memory is the process's peak resident set so far (it only grows).",
    "cuda": "Peak memory is the peak allocated by torch for that run. The step runs in float32 (amp off, so "
    "that library and twin compute the same thing) at batch 8: such small convolutions leave a large GPU "
    "mostly waiting on kernel launches (img/s hardly changes from 64 to 256 px while the FLOPs grow "
    "16-fold), so *achieved / matmul* (against a bfloat16 matmul) is far below the CPU's; training itself "
    "uses bfloat16 autocast and larger batches.",
}


def spread(run: dict, key: str) -> str:
    """``0.98 (0.96–1.01)``: a per-round median with its quartiles, where they were measured."""
    if key not in run:
        return "–"
    quartiles = run.get(f"{key}_quartiles")
    return f"**{run[key]:.2f}**" + (f" ({quartiles[0]:.2f}–{quartiles[1]:.2f})" if quartiles else "")


def memory(run: dict) -> str:
    lib, twin = run["library"], run["twin"]
    if "rounds" not in run:  # saved by an older version of this script: one process-wide figure
        return f"{lib['peak_memory_mb']:.0f} (process)"
    return f"{lib['peak_memory_mb']:.0f} / {twin['peak_memory_mb']:.0f}"


def device_section(report: dict) -> str:
    """One device's table: library against twin at each resolution, for each model."""
    rows = []
    for run in report["runs"]:
        lib, twin = run["library"], run["twin"]
        rows.append(
            f"| {run['resolution']} | {run['model']} | {lib['train_images_per_second']:.1f} | "
            f"{twin['train_images_per_second']:.1f} | {spread(run, 'library_over_twin_throughput')} | "
            f"{spread(run, 'speed_over_none')} | {lib['inference_ms_per_image']:.1f} | "
            f"{lib['train_flops_per_image'] / 1e9:.2f} | {lib['achieved_flops_per_second'] / 1e9:.1f} | "
            f"**{run['achieved_over_matmul']:.2f}** | {memory(run)} |"
        )
    rounds = report["runs"][0].get("rounds")
    method = (
        f"Ratios are medians over {rounds} interleaved rounds of per-round ratios, with their quartiles; "
        "the matmul ceiling is timed in every round. Peak memory (library / twin) is measured per "
        "configuration in a fresh process. "
        if rounds
        else "Ratios are ratios of medians over interleaved rounds; the matmul ceiling was timed once. "
    )
    return (
        f"## {report['device'].upper()}: {report['hardware']}\n\n"
        "Generated by `" + report["command"] + "`, from "
        f"`benchmarks/results/{report['device']}.json`. Library and twin count the same FLOPs to within "
        f"{100 * max(r['flops_match'] for r in report['runs']):.2f} %. Dense matmul "
        f"({report['matmul_dtype']}): {report['matmul_flops_per_second'] / 1e9:.1f} GFLOP/s. "
        + method
        + "Batch "
        + str(report["batch"])
        + ", generator and discriminator width "
        + str(report["width"])
        + ". "
        + DEVICE_NOTES.get(report["device"], "")
        + "\n\n"
        "| px | model | library img/s | twin img/s | library / twin | speed / none | inference ms/img "
        "| GFLOP/img (train) | achieved GFLOP/s | achieved / matmul | peak MiB |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )


def write_markdown(reports: list[dict], path: Path) -> None:
    """The performance page: one section per device whose results are saved."""
    path.write_text(
        "# Performance\n\n"
        "Training and inference speed of the reference model, library against its *twin*: the same networks "
        "and training step written in plain PyTorch (`benchmarks/twin.py`), measured in the same run, so the "
        "ratio cancels out a noisy machine. FLOPs are counted with `torch.utils.flop_counter` (a multiply-add "
        "is 2 FLOPs). Each device's section is regenerated when the benchmark runs there.\n\n"
        + "\n".join(device_section(report) for report in reports)
        + generators_section()
        + time_to_quality_section()
        + step_phases_section()
    )


def generators_section() -> str:
    """The per-generator table of ``generators.py``, where it has been run."""
    from generators import OUTPUT, markdown  # imported here: generators.py builds on this module

    return "\n" + markdown(json.loads(OUTPUT.read_text())) if OUTPUT.exists() else ""


def time_to_quality_section() -> str:
    """The held-out PSNR after N training minutes of ``time_to_quality.py``, where it has been run."""
    from time_to_quality import OUTPUT, markdown  # imported here: it is a script of its own

    return "\n" + markdown(json.loads(OUTPUT.read_text())) if OUTPUT.exists() else ""


def step_phases_section() -> str:
    """The phase breakdown of ``step_phases.py``, where it has been run."""
    from step_phases import OUTPUT, markdown  # imported here: step_phases.py builds on this module

    return "\n" + markdown(json.loads(OUTPUT.read_text())) if OUTPUT.exists() else ""


def saved_reports() -> list[dict]:
    """Every device's saved results, CPU first."""
    return [
        json.loads((HERE / "results" / f"{d}.json").read_text())
        for d in DEVICES
        if (HERE / "results" / f"{d}.json").exists()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--res", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--markdown", type=Path, default=HERE.parent / "docs" / "performance.md")
    parser.add_argument("--report-only", action="store_true", help="rewrite the page from the saved results")
    parser.add_argument("--memory-of", nargs=3, metavar=("RES", "MODEL", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report_only:
        write_markdown(saved_reports(), args.markdown)
        return
    device = torch.device(args.device)
    if args.memory_of:
        res, model, side = args.memory_of
        print(memory_of(int(res), args.width, model, args.batch, device, side))
        return
    report = {
        "command": "python benchmarks/train_step.py --res " + " ".join(map(str, args.res)),
        "hardware": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
        + (torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU")
        + f", torch {torch.__version__}",
        "device": device.type,
        "batch": args.batch,
        "width": args.width,
        "matmul_dtype": str(torch.bfloat16 if device.type == "cuda" else torch.float32),
        "runs": [],
    }
    for res in args.res:
        for model, run in measure(res, args.width, args.batch, device, args.rounds).items():
            for side in ("library", "twin"):
                run[side]["peak_memory_mb"] = peak_memory_mb(res, args.width, model, args.batch, args.device, side)
            run.update(resolution=res, model=model)
            report["runs"].append(run)
            print(
                f"{res:>4} px {model:<11} library {run['library']['train_images_per_second']:7.1f} img/s, "
                f"twin {run['twin']['train_images_per_second']:7.1f} img/s, "
                f"library/twin {run['library_over_twin_throughput']:.3f}, "
                f"speed/none {run['speed_over_none']:.3f}, achieved/matmul {run['achieved_over_matmul']:.2f}"
            )
    report["matmul_flops_per_second"] = statistics.median(r["matmul_flops_per_second"] for r in report["runs"])
    output = HERE / "results" / f"{device.type}.json"
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    write_markdown(saved_reports(), args.markdown)
    print(f"wrote {output} and {args.markdown}")


if __name__ == "__main__":
    main()

"""Speed of the reference model, library against its plain-PyTorch twin, in one run.

    python benchmarks/train_step.py --res 64 128 256

For the full model (attribute + segmentation conditions) and the no-conditions model at each
resolution it measures, for the library and for ``twin.py``: training images/s (one D step +
one G step), inference latency per image (embedders + generator, batch 1), peak memory, model
FLOPs per training image (``torch.utils.flop_counter``) and achieved FLOP/s; and once, the
FLOP/s of a large dense matmul on the same device. Ratios (library / twin, achieved / matmul)
cancel out a noisy machine. Results go to ``benchmarks/results/<device>.json`` and
``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode
from twin import TwinGAN, twin_step

from semantic_inpaint.config import RunConfig
from semantic_inpaint.masks import RandomRectangles
from semantic_inpaint.training import Trainer
from semantic_inpaint.validation import value_checks

HERE = Path(__file__).resolve().parent
DEVICES = ("cpu", "cuda")


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def seconds_per_call(function: Callable[[], object], device: torch.device, repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        function()
    synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    synchronize(device)
    return (time.perf_counter() - started) / repeats


def interleaved_medians(
    functions: dict[str, Callable[[], object]], device: torch.device, repeats: int
) -> dict[str, float]:
    """Median seconds per call of each function, calling them in turn ``repeats`` times after a warm-up."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for round_ in range(repeats + 2):
        for name, function in functions.items():
            synchronize(device)
            started = time.perf_counter()
            function()
            synchronize(device)
            if round_ >= 2:  # the first two rounds warm up caches and allocators
                times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak so far (KiB -> MiB)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()


def flops(function: Callable[[], object]) -> int:
    with FlopCounterMode(display=False) as counter:
        function()
    return counter.get_total_flops()


def matmul_flops_per_second(device: torch.device, dtype: torch.dtype) -> float:
    n = 4096 if device.type == "cuda" else 2048
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    return 2 * n**3 / seconds_per_call(lambda: a @ b, device, repeats=10, warmup=3)


def library_config(res: int, width: int, conditions: bool, batch: int, device: str, output: Path) -> RunConfig:
    embedders = [
        {"name": "attribute", "options": {"num_attributes": 18, "width": 32}},
        {"name": "segmentation", "options": {"num_classes": 10, "width": 16, "depth": 3}},
    ]
    return RunConfig.model_validate(
        {
            "model": {
                "resolution": res,
                "generator": {"name": "dilated", "options": {"width": width}},
                "discriminator": {"name": "conv", "options": {"width": width}},
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


def measure(res: int, width: int, conditions: bool, batch: int, device: torch.device, repeats: int) -> dict:
    torch.manual_seed(0)
    images = torch.rand(batch, 3, res, res, device=device) * 2 - 1
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(library_config(res, width, conditions, batch, str(device), Path(folder)))
    images_lib = images.contiguous(memory_format=trainer.memory_format)
    masks = RandomRectangles(res)

    twin = TwinGAN(res, width, conditions).to(device).to(memory_format=torch.channels_last)
    d_params = [p for d in (twin.dg, twin.da, twin.ds) if d is not None for p in d.parameters()]
    opt_g, opt_d = (
        torch.optim.Adam(twin.g.parameters(), 2e-4, (0.5, 0.999)),
        torch.optim.Adam(d_params, 2e-4, (0.5, 0.999)),
    )
    images_twin = images.contiguous(memory_format=torch.channels_last)

    def library_step() -> None:
        with value_checks(False):
            trainer.train_step(images_lib)

    def twin_train() -> None:
        twin_step(twin, opt_g, opt_d, images_twin, masks(batch, device=device))

    def library_infer() -> None:
        with torch.no_grad(), value_checks(False):
            trainer.model.eval().generate(images_lib[:1], masks(1, device=device))

    def twin_infer() -> None:
        with torch.no_grad():
            twin.eval()
            m = masks(1, device=device)
            maps, vectors = twin.embed(images_twin[:1] * (1 - m))
            twin.g(images_twin[:1], m, maps, vectors)

    reset_peak(device)
    sides = {"library": (library_step, library_infer), "twin": (twin_train, twin_infer)}
    trainer.model.train()
    twin.train()
    step_flops = {name: flops(train) for name, (train, _) in sides.items()}
    # alternate library and twin calls and take medians, so drift of a noisy machine hits both alike
    step_times = interleaved_medians({name: train for name, (train, _) in sides.items()}, device, repeats)
    memory = peak_memory_mb(device)
    latencies = interleaved_medians({name: infer for name, (_, infer) in sides.items()}, device, repeats)
    for name in sides:
        results[name] = {
            "train_images_per_second": batch / step_times[name],
            "inference_ms_per_image": latencies[name] * 1000,
            "peak_memory_mb": memory,
            "train_flops_per_image": step_flops[name] / batch,
            "achieved_flops_per_second": step_flops[name] / step_times[name],
        }
    results["library_over_twin_throughput"] = (
        results["library"]["train_images_per_second"] / results["twin"]["train_images_per_second"]
    )
    results["flops_match"] = abs(
        results["library"]["train_flops_per_image"] / results["twin"]["train_flops_per_image"] - 1
    )
    return results


DEVICE_NOTES = {
    "cpu": "Peak memory is the process's peak resident set so far (it only grows).",
    "cuda": "Peak memory is the peak allocated by torch for that run. The step runs in float32 (amp off, so "
    "that library and twin compute the same thing) at batch 8: such small convolutions leave a large GPU "
    "mostly waiting on kernel launches (img/s hardly changes from 64 to 256 px while the FLOPs grow "
    "16-fold), so *achieved / matmul* (against a bfloat16 matmul) is far below the CPU's; training itself "
    "uses bfloat16 autocast and larger batches.",
}


def device_section(report: dict) -> str:
    """One device's table: library against twin at each resolution, full and no-conditions models."""
    rows = []
    for run in report["runs"]:
        lib, twin = run["library"], run["twin"]
        rows.append(
            f"| {run['resolution']} | {run['model']} | {lib['train_images_per_second']:.1f} | "
            f"{twin['train_images_per_second']:.1f} | **{run['library_over_twin_throughput']:.3f}** | "
            f"{lib['inference_ms_per_image']:.1f} | {lib['train_flops_per_image'] / 1e9:.2f} | "
            f"{lib['achieved_flops_per_second'] / 1e9:.1f} | **{run['achieved_over_matmul']:.2f}** | "
            f"{lib['peak_memory_mb']:.0f} |"
        )
    return (
        f"## {report['device'].upper()}: {report['hardware']}\n\n"
        "Generated by `" + report["command"] + "`, from "
        f"`benchmarks/results/{report['device']}.json`. Library and twin count the same FLOPs to within "
        f"{100 * max(r['flops_match'] for r in report['runs']):.2f} %. Dense matmul "
        f"({report['matmul_dtype']}): {report['matmul_flops_per_second'] / 1e9:.1f} GFLOP/s. "
        "Batch "
        + str(report["batch"])
        + ", generator and discriminator width "
        + str(report["width"])
        + ". "
        + DEVICE_NOTES.get(report["device"], "")
        + "\n\n"
        "| px | model | library img/s | twin img/s | library / twin | inference ms/img | GFLOP/img (train) "
        "| achieved GFLOP/s | achieved / matmul | peak MiB |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
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
    )


def generators_section() -> str:
    """The per-generator table of ``generators.py``, where it has been run."""
    from generators import OUTPUT, markdown  # imported here: generators.py builds on this module

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
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--markdown", type=Path, default=HERE.parent / "docs" / "performance.md")
    parser.add_argument("--report-only", action="store_true", help="rewrite the page from the saved results")
    args = parser.parse_args()
    if args.report_only:
        write_markdown(saved_reports(), args.markdown)
        return
    device = torch.device(args.device)
    matmul_dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    report = {
        "command": "python benchmarks/train_step.py --res " + " ".join(map(str, args.res)),
        "hardware": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
        + (torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU")
        + f", torch {torch.__version__}",
        "device": device.type,
        "batch": args.batch,
        "width": args.width,
        "matmul_dtype": str(matmul_dtype),
        "matmul_flops_per_second": matmul_flops_per_second(device, matmul_dtype),
        "runs": [],
    }
    for res in args.res:
        for conditions in (True, False):
            run = measure(res, args.width, conditions, args.batch, device, args.repeats)
            run.update(resolution=res, model="full" if conditions else "none")
            run["achieved_over_matmul"] = (
                run["library"]["achieved_flops_per_second"] / report["matmul_flops_per_second"]
            )
            report["runs"].append(run)
            print(
                f"{res:>4} px {run['model']:<5} library {run['library']['train_images_per_second']:7.1f} img/s, "
                f"twin {run['twin']['train_images_per_second']:7.1f} img/s, "
                f"ratio {run['library_over_twin_throughput']:.3f}, "
                f"achieved/matmul {run['achieved_over_matmul']:.2f}"
            )
    output = HERE / "results" / f"{device.type}.json"
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    write_markdown(saved_reports(), args.markdown)
    print(f"wrote {output} and {args.markdown}")


if __name__ == "__main__":
    main()

"""The ``semantic-inpaint`` command line."""

from __future__ import annotations

import argparse
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml
from PIL import Image

from semantic_inpaint import __version__
from semantic_inpaint.config import load_config
from semantic_inpaint.registry import HOOKS, get_registry

if TYPE_CHECKING:
    from semantic_inpaint.inference import Blend, Inpainter


def command_plugins(_: argparse.Namespace) -> None:
    """Print every registered component with the plugin and distribution it came from."""
    registry = get_registry()
    for kind in HOOKS:
        components = registry.components(kind)
        print(f"{kind}s:")
        for name, component in sorted(components.items()):
            print(f"  {name:<18} {component.description}")
            print(f"  {'':<18} plugin {component.plugin} ({component.source})")


def command_models(args: argparse.Namespace) -> None:
    """Print the shipped models (name, resolution, conditions, training data, licence) or one card."""
    from semantic_inpaint.pretrained import model_card, shipped_models

    if args.card is not None:
        print(model_card(args.card))
        return
    for name, model in shipped_models().items():
        if model.get("kind", "inpainter") == "embedder":
            print(f'{name}  (embedder: in a run config, weights: "shipped:{name}")')
            print(f"  {model['resolution']} px, validation: {model['validation']}")
        else:
            conditions = ", ".join(f"{c['embedder']}={c['weight']:g}" for c in model["conditions"]) or "none"
            print(f"{name}  (inpainter: Inpainter.from_pretrained, or inpaint --model {name})")
            print(f"  {model['resolution']} px, conditions: {conditions}")
        print(f"  trained on {model['training_data']}")
        print(f"  licence: {model['licence']}")
    print("`semantic-inpaint models --card NAME` shows a model card")


def command_train(args: argparse.Namespace) -> None:
    from semantic_inpaint.training import Trainer

    config = load_config(args.config, overrides=args.set)
    if args.output_dir is not None:
        config.training.output_dir = args.output_dir
    record = Trainer(config, resume=args.resume).fit(progress=not args.quiet)
    print(f"done at step {record['step']}: {config.training.output_dir}")


def command_pretrain(args: argparse.Namespace) -> None:
    from semantic_inpaint.training import PretrainConfig, pretrain_embedder

    config = load_config(args.config, PretrainConfig, overrides=args.set)
    record = pretrain_embedder(config, progress=not args.quiet)
    print(f"done: loss {record['loss']:.4f}, weights {config.output}")


def load_inpainter(args: argparse.Namespace, device: str, compile: bool = False, blend: Blend = "poisson") -> Inpainter:
    """The model that ``--model NAME`` or ``--checkpoint PATH`` names."""
    from semantic_inpaint.inference import Inpainter

    if args.model is not None:
        return Inpainter.from_pretrained(args.model, device=device, compile=compile, blend=blend)
    return Inpainter.from_checkpoint(args.checkpoint, device=device, compile=compile, blend=blend)


def named_numbers(settings: list[str], error: Callable[[str], str]) -> dict[str, float]:
    """``["Smiling=1", "Male=0"]`` → ``{"Smiling": 1.0, "Male": 0.0}``; a setting that is not
    ``NAME=NUMBER`` is a ``ValueError`` with the message ``error(setting)``."""
    numbers = {}
    for setting in settings:
        name, equals, value = setting.partition("=")
        try:
            numbers[name.strip()] = float(value)
        except ValueError:
            equals = ""
        if not equals or not name.strip():
            raise ValueError(error(setting))
    return numbers


def attribute_requests(settings: list[str]) -> dict[str, float]:
    """``["Smiling=1", "Male=0"]`` → ``{"Smiling": 1.0, "Male": 0.0}``."""
    return named_numbers(
        settings, lambda setting: f"--set: expected NAME=VALUE with a number VALUE in [0, 1], received {setting!r}"
    )


def strength_setting(settings: list[str]) -> float | dict[str, float]:
    """``["2"]`` → ``2.0`` (every condition); ``["attribute=2"]`` → ``{"attribute": 2.0}``; ``[]`` → ``1.0``."""
    if not settings:
        return 1.0
    if len(settings) == 1 and "=" not in settings[0]:
        try:
            return float(settings[0])
        except ValueError:
            pass
    given = " ".join(settings)
    return named_numbers(
        settings, lambda _: f"--strength: expected one number S, or CONDITION=S (repeatable), received {given!r}"
    )


def command_inpaint(args: argparse.Namespace) -> None:
    from semantic_inpaint.io import read_mask_image, read_rgb_image

    inpainter = load_inpainter(args, args.device, compile=args.compile, blend=args.blend)
    requests = {
        "attributes": attribute_requests(args.set) or None,
        "parts": Image.open(args.parts) if args.parts is not None else None,
        "parts_where": args.parts_where,
        "strength": strength_setting(args.strength),
    }
    if args.strength and not args.set and args.parts is None:
        given = " ".join(args.strength)
        raise ValueError(f"--strength: pushes requests (--set, --parts), and none was given (received {given!r})")
    if args.image.is_dir():
        from semantic_inpaint.batch import inpaint_folder

        if args.parts is not None:
            raise ValueError("--parts: a part map belongs to one photo; a folder takes --set only")
        written, skipped = inpaint_folder(
            inpainter,
            args.image,
            args.mask,
            args.out,
            mask_threshold=args.mask_threshold,
            strategy=args.strategy,
            tile=args.tile,
            detail=args.detail,
            attributes=requests["attributes"],
            strength=requests["strength"],
            grid=args.grid,
        )
        print(f"wrote {written} images to {args.out} ({skipped} already there, skipped)")
        return
    image = np.asarray(read_rgb_image(args.image))  # upright by its EXIF orientation
    hole = read_mask_image(args.mask)
    result = inpainter.inpaint(
        image,
        hole,
        mask_threshold=args.mask_threshold,
        strategy=args.strategy,
        tile=args.tile,
        detail=args.detail,
        **requests,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(result).save(args.out)
    print(f"wrote {args.out}")


def command_quickstart(args: argparse.Namespace) -> None:
    from semantic_inpaint.quickstart import run_quickstart

    run_quickstart(args.output_dir, steps=args.steps, device=args.device)


def command_demo(args: argparse.Namespace) -> None:
    from semantic_inpaint.demo import DEMO_MODELS, run_demo

    path = run_demo(args.out, device=args.device)
    print(f"wrote {path} (columns: original | masked | {' | '.join(DEMO_MODELS)})")


def command_export(args: argparse.Namespace) -> None:
    from semantic_inpaint.inference import export_for_inference
    from semantic_inpaint.portable_export import export_portable

    if args.format == "safetensors":
        if args.checkpoint is None:
            raise ValueError("--model: a shipped model already is a safetensors file; export it --format onnx")
        path = export_for_inference(args.checkpoint, args.out, half=not args.float32)
    else:
        path = export_portable(load_inpainter(args, "cpu").model, args.out, args.format, blend=args.blend)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


def command_serve(args: argparse.Namespace) -> None:
    from semantic_inpaint.inference import Inpainter
    from semantic_inpaint.serve import InpaintingService, make_server

    models = {}
    for source in args.models:
        path = Path(source)
        models[path.stem if path.suffix else source] = (
            Inpainter.from_checkpoint(path, device=args.device)
            if path.suffix
            else Inpainter.from_pretrained(source, device=args.device)
        )
    server = make_server(InpaintingService(models), args.host, args.port)
    host, port = server.server_address[:2]
    print(f"serving {', '.join(models)} on http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def add_model_source(parser: argparse.ArgumentParser) -> None:
    """``--model NAME`` or ``--checkpoint PATH``, exactly one."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", metavar="NAME", help="a shipped model by name (see: semantic-inpaint models)")
    source.add_argument("--checkpoint", type=Path, help="a training checkpoint (.pt) or an exported .safetensors")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="semantic-inpaint", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show the full traceback of an error (developers)")
    commands = parser.add_subparsers(dest="command", required=True)
    device_help = "auto (CUDA when available), cpu, cuda, cuda:N or mps"
    set_help = "override one config value, dotted KEY=VALUE (repeatable): --set training.steps=100"

    plugins = commands.add_parser("plugins", help="list registered plugins and their components")
    plugins.set_defaults(run=command_plugins)

    models = commands.add_parser("models", help="list the models shipped in the package, or show one's card")
    models.add_argument("--card", metavar="NAME", help="print the model card of NAME")
    models.set_defaults(run=command_models)

    train = commands.add_parser("train", help="train the boosted GAN from a config file")
    train.add_argument("--config", type=Path, required=True, help="YAML, TOML or JSON run config")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=set_help)
    train.add_argument("--output-dir", type=Path, help="override training.output_dir")
    train.add_argument("--resume", action="store_true", help="continue from output_dir/checkpoints/last.pt")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=command_train)

    pretrain = commands.add_parser("pretrain", help="pretrain a semantic embedder on its labels")
    pretrain.add_argument("--config", type=Path, required=True, help="YAML, TOML or JSON pretraining config")
    pretrain.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=set_help)
    pretrain.add_argument("--quiet", action="store_true", help="no progress bar")
    pretrain.set_defaults(run=command_pretrain)

    inpaint = commands.add_parser("inpaint", help="fill the hole of one image")
    add_model_source(inpaint)
    inpaint.add_argument(
        "--image", type=Path, required=True, help="the photo (any size; PNG, JPEG, ...), or a folder of photos"
    )
    inpaint.add_argument(
        "--mask", type=Path, required=True, help="white = missing, black = known; a folder of masks for a folder"
    )
    inpaint.add_argument(
        "--mask-threshold",
        type=float,
        metavar="T",
        help="binarise a soft-edged or JPEG mask: the hole is where it is above T of full scale "
        "(e.g. 0.5); default: only a binary mask is accepted",
    )
    inpaint.add_argument(
        "--out", type=Path, required=True, help="the filled image, or a folder (outputs that exist are skipped)"
    )
    inpaint.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set an attribute instead of the predicted one, e.g. --set Smiling=1 --set Eyeglasses=1 "
        "(names: semantic-inpaint models --card NAME)",
    )
    inpaint.add_argument(
        "--parts", type=Path, help="a part map to fill by: palette or greyscale PNG of class ids, 255 = keep predicted"
    )
    inpaint.add_argument(
        "--parts-where",
        choices=["hole", "everywhere"],
        default="hole",
        help="use the painted parts inside the hole only (default) or everywhere",
    )
    inpaint.add_argument(
        "--strength",
        action="append",
        default=[],
        metavar="S",
        help="how hard --set and --parts push, in [0, 4]: 1 (default) gives the model the requested values, "
        "2 moves them twice as far from the predicted ones: followed more often, at the cost of more of the rest; "
        "CONDITION=S (repeatable) for one condition, e.g. --strength attribute=2",
    )
    inpaint.add_argument(
        "--strategy",
        choices=["resize", "crop", "native", "face"],
        default="resize",
        help="resize: the whole photo to the model's resolution; crop: a window around each hole, "
        "filled at the photo's own scale (large photos); native: the model on the photo's own pixels "
        "(scene models); face: each face found, aligned as the training faces, filled and warped back "
        '(face models; pip install "semantic-inpaint[faces]")',
    )
    inpaint.add_argument(
        "--tile",
        type=int,
        default=None,
        metavar="PX",
        help="with --strategy native: fill windows of at most PX x PX pixels one at a time (bounded memory)",
    )
    inpaint.add_argument(
        "--detail",
        choices=["none", "residual"],
        default="none",
        help="residual: where the model works below the photo's scale (resize, crop, face on a large photo), "
        "add the fine detail of the known pixels around the hole to the fill; none: the fill as the model made it",
    )
    inpaint.add_argument(
        "--blend",
        choices=["poisson", "none"],
        default="poisson",
        help="poisson: the fill's colours meet the known pixels around the hole with no seam, its detail kept; "
        "none: the generator's output as it is",
    )
    inpaint.add_argument("--grid", action="store_true", help="folders: write original | masked | filled strips")
    inpaint.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the network: tens of seconds to start, faster per image after (large folders)",
    )
    inpaint.add_argument("--device", default="auto", help=device_help)
    inpaint.set_defaults(run=command_inpaint)

    quickstart = commands.add_parser(
        "quickstart", help="pretrain, train and inpaint on procedural faces (no data needed)"
    )
    quickstart.add_argument(
        "--output-dir", type=Path, default=Path("runs/quickstart"), help="where everything is written"
    )
    quickstart.add_argument(
        "--steps", type=int, default=100, help="pretraining steps per embedder (the GAN trains 4x as many)"
    )
    quickstart.add_argument("--device", default="auto", help=device_help)
    quickstart.set_defaults(run=command_quickstart)

    demo = commands.add_parser("demo", help="inpaint a shipped photo with the shipped models, write a PNG grid")
    demo.add_argument("--out", type=Path, default=Path("demo.png"), help="the PNG to write")
    demo.add_argument("--device", default="auto", help=device_help)
    demo.set_defaults(run=command_demo)

    serve = commands.add_parser("serve", help="a local web page: paint a hole, set attributes, compare models' fills")
    serve.add_argument(
        "--models",
        nargs="+",
        default=["celebahq64-none", "celebahq64-full", "celebahq64-controllable"],
        metavar="NAME_OR_FILE",
        help="shipped model names or checkpoint / .safetensors files, shown left to right",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    serve.add_argument("--port", type=int, default=8765, help="port (0: any free one)")
    serve.add_argument("--device", default="auto", help=device_help)
    serve.set_defaults(run=command_serve)

    export = commands.add_parser(
        "export", help="write what inference needs: safetensors for this library, ONNX or TorchScript for any runtime"
    )
    add_model_source(export)
    export.add_argument(
        "--format",
        choices=["safetensors", "onnx", "torchscript"],
        default="safetensors",
        help="safetensors (from a .pt checkpoint, for Inpainter), onnx (onnxruntime; needs the export extra) "
        "or torchscript (torch.jit.load; PyTorch deprecates TorchScript, prefer onnx)",
    )
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.add_argument("--float32", action="store_true", help="safetensors: keep float32 weights (default: float16)")
    export.add_argument(
        "--blend",
        choices=["poisson", "none"],
        default="poisson",
        help="onnx, torchscript: Poisson-blend the fill into the known pixels in the file, as inpaint does",
    )
    export.set_defaults(run=command_export)
    return parser


#: what a user's input can raise (files, configs, images, devices, pickles); a bug in the
#: library raises something else and keeps its traceback
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,  # also pydantic.ValidationError, json.JSONDecodeError
    TypeError,
    LookupError,  # also KeyError, RegistryError
    OSError,  # also FileNotFoundError, FileExistsError, a full disk
    RuntimeError,  # also an unavailable device
    FloatingPointError,
    yaml.YAMLError,
    pickle.UnpicklingError,
    Image.DecompressionBombError,
)


def one_line(error: BaseException) -> str:
    """The error's message on one line, without pydantic's documentation links."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(line for line in lines if not line.startswith("For further information visit"))


def exit_code(run: Callable[[], object], program: str, traceback: bool = False) -> int:
    """Call ``run``: 0 when it returns, 2 after one line on stderr naming ``program`` when it
    raises a user error (:data:`USER_ERRORS`); ``traceback`` (or ``SEMANTIC_INPAINT_TRACEBACK=1``)
    lets the error through with its traceback. Used by the CLI and the reproduction scripts."""
    try:
        run()
    except USER_ERRORS as error:
        if traceback or os.environ.get("SEMANTIC_INPAINT_TRACEBACK") == "1":
            raise
        print(f"{program}: error: {one_line(error)}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; a user error ends with one line on stderr and exit code 2.

    ``--traceback`` (or ``SEMANTIC_INPAINT_TRACEBACK=1``) shows the full traceback instead.
    """
    args = build_parser().parse_args(argv)
    return exit_code(lambda: args.run(args), f"semantic-inpaint {args.command}", args.traceback)


if __name__ == "__main__":
    raise SystemExit(main())

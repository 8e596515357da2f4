"""Step 7: measure control: does a model's fill obey an attribute the user sets, or the parts they paint?

    python examples/reproduce/07_measure_control.py \\
        --config examples/reproduce/configs/small64/04_evaluate.yaml \\
        --models full=runs/reproduce/small64/gan/full/checkpoints/last.pt \\
        --attributes Male Young Smiling Eyeglasses --images 300 --parts --judges

On the evaluation split of step 4's config, with its centred half-side hole, each face is asked
for the opposite of what the attribute embedder reads on the original (see
:func:`semantic_inpaint.control_metrics.attribute_control`). With ``--judges``
(``semantic-inpaint[judges]``), the ``age_gender`` judge, which the model was never trained
against, reads ``Male`` (its gender) and ``Young`` (its age under ``--young-below`` years, 40
by default: the threshold that best matches CelebA's ``Young`` label on training faces 1..600,
86 % agreement) as a second opinion: a flip rate when they are requested, and, when another
attribute is, the share of faces whose gender and age it reads the same with and without the
request. With ``--parts``, each face is asked for another face's
parts inside its hole (:func:`semantic_inpaint.control_metrics.part_control`), read back by the
segmentation embedder and, with ``--judges``, by part maps drawn from FaceMesh's landmarks
(face parts only: FaceMesh draws no hair). With ``--reader``, another attribute embedder than
the model's own (e.g. the robust reader of a recipe's consistency term) reads the originals and
the fills. With ``--strength S``, every request pushes S times as far from the prediction
(:meth:`Inpainter.inpaint`'s ``strength``; 1 by default). Writes ``control.json`` to the
config's results folder and prints the tables: flip rate, the same share without a request, how
many of the other attributes stay as they were (and the three that change most), and the parts'
mIoU inside the hole with 95 % bootstrap intervals.
Models that an earlier ``control.json`` in that folder measured on the same faces with the same
requests are kept (the ones named in ``--models`` are measured again), so a new model is
measured without the runs of the others.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from common import add_set_argument, build_dataset, hardware, load_reader, run_script, write_json
from intervals import interval, rate
from torch import Tensor

from semantic_inpaint.config import EvaluationConfig, load_config
from semantic_inpaint.control_metrics import IndependentReader, attribute_control, part_control
from semantic_inpaint.evaluation import batches
from semantic_inpaint.inference import Inpainter
from semantic_inpaint.judge import judge_pixels
from semantic_inpaint.registry import get_registry
from semantic_inpaint.statistics import estimate, mean_iou_statistic, resample_weights

#: the part classes FaceMesh's landmarks draw (skin .. inner mouth): no background, no hair
FACE_PARTS = range(1, 9)


def first_faces(dataset, batch_size: int, count: int, masks) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(image, centred hole)`` batches of the first ``count`` faces of ``dataset``."""
    remaining = count
    for batch in batches(dataset, batch_size):
        if remaining <= 0:
            return
        image = batch["image"][:remaining]
        remaining -= len(image)
        yield image, masks(len(image))


def age_gender_readers(young_below: float) -> dict[str, IndependentReader]:
    """``Male`` and ``Young`` read by the ``age_gender`` judge, in the face box found on the original."""
    judge = get_registry().build("judge", "age_gender", {})

    def reader(pick) -> IndependentReader:
        def read(original: Tensor, fill: Tensor) -> Tensor:
            verdicts = []
            for before, after in zip(judge_pixels(original, judge.size), judge_pixels(fill, judge.size), strict=True):
                reference = judge.reference(before)
                verdicts.append(np.nan if reference is None else float(pick(*judge.estimate(after, reference[0]))))
            return torch.tensor(verdicts, dtype=torch.float64)

        return read

    return {"Male": reader(lambda male, age: male), "Young": reader(lambda male, age: age < young_below)}


def facemesh_parts(resolution: int):
    """Part maps ``(B, H, W)`` drawn from FaceMesh's landmarks on ``(B, 3, H, W)`` images."""
    judge = get_registry().build("judge", "facemesh", {})

    def read(images: Tensor) -> Tensor:
        maps = [judge.parts(judge.landmarks(pixels)) for pixels in judge_pixels(images, judge.size)]
        labels = torch.from_numpy(np.stack(maps)).float()[:, None]
        return F.interpolate(labels, size=(resolution, resolution), mode="nearest")[:, 0].long()

    return read


def part_scores(confusions: dict[str, dict[str, Tensor]]) -> dict[str, dict]:
    """mIoU inside the hole, with a 95 % interval, per reader: with and without the request."""
    scores = {}
    for reader, kinds in confusions.items():
        classes = FACE_PARTS if reader == "facemesh" else None
        weights = resample_weights(len(kinds["requested"]))
        scores[reader] = {
            f"{kind}_miou": estimate(mean_iou_statistic(confusion, classes), weights)
            for kind, confusion in kinds.items()
        }
    return scores


#: what a measurement depends on besides the model: two with the same values are comparable
MEASURED_LIKE = ("config", "overrides", "data", "images", "reader", "judges", "young_below", "strength")
#: settings added after some files were written, and the value those files were measured with
LATER_SETTINGS = {"strength": 1.0}


def earlier_models(path: Path, report: dict, attributes: list[str], parts: bool) -> dict[str, dict]:
    """The models ``path`` (an earlier ``control.json``) measured like ``report`` will be: the
    same :data:`MEASURED_LIKE` settings (config, overrides, faces, independent readers), the same
    ``attributes`` requested and part maps measured or not as ``parts`` says; nothing when the
    file is absent."""
    if not path.exists():
        return {}
    earlier = json.loads(path.read_text())
    if any(earlier.get(key, LATER_SETTINGS.get(key)) != report[key] for key in MEASURED_LIKE):
        print(f"{path}: measured on other faces or settings, its models are left out")
        return {}
    return {
        name: scores
        for name, scores in earlier["models"].items()
        if list(scores["attributes"]) == attributes and ("parts" in scores) == parts
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="step 4's config: data, resolution, results")
    parser.add_argument("--models", nargs="+", required=True, metavar="NAME=CHECKPOINT")
    parser.add_argument("--attributes", nargs="+", default=["Male", "Smiling", "Eyeglasses"])
    parser.add_argument("--images", type=int, default=300, help="the first N faces of the evaluation split")
    parser.add_argument("--parts", action="store_true", help="also measure part-map control")
    parser.add_argument(
        "--reader",
        help="read the attributes with this attribute embedder (weights file or shipped:NAME) instead of each "
        "model's own, e.g. the robust reader a recipe's consistency term was pulled toward",
    )
    parser.add_argument("--judges", action="store_true", help="independent readers (semantic-inpaint[judges])")
    parser.add_argument("--young-below", type=float, default=40.0, help="age judge: Young under this many years")
    parser.add_argument(
        "--strength", type=float, default=1.0, help="how hard each request pushes (Inpainter.inpaint's strength)"
    )
    add_set_argument(parser)
    args = parser.parse_args()
    config = load_config(args.config, EvaluationConfig, args.set)
    dataset = build_dataset(config.data, config.resolution)
    masks = get_registry().build(
        "mask_generator", config.masks["center"].name, config.masks["center"].options, resolution=config.resolution
    )
    report = {
        "config": str(args.config),
        "overrides": args.set,  # e.g. the validation faces instead of the held-out ones
        "data": config.data.model_dump(mode="json"),
        "hardware": hardware(),
        "images": args.images,
        "reader": args.reader,
        "judges": args.judges,
        "young_below": args.young_below if args.judges else None,
        "strength": args.strength,
    }
    reader = load_reader(args.reader) if args.reader else None
    report["models"] = earlier_models(Path(config.results) / "control.json", report, args.attributes, args.parts)
    for pair in args.models:
        name, _, checkpoint = pair.partition("=")
        model = Inpainter.from_checkpoint(checkpoint, device="cpu").model.eval()
        pairs = first_faces(dataset, config.batch_size, args.images, masks)
        independent = age_gender_readers(args.young_below) if args.judges else {}
        independent = {key: read for key, read in independent.items() if key in args.attributes}
        with torch.inference_mode():
            scores = attribute_control(
                model, pairs, args.attributes, judge=reader, independent=independent, strength=args.strength
            )
        report["models"][name] = {"checkpoint": checkpoint, "attributes": scores}
        if args.parts:
            readers = {"facemesh": facemesh_parts(config.resolution)} if args.judges else {}
            pairs = first_faces(dataset, config.batch_size, args.images, masks)
            with torch.inference_mode():
                confusions = part_control(model, pairs, readers, strength=args.strength)
                report["models"][name]["parts"] = part_scores(confusions)
    write_json(Path(config.results) / "control.json", report)
    print(
        f"{'model':<14} {'attribute':<12} {'flip rate':>22} {'adding/unasked':>14} {'removing/unasked':>16} "
        f"{'unasked':>8} {'others kept':>11} {'judge':>22}"
    )
    for name, scores in report["models"].items():
        for attribute, score in scores["attributes"].items():
            flip = rate(score, "flip_rate")
            unasked, kept = score["without_request"], score["preserved"]
            judged = score.get("independent_flip_rate")
            second = "" if judged is None else f"{judged:.3f} / {score['independent_without_request']:.3f}"
            adding, removing = (
                f"{score[f'flip_rate_{way}']:.3f}/{score[f'without_request_{way}']:.3f}"
                if f"flip_rate_{way}" in score
                else "-"
                for way in ("adding", "removing")
            )
            print(
                f"{name:<14} {attribute:<12} {flip:>22} {adding:>14} {removing:>16} {unasked:>8.3f} {kept:>11.3f} "
                f"{second:>22}"
            )
            least_kept = sorted(score.get("preserved_each", {}).items(), key=lambda item: item[1])[:3]
            if least_kept:
                print(f"{'':<27} least kept: " + ", ".join(f"{other} {share:.3f}" for other, share in least_kept))
            judged_kept = score.get("independent_preserved_each", {})
            if judged_kept:
                shares = ", ".join(f"{other} {interval(share)}" for other, share in judged_kept.items())
                print(f"{'':<27} kept, by the judges: {shares}")
        for reader, miou in scores.get("parts", {}).items():
            asked, plain = (interval(miou[key]) for key in ("requested_miou", "without_request_miou"))
            print(f"{name:<14} parts ({reader}): mIoU in the hole {asked}, without the request {plain}")


if __name__ == "__main__":
    run_script(main)

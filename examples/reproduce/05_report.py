"""Step 5: write ``docs/results.md`` from the saved results JSON (no hand-typed numbers).

    python examples/reproduce/05_report.py

Reads every ``examples/reproduce/results/<scale>/`` folder (written by steps 1, 2 and 4)
and renders the embedder reports, Table I, the Table II ablation, Table III and the
semantic-consistency table for each scale, with the hardware and the time each run took, and
the controllable recipes that step 7 measured on validation faces (``control*_validation.json``).
04_evaluate.py calls it at its end.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from intervals import Estimate, interval, rate
from paper_tables import TABLE_II

HERE = Path(__file__).resolve().parent
RESULTS_ROOT = HERE / "results"
OUTPUT = HERE.parents[1] / "docs" / "results.md"

Columns = list[tuple[str, str, str]]  # (result key, column title, number format)
PIXEL_COLUMNS: Columns = [
    ("l1", "mean l1 (%)", ".2f"),
    ("l2", "mean l2 (%)", ".2f"),
    ("psnr", "PSNR (dB)", ".2f"),
    ("ssim", "SSIM", ".3f"),
]
SEMANTIC_COLUMNS: Columns = [("attribute_agreement", "attribute agreement", ".3f"), ("part_miou", "part mIoU", ".3f")]
RETRIEVAL_COLUMNS: Columns = [("retrieval_map", "retrieval mAP", ".3f")]
#: mean signed error in the hole per channel (images in [-1, 1]): a coloured seam when far from 0
BIAS_COLUMNS: Columns = [(f"hole_bias_{c}", f"hole bias {c.upper()}", "+.3f") for c in "rgb"]
#: the judges the project did not train (semantic-inpaint[judges])
JUDGE_COLUMNS: Columns = [
    ("landmark_nme", "landmark NME ↓", ".4f"),
    ("landmark_part_miou", "landmark part mIoU", ".3f"),
    ("landmark_face_found", "face found", ".3f"),
    ("gender_agreement", "gender agreement", ".3f"),
    ("age_difference", "age difference (years) ↓", ".2f"),
    ("identity_distance", "identity distance ↓", ".3f"),
    ("same_identity", "same identity (< 0.6)", ".3f"),
]
#: the field's perceptual metrics, with feature networks from local files (LPIPS judge, fid_weights)
PERCEPTUAL_COLUMNS: Columns = [("lpips", "LPIPS ↓", ".3f"), ("fid", "FID ↓ (no interval)", ".2f")]

#: the name of a Table II ablation run: ``a{λa}_s{λs}``
ABLATION = re.compile(r"a[0-9.]+_s[0-9.]+")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)]) + "\n"


def minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def cells(scores: dict[str, Estimate], columns: Columns, sign: str = "") -> list[str]:
    """The formatted value of each column with its interval, or a dash where there is no such score."""
    return [interval(scores[key], spec, sign) if key in scores else "—" for key, _, spec in columns]


def present(columns: Columns, scores: dict[str, dict[str, Estimate]]) -> Columns:
    """The columns that at least one method has."""
    return [column for column in columns if any(column[0] in s for s in scores.values())]


def method_table(title: str, scores: dict[str, dict[str, Estimate]], columns: Columns, names: list[str]) -> str:
    """A markdown section: one row per method in ``names`` that has scores."""
    rows = [[name, *cells(scores[name], columns)] for name in names if name in scores]
    return f"#### {title}\n\n" + table(["method", *(column for _, column, _ in columns)], rows)


Results = dict[str, dict[str, Any]]  # "attribute" / "segmentation" / "inpainting" / "control" -> that step's JSON


def read_results(folder: Path) -> Results:
    """The JSON files that steps 1, 2 and 4 wrote into one scale's folder, by step name."""
    paths = {name: folder / f"{name}.json" for name in ("attribute", "segmentation", "inpainting", "control")}
    return {name: json.loads(path.read_text()) for name, path in paths.items() if path.exists()}


def embedder_sections(results: Results) -> list[str]:
    parts = []
    if "attribute" in results:
        data = results["attribute"]
        report = data["validation"]
        rows = [
            [name, f"{s['accuracy']:.3f}", f"{s['majority_baseline']:.3f}"]
            for name, s in report["per_attribute"].items()
        ]
        rows.append(["**mean**", f"**{report['mean_accuracy']:.3f}**", f"**{report['mean_majority_baseline']:.3f}**"])
        parts.append(
            f"### Attribute embedder (validation, {report['images']} images)\n\n"
            f"{data['steps']} steps in {minutes(data['train_seconds'])} on {trained_on(data)}. "
            f"Config `{data['config']}`.\n\n" + table(["attribute", "accuracy", "majority baseline"], rows)
        )
    if "segmentation" in results:
        data = results["segmentation"]
        report = data["validation"]
        rows = [[name, f"{iou:.3f}"] for name, iou in report["per_class_iou"].items()]
        rows.append(["**mIoU**", f"**{report['miou']:.3f}**"])
        parts.append(
            f"### Segmentation embedder (validation, {report['images']} images)\n\n"
            f"{data['steps']} steps in {minutes(data['train_seconds'])} on {trained_on(data)}; "
            f"pixel accuracy {report['pixel_accuracy']:.3f}. Config `{data['config']}`.\n\n"
            + table(["class", "IoU"], rows)
        )
    return parts


def trained_on(data: dict) -> str:
    """Where an embedder trained: its log's record, or (for logs from before they recorded it)
    the machine that evaluated it, which trained it too."""
    device = data.get("train_device")
    return f"{device} (validated on {data['hardware']})" if device else data["hardware"]


CLASSICAL_AND_MASKED = ("masked", "telea", "navier_stokes")


def inpainting_sections(results: Results) -> list[str]:
    if "inpainting" not in results:
        return []
    data = results["inpainting"]
    trained = list(data["train_seconds"])
    has_ablations = any(ABLATION.fullmatch(name) for name in trained)
    # the paper's two models, then every other trained model that is no Table II ablation (e.g. full_shared)
    # and any scored model without a run folder (a shipped file named in `checkpoints`)
    scored = [name for evaluation in data["masks"].values() for name in evaluation["scores"]]
    listed = [*CLASSICAL_AND_MASKED, "none", "full"]
    others = [
        name for name in dict.fromkeys([*trained, *scored]) if name not in listed and not ABLATION.fullmatch(name)
    ]
    main_methods = [*listed, *others]
    parts = [
        f"### Inpainting on {data['images']} held-out images\n\n"
        f"Measured on {data['hardware']}; evaluation took {minutes(data['evaluation_seconds'])}. "
        f"Config `{data['config']}`. Retrieval features: `{data['retrieval_extractor']}`.\n\n"
        + table(
            ["model", "training steps", "training time", "trained on"],
            [
                [
                    name,
                    str(data["train_steps"][name]),
                    minutes(data["train_seconds"][name]),
                    data.get("train_devices", {}).get(name) or "the machine above",
                ]
                for name in trained
            ],
        )
    ]
    check = data.get("gender_judge_check")
    if check is not None:
        parts.append(
            f"The gender judge agrees with CelebA's human `{check['label']}` label on "
            f"{interval(check, '.3f')} of the {check['images']} original held-out images it found a face on "
            f"(of {check['of']}).\n"
        )
    for mask, evaluation in data["masks"].items():
        scores = evaluation["scores"]
        parts.append(method_table(f"Table I — {mask} masks", scores, PIXEL_COLUMNS, main_methods))
        bias = present(BIAS_COLUMNS, scores)
        parts.append(method_table(f"Hole colour bias — {mask} masks", scores, bias, main_methods))
        parts.append(method_table(f"Semantic consistency — {mask} masks", scores, SEMANTIC_COLUMNS, main_methods))
        perceptual = present(PERCEPTUAL_COLUMNS, scores)
        if perceptual:
            parts.append(method_table(f"Perceptual metrics — {mask} masks", scores, perceptual, main_methods))
        judges = present(JUDGE_COLUMNS, scores)
        if judges:
            parts.append(method_table(f"Judges nobody here trained — {mask} masks", scores, judges, main_methods))
        if any("retrieval_map" in s for s in scores.values()):
            parts.append(
                method_table(f"Table III — retrieval mAP, {mask} masks", scores, RETRIEVAL_COLUMNS, main_methods)
            )
        if evaluation["differences"]:
            parts.append(difference_table(mask, evaluation, [*PIXEL_COLUMNS[2:], *SEMANTIC_COLUMNS, *judges]))
        if has_ablations:
            parts.append(ablation_tables(mask, scores, data, bias, judges))
        else:
            parts.append(f"No Table II ablation has been evaluated at this scale ({mask} masks).\n")
    return parts


def difference_table(mask: str, evaluation: dict[str, Any], columns: Columns) -> str:
    """Each method minus the reference on the same images, with paired 95 % intervals."""
    reference, differences = evaluation["reference"], evaluation["differences"]
    columns = present(columns, differences)
    rows = [[name, *cells(differences[name], columns, "+")] for name in sorted(differences) if name != "masked"]
    return (
        f"#### Paired differences to `{reference}` — {mask} masks\n\n"
        "Method minus reference on the same images and masks; an interval that excludes 0 is a real "
        "difference at the 95 % level.\n\n" + table(["method", *(column for _, column, _ in columns)], rows)
    )


def ablation_tables(
    mask: str, scores: dict[str, dict[str, Estimate]], data: dict[str, Any], bias: Columns, judges: Columns
) -> str:
    """Table II: one row per trained model, keyed and sorted by its (λa, λs), in two tables.

    The first has the paper's columns (PSNR, SSIM, the consistency scores) under a note on how many
    ablations are in; the second the same rows with the hole colour bias and the judges' columns.
    """
    weights = {
        name: (w.get("attribute", 0.0), w.get("segmentation", 0.0))
        for name, w in data["condition_weights"].items()
        if name in scores and (name in ("none", "full") or ABLATION.fullmatch(name))
    }
    ordered = sorted(weights.items(), key=lambda item: item[1])

    def rows_table(columns: Columns) -> str:
        rows = [[f"{a:g}", f"{s:g}", name, *cells(scores[name], columns)] for name, (a, s) in ordered]
        return table(["λa", "λs", "model", *(column for _, column, _ in columns)], rows)

    paper_ablations = sum(name in TABLE_II for name in weights)
    evaluated = "All ten" if paper_ablations == len(TABLE_II) else f"{paper_ablations} of the ten"
    return (
        f"#### Table II — ablation of λa, λs ({mask} masks)\n\n"
        f"{evaluated} ablation runs of the paper evaluated, next to `none` and `full`; "
        "`03_train.py --variants table2` trains them (a finished variant is skipped, "
        "an interrupted one resumes), and `04_evaluate.py` scores every finished run.\n\n"
        + rows_table(PIXEL_COLUMNS[2:] + SEMANTIC_COLUMNS)
        + f"\n#### Table II — hole colour bias{' and judges nobody here trained' * bool(judges)} ({mask} masks)\n\n"
        + rows_table([*bias, *judges])
    )


def control_section(results: Results) -> list[str]:
    """Step 7's measured control: per model, each requested attribute and the requested parts."""
    if "control" not in results:
        return []
    control = results["control"]
    rows, part_rows, direction_rows, judged_rows = [], [], [], []
    for model, measured in control["models"].items():
        for attribute, score in measured["attributes"].items():
            for other, judged in score.get("independent_preserved_each", {}).items():
                embedder = score.get("preserved_each", {}).get(other)
                judged_rows.append([model, attribute, other, "—" if embedder is None else f"{embedder:.3f}",
                                    interval(judged, ".3f")])  # fmt: skip
            if "flip_rate_adding" in score or "flip_rate_removing" in score:
                direction_rows.append([model, attribute, *direction_cells(score, "adding"),
                                       *direction_cells(score, "removing")])  # fmt: skip
            rows.append([
                model, attribute, rate(score, "flip_rate"), rate(score, "without_request"), rate(score, "preserved"),
                rate(score, "independent_flip_rate"), rate(score, "independent_without_request"),
            ])  # fmt: skip
        for reader, miou in measured.get("parts", {}).items():
            part_rows.append([model, reader, interval(miou["requested_miou"], ".3f"),
                              interval(miou["without_request_miou"], ".3f")])  # fmt: skip
    header = ["model", "requested", "flip rate", "without the request", "other attributes kept",
              "judge's flip rate", "judge, without the request"]  # fmt: skip
    text = (
        "### Control\n\n"
        f"Generated from `control.json` (`07_measure_control.py`, command in [Reproducing the paper](reproduce.md)): "
        f"the first {control['images']} held-out faces with the centred hole, each asked for the opposite of what "
        "the attribute embedder reads on the original. Flip rate: the share of fills read as asked (the "
        "independent age/gender judge's reading in the last two columns, for Male and Young); without the "
        "request: the same share for the fill made without one; other attributes kept: the share of the other "
        "attributes read as on the unrequested fill. 95 % bootstrap intervals over faces. The weights each row "
        "measured: "
        + "; ".join(f"`{model}`: `{measured['checkpoint']}`" for model, measured in control["models"].items())
        + ".\n\n"
        + table(header, rows)
    )
    if direction_rows:
        text += (
            "\nBy the direction asked: the faces whose original reads 0 asked to gain the attribute (adding), "
            "those that read 1 asked to lose it (removing); a fill may lose a trait with no request at all, so "
            "each flip rate stands next to its share without the request.\n\n" + table(DIRECTION_HEADER, direction_rows)
        )
    if judged_rows:
        text += (
            "\nKept, by the judges: the share of faces whose attribute the independent age/gender judge reads the "
            "same on the fill made with another attribute's request as on the fill made without one, next to the "
            "same share by the attribute embedder (its `preserved_each`). The two readers learnt from different "
            "faces: a share low for both points at the fill, a gap at one reader's own habits.\n\n"
            + table(["model", "requested", "kept attribute", "embedder: kept", "judge: kept"], judged_rows)
        )
    if part_rows:
        text += (
            "\nParts: each face asked for another face's parts inside its hole; mIoU in the hole between the "
            "request and the parts read back (FaceMesh: face parts only, no hair).\n\n"
            + table(["model", "read by", "mIoU, requested", "mIoU, without the request"], part_rows)
        )
    return [text]


#: the attributes the recipe table compares (step 7's ``--attributes`` on the validation faces)
RECIPE_ATTRIBUTES = ("Male", "Young", "Smiling", "Eyeglasses")


def recipe_section(folder: Path) -> list[str]:
    """Every controllable recipe step 7 measured on validation faces (the ``control*_validation.json``
    files of a scale's folder, kept for choosing which recipe to ship): per model the flip rate of
    each attribute, Male's when asked to add it, the gender judge's and FaceMesh's parts mIoU."""
    rows = []
    for path in sorted(folder.glob("control*_validation.json")):
        measured = json.loads(path.read_text())
        if measured.get("reader"):  # read by another embedder than the models' own: not this table's flip rates
            continue
        options = measured["data"]["options"]
        for model, scores in measured["models"].items():
            attributes = scores["attributes"]
            rows.append([
                model, *(rate(attributes.get(name, {}), "flip_rate") for name in RECIPE_ATTRIBUTES),
                rate(attributes.get("Male", {}), "flip_rate_adding"),
                rate(attributes.get("Male", {}), "independent_flip_rate"),
                interval(scores["parts"]["facemesh"]["requested_miou"], ".3f") if "parts" in scores else "—",
                f"`{path.name}`, faces {options['first']}..{options['last']}",
            ])  # fmt: skip
    if not rows:
        return []
    header = ["model", *RECIPE_ATTRIBUTES, "Male, adding", "Male, gender judge", "parts mIoU (FaceMesh)", "measured in"]
    return [
        "### Control recipes on the validation faces\n\n"
        "Generated from the `control*_validation.json` files (`07_measure_control.py` with the evaluation "
        "config's faces moved to the validation faces, which no model trained on and which are not the "
        "evaluation split): every controllable recipe tried, measured before any of them was measured on the "
        "held-out faces, each fill asked for the opposite of what the attribute embedder reads on the original "
        "(flip rates; Male, adding: the faces that read female asked to look male, where that split was "
        "measured) and for another face's parts in the hole (mIoU read back by FaceMesh). Until 2026-12-05 the "
        "shipped `celebahq64-controllable` was the `controllable` run (`shipped_controllable` in these files: "
        "its weights loaded from the package); since then it is the eighteenth recipe at step 2000 "
        "(`controllable_matched_projection_blended_beta0.1`), chosen on these faces and confirmed on the "
        "held-out ones. What each recipe changes and why the others were not shipped: "
        "[Controllable recipes](control-recipes.md). A flip rate is what the embedder the model "
        "trained against reads (and, for Male, the independent gender judge): a recipe can reach it with "
        "textures that fool the readers without showing the attribute, as `controllable_focused_blended` "
        "does; that page draws the fills (`control_sheet.py`). `controllable_robust_blended` pulled its fills "
        "toward a robust embedder's reading instead, so its flip rates are read by an embedder it never trained "
        "against; its glasses are drawn sunglasses. 95 % bootstrap intervals over faces.\n\n" + table(header, rows)
    ]


def strength_section(folder: Path) -> list[str]:
    """The held-out control measurements at a stronger push (``control_strength/s*/control.json``:
    ``07_measure_control.py --strength S``): per strength and model, each attribute's flip rate, the
    share of the other attributes kept, and the gender and age judges' flip rates."""
    rows = []
    measured_files = [(json.loads(path.read_text()), path) for path in folder.glob("control_strength/*/control.json")]
    for measured, path in sorted(measured_files, key=lambda pair: pair[0]["strength"]):
        for model, scores in measured["models"].items():
            attributes = scores["attributes"]
            rows.append([
                f"{measured['strength']:g}", model,
                *(rate(attributes.get(name, {}), "flip_rate") for name in RECIPE_ATTRIBUTES),
                " / ".join(f"{attributes[name]['preserved']:.3f}" if name in attributes else "—"
                           for name in RECIPE_ATTRIBUTES),
                rate(attributes.get("Male", {}), "independent_flip_rate"),
                rate(attributes.get("Young", {}), "independent_flip_rate"),
                f"`{path.parent.name}/control.json`",
            ])  # fmt: skip
    if not rows:
        return []
    header = ["strength", "model", *RECIPE_ATTRIBUTES, "others kept (per request)", "gender judge", "age judge",
              "measured in"]  # fmt: skip
    return [
        "### Control at a stronger push\n\n"
        "Generated from `control_strength/*/control.json` (`07_measure_control.py --strength S` on the "
        "first held-out faces of the control table above, attribute requests only): each request moved S "
        "times as far from the predicted signal (`Inpainter.inpaint(..., strength=S)`). Flip rates with 95 % "
        "bootstrap intervals; others kept: the share of the other attributes read as on the unrequested "
        "fill, under a Male / Young / Smiling / Eyeglasses request; the judges' flip rates for Male and "
        "Young. The strengths measured and why, and what the fills look like: "
        "[Controllable recipes](control-recipes.md#pushing-a-request-harder-strength-no-training).\n\n"
        + table(header, rows)
    ]


#: the columns of the control table split by the direction asked
DIRECTION_HEADER = [
    "model", "requested", "adding: faces", "adding: flip rate", "adding: without the request",
    "removing: faces", "removing: flip rate", "removing: without the request",
]  # fmt: skip


def direction_cells(score: dict[str, Any], direction: str) -> list[str]:
    """The faces asked in ``direction`` (``adding`` / ``removing``), their flip rate and their
    rate without the request, each rate with its interval; dashes where no face was asked so."""
    if f"{direction}_images" not in score:
        return ["0", "—", "—"]
    return [
        str(score[f"{direction}_images"]),
        rate(score, f"flip_rate_{direction}"),
        rate(score, f"without_request_{direction}"),
    ]


#: how step 4 brought the trained models' fills into the known pixels (``blend`` in inpainting.json)
BLENDS = {
    "poisson": "Poisson-blended into the known pixels (`Inpainter`'s default)",
    "none": "the generator's output as it is (`blend: none`, or evaluated before Poisson blending existed)",
}


def summary_section(results: Results) -> list[str]:
    """The headline comparisons of a scale, each with both numbers and their difference."""
    lines = []
    if "attribute" in results:
        report = results["attribute"]["validation"]
        accuracy, baseline = report["mean_accuracy"], report["mean_majority_baseline"]
        lines.append(f"attribute embedder: mean accuracy {accuracy:.3f} vs majority baseline {baseline:.3f}")
    if "segmentation" in results:
        report = results["segmentation"]["validation"]
        lines.append(f"segmentation embedder: mIoU {report['miou']:.3f}")
    if "inpainting" in results:
        blend = results["inpainting"].get("blend", "none")
        lines.append(f"trained models' fills: {BLENDS[blend]}")
        center = results["inpainting"]["masks"].get("center", {"scores": {}, "differences": {}})
        scores, differences = center["scores"], center["differences"]
        if "full" in scores and "telea" in scores:
            full, telea = scores["full"]["psnr"]["mean"], scores["telea"]["psnr"]["mean"]
            lines.append(f"centred masks, PSNR (dB): full {full:.2f} vs telea {telea:.2f} ({full - telea:+.2f})")
        columns = [PIXEL_COLUMNS[2], PIXEL_COLUMNS[3], *SEMANTIC_COLUMNS, *RETRIEVAL_COLUMNS, *JUDGE_COLUMNS]
        for key, title, spec in columns:
            if "full" in differences and key in differences["full"]:
                lines.append(
                    f"centred masks, {title}: full {interval(scores['full'][key], spec)}, "
                    f"full − {center['reference']} {interval(differences['full'][key], spec, '+')}"
                )
    return ["### Summary\n\n" + "".join(f"- {line}\n" for line in lines)] if lines else []


def write_report(results_root: Path = RESULTS_ROOT, output: Path = OUTPUT) -> None:
    """Render every scale's results under ``results_root`` into ``output``."""
    sections: list[str] = [
        "# Results\n",
        "Generated by `python examples/reproduce/05_report.py` (also run at the end of "
        "`04_evaluate.py`) from the JSON files in `examples/reproduce/results/`; no number on this "
        "page is typed by hand. `full` is the boosted GAN (λa = λs = 0.1), `none` the same generator "
        "with no conditions, `aX_sY` the ablations with λa = X, λs = Y, `full_shared` the full model judged "
        "by one shared-trunk discriminator instead of three; all trained with the same "
        "budget. `masked` is the input with holes filled with zeros. Every number is followed by its "
        "95 % bootstrap interval over the evaluation images; the paired differences to `none` say which "
        "differences are real. Every GAN here is the moving average of its generator's weights, with "
        "BatchNorm statistics recomputed for those weights (see "
        "[Reproducing the paper](reproduce.md#eval-mode-and-batchnorm-statistics)), evaluated in eval mode "
        "as `Inpainter` runs it, its fill Poisson-blended into the known pixels as `Inpainter` does by default "
        "unless a scale's summary says otherwise; results of the earlier models, whose eval-mode fills carried a "
        "colour bias, were withdrawn.\n",
    ]
    folders = [p for p in Path(results_root).iterdir() if p.is_dir()]
    for folder in sorted(folders, key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]):
        results = read_results(folder)
        body = summary_section(results) + embedder_sections(results) + inpainting_sections(results)
        body += control_section(results) + strength_section(folder) + recipe_section(folder)
        if body:
            sections.append(f"## Scale `{folder.name}`\n")
            sections.extend(body)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(sections))
    print(f"wrote {output}")


def main() -> Any:
    write_report()


if __name__ == "__main__":
    main()

"""docs/results.md is generated from the saved results JSON, and Table II is ordered by (λa, λs) and shows
every ablation's hole colour bias."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, REPRODUCE, load_reproduction_script


def test_results_page_matches_the_saved_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "results.md"
    load_reproduction_script("05_report.py", monkeypatch).write_report(REPRODUCE / "results", output)
    assert output.read_text() == (REPO_ROOT / "docs" / "results.md").read_text(), (
        "docs/results.md is stale: run python examples/reproduce/05_report.py"
    )


def test_table_two_rows_are_sorted_by_the_condition_weights_with_their_hole_bias(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = {"full": (0.1, 0.1), "none": None, "a1_s0": (1.0, 0.0), "a0_s0.01": (0.0, 0.01)}

    def estimate(value: float) -> dict:
        return {"mean": value, "ci95": [value - 1, value + 1], "images": 3}

    scores = {
        name: {
            "psnr": estimate(20.0 + i),
            "ssim": estimate(0.5),
            "part_miou": estimate(0.6),
            **{f"hole_bias_{c}": estimate(0.001 * i) for c in "rgb"},
        }
        for i, name in enumerate(weights)
    }
    data = {
        "config": "c.yaml",
        "hardware": "test",
        "images": 3,
        "evaluation_seconds": 6.0,
        "retrieval_extractor": None,
        "train_seconds": dict.fromkeys(weights, 60.0),
        "train_steps": dict.fromkeys(weights, 10),
        "condition_weights": {
            name: {} if w is None else {"attribute": w[0], "segmentation": w[1]} for name, w in weights.items()
        },
        "masks": {"center": {"scores": scores, "reference": None, "differences": {}}},
    }
    (tmp_path / "results" / "tiny").mkdir(parents=True)
    (tmp_path / "results" / "tiny" / "inpainting.json").write_text(json.dumps(data))
    load_reproduction_script("05_report.py", monkeypatch).write_report(tmp_path / "results", tmp_path / "results.md")
    page = (tmp_path / "results.md").read_text()
    section = page.split("Table II")[1]
    assert "2 of the ten ablation runs of the paper evaluated" in section
    table_two = [line for line in section.splitlines() if line.startswith("| ")][1:5]  # after the header
    assert [row.split("|")[3].strip() for row in table_two] == ["none", "a0_s0.01", "full", "a1_s0"]
    assert table_two[3].split("|")[4].strip() == "22.00 [21.00, 23.00]"  # a1_s0's PSNR and interval, from the JSON
    bias_section = page.split("Table II — hole colour bias (center masks)")[1]
    bias_rows = [line for line in bias_section.splitlines() if line.startswith("| ")][1:5]  # after the header
    assert [row.split("|")[3].strip() for row in bias_rows] == ["none", "a0_s0.01", "full", "a1_s0"]
    assert bias_rows[3].split("|")[6].strip() == "+0.002 [-0.998, +1.002]"  # a1_s0's hole bias B, from the JSON


def rates(**values: float) -> dict[str, float | list[float]]:
    """``control.json``'s flat rate fields: each value with a ``_ci95`` of ±0.1 around it."""
    fields: dict[str, float | list[float]] = {}
    for key, value in values.items():
        fields |= {key: value, f"{key}_ci95": [value - 0.1, value + 0.1]}
    return fields


def control_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checkpoint: str, attributes: dict, heading: str
) -> list[str]:
    """The cells of model ``tiny``'s first row after ``heading`` in the page 05_report.py writes
    from a ``control.json`` holding ``attributes``' scores."""
    control = {"images": 3, "models": {"tiny": {"checkpoint": checkpoint, "attributes": attributes}}}
    (tmp_path / "results" / "tiny").mkdir(parents=True)
    (tmp_path / "results" / "tiny" / "control.json").write_text(json.dumps(control))
    load_reproduction_script("05_report.py", monkeypatch).write_report(tmp_path / "results", tmp_path / "results.md")
    section = (tmp_path / "results.md").read_text().split(heading)[1]
    row = next(line for line in section.splitlines() if line.startswith("| tiny"))
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_the_control_table_splits_each_flip_rate_by_the_direction_asked_and_names_the_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    score = {"images": 3, "adding_images": 3} | rates(flip_rate=0.5, without_request=0.25, preserved=0.9)
    score |= rates(flip_rate_adding=0.75) | {
        "without_request_adding": 0.125,
        "without_request_adding_ci95": [0.0, 0.25],
    }
    cells = control_row(tmp_path, monkeypatch, "runs/tiny/last.pt", {"Male": score}, "By the direction asked")
    assert cells == ["tiny", "Male", "3", "0.750 [0.650, 0.850]", "0.125 [0.000, 0.250]", "0", "—", "—"]
    assert "The weights each row measured: `tiny`: `runs/tiny/last.pt`." in (tmp_path / "results.md").read_text()


def test_the_control_section_sets_the_judges_kept_share_beside_the_embedders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    score = {"images": 3, "preserved_each": {"Male": 0.79, "Young": 0.71}}
    score |= rates(flip_rate=0.5, without_request=0.25, preserved=0.9)
    score["independent_preserved_each"] = {"Male": {"mean": 0.97, "ci95": [0.95, 0.99], "images": 290}}
    cells = control_row(tmp_path, monkeypatch, "t.pt", {"Eyeglasses": score}, "Kept, by the judges")
    assert cells == ["tiny", "Eyeglasses", "Male", "0.790", "0.970 [0.950, 0.990]"]


def test_recipe_table_lists_every_validation_file_with_dashes_where_a_measure_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def measured(male: float, adding: bool, parts: bool) -> dict:
        scores = {"flip_rate": male, "flip_rate_ci95": [male - 0.1, male + 0.1]}
        if adding:
            scores |= {"flip_rate_adding": 0.08, "flip_rate_adding_ci95": [0.04, 0.12]}
        model = {"checkpoint": "x.pt", "attributes": {"Male": scores}}
        if parts:
            model["parts"] = {"facemesh": {"requested_miou": {"mean": 0.61, "ci95": [0.6, 0.62]}}}
        return model

    folder = tmp_path / "results" / "tiny"
    folder.mkdir(parents=True)
    for name, model, reader in (
        ("control_old_validation", measured(0.4, False, False), None),
        ("control_new_validation", measured(0.5, True, True), None),
        ("control_reread_validation", measured(0.9, True, True), "robust.safetensors"),  # another reader's
    ):
        data = {"data": {"options": {"first": 11, "last": 20}}, "images": 10, "reader": reader}
        (folder / f"{name}.json").write_text(json.dumps(data | {"models": {name.split("_")[1]: model}}))
    (folder / "control_held_out.json").write_text("{}")  # not a validation file: not read
    load_reproduction_script("05_report.py", monkeypatch).write_report(tmp_path / "results", tmp_path / "results.md")
    section = (tmp_path / "results.md").read_text().split("### Control recipes on the validation faces")[1]
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in section.splitlines() if line.startswith("| ")}
    assert "reread" not in rows  # flip rates read by another embedder are not the models' own
    assert rows["new"][0].strip() == "0.500 [0.400, 0.600]"
    assert [cell.strip() for cell in rows["new"][4:7]] == ["0.080 [0.040, 0.120]", "—", "0.610 [0.600, 0.620]"]
    assert [cell.strip() for cell in rows["old"][1:7]] == ["—"] * 6  # Young..Eyeglasses, adding, judge, parts
    assert "faces 11..20" in rows["old"][7]


def test_the_strength_table_lists_each_strength_in_order_with_its_kept_shares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def attribute(flip: float, kept: float) -> dict:
        return {"flip_rate": flip, "flip_rate_ci95": [flip - 0.05, flip + 0.05], "preserved": kept}

    folder = tmp_path / "results" / "tiny"
    for strength, flip in ((2.0, 0.7), (1.5, 0.6)):
        measured = {"Male": attribute(flip, 0.85), "Smiling": attribute(0.8, 0.93)}
        measured["Male"] |= {"independent_flip_rate": 0.75, "independent_flip_rate_ci95": [0.7, 0.8]}
        data = {"strength": strength, "models": {"controllable": {"checkpoint": "x.pt", "attributes": measured}}}
        (folder / "control_strength" / f"s{strength:g}").mkdir(parents=True)
        (folder / "control_strength" / f"s{strength:g}" / "control.json").write_text(json.dumps(data))
    load_reproduction_script("05_report.py", monkeypatch).write_report(tmp_path / "results", tmp_path / "results.md")
    section = (tmp_path / "results.md").read_text().split("### Control at a stronger push")[1].split("###")[0]
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in section.splitlines() if line.startswith("| ")]
    assert [row[0] for row in rows[1:]] == ["1.5", "2"]  # after the header, by strength
    assert rows[2][2:7] == ["0.700 [0.650, 0.750]", "—", "0.800 [0.750, 0.850]", "—", "0.850 / — / 0.930 / —"]
    assert rows[2][7:] == ["0.750 [0.700, 0.800]", "—", "`s2/control.json`"]

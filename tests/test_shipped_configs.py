"""Every config shipped with the examples validates, and its components' options too."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from semantic_inpaint.config import EvaluationConfig, RunConfig, load_config
from semantic_inpaint.registry import get_registry
from semantic_inpaint.training import PretrainConfig
from tests.conftest import REPO_ROOT, REPRODUCE, load_reproduction_script

CONFIGS = sorted((REPO_ROOT / "examples" / "reproduce" / "configs").rglob("*.yaml"))
KIND = {"01": PretrainConfig, "02": PretrainConfig, "03": RunConfig, "04": EvaluationConfig}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_config_is_valid(path: Path) -> None:
    config = load_config(path, KIND[path.name[:2]])
    registry = get_registry()
    if isinstance(config, PretrainConfig):
        registry.get("embedder", config.embedder.name).validate_options(config.embedder.options)
    if isinstance(config, RunConfig):
        model = config.model
        registry.get("generator", model.generator.name).validate_options(model.generator.options)
        for condition in model.conditions:
            registry.get("embedder", condition.embedder.name).validate_options(condition.embedder.options)
    if isinstance(config, (PretrainConfig, RunConfig)):
        registry.get("dataset", config.data.name).validate_options(config.data.options)


def test_every_scale_has_the_four_steps() -> None:
    for scale in {p.parent for p in CONFIGS}:
        steps = sorted(p.name[:2] for p in scale.glob("*.yaml"))
        assert sorted(set(steps)) == ["01", "02", "03", "04"], scale
        assert all(steps.count(step) == 1 for step in ("02", "03")), scale  # evaluations may be several
        attribute = [p for p in scale.glob("01_*.yaml") if load_config(p, PretrainConfig).initial_weights is None]
        assert len(attribute) == 1, scale  # a robust fine-tune of it may be there too


def test_table_one_variants_differ_from_the_base_only_in_generator_and_its_learning_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """03_train.py's Table I peers share the base budget; DeepFill v2 alone keeps its paper's rate."""
    train = load_reproduction_script("03_train.py", monkeypatch)
    base = load_config(REPRODUCE / "configs" / "small64" / "03_gan.yaml", RunConfig)
    for name in ("gated", "gated_full", "unet", "unet_full", "context_encoder"):
        variant = train.variant_config(base, name)
        expected = 1e-4 if name.startswith("gated") else base.training.lr_generator
        assert variant.training.lr_generator == expected, name
        assert variant.training.steps == base.training.steps and variant.training.seed == base.training.seed
        assert variant.model.generator.name == name.removesuffix("_full")
        assert bool(variant.model.conditions) == name.endswith("_full"), name


def test_controllable_recipes_differ_from_full_only_in_their_control_and_conditioning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each recipe is ``full`` plus its own control settings, and ``controllable`` stays the shipped model's recipe."""
    train = load_reproduction_script("03_train.py", monkeypatch)
    base = load_config(REPRODUCE / "configs" / "small64" / "03_gan.yaml", RunConfig)
    full = train.variant_config(base, "full")
    for name, settings in train.CONTROLLABLE.items():
        variant = train.variant_config(base, name)
        assert variant.training.model_dump(exclude={"output_dir"}) == full.training.model_dump(exclude={"output_dir"})
        assert variant.model.conditions == full.model.conditions, name
        assert variant.model.generator.options["vector_conditioning"] == "film", name
        control = variant.model.control
        assert control.model_dump(include=set(settings)) == settings, name
        assert (control.swap_share, control.consistency_weight) != (0, 0), name
    robust_configs = (
        load_config(path, PretrainConfig)
        for path in (REPRODUCE / "configs" / "small64").glob("01_attribute_robust*.yaml")
    )
    readers = {config.output.name: config for config in robust_configs}
    for name, file_name in train.ROBUSTLY_READ.items():
        reader = readers[file_name]  # the config that writes the recipe's reader
        robust = train.variant_config(base, name).model
        (own,) = (c.embedder for c in robust.conditions if c.embedder.name == "attribute")
        options = robust.control.consistency_readers["attribute"].options
        assert {**options, "weights": Path(options["weights"])} == own.options | {"weights": reader.output}, name
        assert reader.initial_weights == Path(own.options["weights"])  # fine-tuned from the condition's own embedder
    shipped = train.variant_config(base, "controllable").model.control
    assert shipped.swap_share == 0.5 and shipped.consistency_weight == 1.0 and shipped.perturbed_known_weight == 0


@pytest.mark.parametrize(
    "suffix", ["_blended", "_group", "_group_blended", "_quiet", "_quiet_cosine", "_quiet_wide", "_blended_holecolour"]
)
@pytest.mark.parametrize("name", ["none", "full", "controllable", "unet_full", "a1_s0.1"])
def test_a_suffixed_variant_is_its_variant_with_only_what_the_suffix_says_changed(
    monkeypatch: pytest.MonkeyPatch, name: str, suffix: str
) -> None:
    """``_blended``: every loss judges the blended fill; ``_group``: the generator is normalised
    by GroupNorm; ``_quiet``: β is a tenth; ``_cosine``: the learning rates follow a cosine;
    ``_wide``: the generator is one and a half times as wide; ``_holecolour``: each hole's mean
    colour is held by a term of weight 1; the budget, the conditions and every other option stay
    those of ``name``."""
    train = load_reproduction_script("03_train.py", monkeypatch)
    base = load_config(REPRODUCE / "configs" / "small64" / "03_gan.yaml", RunConfig)
    plain, changed = train.variant_config(base, name), train.variant_config(base, f"{name}{suffix}")
    assert changed.training.output_dir == Path(base.training.output_dir) / f"{name}{suffix}"
    training, expected_training = changed.training.model_dump(), plain.training.model_dump()
    assert training.pop("lr_schedule") == ("cosine" if suffix.endswith("_cosine") else "constant")
    assert expected_training.pop("lr_schedule") == "constant"
    assert {**training, "output_dir": None} == {**expected_training, "output_dir": None}
    model, expected = changed.model.model_dump(), plain.model.model_dump()
    assert model.pop("beta") == pytest.approx(expected.pop("beta") / (10 if "_quiet" in suffix else 1))
    assert model.pop("blend_in_training") is ("_blended" in suffix) and not expected.pop("blend_in_training")
    assert model.pop("hole_colour_weight") == (1.0 if "_holecolour" in suffix else 0.0)
    assert expected.pop("hole_colour_weight") == 0.0
    assert model["generator"]["options"].pop("norm", "batch") == ("group" if "_group" in suffix else "batch")
    assert expected["generator"]["options"].pop("norm", "batch") == "batch"
    width = expected["generator"]["options"].pop("width")
    assert model["generator"]["options"].pop("width") == (width * 3 // 2 if "_wide" in suffix else width)
    assert model == expected


def test_a_wide_variant_of_a_config_without_a_generator_width_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``_wide`` scales the configured width; with none configured it cannot know the generator's
    default, so it says which option to set instead of guessing."""
    train = load_reproduction_script("03_train.py", monkeypatch)
    base = load_config(REPRODUCE / "configs" / "small64" / "03_gan.yaml", RunConfig)
    del base.model.generator.options["width"]
    with pytest.raises(SystemExit, match=r"_wide: expected .*model\.generator\.options\.width"):
        train.variant_config(base, "unet_full_wide")


def test_the_command_a_run_keeps_rebuilds_its_config_and_is_what_its_card_quotes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """03_train.py writes ``command.txt`` into each run folder; read back (quoting and all) it names the
    same config, variant and overrides, and 06_ship_demo_models.py quotes it on the model card."""
    train = load_reproduction_script("03_train.py", monkeypatch)
    ship = load_reproduction_script("06_ship_demo_models.py", monkeypatch)
    path = REPRODUCE / "configs" / "small64" / "03_gan.yaml"
    overrides = ["model.beta=0.1", "model.conditions.0.discriminator={name: projection, options: {width: 32}}"]
    command = train.training_command(path, "controllable_matched_blended", [*overrides, "training.seed=1"])
    words = shlex.split(command)
    script = ["python", "examples/reproduce/03_train.py"]
    assert words[:6] == [*script, "--config", str(path), "--variants", "controllable_matched_blended"]
    assert words[6::2] == ["--set"] * 3
    rebuilt = train.run_config(Path(words[3]), words[5], words[7::2])
    assert rebuilt.model.beta == 0.1 and rebuilt.training.seed == 1
    assert rebuilt.model.conditions[0].discriminator.name == "projection"
    assert "<base config> --variants full " in ship.training_command(tmp_path, "full", 2000)  # a run without one
    (tmp_path / "command.txt").write_text(command + "\n", encoding="utf-8")
    assert ship.training_command(tmp_path, "full", 2000) == command


def test_a_control_override_refines_the_recipe_instead_of_being_replaced_by_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A controllable variant sets its whole ``control`` section; ``--set model.control.KEY=...`` changes
    that recipe (before, the recipe silently replaced it), and every other ``--set`` the base config."""
    train = load_reproduction_script("03_train.py", monkeypatch)
    path = REPRODUCE / "configs" / "small64" / "03_gan.yaml"
    recipe = train.run_config(path, "controllable_matched_blended", ["model.beta=0.1"]).model
    asked = ["model.beta=0.1", "model.control.flip_entries={attribute: [Male]}", "model.control.flipped_entries=1"]
    refined = train.run_config(path, "controllable_matched_blended", asked).model
    assert recipe.control.flip_entries == {"attribute": ["Male", "Young", "Smiling", "Eyeglasses"]}
    assert refined.control.flip_entries == {"attribute": ["Male"]} and refined.control.flipped_entries == 1
    assert refined.control.model_dump(exclude={"flip_entries", "flipped_entries"}) == recipe.control.model_dump(
        exclude={"flip_entries", "flipped_entries"}
    )
    assert refined.beta == recipe.beta == 0.1 and refined.blend_in_training
    with pytest.raises(ValueError, match="flip_entries"):  # the paper's swap requests have no entries to flip
        train.run_config(path, "full", ["model.control.flip_entries={attribute: [Male]}"])


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (
            ["--config", "configs/small64/03_gan.yaml", "--variants", "full", "--set", "training.steps=-1"],
            "training.steps",
        ),
        (["--config", "no_such_config.yaml", "--variants", "full"], "no_such_config.yaml"),
    ],
)
def test_a_reproduction_script_ends_a_user_error_in_one_line_and_exit_code_2(arguments: list[str], named: str) -> None:
    done = subprocess.run(
        [sys.executable, "03_train.py", *arguments], cwd=REPRODUCE, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("03_train.py: error: ") and named in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr

"""Configs: unknown and out-of-range fields fail early with the field named."""

from __future__ import annotations

import json

import pydantic
import pytest

from semantic_inpaint.config import ModelConfig, RunConfig, load_config, save_config
from semantic_inpaint.model import BoostedGAN
from semantic_inpaint.quickstart import quickstart_configs
from semantic_inpaint.registry import RegistryError
from tests.conftest import tiny_model, tiny_run


def test_unknown_field_is_an_error_naming_it() -> None:
    with pytest.raises(pydantic.ValidationError, match=r"model\.generater\s+Extra inputs are not permitted"):
        RunConfig.model_validate({"model": {"generater": {}}, "training": {"output_dir": "x", "steps": 1}})


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [("training", "batch_size", 1), ("training", "steps", 0), ("model", "beta", -1.0), ("training", "lr_generator", 0)],
)
def test_out_of_range_values_are_errors(section: str, field: str, value: float) -> None:
    data = {"model": {}, "training": {"output_dir": "x", "steps": 1}}
    data[section][field] = value
    with pytest.raises(pydantic.ValidationError, match=rf"{section}\.{field}"):
        RunConfig.model_validate(data)


def test_component_options_are_validated_against_the_factory_signature() -> None:
    config = tiny_model()
    config["generator"]["options"]["widht"] = 8
    with pytest.raises(ValueError, match=r"(?s)options of generator 'dilated'.*widht\s+Extra inputs are not permitted"):
        BoostedGAN(ModelConfig.model_validate(config))
    config = tiny_model()
    config["generator"]["options"]["width"] = 1
    with pytest.raises(ValueError, match=r"width\s+Input should be greater than or equal to 4"):
        BoostedGAN(ModelConfig.model_validate(config))


def test_unknown_component_name_lists_the_registered_ones() -> None:
    config = tiny_model()
    config["generator"]["name"] = "unet-gan"
    with pytest.raises(
        RegistryError,
        match=r"unknown generator 'unet-gan'; registered generators: \['context_encoder', 'dilated', 'gated', ",
    ):
        BoostedGAN(ModelConfig.model_validate(config))


def test_the_same_embedder_twice_is_an_error() -> None:
    config = tiny_model(conditions=("attribute", "attribute"))
    with pytest.raises(pydantic.ValidationError, match=r"each embedder may appear once, received \['attribute'\]"):
        ModelConfig.model_validate(config)


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_configs_round_trip_through_each_file_format(tmp_path, suffix: str) -> None:
    config = tiny_run(tmp_path / "run")
    path = tmp_path / f"config{suffix}"
    if suffix == ".yaml":
        save_config(config, path)
    elif suffix == ".json":
        path.write_text(config.model_dump_json())
    else:
        import tomllib  # noqa: F401  (reader); write a minimal TOML by hand

        path.write_text('[training]\noutput_dir = "out"\nsteps = 3\n[model]\nresolution = 64\n')
        assert load_config(path).model.resolution == 64
        return
    assert load_config(path) == config


def test_unsupported_config_suffix_is_an_error(tmp_path) -> None:
    path = tmp_path / "config.ini"
    path.write_text("[x]")
    with pytest.raises(ValueError, match=r"expected a \.yaml, \.yml, \.toml or \.json file"):
        load_config(path)


def test_every_shipped_config_is_valid(tmp_path) -> None:
    for config in quickstart_configs(tmp_path, steps=5, device="cpu"):
        assert json.loads(config.model_dump_json())
    run = quickstart_configs(tmp_path, steps=5, device="cpu")[2]
    model = BoostedGAN(run.model, load_embedder_weights=False)
    assert sorted(model.conditions) == ["attribute", "segmentation"]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("training: {output_dir: x, steps: true}", "steps"),
        ("training: {output_dir: x, steps: 5, lr_generator: false}", "lr_generator"),
        ("training: {output_dir: x, steps: 5, betas: [0.5, true]}", "betas"),
        ("model: {resolution: yes}\ntraining: {output_dir: x, steps: 5}", "resolution"),
    ],
)
def test_a_bool_is_not_read_as_a_number(text: str, field: str) -> None:
    import yaml

    with pytest.raises(pydantic.ValidationError, match=rf"{field}: expected a number, received"):
        RunConfig.model_validate(yaml.safe_load(text))


def test_yaml_numbers_are_still_read_naturally() -> None:
    import yaml

    config = RunConfig.model_validate(yaml.safe_load("training: {output_dir: x, steps: 5, lr_generator: 1e-3}"))
    assert config.training.lr_generator == 0.001  # PyYAML reads 1e-3 as a string


def test_a_bool_is_not_a_number_in_component_options_either() -> None:
    model = tiny_model()
    model["generator"]["options"]["width"] = True
    with pytest.raises(
        ValueError, match=r"(?s)options of generator 'dilated'.*width: expected a number, received True"
    ):
        BoostedGAN(ModelConfig.model_validate(model))


def test_set_inside_a_section_the_file_leaves_out_starts_from_its_default(tmp_path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("training: {output_dir: runs/x, steps: 5}")
    config = load_config(path, overrides=["training.masks.options.centred_share=0.5"])
    assert (config.training.masks.name, config.training.masks.options) == ("rectangles", {"centred_share": 0.5})
    path.write_text("training: {output_dir: runs/x, steps: 5, masks: {name: lama}}")
    config = load_config(path, overrides=["training.masks.options.preset=thick"])
    assert (config.training.masks.name, config.training.masks.options) == ("lama", {"preset": "thick"})

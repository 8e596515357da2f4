"""The plugin registry: built-ins, entry points, duplicates and unknown names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from semantic_inpaint import cli, hookimpl
from semantic_inpaint.config import RunConfig
from semantic_inpaint.registry import HOOKS, Registry, RegistryError, get_registry
from semantic_inpaint.training import Trainer
from tests.conftest import tiny_model

PLUGIN_SOURCE = '''
"""A third-party plugin installed only through an entry point: a colour-histogram vector."""
import torch
import torch.nn.functional as F
from semantic_inpaint import SemanticEmbedder, hookimpl


class ColourHistogram(SemanticEmbedder):
    kind = "vector"
    target_key = "attributes"

    def __init__(self, *, bins: int = 4, weights=None):
        super().__init__("colour_histogram", 3 * bins, {"bins": bins})
        self.bins = bins
        self.scale = torch.nn.Parameter(torch.ones(1))

    def logits(self, image):
        centres = torch.linspace(-1, 1, self.bins, device=image.device)
        soft = torch.exp(-((image[:, :, None] - centres[None, None, :, None, None]) ** 2) * 8)
        return soft.mean(dim=(-1, -2)).flatten(1) * self.scale

    def activate(self, logits):
        return logits.clamp(0, 1)

    def pretrain_loss(self, image, target):
        return F.mse_loss(self.logits(image), target)


@hookimpl
def register_embedders(register):
    register("colour_histogram", ColourHistogram, description="per-channel colour histogram")
'''


@pytest.fixture
def entry_point_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A distribution that exists only as metadata + module on sys.path (never imported by us)."""
    (tmp_path / "colour_plugin.py").write_text(PLUGIN_SOURCE)
    dist_info = tmp_path / "colour_plugin-1.2.3.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: colour-plugin\nVersion: 1.2.3\n")
    (dist_info / "entry_points.txt").write_text("[semantic_inpaint]\ncolour = colour_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("colour_plugin", None)


def test_builtin_components_and_paper_plugins_are_registered() -> None:
    registry = Registry()
    assert {"attribute", "segmentation"} <= set(registry.components("embedder"))
    assert "dilated" in registry.components("generator")
    assert "conv" in registry.components("discriminator")
    assert {"rectangles", "center_square", "strokes"} <= set(registry.components("mask_generator"))
    assert {"folder", "celebahq", "synthetic_faces"} <= set(registry.components("dataset"))
    attribute = registry.get("embedder", "attribute")
    assert attribute.source.startswith("semantic-inpaint ")  # found through the entry point


def test_paper_plugins_arrive_only_through_entry_points() -> None:
    assert set(Registry(load_entry_points=False).components("embedder")) == set()


def test_entry_point_plugin_is_discovered_and_trains_in_a_model(entry_point_plugin: Path, tmp_path: Path) -> None:
    registry = Registry()
    component = registry.get("embedder", "colour_histogram")
    assert component.source == "colour-plugin 1.2.3"
    model = tiny_model(conditions=("attribute",))
    model["conditions"].append({"embedder": {"name": "colour_histogram", "options": {"bins": 3}}, "weight": 0.5})
    config = RunConfig.model_validate(
        {
            "model": model,
            "data": {"name": "synthetic_faces", "options": {"length": 16}},
            "training": {"output_dir": tmp_path / "run", "steps": 2, "batch_size": 4, "device": "cpu"},
        }
    )
    trainer = Trainer(config, registry=registry)
    record = trainer.fit(progress=False)
    assert record["step"] == 2
    assert torch.isfinite(torch.tensor(record["adv_colour_histogram"]))


def test_a_name_registered_twice_names_both_plugins() -> None:
    class Duplicate:
        @hookimpl
        def register_generators(self, register):
            register("dilated", lambda **kwargs: None)

    registry = Registry()
    registry.register_plugin(Duplicate(), name="my-duplicate")
    with pytest.raises(
        RegistryError,
        match=r"generator 'dilated' is registered twice: by plugin semantic_inpaint.builtins \(built-in\) "
        r"and by plugin my-duplicate \(registered directly\)",
    ):
        registry.components("generator")
    registry.unregister_plugin("my-duplicate")
    assert "dilated" in registry.components("generator")


def test_a_misspelt_hook_fails_loudly() -> None:
    class Misspelt:
        @hookimpl
        def register_embeders(self, register):
            pass

    with pytest.raises(Exception, match="register_embeders"):
        Registry().register_plugin(Misspelt(), name="misspelt")


def test_every_hook_has_documentation() -> None:
    from semantic_inpaint import hookspecs

    for hook in HOOKS.values():
        assert len((getattr(hookspecs, hook).__doc__ or "").strip()) > 40, hook


def test_plugins_command_lists_components_and_their_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plugins"]) == 0
    output = capsys.readouterr().out
    for expected in (
        "embedders:",
        "attribute",
        "segmentation",
        "generators:",
        "dilated",
        "mask_generators:",
        "datasets:",
    ):
        assert expected in output
    assert "(built-in)" in output and "(semantic-inpaint 0.1.0)" in output


def test_plugins_command_shows_entry_point_plugins(entry_point_plugin: Path, capsys, monkeypatch) -> None:
    from semantic_inpaint import registry

    monkeypatch.setattr(registry, "_default_registry", None)
    assert cli.main(["plugins"]) == 0
    assert "colour_histogram" in capsys.readouterr().out
    monkeypatch.setattr(registry, "_default_registry", None)


def test_every_public_name_has_a_docstring_with_an_example() -> None:
    import inspect

    import semantic_inpaint

    missing = [
        name
        for name in semantic_inpaint.__all__
        if name != "hookimpl"
        and ">>>" not in (inspect.getdoc(getattr(semantic_inpaint, name)) or "")
        and "Examples:\n    See" not in (inspect.getdoc(getattr(semantic_inpaint, name)) or "")
    ]
    assert not missing, f"public names without an example: {missing}"


def test_every_option_of_every_registered_component_is_documented() -> None:
    # the configuration reference renders these; an undocumented option is a blank cell there
    registry = get_registry()
    for kind in HOOKS:
        for name, component in registry.components(kind).items():
            undocumented = set(component.options_model.model_fields) - set(component.option_descriptions)
            assert not undocumented, f"{kind} {name!r}: no description in its docstring's Args for {undocumented}"

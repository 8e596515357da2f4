"""The plugin registry: one pluggy ``PluginManager`` and the components plugins declare.

Built-in networks, masks and datasets are a plugin of the library itself
(:mod:`semantic_inpaint.builtins`); everything else (the paper's attribute and
segmentation embedders included) arrives through the entry-point group
``semantic_inpaint``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import pluggy
import pydantic
from pydantic_core import to_jsonable_python

from semantic_inpaint import builtins, hookspecs
from semantic_inpaint.config import refuse_booleans_as_numbers

ComponentKind = Literal[
    "embedder", "generator", "discriminator", "mask_generator", "dataset", "judge", "reconstruction_loss"
]

#: hook name for each component kind
HOOKS: dict[ComponentKind, str] = {
    "embedder": "register_embedders",
    "generator": "register_generators",
    "discriminator": "register_discriminators",
    "mask_generator": "register_mask_generators",
    "dataset": "register_datasets",
    "judge": "register_judges",
    "reconstruction_loss": "register_reconstruction_losses",
}

#: keyword arguments the library passes itself, per kind (not user options)
CONTEXT: dict[ComponentKind, frozenset[str]] = {
    "embedder": frozenset(),
    "generator": frozenset({"resolution", "signals"}),
    "discriminator": frozenset({"resolution", "signal"}),
    "mask_generator": frozenset({"resolution"}),
    "dataset": frozenset({"resolution"}),
    "judge": frozenset(),
    "reconstruction_loss": frozenset(),
}

BUILTIN_PLUGIN_NAME = "semantic_inpaint.builtins"


class RegistryError(LookupError):
    """An unknown component name, or a name two plugins both registered.

    Examples:
        >>> Registry().get("generator", "nope")
        Traceback (most recent call last):
        ...
        semantic_inpaint.registry.RegistryError: unknown generator 'nope'; registered generators: [...]
    """


class _OptionsModel(pydantic.BaseModel):
    """Base of every component's options model: unknown options and bools as numbers are errors."""

    model_config = pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _refuse_booleans(cls, data: Any) -> Any:
        return refuse_booleans_as_numbers(cls, data)


@dataclass(frozen=True)
class Component:
    """One registered component and where it came from."""

    kind: ComponentKind
    name: str
    factory: Callable[..., Any]
    description: str
    plugin: str
    source: str

    @cached_property
    def options_model(self) -> type[pydantic.BaseModel]:
        """Pydantic model of the factory's options (its keyword parameters minus context)."""
        fields: dict[str, Any] = {}
        for parameter in inspect.signature(self.factory, eval_str=True).parameters.values():
            if parameter.name in CONTEXT[self.kind] or parameter.kind in (
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.VAR_KEYWORD,
            ):
                continue
            annotation = Any if parameter.annotation is inspect.Parameter.empty else parameter.annotation
            default = ... if parameter.default is inspect.Parameter.empty else parameter.default
            fields[parameter.name] = (annotation, default)
        return pydantic.create_model(f"{self.name}_{self.kind}_options", __base__=_OptionsModel, **fields)

    @cached_property
    def option_descriptions(self) -> dict[str, str]:
        """Each option's description, from the ``Args:`` section of the factory's docstring
        (Google style; ``first, last: ...`` describes both)."""
        doc = inspect.getdoc(self.factory) or ""
        section = re.search(r"^Args:\n((?:[ \t]+.*\n?|\n)+)", doc, re.MULTILINE)
        found: dict[str, str] = {}
        for match in re.finditer(r"^ {4}(\w+(?:, \w+)*): (.*(?:\n {8}.*)*)", section.group(1) if section else "", re.M):
            for name in match.group(1).split(", "):
                found[name] = " ".join(line.strip() for line in match.group(2).splitlines())
        return found

    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        try:
            validated = self.options_model.model_validate(dict(options))
        except pydantic.ValidationError as error:
            raise ValueError(f"options of {self.kind} {self.name!r} (plugin {self.plugin}): {error}") from None
        return {name: getattr(validated, name) for name in type(validated).model_fields}

    def build(self, options: Mapping[str, Any] | None = None, **context: Any) -> Any:
        """Validate ``options`` and call the factory with them and the library's context."""
        return self.factory(**context, **self.validate_options(options or {}))

    def build_resolved(self, options: Mapping[str, Any] | None = None, **context: Any) -> tuple[Any, dict[str, Any]]:
        """Build, and return the options it was built with, every default spelled out (JSON types).

        An option left ``None`` for the component to choose (a width scaled with the
        resolution, say) is read back from the built object's attribute of the same name.
        """
        validated = self.validate_options(options or {})
        built = self.factory(**context, **validated)
        resolved = {}
        for name, value in validated.items():
            chosen = getattr(built, name, None) if value is None else value
            resolved[name] = chosen if value is not None or isinstance(chosen, int | float | str) else None
        return built, to_jsonable_python(resolved)


class Registry:
    """Loads the plugins and builds components by ``(kind, name)``.

    Args:
        load_entry_points: also load third-party plugins from the ``semantic_inpaint``
            entry-point group (and the paper's two built-in plugins, which ship that way).

    Examples:
        >>> registry = Registry()
        >>> masks = registry.build("mask_generator", "center_square", {"fraction": 0.5}, resolution=8)
        >>> masks(1).sum().item()
        16.0
    """

    def __init__(self, load_entry_points: bool = True) -> None:
        self.plugin_manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.plugin_manager.add_hookspecs(hookspecs)
        self.plugin_manager.register(builtins, name=BUILTIN_PLUGIN_NAME)
        if load_entry_points:
            self.plugin_manager.load_setuptools_entrypoints(hookspecs.PROJECT_NAME)
        self.plugin_manager.check_pending()
        self._components: dict[ComponentKind, dict[str, Component]] | None = None

    def register_plugin(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object or module directly (tests, notebooks)."""
        registered = self.plugin_manager.register(plugin, name=name)
        self.plugin_manager.check_pending()
        self._components = None
        assert registered is not None
        return registered

    def unregister_plugin(self, name: str) -> None:
        self.plugin_manager.unregister(name=name)
        self._components = None

    def plugin_source(self, plugin_name: str) -> str:
        """``"built-in"`` or ``"<distribution> <version>"`` for an entry-point plugin."""
        plugin = self.plugin_manager.get_plugin(plugin_name)
        for candidate, dist in self.plugin_manager.list_plugin_distinfo():
            if candidate is plugin:
                return f"{dist.project_name} {dist.version}"
        return "built-in" if plugin_name == BUILTIN_PLUGIN_NAME else "registered directly"

    def _collect(self) -> dict[ComponentKind, dict[str, Component]]:
        collected: dict[ComponentKind, dict[str, Component]] = {kind: {} for kind in HOOKS}
        for kind, hook_name in HOOKS.items():
            hook = getattr(self.plugin_manager.hook, hook_name)
            for implementation in hook.get_hookimpls():
                plugin_name = implementation.plugin_name
                source = self.plugin_source(plugin_name)

                def register(
                    name: str,
                    factory: Callable[..., Any],
                    *,
                    description: str = "",
                    _kind: ComponentKind = kind,
                    _plugin: str = plugin_name,
                    _source: str = source,
                ) -> None:
                    existing = collected[_kind].get(name)
                    if existing is not None:
                        raise RegistryError(
                            f"{_kind} {name!r} is registered twice: by plugin {existing.plugin} "
                            f"({existing.source}) and by plugin {_plugin} ({_source})"
                        )
                    if not callable(factory):
                        raise TypeError(
                            f"plugin {_plugin}: factory of {_kind} {name!r} must be callable, "
                            f"received {type(factory).__name__}"
                        )
                    collected[_kind][name] = Component(_kind, name, factory, description, _plugin, _source)

                implementation.function(register=register)
        return collected

    def components(self, kind: ComponentKind) -> dict[str, Component]:
        """All components of one kind, by name."""
        if self._components is None:
            self._components = self._collect()
        return self._components[kind]

    def get(self, kind: ComponentKind, name: str) -> Component:
        available = self.components(kind)
        if name not in available:
            raise RegistryError(f"unknown {kind} {name!r}; registered {kind}s: {sorted(available) or 'none'}")
        return available[name]

    def build(
        self,
        kind: ComponentKind,
        name: str,
        options: Mapping[str, Any] | None = None,
        **context: Any,
    ) -> Any:
        """Build component ``name`` of ``kind`` with validated ``options`` and ``context``."""
        return self.get(kind, name).build(options, **context)

    def build_resolved(
        self, kind: ComponentKind, name: str, options: Mapping[str, Any] | None = None, **context: Any
    ) -> tuple[Any, dict[str, Any]]:
        """As :meth:`build`, and also the options used, every default spelled out.

        Examples:
            >>> _, options = get_registry().build_resolved("discriminator", "conv", {}, resolution=64)
            >>> options
            {'width': 16, 'condition_stride': 64}
        """
        return self.get(kind, name).build_resolved(options, **context)


_default_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry (built-ins + installed entry-point plugins).

    Examples:
        >>> "attribute" in get_registry().components("embedder")
        True
    """
    global _default_registry
    if _default_registry is None:
        _default_registry = Registry()
    return _default_registry


def reset_registry() -> None:
    """Forget the process-wide registry, e.g. after installing a plugin at run time."""
    global _default_registry
    _default_registry = None

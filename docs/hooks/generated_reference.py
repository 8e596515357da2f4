"""MkDocs hook: pages that describe code are generated from the code, so they cannot rot.

Markers replaced at build time:

* ``<!-- generated:config -->``: every config section, from the pydantic models;
* ``<!-- generated:components -->``: every registered component and its options;
* ``<!-- generated:cli -->``: the ``--help`` of every ``semantic-inpaint`` command;
* ``<!-- generated:models -->``: the model card of every shipped model.
"""

from __future__ import annotations

import argparse
import re
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from semantic_inpaint import config as config_module
from semantic_inpaint.cli import build_parser
from semantic_inpaint.pretrained import model_card, shipped_models
from semantic_inpaint.registry import HOOKS, get_registry
from semantic_inpaint.training.pretrain import PretrainConfig

SECTIONS: list[type[BaseModel]] = [
    config_module.RunConfig,
    config_module.ModelConfig,
    config_module.ConditionConfig,
    config_module.ComponentConfig,
    config_module.DataConfig,
    config_module.TrainingConfig,
    config_module.AugmentConfig,
    PretrainConfig,
    config_module.EvaluationConfig,
    config_module.RetrievalConfig,
]
CONSTRAINTS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "min length", "pattern": "pattern"}


def readable_type(annotation: Any) -> str:
    """``tuple[float ≥ 0 < 1, float ≥ 0 < 1]`` rather than pydantic's ``Annotated[..., FieldInfo(...)]``."""
    origin, arguments = get_origin(annotation), get_args(annotation)
    if annotation is type(None):
        return "None"
    if origin is Annotated:
        items = [inner for item in arguments[1:] for inner in [item, *getattr(item, "metadata", [])]]
        bounds = [f"{CONSTRAINTS[key]} {getattr(item, key)}" for item in items for key in CONSTRAINTS
                  if getattr(item, key, None) is not None]  # fmt: skip
        return " ".join([readable_type(arguments[0]), *bounds])
    if origin in (Union, UnionType):
        return " | ".join(readable_type(argument) for argument in arguments)
    if origin is Literal:
        return " | ".join(repr(argument) for argument in arguments)
    if origin is not None:
        inner = ", ".join("..." if argument is Ellipsis else readable_type(argument) for argument in arguments)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    return getattr(annotation, "__name__", None) or re.sub(r"typing\.|pathlib\.", "", str(annotation))


def type_name(annotation: Any) -> str:
    return readable_type(annotation).replace("|", "\\|")


def constraints(field: FieldInfo) -> str:
    found = []
    for item in field.metadata:
        for key, symbol in CONSTRAINTS.items():
            value = getattr(item, key, None)
            if value is not None:
                found.append(f"{symbol} `{value}`")
    return ", ".join(found)


def default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "**required**"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return f"`{value!r}`".replace("|", "\\|")


def fields_table(model: type[BaseModel], descriptions: dict[str, str] | None = None) -> str:
    rows = ["| field | type | default | constraints | description |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        description = (field.description or (descriptions or {}).get(name, "")).replace("|", "\\|")
        rows.append(
            f"| `{name}` | {type_name(field.annotation)} | {default(field)} | {constraints(field)} | {description} |"
        )
    return "\n".join(rows)


def config_reference() -> str:
    parts = []
    for model in SECTIONS:
        doc = (model.__doc__ or "").strip().split("\n\n")[0]
        parts.append(f"### `{model.__name__}`\n\n{doc}\n\n{fields_table(model)}\n")
    return "\n".join(parts)


def components_reference() -> str:
    registry = get_registry()
    parts = []
    for kind in HOOKS:
        for name, component in sorted(registry.components(kind).items()):
            parts.append(
                f"### {kind} `{name}`\n\n{component.description} — plugin `{component.plugin}` "
                f"({component.source}).\n\n"
                f"{fields_table(component.options_model, component.option_descriptions)}\n"
            )
    return "\n".join(parts)


def cli_reference() -> str:
    parser = build_parser()
    parts = [f"```text\n{parser.format_help()}```\n"]
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, subparser in subparsers.choices.items():
        parts.append(f"## `semantic-inpaint {name}`\n\n```text\n{subparser.format_help()}```\n")
    return "\n".join(parts)


def models_reference() -> str:
    """Every shipped model's card, from the package's ``models.json``, one heading level down."""
    return "\n".join(re.sub(r"^(#+) ", r"#\1 ", model_card(name), flags=re.MULTILINE) for name in shipped_models())


GENERATORS = {
    "<!-- generated:config -->": config_reference,
    "<!-- generated:components -->": components_reference,
    "<!-- generated:cli -->": cli_reference,
    "<!-- generated:models -->": models_reference,
}


def on_page_markdown(markdown: str, **_: Any) -> str:
    for marker, generate in GENERATORS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, generate())
    return markdown

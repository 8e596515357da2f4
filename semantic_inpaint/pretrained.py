"""The models shipped inside the package, by name.

``semantic_inpaint/assets/models.json`` lists them (written by
``examples/reproduce/06_ship_demo_models.py`` from the run folders, no hand-typed numbers);
each has its weights (``<name>.safetensors``) and a model card (``<name>.md``) beside it.
Two kinds are shipped: inpainters (``Inpainter.from_pretrained(name)``) and pretrained
embedders, which a run config names instead of a weights file
(``weights: "shipped:celebahq64-attribute"``).

    >>> "celebahq64-full" in shipped_models()
    True
    >>> print(model_card("celebahq64-full").splitlines()[0])
    # celebahq64-full
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from semantic_inpaint.config import SHIPPED_PREFIX

ASSETS = "assets"


def _asset(name: str) -> Path:
    """The installed path of one asset file (the package is installed as files, not zipped)."""
    with resources.as_file(resources.files("semantic_inpaint") / ASSETS / name) as path:
        return Path(path)


def shipped_models() -> dict[str, dict[str, Any]]:
    """Every shipped model's description: resolution, conditions, training data and run, licence."""
    return json.loads(_asset("models.json").read_text(encoding="utf-8"))


def _described(name: str) -> dict[str, Any]:
    models = shipped_models()
    if name not in models:
        raise ValueError(f"model: expected one of the shipped models {sorted(models)}, received {name!r}")
    return models[name]


def pretrained_weights(name: str, kind: str | None = None) -> Path:
    """The weights file of the shipped model ``name`` (e.g. ``"celebahq64-full"``).

    Args:
        kind: ``"inpainter"`` or ``"embedder"`` to refuse a model of the other kind.
    """
    described = _described(name)
    shipped_kind = described.get("kind", "inpainter")
    if kind is not None and shipped_kind != kind:
        use = (
            f'name it as an embedder\'s weights: "shipped:{name}"'
            if shipped_kind == "embedder"
            else (f'load it with Inpainter.from_pretrained("{name}")')
        )
        raise ValueError(
            f"model: expected a shipped {kind}, received {name!r}, which is a shipped {shipped_kind}; {use}"
        )
    return _asset(described["file"])


def resolve_weights(weights: str | Path) -> Path:
    """A weights option as a file: ``"shipped:NAME"`` is the shipped embedder NAME, anything else a path.

    Examples:
        >>> resolve_weights("shipped:celebahq64-attribute").name
        'celebahq64-attribute.safetensors'
    """
    if isinstance(weights, str) and weights.startswith(SHIPPED_PREFIX):
        return pretrained_weights(weights.removeprefix(SHIPPED_PREFIX), kind="embedder")
    return Path(weights)


def model_card(name: str) -> str:
    """The model card (Markdown) of the shipped model ``name``."""
    return _asset(_described(name)["card"]).read_text(encoding="utf-8")

"""How the reproduction scripts write an estimate: ``mean [low, high]`` (no torch needed)."""

from __future__ import annotations

import math
from typing import Any

Estimate = dict[str, Any]  # {"mean": float, "ci95": [low, high], "images": int}


def interval(value: Estimate, spec: str = ".3f", sign: str = "") -> str:
    """``mean [low, high]`` of one estimate; just the mean for a set statistic without an interval (FID).

    Examples:
        >>> interval({"mean": 0.4271, "ci95": [0.3972, 0.4573]})
        '0.427 [0.397, 0.457]'
    """
    low, high = value["ci95"]
    if math.isnan(low):
        return f"{value['mean']:{sign}{spec}}"
    return f"{value['mean']:{sign}{spec}} [{low:{sign}{spec}}, {high:{sign}{spec}}]"


def rate(score: dict[str, Any], key: str, spec: str = ".3f") -> str:
    """A rate that ``control.json`` keeps flat (``score[key]``, ``score[key + "_ci95"]``) as
    ``mean [low, high]``; ``—`` where it was not measured."""
    if key not in score:
        return "—"
    return interval({"mean": score[key], "ci95": score.get(f"{key}_ci95", [math.nan, math.nan])}, spec)

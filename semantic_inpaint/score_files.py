"""Save and load one method's per-image scores, so that an evaluation can be resumed and extended.

:func:`~semantic_inpaint.evaluation.score_inpainting` returns, per method, every metric image by
image; :func:`~semantic_inpaint.evaluation.summarise` turns them into means, bootstrap intervals
and paired differences. Kept on disk between the two, a method scored once (a model whose run
folder is long gone, a classical peer judged for twenty minutes) joins a later evaluation of new
methods without being run again, and the intervals and paired differences stay exact, because
they are computed from the same per-image values.

A score file is a compressed NumPy archive of plain arrays (loaded with ``allow_pickle=False``:
opening it executes nothing) and a JSON string of metadata: what was scored and how, so that a
reader can tell whether two files were scored on the same images, masks and judges.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from semantic_inpaint.evaluation import PerImage
from semantic_inpaint.io import atomic_path

_METADATA = "__metadata__"


def fingerprint(description: Any) -> str:
    """A short, stable hash of a JSON-serialisable ``description`` (what was evaluated and how)."""
    text = json.dumps(description, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes (e.g. the weights a score was computed with)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_scores(path: Path, scores: PerImage, metadata: dict[str, Any]) -> None:
    """Write one method's per-image ``scores`` (``{metric: (N, ...)}`` tensors) and ``metadata``
    (JSON-serialisable) to ``path`` atomically: a reader never sees half a file."""
    if _METADATA in scores:
        raise ValueError(f"scores: {_METADATA!r} is reserved for the metadata, received it as a metric")
    arrays = {name: value.detach().cpu().numpy() for name, value in scores.items()}
    arrays[_METADATA] = np.array(json.dumps(metadata, sort_keys=True))
    with atomic_path(path) as temporary, open(temporary, "wb") as stream:  # a stream: numpy adds no suffix
        np.savez_compressed(stream, **arrays)


def load_scores(path: Path) -> tuple[PerImage, dict[str, Any]]:
    """The per-image scores and metadata that :func:`save_scores` wrote to ``path``."""
    with np.load(path, allow_pickle=False) as archive:
        if _METADATA not in archive.files:
            raise ValueError(f"{path}: not a score file (no {_METADATA!r} entry)")
        metadata = json.loads(str(archive[_METADATA]))
        scores = {name: torch.from_numpy(archive[name].copy()) for name in archive.files if name != _METADATA}
    return scores, metadata

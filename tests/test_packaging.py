"""The wheel ships the built-in plugins and registers them through the entry-point group."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_wheel_contains_the_plugins_and_their_entry_points(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--skip-dependency-check",
            "--outdir",
            str(tmp_path),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("semantic_inpaint-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        text = archive.read(entry_points).decode()
    assert {"semantic_inpaint_plugins/attribute.py", "semantic_inpaint_plugins/segmentation.py"} <= names
    assert "semantic_inpaint/core.py" in names
    demo_files = {"astronaut.png", "full.safetensors", "none.safetensors", "demo_models.json", "README.md"}
    assert {f"semantic_inpaint/assets/{name}" for name in demo_files} <= names
    assert wheel.stat().st_size <= 15 * 2**20
    assert "[semantic_inpaint]" in text
    assert "attribute = semantic_inpaint_plugins.attribute" in text
    assert "segmentation = semantic_inpaint_plugins.segmentation" in text
    assert "semantic-inpaint = semantic_inpaint.cli:main" in text

"""The wheel ships the built-in plugins and registers them through the entry-point group."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_wheel_contains_the_plugins_and_their_entry_points(tmp_path: Path) -> None:
    build = subprocess.run(
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
        text=True,
    )
    log = build.stdout + build.stderr
    assert "Deprecat" not in log and "WARNING" not in log, log[-3000:]  # setuptools' warnings are upper-case
    (wheel,) = tmp_path.glob("semantic_inpaint-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        text = archive.read(entry_points).decode()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        fields = archive.read(metadata).decode().split("\n\n")[0].splitlines()
        model_sizes = {i.filename: i.file_size for i in archive.infolist() if i.filename.endswith(".safetensors")}
    assert "License-Expression: MIT" in fields
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "semantic_inpaint/py.typed" in names
    assert "Classifier: Typing :: Typed" in fields and any(f.startswith("Project-URL: Source") for f in fields)
    requirements = [f.removeprefix("Requires-Dist: ") for f in fields if f.startswith("Requires-Dist:")]
    packages = [re.split(r"[<>=!~\[; ]", requirement)[0].lower() for requirement in requirements]
    packages = [package for package in packages if package != "semantic-inpaint"]  # an extra reusing others
    assert len(packages) == len(set(packages)), f"a package is listed twice (extras reuse each other): {packages}"
    assert not [r for r in requirements if r.startswith(("torch", "torchvision")) and "<" in r], "torch is capped"
    assert {"semantic_inpaint_plugins/attribute.py", "semantic_inpaint_plugins/segmentation.py"} <= names
    assert "semantic_inpaint/core.py" in names
    demo_files = {"astronaut.png", "models.json", "README.md"} | {
        f"celebahq{name}.{suffix}"
        for name in ("64-full", "64-none", "64-controllable", "128-full", "128-none")
        for suffix in ("safetensors", "md")
    }
    assert {f"semantic_inpaint/assets/{name}" for name in demo_files} <= names
    assert max(model_sizes.values()) <= 15 * 10**6, f"a shipped model over 15 MB: {model_sizes}"
    assert wheel.stat().st_size <= 30 * 2**20
    assert "[semantic_inpaint]" in text
    assert "attribute = semantic_inpaint_plugins.attribute" in text
    assert "segmentation = semantic_inpaint_plugins.segmentation" in text
    assert "semantic-inpaint = semantic_inpaint.cli:main" in text

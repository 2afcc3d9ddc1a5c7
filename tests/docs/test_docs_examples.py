"""Every ```python block in docs/*.md and README.md runs.

Blocks of one file run in order in one namespace (a later block may use an earlier one's names).
A block whose first line is `# not run:` is skipped (kept for code that needs a GPU or the internet).
Only ```python blocks run; ```bash, ```sh and plain ``` blocks are shell commands or program output.
docs/custom-kernels.md runs under gf.device("sim"); everything else under gf.device("cpu").
A page that starts with `<!-- requires: module ... -->` (docs/export.md needs the gpuflow[interop] packages)
is skipped, saying which are missing, where any of those modules is not installed.
"""
from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

import gpuflow as gf

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
SIM_FILES = {"custom-kernels.md"}
# Pages owned elsewhere whose blocks are sketches using names they never define (README's teaser calls
# model.fit(x_train, y_train); sim.md's API sketch uses `code`, `x`, `y`, `n`): a NameError there skips the
# block with a visible reason instead of failing. Anywhere else it fails.
SKETCH_FILES = {"README.md", "sim.md"}
REQUIRES = re.compile(r"\A<!-- requires: ([^>]*?) -->")
FILES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def blocks(path: Path):
    """(line number, code) for each ```python block."""
    text = path.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in FENCE.finditer(text)]


def test_there_are_examples():
    assert sum(len(blocks(p)) for p in FILES) > 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_examples_run(path, tmp_path, monkeypatch):
    required = REQUIRES.match(path.read_text())
    missing = [m for m in (required.group(1).split() if required else []) if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{path.name} needs {', '.join(missing)}: pip install 'gpuflow[interop]'")
    found = blocks(path)
    if not found:
        pytest.skip(f"{path.name} has no python blocks")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    namespace = {"__name__": f"docs_{path.stem}"}
    skipped = []
    with gf.device("sim" if path.name in SIM_FILES else "cpu"):
        for line, code in found:
            if code.lstrip().startswith("# not run:"):
                continue
            try:
                exec(compile(code, f"{path.name}:{line}", "exec"), namespace)
            except ImportError as e:
                if "gpuflow[interop]" in str(e):  # a page about the optional extra, which is not installed
                    pytest.skip(f"{path.name}: {e}")
                raise
            except NameError as e:
                if path.name in SKETCH_FILES:
                    skipped.append(f"line {line}: {e}")
                    continue
                raise
    if skipped:
        pytest.skip(f"{path.name}: blocks using undefined names: {'; '.join(skipped)}")

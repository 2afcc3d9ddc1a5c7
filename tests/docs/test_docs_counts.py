"""Numbers the docs state about the kernels are the code's numbers, so the prose cannot go stale.

Any "N instantiations", "N builds" or "N kernel files" in docs/*.md or README.md must equal what
kernels/instantiations.txt and kernels/ hold today (two builds per instantiation: sm_80, sm_90).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gpuflow.runtime.sources import instantiations
from gpuflow.runtime.sources import kernel_files

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def _counts():
    n = sum(len(names) for names in instantiations().values())
    return {"instantiations": n, "builds": 2 * n, "kernel files": len(kernel_files())}


_CLAIM = re.compile(r"(\d[\d,]*)\s+(?:template\s+)?(?:kernel\s+)?(instantiations|builds|kernel files)\b")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_stated_kernel_counts_match_the_code(page):
    truth = _counts()
    wrong = [(m.group(0), truth[m.group(2)]) for m in _CLAIM.finditer(page.read_text())
             if int(m.group(1).replace(",", "")) != truth[m.group(2)]]
    assert not wrong, f"{page.name} states counts the code disagrees with: " + ", ".join(
        f"'{said}' (the code says {real})" for said, real in wrong)


def test_the_pattern_sees_the_usual_phrasings():
    found = [m.group(2) for m in _CLAIM.finditer("562 instantiations over 12 kernel files, 1,124 builds")]
    assert found == ["instantiations", "kernel files", "builds"]

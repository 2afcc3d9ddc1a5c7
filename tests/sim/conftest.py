"""Helpers for the simulator's tests: test kernels live in tests/sim/kernels/*.cu."""
from __future__ import annotations

import functools
from pathlib import Path

import pytest

from gpuflow.runtime.sim import SimModule

KERNELS = Path(__file__).parent / "kernels"


@functools.lru_cache(maxsize=None)
def module(filename: str, name_expressions: tuple = (), options: tuple = ()) -> SimModule:
    return SimModule((KERNELS / filename).read_text(), options=options, name_expressions=name_expressions,
                     name=filename)


@pytest.fixture
def load():
    return module

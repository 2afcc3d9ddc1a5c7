"""Dense linear algebra on NumPy (LAPACK): gpuflow/backend/solvers.py with xp = numpy."""
from __future__ import annotations

import functools

import numpy as np

from .. import solvers
from ._registry import IMPLS

for _name in solvers.NAMES:
    IMPLS[_name] = functools.partial(getattr(solvers, _name), np)

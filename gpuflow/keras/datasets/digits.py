"""The 8x8 handwritten digits shipped inside gpuflow (no download): 1,797 images of the digits 0-9 whose
pixels count the ink in 4x4 blocks of a 32x32 bitmap (0..16). See data/README for source and license."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ...errors import InvalidArgumentError

# Public names: what the API reference shows and `import *` takes (imported helpers are not API).
__all__ = ["load_data"]

DATA = Path(__file__).resolve().parent / "data" / "digits.csv.gz"
N_SAMPLES = 1797
DEFAULT_SEED = 113


def _read():
    with gzip.open(DATA, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    if table.shape != (N_SAMPLES, 65) or table.min() < 0 or table[:, :64].max() > 16 or table[:, 64].max() > 9:
        raise InvalidArgumentError(f"digits: {DATA} is damaged (shape {table.shape}, expected ({N_SAMPLES}, 65) with "
                                   f"pixels 0..16 and labels 0..9); reinstall gpuflow")
    return table[:, :64].astype(np.uint8).reshape(-1, 8, 8), table[:, 64].astype(np.uint8)


def load_data(test_split=0.2, seed=DEFAULT_SEED):
    """`((x_train, y_train), (x_test, y_test))`: x uint8 (n, 8, 8) with values 0..16, y uint8 labels 0..9.

    The split is stratified (each digit contributes `round(test_split * its count)` test images) and,
    like the order within each part, fixed by `seed`: the same seed always gives the same split.
    """
    if not 0.0 <= float(test_split) < 1.0:
        raise InvalidArgumentError(f"digits.load_data: test_split must be in [0, 1), got {test_split!r}")
    x, y = _read()
    rng = np.random.default_rng(seed)
    test = []
    for label in range(10):
        members = rng.permutation(np.flatnonzero(y == label))
        test.extend(members[:int(round(test_split * len(members)))])
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test] = True
    train_idx, test_idx = rng.permutation(np.flatnonzero(~is_test)), rng.permutation(np.flatnonzero(is_test))
    return (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx])

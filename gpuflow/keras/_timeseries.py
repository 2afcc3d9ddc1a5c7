"""keras.utils.timeseries_dataset_from_array: sliding windows over a series as a gf.data.Dataset."""
from __future__ import annotations

import numpy as np

from .. import devices, ops
from ..data import Dataset


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1, batch_size=128,
                                  shuffle=False, seed=None, start_index=None, end_index=None):
    """Keras 3's `timeseries_dataset_from_array`: a gf.data.Dataset of windows over `data` (its first axis is
    time). Window i is `data[s_i], data[s_i + sampling_rate], ...` (`sequence_length` of them), where the
    starts s_i run from `start_index` (default 0) by `sequence_stride`, keeping windows that end before
    `end_index` (default len(data)). With `targets`, each element is (window, targets[s_i]): the target of
    a window is the one at its first step (pass `targets=y[sequence_length:]` to predict the next value).
    Elements are batched by `batch_size` (the last batch may be smaller; None: unbatched). `shuffle` shuffles
    the window order (with `seed`), then shuffles again within a buffer of 8 batches, as Keras does. The
    data are kept once and each window is gathered when it is read."""
    series = _host(data)
    n = len(series)
    _check(n, int(sequence_length), sequence_stride, sampling_rate, start_index, end_index)
    start = start_index or 0
    end = n if end_index is None else end_index
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        target_array = _host(targets)
        count = min(count, len(target_array))
    starts = np.arange(0, max(count, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        seed = np.random.randint(1e6) if seed is None else seed
        np.random.RandomState(seed).shuffle(starts)

    with devices.device("cpu"):  # where map functions run
        window = ops.constant(np.arange(sequence_length, dtype=np.int64) * sampling_rate)
        steps = ops.constant(series[start:end])
        labels = None if targets is None else ops.constant(target_array[start:end])

    def sample(first):
        x = ops.gather(steps, first + window)
        return x if labels is None else (x, ops.gather(labels, first))
    dataset = Dataset.from_tensor_slices(starts).map(sample)
    if batch_size is None:
        return dataset.shuffle(1024, seed=seed) if shuffle else dataset
    if shuffle:
        dataset = dataset.shuffle(batch_size * 8, seed=seed)
    return dataset.batch(batch_size)


def _host(values):
    return np.asarray(values.numpy() if hasattr(values, "numpy") else values)


def _check(n, sequence_length, sequence_stride, sampling_rate, start_index, end_index):
    """Keras 3's argument checks, with its messages' rules (0 counts as not given for the two indices)."""
    what = "timeseries_dataset_from_array"
    if sequence_length <= 0:
        raise ValueError(f"{what}: sequence_length must be > 0, got {sequence_length}")
    if start_index:
        if start_index < 0 or start_index >= n:
            raise ValueError(f"{what}: start_index must be in [0, {n}) (the length of the data), got {start_index}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"{what}: end_index must be higher than start_index, got end_index={end_index} and "
                             f"start_index={start_index}")
        if end_index >= n or end_index <= 0:
            raise ValueError(f"{what}: end_index must be in (0, {n}) (the length of the data), got {end_index}; "
                             f"leave it None to use every step")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if not 0 < value < n:
            raise ValueError(f"{what}: {name} must be > 0 and lower than the length of the data ({n}), got {value}")

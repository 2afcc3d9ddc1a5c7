"""`gf.train.CheckpointManager` and `gf.train.latest_checkpoint`, as tf.train's.

    manager = gf.train.CheckpointManager(ckpt, "ckpts", max_to_keep=3)
    ckpt.restore(manager.latest_checkpoint)   # None the first time: nothing to restore
    ...
    manager.save()                           # ckpts/ckpt-1, ckpts/ckpt-2, ...; the oldest beyond 3 deleted

The kept checkpoints are listed in the directory's `checkpoint` file (state_file.py), so a manager made again on
the same directory (a restarted job) goes on from them.
"""
from __future__ import annotations

import os
import time

from .._traces import init_scope
from . import state_file
from .checkpoint import SUFFIX, Checkpoint


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The path of the latest checkpoint recorded in `checkpoint_dir` (by Checkpoint.save or a
    CheckpointManager), or None when there is none (or its file is gone)."""
    latest, _ = state_file.read(os.fspath(checkpoint_dir), latest_filename or state_file.NAME)
    return latest if latest is not None and os.path.exists(latest + SUFFIX) else None


class CheckpointManager:
    """Saves `checkpoint` into `directory` as `checkpoint_name-N`, keeping the latest `max_to_keep` (None: all),
    plus, with `keep_checkpoint_every_n_hours`, one every that many hours. With `step_counter` and
    `checkpoint_interval`, `save()` saves only once that many steps have passed since the last save."""

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
                 checkpoint_name="ckpt", step_counter=None, checkpoint_interval=None, init_fn=None):
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"CheckpointManager: checkpoint must be a gf.train.Checkpoint, got {checkpoint!r:.80}")
        if max_to_keep is not None and (isinstance(max_to_keep, bool) or not isinstance(max_to_keep, int)
                                        or max_to_keep < 1):
            raise ValueError(f"CheckpointManager: max_to_keep must be an int >= 1 or None (keep all), got "
                             f"{max_to_keep!r}")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("CheckpointManager: checkpoint_interval needs a step_counter to count the steps by")
        self._checkpoint, self._directory = checkpoint, os.fspath(directory)
        self._max_to_keep, self._every_hours = max_to_keep, keep_checkpoint_every_n_hours
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter, self._interval, self._init_fn = step_counter, checkpoint_interval, init_fn
        latest, kept = state_file.read(self._directory)
        # A restarted job goes on from what this directory keeps (what is left of it on disk).
        self._kept = [(p, os.path.getmtime(p + SUFFIX)) for p in kept if os.path.exists(p + SUFFIX)]
        if latest and os.path.exists(latest + SUFFIX) and latest not in [p for p, _ in self._kept]:
            self._kept.append((latest, os.path.getmtime(latest + SUFFIX)))
        self._last_preserved = time.time()
        self._last_step = None

    @property
    def directory(self):
        return self._directory

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def checkpoints(self) -> list:
        """The paths of the checkpoints kept, oldest first."""
        return [p for p, _ in self._kept]

    @property
    def latest_checkpoint(self):
        """The path of the latest checkpoint kept, or None."""
        return self._kept[-1][0] if self._kept else None

    @property
    def checkpoint_interval(self):
        return self._interval

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Save a checkpoint numbered `checkpoint_number` (default: the checkpoint's save counter, incremented
        first), delete the oldest beyond `max_to_keep`; returns its path, or None when `checkpoint_interval` steps
        have not passed yet."""
        if self._interval is not None and check_interval:
            step = int(_value(self._step_counter))
            if self._last_step is not None and step < self._last_step + self._interval:
                return None
            self._last_step = step
        with init_scope():
            self._checkpoint.save_counter.assign_add(1)
        number = int(_value(checkpoint_number if checkpoint_number is not None else self._checkpoint.save_counter))
        path = self._checkpoint.write(f"{self._prefix}-{number}")
        self._kept = [(p, t) for p, t in self._kept if p != path] + [(path, time.time())]
        self._sweep()
        state_file.write(self._directory, path, self.checkpoints)
        return path

    def restore_or_initialize(self):
        """Restore the latest checkpoint kept and return its path; with none, call `init_fn` (if given) and return
        None."""
        latest = self.latest_checkpoint
        if latest is not None:
            self._checkpoint.restore(latest)
            return latest
        if self._init_fn is not None:
            self._init_fn()
        return None

    def _sweep(self):
        """Delete the oldest checkpoints beyond max_to_keep (those keep_checkpoint_every_n_hours preserves stay,
        unlisted, as in TF)."""
        if self._max_to_keep is None:
            return
        while len(self._kept) > self._max_to_keep:
            path, made = self._kept.pop(0)
            if self._every_hours is not None and made - self._last_preserved >= self._every_hours * 3600:
                self._last_preserved = made
                continue
            try:
                os.remove(path + SUFFIX)
            except FileNotFoundError:
                pass


def _value(x):
    return x.numpy() if hasattr(x, "numpy") else x

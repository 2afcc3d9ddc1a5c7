"""`gf.keras.callbacks.BackupAndRestore`: a job that is interrupted (a worker died, the machine was
preempted) and started again resumes from the last completed epoch, as in Keras 3.

At the end of every epoch the model's weights, the optimizer's state and the number of epochs done are
written to `backup_dir/latest.safetensors` (atomically: to a temporary file, then renamed). When fit
starts and that file exists, they are restored and fit starts at the next epoch. When training ends
normally the backup is deleted (delete_checkpoint=True). In a multi-worker job only the chief writes and
reads the backup; its content reaches the other workers over the worker group, so they need no shared
file system.
"""
from __future__ import annotations

import contextlib
import json
import os

import numpy as np

from .callbacks import Callback

_FILE = "latest.safetensors"


class BackupAndRestore(Callback):
    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir must be a directory path")
        if save_freq != "epoch":
            raise NotImplementedError(f"BackupAndRestore: save_freq={save_freq!r} is not supported; backups are "
                                      f"made at the end of each epoch (save_freq='epoch')")
        self.backup_dir, self.save_freq, self.delete_checkpoint = os.fspath(backup_dir), save_freq, delete_checkpoint
        self._path = os.path.join(self.backup_dir, _FILE)

    def _strategy(self):
        from .distributed_step import strategy_of
        return strategy_of(self.model, compiled=False)

    def on_train_begin(self, logs=None):
        from .distributed_step import should_checkpoint
        model = self.model
        if not model.weights:
            raise ValueError(f"BackupAndRestore: {model.name} has no weights yet; build it (give its first layer an "
                             f"input shape, or call it once) before fit, so a backup can be restored into it")
        blob = b""
        if should_checkpoint(model) and os.path.exists(self._path):
            with open(self._path, "rb") as f:
                blob = f.read()
        strategy = self._strategy()
        workers = strategy.extended._workers if strategy is not None else None
        if workers is not None and workers.size > 1:
            blob = workers.broadcast_bytes(blob)  # every worker resumes from the chief's backup
        if blob:
            with strategy.scope() if strategy is not None else contextlib.nullcontext():  # optimizer slots made here are mirrored
                model._initial_epoch = _restore(model, blob, self._path)

    def on_epoch_end(self, epoch, logs=None):
        from .distributed_step import should_checkpoint
        if should_checkpoint(self.model):
            _save(self.model, epoch + 1, self._path)

    def on_train_end(self, logs=None):
        from .distributed_step import should_checkpoint
        if self.delete_checkpoint and should_checkpoint(self.model) and os.path.exists(self._path):
            os.remove(self._path)
            try:
                os.rmdir(self.backup_dir)
            except OSError:
                pass  # holds other files: leave it


def _save(model, epochs_done, path):
    from safetensors.numpy import save_file
    from .engine.model_file import _optimizer_state
    from ..file_io import atomic_file
    from .engine.saving import weight_paths
    from .optimizers import Optimizer
    entries = weight_paths(model)
    tensors = {f"layers/{p}": np.asarray(v.numpy(), order="C") for p, v in entries}
    params = []
    if isinstance(model.optimizer, Optimizer) and model.optimizer.built:
        params, arrays = _optimizer_state(model, entries)
        tensors.update(arrays)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_file(path) as tmp:  # fsynced and renamed over the old backup: a crash leaves one whole file
        save_file(tensors, tmp, metadata={"format": "gpuflow.backup", "epoch": str(epochs_done),
                                          "optimizer_params": json.dumps(params)})


def _restore(model, blob, path) -> int:
    """Assigns the backup's weights and optimizer state to `model`; returns the number of epochs done."""
    from .engine.model_loading import _restore_optimizer, assign_layer_weights
    from ..file_io import read_safetensors
    metadata = _metadata(blob, path)
    stored = read_safetensors(blob)
    problems = assign_layer_weights(model, stored)
    if problems:
        raise ValueError(f"BackupAndRestore: the backup {path} does not match {model.name} ({len(problems)} "
                         f"difference(s)); delete it to start afresh:\n  " + "\n  ".join(problems))
    params = json.loads(metadata.get("optimizer_params", "[]"))
    if params:
        _restore_optimizer(model, params, stored, path)
    return int(metadata["epoch"])


def _metadata(blob, path) -> dict:
    """The safetensors header's __metadata__ (8-byte little-endian header length, then the JSON header)."""
    try:
        size = int.from_bytes(blob[:8], "little")
        metadata = json.loads(blob[8:8 + size]).get("__metadata__") or {}
        if metadata.get("format") != "gpuflow.backup" or "epoch" not in metadata:
            raise ValueError("not a BackupAndRestore file")
        return metadata
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"BackupAndRestore: {path} is not a backup written by BackupAndRestore ({e}); delete "
                         f"it to start afresh") from None

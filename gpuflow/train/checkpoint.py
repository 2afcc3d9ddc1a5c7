"""`gf.train.Checkpoint`: tf.train.Checkpoint's object-based checkpoints, one safetensors file per save.

    ckpt = gf.train.Checkpoint(step=gf.Variable(1), optimizer=opt, net=model)
    path = ckpt.save("ckpts/ckpt")          # 'ckpts/ckpt-1': the file is ckpts/ckpt-1.safetensors
    ckpt.restore(gf.train.latest_checkpoint("ckpts")).expect_partial()

What is saved: every Variable reachable from the keyword arguments, keyed by where it is reached (TF's object
graph, written as paths): a Variable under its keyword, a Keras model's or layer's weights by the paths
`save_weights` uses (`net/dense_1/kernel`), a gf.Module's variables by their attribute paths (`net/w`,
`net/layers/0/b`), an optimizer's step count, learning rate and slots (the slots under their parameter's path:
`optimizer/slots/net/dense_1/kernel/m`), a nested Checkpoint's under its keyword, and `save_counter`. A
variable reached twice is saved once, under the first path (keywords in sorted order). The file holds data only:
reading it never runs code.

Restoring assigns each saved value to the variable at the same path now. As in TF, a value whose variable does
not exist yet (a model not built yet, an optimizer that has not made its slots) waits, and is assigned when a
Keras layer is built or an optimizer makes its slots (deferred restoration); the returned status says what is
still waiting (`assert_consumed`).
"""
from __future__ import annotations

import os
import threading

import numpy as np

from .. import dtypes
from .._traces import init_scope
from ..errors import NotFoundError
from ..file_io import atomic_file, read_safetensors
from ..tensor import Variable
from . import state_file

SUFFIX = ".safetensors"
FORMAT = "gpuflow.checkpoint"


class Checkpoint:
    """tf.train.Checkpoint: `Checkpoint(root=None, **objects)`; `save`/`write` a checkpoint of their variables,
    `restore`/`read` one (see the module's docstring for what is saved and how values are matched)."""

    def __init__(self, root=None, **kwargs):
        self._children = {}
        if root is not None:
            _check_trackable("root", root)
        for name, obj in kwargs.items():
            if obj is None:
                continue
            _check_trackable(name, obj)
            self._children[name] = obj
        self._root = root
        with init_scope():
            self.save_counter = Variable(0, trainable=False, dtype=dtypes.int64, name="save_counter")

    def __setattr__(self, name, value):
        # TF tracks objects assigned as attributes after construction too (`ckpt.model = model`).
        if not name.startswith("_") and name != "save_counter" and value is not None and _is_trackable(value):
            self._children[name] = value
        object.__setattr__(self, name, value)

    # ---- writing ----------------------------------------------------------------------------------
    def write(self, file_prefix, options=None) -> str:
        """Write a checkpoint at `file_prefix` (the file: `file_prefix` + '.safetensors'); returns the path to give
        `read`/`restore`. Unlike `save`, neither numbers it nor records it as the directory's latest."""
        from safetensors.numpy import save_file
        path = os.fspath(file_prefix)
        tensors = {key: np.asarray(var.numpy(), order="C") for key, var in _items(self)}
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with atomic_file(path + SUFFIX) as tmp:  # a crash leaves the old checkpoint or the new one, whole
            save_file(tensors, tmp, metadata={"format": FORMAT})
        return path

    def save(self, file_prefix, options=None) -> str:
        """Number the checkpoint (`save_counter` + 1), write it at `file_prefix-N` and record it as the latest in
        its directory's `checkpoint` file (what `gf.train.latest_checkpoint` reads); returns `file_prefix-N`."""
        with init_scope():
            self.save_counter.assign_add(1)
        path = self.write(f"{os.fspath(file_prefix)}-{int(self.save_counter.numpy())}")
        state_file.record(os.path.dirname(os.path.abspath(path)), path)
        return path

    # ---- reading ----------------------------------------------------------------------------------
    def read(self, save_path, options=None) -> "CheckpointLoadStatus":
        """Restore the values saved at `save_path` (what `write` or `save` returned). Values whose variables do
        not exist yet are assigned when they are made; the status tells which are still waiting."""
        return self.restore(save_path)

    def restore(self, save_path, options=None) -> "CheckpointLoadStatus":
        """As `read`; `save_path` None (no checkpoint yet, e.g. `latest_checkpoint` of an empty directory) restores
        nothing, as in TF."""
        if save_path is None:
            return CheckpointLoadStatus(self, {}, None)
        path = os.fspath(save_path)
        file = path if path.endswith(SUFFIX) else path + SUFFIX
        try:
            with open(file, "rb") as f:
                blob = f.read()
        except FileNotFoundError:
            raise NotFoundError(f"Checkpoint.restore: no checkpoint at {path} (looked for {file}); pass what save() "
                                f"or write() returned, or gf.train.latest_checkpoint(dir)") from None
        try:
            stored = read_safetensors(blob)
        except ValueError as e:
            raise ValueError(f"Checkpoint.restore: {file} is not a checkpoint: {e}") from None
        status = CheckpointLoadStatus(self, stored, path)
        with _lock:
            status._assign()
        return status


class CheckpointLoadStatus:
    """What a restore matched: values still waiting for their variables are assigned when those are made."""

    def __init__(self, checkpoint, stored: dict, path):
        self._checkpoint, self._path = checkpoint, path  # (held: `Checkpoint(model=m).restore(p)` keeps no other)
        self._waiting = dict(stored)   # key → saved value not assigned yet
        self._matched = set()          # keys assigned

    def _assign(self):
        checkpoint = self._checkpoint
        if not self._waiting:
            _deferred.discard(self)
            return
        pairs = []
        for key, var in _items(checkpoint):
            value = self._waiting.get(key)
            if value is None:
                continue
            if tuple(value.shape) != tuple(var.shape):
                raise ValueError(f"Checkpoint.restore: {key} has shape {tuple(value.shape)} in {self._path}, but the "
                                 f"variable there now has shape {tuple(var.shape)}; restore into an object built "
                                 f"like the one that was saved")
            pairs.append((key, var, value))
        with init_scope():  # (a layer built inside a gf.function's trace: the values are assigned now, not traced)
            for key, var, value in pairs:
                var.assign(value.astype(var.dtype.np))
                del self._waiting[key]
                self._matched.add(key)
        if self._waiting:
            _deferred.add(self)
        else:
            _deferred.discard(self)

    def assert_consumed(self):
        """Raise AssertionError unless every saved value was assigned and every variable got one."""
        self.assert_existing_objects_matched()
        if self._waiting:
            raise AssertionError(f"Checkpoint.restore: {len(self._waiting)} saved value(s) of {self._path} have no "
                                 f"variable yet: {_listing(self._waiting)}")
        return self

    def assert_existing_objects_matched(self):
        """Raise AssertionError if a variable the checkpoint tracks now got no saved value."""
        missing = [key for key, _ in _items(self._checkpoint)] if self._path else []
        missing = [key for key in missing if key not in self._matched]
        if missing:
            raise AssertionError(f"Checkpoint.restore: {len(missing)} variable(s) got no value from {self._path}: "
                                 f"{_listing(missing)}")
        return self

    def assert_nontrivial_match(self):
        """Raise AssertionError unless some value besides the save counter was assigned."""
        if not self._matched - {"save_counter"}:
            raise AssertionError(f"Checkpoint.restore: nothing of {self._path} matched a variable")
        return self

    def expect_partial(self):
        """Accept that part of the checkpoint is not restored (TF's way to silence its warnings)."""
        return self

    def run_restore_ops(self, session=None):
        """TF 1's: values are assigned when restored."""

    def initialize_or_restore(self, session=None):
        """TF 1's: variables are initialized when made and values assigned when restored."""


# Restores with values waiting for their variables, held until every value is assigned (whether or not the caller
# kept the status); Keras layers and optimizers call `restore_deferred` when they make variables.
_deferred: set = set()


_lock = threading.Lock()  # replicas build their layers in threads of their own


def restore_deferred():
    """Assign the waiting values of every restore whose variables now exist (a layer was built, an optimizer
    made its slots)."""
    if _deferred:
        with _lock:
            for status in list(_deferred):
                status._assign()


def _is_trackable(obj) -> bool:
    return isinstance(obj, (Variable, Checkpoint)) or hasattr(obj, "_checkpoint_variables")


def _check_trackable(name, obj):
    if not _is_trackable(obj):
        raise TypeError(f"Checkpoint: {name}={obj!r:.80} is not something a checkpoint can track; pass gf.Variables, "
                        f"Keras models, layers and optimizers, gf.Modules or other Checkpoints")


def _items(checkpoint) -> list:
    """[(key, Variable)] of everything `checkpoint` tracks, each variable once (see the module's docstring)."""
    items, key_of = [], {}

    def add(key, var):
        if id(var) not in key_of:
            key_of[id(var)] = key
            items.append((key, var))

    optimizers = []

    def visit(prefix, obj):
        if isinstance(obj, Variable):
            add(prefix, obj)
        elif isinstance(obj, Checkpoint):
            if obj._root is not None:
                visit(prefix, obj._root)
            for name in sorted(obj._children):
                visit(f"{prefix}/{name}" if prefix else name, obj._children[name])
        else:
            for key, var in obj._checkpoint_variables():
                add(f"{prefix}/{key}" if prefix else key, var)
            if hasattr(obj, "_checkpoint_slot_variables"):
                optimizers.append((prefix, obj))

    add("save_counter", checkpoint.save_counter)
    visit("", checkpoint)
    for prefix, optimizer in optimizers:  # last: a slot is keyed by its parameter's path, wherever that is
        for key, var in optimizer._checkpoint_slot_variables(lambda v: key_of.get(id(v))):
            add(f"{prefix}/{key}" if prefix else key, var)
    return items


def _listing(keys, most=8) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:most]) + (f", ... ({len(keys) - most} more)" if len(keys) > most else "")

"""The check behind gf.debugging.enable_check_numerics: a NaN or Inf in an op's float output raises
InvalidArgumentError naming the op, its inputs and the user's source line that ran it.

`bind` shows every op's results to `NUMERICS.check` while the check is on. Where the check runs:
* cpu: NumPy scans the output at once and the op itself raises.
* cuda and sim: kernels/numerics.cu scans the output on the device and records the number of the first
  failing check in a per-device flag (int32 [number, kinds]); nothing waits for it. The flag is read
  where a value reaches Python anyway (Backend.to_numpy: .numpy(), float(), bool(), the loss fit logs
  each step), and that read raises, naming the op from the descriptions kept here by number. So a check
  costs the device one launch and the host no sync; the error arrives at the next host read, as a
  CUDA error does.

The user's source line is the first frame outside the gpuflow package: found when the error is raised
on cpu, but captured when the op runs on a device (only its file and line, only while the check is on),
since the stack is gone by the time the flag is read.
"""
from __future__ import annotations

import collections
import os
import sys
import threading

import numpy as np

from ..errors import InvalidArgumentError

NAN, POS_INF, NEG_INF = 1, 2, 4  # the kinds kernels/numerics.cu ORs into flag[1]
# Checks a device may run between two reads of its flag. When a device has that many unread checks
# the next check reads the flag itself (one host read per RING ops), so the description of the
# first failing op (the oldest unread one) is never dropped.
RING = 4096
_MAX_SEQ = 2**31 - 1  # the flag is int32; 0 means "no failure"

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # .../gpuflow/


def user_frame(depth: int = 1):
    """(filename, line) of the innermost caller outside the gpuflow package, or None."""
    frame = sys._getframe(depth)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    return None if frame is None else (frame.f_code.co_filename, frame.f_lineno)


def host_kinds(array) -> int:
    """The NAN | POS_INF | NEG_INF bits of what `array` (NumPy, any float dtype) holds; 0 when all finite."""
    finite = np.isfinite(array)
    if finite.all():
        return 0
    bad = array[~finite]
    nan = np.isnan(bad)
    return (NAN if nan.any() else 0) | (POS_INF if (~nan & (bad > 0)).any() else 0) | \
        (NEG_INF if (~nan & (bad < 0)).any() else 0)


def kinds_text(kinds: int) -> str:
    names = [n for bit, n in ((NAN, "NaN"), (POS_INF, "+Infinity"), (NEG_INF, "-Infinity")) if kinds & bit]
    return " and ".join(names) or "NaN or Infinity"


def _spec(t) -> tuple:
    return t._dtype.name, tuple(t._shape), str(t._device)


class Described:
    """What an error says about one checked output, kept as plain values (no tensors kept alive)."""
    __slots__ = ("op", "inputs", "index", "n_outputs", "output", "where", "message")

    def __init__(self, op, inputs, index, n_outputs, output, where, message=None):
        self.op, self.inputs, self.index, self.n_outputs = op, inputs, index, n_outputs
        self.output, self.where, self.message = output, where, message

    def error(self, kinds: int, on_device: bool) -> InvalidArgumentError:
        dtype, shape, device = self.output
        found = kinds_text(kinds)
        head = (f"{self.message} : Tensor had {found} values" if self.message is not None else
                f"!!! Detected {found} in output {self.index} of op \"{self.op}\" (# of outputs: {self.n_outputs}) !!!")
        inputs = ", ".join(f"{d}{list(s)} on {dev}" for d, s, dev in self.inputs) or "none"
        where = f"{self.where[0]}:{self.where[1]}" if self.where else "unknown (no frame outside gpuflow)"
        lines = [head, f"  op: {self.op}", f"  output {self.index}: {dtype}{list(shape)} on {device}",
                 f"  inputs: {inputs}", f"  created at: {where}"]
        if on_device:
            lines.append("  (found by a check on the device, reported at the next read of a value to the host: "
                         "later ops may have run since)")
        lines.append("Look at what feeds that op: a log or sqrt of a negative, 0/0, inf*0, an overflow, a learning "
                     "rate too high." + (" gf.debugging.disable_check_numerics() turns the check of every op off."
                                         if self.message is None else ""))
        return InvalidArgumentError("\n".join(lines))


class _DeviceState:
    """One device's flag (int32 [seq, kinds] on the device) and the descriptions of its unread checks."""
    __slots__ = ("flag", "ops", "seq")

    def __init__(self, flag):
        self.flag, self.ops, self.seq = flag, collections.OrderedDict(), 0


class NumericsCheck:
    """The process-wide switch (`enabled`, as TF's enable_check_numerics is process-wide) and the state
    of every device's flag."""

    def __init__(self):
        self.enabled = False
        self.pending = set()   # backends with checks launched since their flag was last read
        self.flag_reads = 0    # host reads of a device flag (tests prove the check adds no sync per op)
        self._devices: dict = {}
        self._lock = threading.RLock()

    def enable(self):
        self.enabled = True

    def disable(self):
        self.enabled = False

    # ---- the hook in bind ---------------------------------------------------------------------
    def check(self, prim, inputs, results):
        """After an op: raise (cpu) or queue a device check (cuda, sim) for each float output."""
        if prim.name == "check_numerics":  # checks itself, with the user's message
            return
        where = None
        n = len(results)
        for index, t in enumerate(results):
            if t._dtype.kind != "f" or 0 in t._shape:
                continue
            if where is None:
                where = user_frame(2)
            described = Described(prim.name, [_spec(x) for x in inputs], index, n, _spec(t), where)
            self.check_array(t._device.backend, t._data, t._dtype, described)

    def check_array(self, backend, data, dtype, described: Described):
        """Check one output: at once on cpu (raising), else by a device launch read at the next sync."""
        if backend.device_checks is None:
            kinds = host_kinds(data)
            if kinds:
                raise described.error(kinds, on_device=False)
            return
        scan = backend.device_checks.scan
        self.defer(backend, described, lambda flag, seq: scan(backend, data, dtype, flag, seq))

    def defer(self, backend, described, launch):
        """Number a device check and run `launch(flag, seq)`, a kernel that stores seq in the device's
        flag[0] (if still 0) when it fails; the next read of the flag raises `described.error(kinds,
        on_device=True)`. The NaN scan above and the index checks of kernels/scatter.cu use it."""
        with self._lock:
            state = self._device(backend)
            if len(state.ops) >= RING:
                self.sync(backend)
            state.seq = state.seq % _MAX_SEQ + 1
            state.ops[state.seq] = described
            self.pending.add(backend)
            launch(state.flag, state.seq)

    def _device(self, backend) -> _DeviceState:
        state = self._devices.get(backend)
        if state is None:
            state = self._devices[backend] = _DeviceState(backend.device_checks.new_flag(backend))
        return state

    # ---- the sync point (Backend.to_numpy) ----------------------------------------------------
    def sync(self, backend):
        """Read `backend`'s flag if it has unread checks; raise for the first failing one."""
        if backend not in self.pending:
            return
        read_and_clear = backend.device_checks.read_and_clear
        with self._lock:
            if backend not in self.pending:
                return
            state = self._devices[backend]
            self.pending.discard(backend)
            self.flag_reads += 1
            seq, kinds = read_and_clear(backend, state.flag)
            described = state.ops.get(seq) if seq else None
            state.ops.clear()
        if seq:
            if described is None:  # cannot happen while RING bounds the unread checks; say so if it does
                raise InvalidArgumentError(f"!!! Detected {kinds_text(kinds)} in an op on {backend.name} "
                                           f"(check #{seq}, whose description was not kept) !!!")
            raise described.error(kinds, on_device=True)


NUMERICS = NumericsCheck()

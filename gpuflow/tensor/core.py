"""Tensor: an immutable handle on a backend array (NumPy on cpu and sim, CuPy on cuda) plus its dtype and
device; and AUTOCAST, the mixed-precision scope every op consults.

The methods that compute (operators, indexing, `.to(device)`, the notebook view) run ops, and the op layer
sits above this one: gpuflow/ops/tensor_methods.py gives Tensor those methods when gpuflow.ops is imported
(as TF's math_ops overrides tf.Tensor's operators), so every computation still goes through the one
dispatch point, gpuflow/ops/dispatch.py.
"""
from __future__ import annotations

import itertools
import threading

import numpy as np

from .shape import Symbol, TensorShape, TensorSpec

_ids = itertools.count(1)


class Tensor:
    # `_keras_mask` (left unset unless a Keras layer attaches a mask, so read it with getattr(t, "_keras_mask",
    # None)): the (batch, time) mask of a masked sequence, as TF keeps it on the tensor.
    """An immutable n-dimensional array on one device (`cpu`, `sim` or `cuda:N`), as tf.Tensor.

        `.numpy()` copies it to the host; Python operators, indexing (ints, slices, `gf.newaxis`, boolean
        masks) and `.to(device)` work as in TF. Make tensors with `gf.constant` and the ops, not this constructor.

        Differs from TF:
            An op on tensors of two devices is an error (copy with `.to(device)`); there is no soft placement.
    """
    __slots__ = ("_data", "_dtype", "_device", "_shape", "_id", "_keras_mask", "__weakref__")
    # Let `ndarray <op> Tensor` call our reflected operators instead of NumPy's.
    __array_priority__ = 100

    def __init__(self, data, dtype, device):
        self._data, self._dtype, self._device = data, dtype, device
        self._shape = tuple.__new__(TensorShape, data.shape)
        self._id = next(_ids)

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    ndim = property(lambda self: len(self._shape))
    rank = ndim

    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def spec(self) -> TensorSpec:
        return TensorSpec(self._shape, self._dtype)

    def numpy(self) -> np.ndarray:
        """A host copy as a NumPy array (bfloat16 as ml_dtypes.bfloat16)."""
        if type(self._data) is Symbol:
            raise TypeError(
                f"a symbolic tensor ({self._dtype.name}{list(self._shape)}, {self._data!r} of a gf.function being "
                f"traced) has no value yet: inside gf.function, use tensor ops rather than Python values (gf.cond "
                f"and gf.while_loop instead of `if`/`while` on a tensor, gf.print instead of print)")
        return self._device.backend.to_numpy(self._data, self._dtype)

    def __array__(self, dtype=None, copy=None):
        out = self.numpy()
        return out if dtype is None else out.astype(dtype)

    # to(device): a copy on another device (gpuflow/ops/tensor_methods.py)
    cpu = lambda self: self.to("cpu")  # noqa: E731
    cuda = lambda self: self.to("cuda")  # noqa: E731

    def _scalar(self, kind):
        if self._shape.num_elements() != 1:
            raise ValueError(f"only a tensor with one element can be converted to {kind.__name__}; "
                             f"this one has shape {self._shape}")
        return kind(self.numpy().reshape(()))

    __float__ = lambda self: self._scalar(float)  # noqa: E731
    __int__ = lambda self: self._scalar(int)  # noqa: E731
    __index__ = __int__

    def __bool__(self):
        return self._scalar(bool)

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a scalar tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a scalar tensor")
        return (self[i] for i in range(self._shape[0]))

    def __hash__(self):
        return id(self)  # like tf: tensors hash by identity, `==` is elementwise

    def __pos__(self):
        return self

    def __repr__(self):
        if type(self._data) is Symbol:
            return f"<gf.Tensor {self._data!r} shape={self._shape} dtype={self._dtype.name} (symbolic)>"
        text = np.array2string(self.numpy(), separator=", ", threshold=1000)
        return (f"<gf.Tensor: shape={self._shape}, dtype={self._dtype.name}, device={self._device}, "
                f"numpy={text}>")

    def __str__(self):
        return f"gf.Tensor(\n{self.numpy()}, shape={self._shape}, dtype={self._dtype.name})"

    def __reduce__(self):
        raise TypeError("gpuflow tensors are not pickled; save weights with model.save_weights (safetensors) "
                        "or call .numpy()")


class _AutocastState:
    """Keras 3's AutocastScope: while a mixed-precision layer runs its call, `dtype` is its compute dtype and
    ops read float Variables (those made with autocast on) in it; None otherwise. Per thread, as a layer call
    is. `bind` consults it on every op, so a layer's `x @ self.kernel` works however the kernel is read; it
    first reads `active` (how many threads are in a scope now), a plain attribute, since a thread-local read
    would cost every op of a float32 program ~0.1 µs."""
    __slots__ = ("active", "_local", "_lock")

    def __init__(self):
        self.active = 0
        self._local = threading.local()
        self._lock = threading.Lock()

    @property
    def dtype(self):
        return getattr(self._local, "dtype", None)

    def set(self, dtype):
        """Make `dtype` (None: no autocast) this thread's scope."""
        previous = getattr(self._local, "dtype", None)
        if (previous is None) != (dtype is None):
            with self._lock:
                self.active += 1 if previous is None else -1
        self._local.dtype = dtype


AUTOCAST = _AutocastState()



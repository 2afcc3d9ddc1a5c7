"""Tensor, TensorShape and Variable.

A Tensor is an immutable handle on a backend array (NumPy on cpu and sim, CuPy on cuda)
plus its dtype and device. Its operators call the public ops, so every computation goes
through the one dispatch point in ops/primitive.py.
"""
from __future__ import annotations

import itertools
import threading

import numpy as np

from . import dtypes as _dt
from . import devices as _device
from ._traces import state_trace, traces as _traces

_ids = itertools.count(1)


class TensorShape(tuple):
    """A tuple of ints (None for unknown dims), with the few tf.TensorShape methods people call."""

    def __new__(cls, dims=()):
        if type(dims) is tuple and all(type(d) is int for d in dims):  # the hot path: array.shape
            return super().__new__(cls, dims)
        return super().__new__(cls, (None if d is None else int(d) for d in dims))

    rank = property(lambda self: len(self))
    ndims = rank

    def as_list(self):
        return list(self)

    def num_elements(self):
        return None if None in self else int(np.prod(self, dtype=np.int64))

    def is_fully_defined(self):
        return None not in self

    def __getitem__(self, key):
        if type(key) is int:  # shape[-1], shape[0]: on every layer call
            return tuple.__getitem__(self, key)
        item = super().__getitem__(key)
        return TensorShape(item) if isinstance(key, slice) else item

    def __repr__(self):
        return f"TensorShape({list(self)})"

    def __str__(self):
        return "(" + ", ".join("None" if d is None else str(d) for d in self) + ("," if len(self) == 1 else "") + ")"


class TensorSpec:
    """Shape and dtype of a value without the value: what shape inference works on."""
    __slots__ = ("shape", "dtype", "name")

    def __init__(self, shape, dtype=_dt.float32, name=None):
        self.shape = shape if type(shape) is TensorShape else TensorShape(shape)
        self.dtype = dtype if type(dtype) is _dt.DType else _dt.as_dtype(dtype)
        self.name = name

    def __eq__(self, other):
        return isinstance(other, TensorSpec) and (self.shape, self.dtype) == (other.shape, other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"

    def is_compatible_with(self, other) -> bool:
        shape, dtype = (other.shape, other.dtype)
        return dtype == self.dtype and len(shape) == len(self.shape) and all(
            a is None or b is None or a == b for a, b in zip(self.shape, shape))


class Symbol:
    """A value of a graph being traced by gf.function: shape, dtype and where it comes from, no data.

    A symbolic Tensor holds a Symbol as its `_data`, so it flows through every op and layer like an eager
    one; only reading its value (numpy(), float(), bool()) is refused. `graph` is the gpuflow.graph IR it
    belongs to and `index` its number there."""
    __slots__ = ("shape", "dtype", "graph", "index")

    def __init__(self, shape, dtype, graph, index):
        self.shape, self.dtype, self.graph, self.index = shape, dtype, graph, index

    def __repr__(self):
        return f"%{self.index}"


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

    def to(self, device) -> "Tensor":
        """A copy on another device (copies never happen unless asked for)."""
        from .ops.creation import copy_to
        return copy_to(self, _device.parse(device))

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

    def __repr__(self):
        if type(self._data) is Symbol:
            return f"<gf.Tensor {self._data!r} shape={self._shape} dtype={self._dtype.name} (symbolic)>"
        text = np.array2string(self.numpy(), separator=", ", threshold=1000)
        return (f"<gf.Tensor: shape={self._shape}, dtype={self._dtype.name}, device={self._device}, "
                f"numpy={text}>")

    def _repr_html_(self):
        """What Jupyter shows: shape, dtype, device and a cut-down table of values (gpuflow/_html.py)."""
        from ._html import tensor_html
        return tensor_html(self)

    def __str__(self):
        return f"gf.Tensor(\n{self.numpy()}, shape={self._shape}, dtype={self._dtype.name})"

    def __getitem__(self, key):
        from .ops.indexing import getitem
        return getitem(self, key)

    def __reduce__(self):
        raise TypeError("gpuflow tensors are not pickled; save weights with model.save_weights (safetensors) "
                        "or call .numpy()")


def _operator(name, reflected=False):
    fn = None

    def method(self, other):
        nonlocal fn
        if fn is None:  # gpuflow.ops imports this module, so look the op up on first use
            from . import ops
            fn = getattr(ops, name)
        return fn(other, self) if reflected else fn(self, other)
    method.__name__ = name
    return method


for _op, _fn in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("truediv", "divide"),
                 ("floordiv", "floordiv"), ("mod", "mod"), ("pow", "pow"), ("matmul", "matmul"),
                 ("and", "logical_and"), ("or", "logical_or")]:
    setattr(Tensor, f"__{_op}__", _operator(_fn))
    setattr(Tensor, f"__r{_op}__", _operator(_fn, reflected=True))
for _op, _fn in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal"),
                 ("eq", "equal"), ("ne", "not_equal")]:
    setattr(Tensor, f"__{_op}__", _operator(_fn))
for _op, _fn in [("neg", "negative"), ("abs", "abs"), ("invert", "logical_not")]:
    setattr(Tensor, f"__{_op}__", lambda self, _fn=_fn: getattr(__import__("gpuflow.ops").ops, _fn)(self))
Tensor.__pos__ = lambda self: self


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


def _check_creation_in_trace(name, initial_value):
    """tf.function's rule: a function may create variables on its first trace only (they are made eagerly
    then, and kept); a later trace creating one is an error. An initial value computed from the function's
    inputs cannot be made eagerly at all."""
    trace = state_trace()
    if trace is None:
        return
    if not trace.allow_new_variables:
        raise ValueError(
            f"{trace.owner} tried to create a variable ({name or 'unnamed'}) on a call after its first trace. "
            f"As with tf.function, a gf.function may create variables only on its first call: create them "
            f"outside the function (or in a layer's build), or make a new gf.function for each set of variables")
    if isinstance(initial_value, Tensor) and type(initial_value._data) is Symbol:
        raise ValueError(
            f"{trace.owner}: the initial value of variable {name or 'unnamed'} is computed inside the traced "
            f"function; pass a callable (gf.Variable(lambda: ...)) or an initializer so it runs eagerly")


class Variable(Tensor):
    """A mutable tensor. Trainable variables are watched by every GradientTape automatically."""
    __slots__ = ("trainable", "name", "_constraint", "_autocast", "_version")
    _names = itertools.count()
    # gf.distribute's variable creator (TF's variable_creator_scope): returns the class to make instead inside
    # a strategy's scope or replica (a MirroredVariable), None elsewhere. Set when gf.distribute is imported.
    _class_hook = None

    def __new__(cls, *args, **kwargs):
        hook = Variable._class_hook
        if hook is not None and cls is Variable:
            cls = hook() or cls  # a subclass: Python then runs that class's __init__ with the same arguments
        return object.__new__(cls)

    def __init__(self, initial_value, trainable=True, name=None, dtype=None, constraint=None):
        from .ops.creation import convert_to_tensor
        if _traces.stack:
            _check_creation_in_trace(name, initial_value)
        if callable(initial_value):
            from .ops.dispatch import init_scope
            with init_scope():  # computed eagerly even inside a gf.function's trace (TF lifts it out too)
                initial_value = initial_value()
        value = convert_to_tensor(initial_value, dtype=dtype)
        data = value._device.backend.copy(value._data)  # own buffer: later assigns must not alias
        super().__init__(data, value._dtype, value._device)
        self.trainable = trainable
        self.name = name or f"Variable:{next(Variable._names)}"
        self._constraint = constraint
        self._autocast = True  # read in a mixed-precision layer's compute dtype (Keras' add_weight(autocast=...))
        self._version = 0  # counts eager assigns (a traced step's assigns do not): see HostMirror

    constraint = property(lambda self: self._constraint)

    def value(self) -> Tensor:
        if _traces.stack:
            trace = state_trace()
            if trace is not None:  # inside gf.function: a READ node of the graph
                return trace.read_tensor(self)
        return Tensor(self._data, self._dtype, self._device)

    read_value = value

    def assign(self, value, read_value=True):
        if type(value) is Tensor and value._dtype is self._dtype:  # an optimizer's update: nothing to convert
            new = value
        else:
            from .ops.creation import convert_to_tensor
            new = convert_to_tensor(value, dtype=self._dtype)
        if new._device is not self._device and new._device != self._device:
            raise ValueError(f"Variable.assign: {self.name} lives on {self._device} but the value is on "
                             f"{new._device}; copy it first with .to('{self._device}')")
        if new.shape != self._shape:
            raise ValueError(f"Variable.assign: {self.name} has shape {self._shape}, the value has {new.shape}")
        if _traces.stack:
            trace = state_trace()
            if trace is not None:  # inside gf.function: an ASSIGN node; the variable itself changes on each call
                trace.assign(self, new)
                return self if read_value else None
        # Buffers are never written in place (ops make new ones), so the variable can take the
        # value's buffer as it is: no copy per parameter per optimizer step.
        self._data = new._data
        self._version += 1
        return self if read_value else None

    def assign_add(self, delta, read_value=True):
        from . import ops
        return self.assign(ops.add(self.value(), self._delta("assign_add", delta)), read_value)

    def assign_sub(self, delta, read_value=True):
        from . import ops
        return self.assign(ops.subtract(self.value(), self._delta("assign_sub", delta)), read_value)

    def _delta(self, op, delta):
        """The update as a tensor of the variable's own shape: like TF, no broadcasting into a variable."""
        from .ops.math import tensor_on_device_of
        delta = tensor_on_device_of(self, delta, dtype_hint=self._dtype)
        if delta.shape != self._shape:
            raise ValueError(f"Variable.{op}: {self.name} has shape {self._shape}, the update has {delta.shape}; "
                             f"shapes must be equal")
        return delta

    def __repr__(self):
        text = np.array2string(self.numpy(), separator=", ", threshold=1000)
        return (f"<gf.Variable '{self.name}' shape={self._shape} dtype={self._dtype.name} "
                f"device={self._device}, numpy={text}>")

"""Variable: a mutable tensor, watched by every GradientTape while trainable, read and written as graph
state inside a gf.function."""
from __future__ import annotations

import itertools

import numpy as np

from .._traces import init_scope, state_trace, traces as _traces
from .convert import convert_to_tensor, tensor_on_device_of
from .core import Tensor
from .shape import Symbol


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
        if _traces.stack:
            _check_creation_in_trace(name, initial_value)
        if callable(initial_value):
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

    # The sums are Tensor operators: the op layer's add and subtract (gpuflow/ops/tensor_methods.py).
    def assign_add(self, delta, read_value=True):
        return self.assign(self.value() + self._delta("assign_add", delta), read_value)

    def assign_sub(self, delta, read_value=True):
        return self.assign(self.value() - self._delta("assign_sub", delta), read_value)

    def _delta(self, op, delta):
        """The update as a tensor of the variable's own shape: like TF, no broadcasting into a variable."""
        delta = tensor_on_device_of(self, delta, dtype_hint=self._dtype)
        if delta.shape != self._shape:
            raise ValueError(f"Variable.{op}: {self.name} has shape {self._shape}, the update has {delta.shape}; "
                             f"shapes must be equal")
        return delta

    def __repr__(self):
        text = np.array2string(self.numpy(), separator=", ", threshold=1000)
        return (f"<gf.Variable '{self.name}' shape={self._shape} dtype={self._dtype.name} "
                f"device={self._device}, numpy={text}>")

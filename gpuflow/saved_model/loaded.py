"""What gf.saved_model.load returns: the signatures as callables taking named tensors, and the variables."""
from __future__ import annotations

import numpy as np

from .. import devices as _devices
from ..errors import InvalidArgumentError
from ..graph.function import ConcreteFunction, _Placeholder
from ..tensor import Tensor


class SignatureFunction:
    """One signature: `f(**inputs)` → {output name: Tensor}, as TF's signature functions (keyword arguments
    only). Inputs may be Tensors, NumPy arrays or nested lists; each is checked against the signature's dtype
    and shape (None dims take any size)."""

    def __init__(self, key, graph, inputs, outputs, device):
        self.name, self.graph, self.device = key, graph, device
        self.inputs, self.outputs = inputs, outputs   # [(name, TensorSpec)]
        placeholders = tuple(_Placeholder(spec, device) for _, spec in inputs)
        template = [Tensor(s, s.dtype, device) for s in graph.outputs]
        self._concrete = ConcreteFunction(key, graph, (placeholders, {}), template, [spec for _, spec in inputs])

    @property
    def structured_input_signature(self):
        return (), {name: spec for name, spec in self.inputs}

    @property
    def structured_outputs(self):
        return {name: spec for name, spec in self.outputs}

    def __repr__(self):
        shown = ", ".join(f"{n}: {s.dtype.name}{list(s.shape)}" for n, s in self.inputs)
        return f"<SignatureFunction {self.name}({shown})>"

    def __call__(self, *args, **inputs):
        if args:
            raise TypeError(f"signature {self.name!r} takes its inputs by name only, as TF's signature functions "
                            f"do: call it as f({', '.join(f'{n}=...' for n, _ in self.inputs)})")
        names = [n for n, _ in self.inputs]
        missing, unknown = [n for n in names if n not in inputs], sorted(set(inputs) - set(names))
        if missing or unknown:
            raise TypeError(f"signature {self.name!r} takes {names}" + (f"; missing {missing}" if missing else "")
                            + (f"; unknown {unknown}" if unknown else ""))
        tensors = [self._tensor(name, spec, inputs[name]) for name, spec in self.inputs]
        results = self._concrete._call_flat(tensors)
        return {name: t for (name, _), t in zip(self.outputs, results)}

    def _tensor(self, name, spec, value):
        if isinstance(value, Tensor):
            if value.dtype != spec.dtype:
                raise InvalidArgumentError(f"signature {self.name!r}: input {name} must be {spec.dtype.name}, got "
                                           f"{value.dtype.name}")
            tensor = value
        else:
            array = as_array(value, spec.dtype, f"signature {self.name!r}: input {name}")
            if array is value:  # the caller's own array: the tensor must not share it
                array = array.copy()
            from ..ops.creation import _from_owned_array
            with _devices.device(self.device):
                tensor = _from_owned_array(array)
        if not spec.is_compatible_with(tensor):
            raise InvalidArgumentError(f"signature {self.name!r}: input {name} has shape {list(tensor.shape)}, the "
                                       f"signature takes {spec.dtype.name}{list(spec.shape)}")
        return tensor


def as_array(value, dtype, what) -> np.ndarray:
    """`value` (a NumPy array or nested lists) as a NumPy array of `dtype`: numbers convert as NumPy does, but
    fractions never truncate into an integer dtype, integers out of its range never wrap (TF Serving refuses
    a JSON 300 for a uint8 input too) and non-numbers are refused."""
    try:
        array = np.asarray(value)
    except ValueError as e:  # ragged lists
        raise InvalidArgumentError(f"{what}: not a rectangular array ({e})") from None
    if array.dtype.kind not in "biuf":
        raise InvalidArgumentError(f"{what}: expected numbers for a {dtype.name} tensor, got {array.dtype} values")
    if dtype.kind in "iub" and array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.trunc(array))):
        raise InvalidArgumentError(f"{what}: has fractions but the signature takes {dtype.name}")
    if dtype.is_integer and array.size and array.dtype.kind in "iuf" and array.dtype != dtype.np:
        info = np.iinfo(dtype.np)
        low, high = array.min(), array.max()
        if low < info.min or high > info.max:
            raise InvalidArgumentError(f"{what}: holds {low if low < info.min else high}, out of range for "
                                       f"{dtype.name} ({info.min} to {info.max})")
    return np.ascontiguousarray(array, dtype=dtype.np)


class Loaded:
    """The loaded SavedModel: `signatures` (key → SignatureFunction), `variables`, `trainable_variables`,
    `assets` (file name → path of the copy in assets/) and the `gpuflow_version` that wrote it."""

    def __init__(self, checked, variables, functions):
        self.signatures = functions
        self.variables = variables
        self.trainable_variables = [v for v in variables if v.trainable]
        self.assets = dict(checked.assets)
        self.gpuflow_version = checked.manifest["gpuflow_version"]
        self.export_dir = checked.export_dir

    def __repr__(self):
        return f"<gf.saved_model loaded from {self.export_dir}: signatures {sorted(self.signatures)}>"

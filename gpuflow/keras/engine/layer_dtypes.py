"""A layer's dtypes, from its dtype policy (Keras 3): the variable dtype its weights are made in, the
compute dtype its inputs are cast to, and how call arguments are converted on their way in."""
from __future__ import annotations

import numpy as np

from ... import dtypes as _dtypes
from ... import nest, ops
from ...ops import creation as _creation
from ...tensor import Tensor
from ..mixed_precision import policy as _policy
from .keras_tensor import KerasTensor


class LayerDtypes:
    """The part of `Layer` that holds its dtype policy and converts and casts its inputs. Relies on
    `autocast` and `_masks_from_graph` (set by Layer)."""

    @property
    def dtype_policy(self):
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        policy = _policy.get(value)
        self._dtype_policy = policy
        self._dtype = _dtypes.as_dtype(policy.compute_dtype)         # what inputs are cast to and outputs are
        self._variable_dtype = _dtypes.as_dtype(policy.variable_dtype)  # what add_weight makes

    @property
    def dtype(self):
        """The variable dtype, as in Keras 3 (the compute dtype is `compute_dtype`)."""
        return self._variable_dtype.name

    @property
    def variable_dtype(self):
        return self._variable_dtype.name

    @property
    def compute_dtype(self):
        return self._dtype.name

    input_dtype = compute_dtype

    def _convert_inputs(self, inputs):
        """NumPy and Python numbers become tensors; float NumPy data takes the layer's compute dtype, as Keras
        does. A model made of a graph of layers (Sequential, functional) takes it in its variable dtype, the
        dtype of its Input, as Keras 3's Functional does: its layers cast their own inputs. So does a layer with
        autocast=False (Embedding: float16 would round ids above 2048)."""
        dtype = self._variable_dtype if self._masks_from_graph or not self.autocast else self._dtype

        def convert(x):
            if isinstance(x, (Tensor, KerasTensor)) or x is None:
                return x
            if isinstance(x, (np.ndarray, np.generic, float, int)):
                arr = np.asarray(x)
                return _creation.convert_to_tensor(arr.astype(dtype.np) if arr.dtype.kind == "f" else arr)
            return x
        return nest.map_structure(convert, inputs)

    def _autocast_inputs(self, args, kwargs):
        """Keras 3's input autocast: floating tensors among the arguments are cast to the compute dtype (masks
        stay attached); other values are left alone. A float16 layer given float32 data computes in float16."""
        dtype = self._dtype

        def cast(x):
            if isinstance(x, Tensor) and x._dtype.kind == "f" and x._dtype is not dtype:
                mask = getattr(x, "_keras_mask", None)
                x = ops.cast(x, dtype)
                if mask is not None:
                    x._keras_mask = mask
            return x
        return nest.map_structure(cast, list(args)), nest.map_structure(cast, kwargs)

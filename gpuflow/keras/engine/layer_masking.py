"""Keras 3's masks: which layers take, pass on, make or drop the mask attached to a tensor (`x._keras_mask`).

A layer whose `call` names a `mask` parameter gets the mask attached to its first input unless one is
passed. After the call, a layer with `supports_masking` attaches `compute_mask(inputs, mask)` to its
outputs; any other layer drops a mask it receives.
"""
from __future__ import annotations

import warnings

from ... import dtypes as _dtypes
from ... import nest, ops
from ...tensor import Tensor
from .keras_tensor import KerasTensor


def get_keras_mask(x):
    """The mask a layer attached to `x` (a Tensor or KerasTensor), or None."""
    return getattr(x, "_keras_mask", None)


def _fresh(t):
    """A new tensor equal to t (recorded on the tape like any op), to carry a mask other than t's."""
    return ops.logical_and(t, t) if t.dtype == _dtypes.bool else t * 1


def masks_of(inputs):
    """The masks attached to `inputs`, in the same structure; None when no input carries one."""
    if isinstance(inputs, Tensor):  # the usual case, on every layer call: no structure to walk
        return getattr(inputs, "_keras_mask", None)
    masks = nest.map_structure(get_keras_mask, inputs)
    return None if all(m is None for m in nest.flatten(masks)) else masks


class LayerMasking:
    """The part of `Layer` that decides the masks of its outputs."""
    _mask_warned = False         # a dropped mask is warned about once per layer, not on every batch
    _masks_from_graph = False    # True for Sequential and functional models: their layers attach the masks

    @property
    def supports_masking(self):
        """Whether the layer passes masks on (or makes them): by default, whether it overrides compute_mask,
        as in Keras 3. Layers that pass their input's mask on unchanged set it to True."""
        value = self.__dict__.get("_supports_masking")
        return self._makes_masks() if value is None else value

    @supports_masking.setter
    def supports_masking(self, value):
        self._supports_masking = bool(value)

    def compute_mask(self, inputs, mask=None):
        """The mask of this layer's outputs for `inputs` carrying `mask`: by default the input mask for a layer
        that supports masking (it keeps the time axis), None otherwise."""
        return mask if self.supports_masking else None

    def _makes_masks(self) -> bool:
        """Whether the layer's class overrides compute_mask: only then can it make a mask of its own."""
        return type(self).compute_mask is not LayerMasking.compute_mask

    def _attach_masks(self, inputs, outputs, previous_mask):
        """Keras 3's `_set_mask_metadata`: outputs that have no mask yet get `compute_mask`'s; the outputs of a
        layer that does not support masking get none. An output that is one of the inputs (an identity layer)
        is replaced by a copy when its mask must differ, so the input keeps its own."""
        if self._masks_from_graph:
            return outputs  # a model's outputs already carry the masks its layers attached
        if self.supports_masking:
            if previous_mask is None and not self._makes_masks():
                return outputs  # nothing to pass on, and nothing made here
            flat = nest.flatten(outputs)
            input_ids = {id(t) for t in nest.flatten(inputs)}
            if all(get_keras_mask(t) is not None and id(t) not in input_ids for t in flat):
                return outputs  # the call attached them itself (Masking does)
            masks = self.compute_mask(inputs, previous_mask)
        else:
            if previous_mask is None:
                return outputs
            if not self._mask_warned:
                self._mask_warned = True
                warnings.warn(f"Layer {self.name!r} ({type(self).__name__}) was given an input with a mask, but it "
                              f"does not support masking, so its outputs carry no mask and later layers and the "
                              f"loss see every time step", stacklevel=3)
            flat = nest.flatten(outputs)
            input_ids = {id(t) for t in nest.flatten(inputs)}
            masks = None
        flat_masks = [None] * len(flat) if masks is None else nest.flatten(masks) if len(flat) > 1 else [masks]
        changed, out = False, []
        for t, m in zip(flat, flat_masks):
            if isinstance(t, Tensor) and id(t) in input_ids and get_keras_mask(t) is not m:
                t, changed = _fresh(t), True
            if m is not None and isinstance(t, (Tensor, KerasTensor)) and get_keras_mask(t) is None:
                t._keras_mask = m
            out.append(t)
        return nest.pack_sequence_as(outputs, out + flat[len(out):]) if changed else outputs

"""The Keras `Layer`: build on first call, the training flag, and the call itself.

The other jobs of a layer live in one module each, mixed into `Layer`:
    layer_naming        default names (`dense_1`)
    layer_tracking      the sublayers and variables it holds (`weights`, `trainable`)
    layer_weights       `add_weight`, get/set_weights, `add_loss` and `losses`
    layer_dtypes        the dtype policy and input conversion and casting
    layer_masking       Keras 3's masks
    layer_symbolic      calls on KerasTensors (the functional API)
    layer_config        `get_config` / `from_config`
"""
from __future__ import annotations

import contextvars
import functools
import inspect

from ... import nest
from ...tensor import AUTOCAST, Tensor
from .layer_config import LayerConfig
from .layer_dtypes import LayerDtypes
from .layer_masking import LayerMasking, masks_of
from .layer_naming import layer_name, to_snake_case  # noqa: F401  (to_snake_case: training, loops, metrics)
from .layer_symbolic import LayerSymbolic, any_symbolic_call, map_shapes, shape_of  # noqa: F401  (map_shapes: training)
from .layer_tracking import LayerTracking, structure_changed
from .layer_weights import LayerWeights

# The innermost layer call's resolved `training` flag: a sublayer called with training=None inherits it.
_TRAINING = contextvars.ContextVar("gpuflow_keras_training", default=None)
# True while a layer call is running, so only the outermost call clears the last call's add_loss values.
_IN_CALL = contextvars.ContextVar("gpuflow_keras_in_call", default=False)

SHAPE_KWARGS = ("input_shape", "batch_input_shape", "input_dim", "batch_size")


@functools.lru_cache(maxsize=None)
def _accepts_cached(fn, arg: str) -> bool:
    params = inspect.signature(fn).parameters
    return arg in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _accepts(method, arg: str) -> bool:
    """Whether `call` takes `arg`; cached per function, as signatures are read on every layer call."""
    return _accepts_cached(getattr(method, "__func__", method), arg)


@functools.lru_cache(maxsize=None)
def _names_cached(fn, arg: str) -> bool:
    return arg in inspect.signature(fn).parameters


def names_parameter(method, arg: str) -> bool:
    """Whether `call` names `arg` as a parameter (not just **kwargs): Keras fills `mask=` in only then."""
    return _names_cached(getattr(method, "__func__", method), arg)


class Layer(LayerTracking, LayerWeights, LayerDtypes, LayerMasking, LayerSymbolic, LayerConfig):
    """Base class of every layer and model. Subclasses override `build(input_shape)` and `call(inputs)`.

    Masking (Keras 3's rules): a layer whose `call` names a `mask` parameter gets the mask attached to its
    first input (`x._keras_mask`) unless one is passed. After the call, a layer with `supports_masking`
    attaches `compute_mask(inputs, mask)` to its outputs; any other layer drops a mask it receives.
    """

    def __init__(self, trainable=True, name=None, dtype=None, *, autocast=True, **kwargs):
        unknown = sorted(set(kwargs) - set(SHAPE_KWARGS))
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {', '.join(unknown)}; "
                            f"a layer also accepts {', '.join(SHAPE_KWARGS)}")
        self.name = layer_name(self, name)
        # A dtype may be a policy, a policy or dtype name, a DType or a NumPy dtype; None is the global policy.
        self.dtype_policy = dtype
        # Keras 3: cast floating inputs to the compute dtype and, in a mixed policy, read float weights in it.
        self.autocast = bool(autocast)
        self._trainable = bool(trainable)
        self.built = False
        self._own_weights = []       # [(short name, Variable, regularizer)] made by add_weight, in order
        self._call_losses = []       # add_loss values from the last call
        self._inbound_nodes = []     # functional-API calls of this layer
        self._build_input_shape = None
        self._batch_input_shape = self._batch_shape_from(kwargs)

    @staticmethod
    def _batch_shape_from(kwargs):
        if "batch_input_shape" in kwargs:
            return tuple(kwargs["batch_input_shape"])
        if "input_shape" in kwargs:
            return (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
        if "input_dim" in kwargs:
            return (kwargs.get("batch_size"), int(kwargs["input_dim"]))
        return None

    def build(self, input_shape):
        """Makes the layer's weights for inputs of `input_shape`; run once, before the first call."""
        self._build_input_shape = input_shape
        self.built = True

    def call(self, inputs, *args, **kwargs):
        """The layer's computation; the base layer passes its inputs through."""
        return inputs

    def _maybe_build(self, inputs):
        if self.built:
            return
        shapes = nest.map_structure(shape_of, inputs)
        self.build(shapes)
        self._build_input_shape = shapes
        self.built = True
        structure_changed()

    def __call__(self, *args, **kwargs):
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f"{self.name}: call the layer with its inputs as the first argument")
            args = (kwargs.pop("inputs"),)
        args = (self._convert_inputs(args[0]),) + args[1:]
        if any_symbolic_call(args, kwargs):
            return self._symbolic_call(args, kwargs)
        self._maybe_build(args[0])
        return self._eager_call(args, kwargs)

    def _eager_call(self, args, kwargs):
        training = kwargs.pop("training", None)
        if training is None:
            training = _TRAINING.get()
        training = bool(training) if training is not None else False
        # Keras 3's fast-path test first: one input already in the compute dtype needs no walk.
        if self.autocast and self._dtype.kind == "f" and not self._masks_from_graph and (
                kwargs or len(args) != 1 or type(args[0]) is not Tensor or args[0]._dtype is not self._dtype):
            args, kwargs = self._autocast_inputs(args, kwargs)
        if _accepts(self.call, "training"):
            kwargs["training"] = training
        previous_mask = masks_of(args[0])
        if kwargs.get("mask") is None and previous_mask is not None and names_parameter(self.call, "mask"):
            kwargs["mask"] = previous_mask
        elif "mask" in kwargs and not _accepts(self.call, "mask"):
            kwargs.pop("mask")
        if not _IN_CALL.get():  # a new outermost call: forget the add_loss values of the last one
            for layer in self._walk()[0]:
                if layer._call_losses:  # most layers never add one: no new list, no __setattr__ per call
                    layer._call_losses = []
        tokens = (_TRAINING.set(training), _IN_CALL.set(True))
        # Keras 3's AutocastScope: weights are read in the compute dtype inside a mixed layer and inside any
        # autocasting layer called from one; a layer with autocast=False or a non-float dtype reads them as
        # they are. (bind does the reading: see tensor.AUTOCAST.)
        outer = AUTOCAST.dtype if AUTOCAST.active else None  # the plain count first: cheaper than the thread-local
        if outer is not None:
            scope = self._dtype if self.autocast and self._dtype.kind == "f" else None
        else:
            scope = self._dtype if self.autocast and self._dtype is not self._variable_dtype else None
        changed = scope is not outer
        if changed:
            AUTOCAST.set(scope)
        try:
            outputs = self.call(*args, **kwargs)
        finally:
            if changed:
                AUTOCAST.set(outer)
            _IN_CALL.reset(tokens[1])
            _TRAINING.reset(tokens[0])
        return self._attach_masks(args[0], outputs, previous_mask)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

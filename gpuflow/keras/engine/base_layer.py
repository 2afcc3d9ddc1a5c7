"""The Keras `Layer`: weights, sublayer tracking, build-on-first-call, training flag, losses.

Sublayers and variables are found by walking the layer's attributes (Layers, Variables,
and lists/tuples/dicts of them) each time they are asked for, so lists appended to after
assignment and attributes replaced later are seen as they are now, in assignment order.
"""
from __future__ import annotations

import contextvars
import functools
import inspect
import operator
import re
import warnings

import numpy as np

from ... import dtypes as _dtypes
from ... import nest
from ...ops import creation as _creation
from ...ops.dispatch import init_scope
from ...tensor import AUTOCAST, Tensor, TensorShape, TensorSpec, Variable
from .. import backend as _backend
from ..mixed_precision import policy as _policy
from .keras_tensor import KerasTensor, Node, any_symbolic

# The innermost layer call's resolved `training` flag: a sublayer called with training=None inherits it.
_TRAINING = contextvars.ContextVar("gpuflow_keras_training", default=None)
# True while a layer call is running, so only the outermost call clears the last call's add_loss values.
_IN_CALL = contextvars.ContextVar("gpuflow_keras_in_call", default=False)

# Attributes `_tracked_values` never walks: bookkeeping that may hold layers or tensors it does not own.
_UNTRACKED = frozenset({"_inbound_nodes", "_call_losses", "_tracking_plan_cache", "_walk_cache"})
_SHAPE_KWARGS = ("input_shape", "batch_input_shape", "input_dim", "batch_size")

# The layer trees' structure version. Every change that can alter which layers or variables a tree
# holds, or a layer's own trainable flag, bumps it: a Layer attribute set or deleted whose new or old value
# is a Layer, Variable or container; `_trainable` set; add_weight; build; Sequential.add/pop. The flattened
# lists a walk makes are cached with the version they were made at (see Layer._walk). Containers mutated in
# place (`self.blocks.append(Dense(3))`) bump nothing, so the cache also keeps each container it walked with
# the items it held then, and checks them by identity.
_structure_version = 0


def structure_changed():
    """Invalidate every layer tree's cached walk."""
    global _structure_version
    _structure_version += 1


def to_snake_case(name: str) -> str:
    """`BatchNormalization` → `batch_normalization`, `Conv2D` → `conv2d`, `LSTM` → `lstm` (Keras's rule)."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


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


def _names(method, arg: str) -> bool:
    """Whether `call` names `arg` as a parameter (not just **kwargs): Keras fills `mask=` in only then."""
    return _names_cached(getattr(method, "__func__", method), arg)


def get_keras_mask(x):
    """The mask a layer attached to `x` (a Tensor or KerasTensor), or None."""
    return getattr(x, "_keras_mask", None)


def _fresh(t):
    """A new tensor equal to t (recorded on the tape like any op), to carry a mask other than t's."""
    from ... import ops
    return ops.logical_and(t, t) if t.dtype == _dtypes.bool else t * 1


def _masks_of(inputs):
    """The masks attached to `inputs`, in the same structure; None when no input carries one."""
    if isinstance(inputs, Tensor):  # the usual case, on every layer call: no structure to walk
        return getattr(inputs, "_keras_mask", None)
    masks = nest.map_structure(get_keras_mask, inputs)
    return None if all(m is None for m in nest.flatten(masks)) else masks


def _cast(x, dtype):
    from ... import ops
    return ops.cast(x, dtype)


def _collect_tracked(value, out):
    """`_tracked_values`' walk of one attribute value: Layers and Variables, also inside lists/tuples/dicts."""
    if isinstance(value, (Layer, Variable)):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _collect_tracked(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _collect_tracked(v, out)


def _collect_noting_containers(value, out, containers):
    """`_collect_tracked`, also noting each list and dict walked, with the items it holds now."""
    if isinstance(value, (Layer, Variable)):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        if not isinstance(value, tuple):
            containers.append((value, list(value)))
        for v in value:
            _collect_noting_containers(v, out, containers)
    elif isinstance(value, dict):
        containers.append((value, list(value.values())))
        for v in value.values():
            _collect_noting_containers(v, out, containers)


def _unchanged(container, items) -> bool:
    """`container` holds the very objects `items` held when noted (a dict: its values), in order."""
    now = container.values() if isinstance(container, dict) else container
    return len(now) == len(items) and all(map(operator.is_, now, items))


def _any_symbolic_call(args, kwargs) -> bool:
    """`any_symbolic((args, kwargs))` without flattening the usual eager call (a tensor and flags such as
    training=True): only nested values are walked."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, KerasTensor):
            return True
        if isinstance(value, (list, tuple, dict)) and any_symbolic(value):
            return True
    return False


def _shape_of(x):
    """A tensor's shape; None for a plain number among the inputs (an operand of `2 * x`)."""
    return TensorShape(x.shape) if hasattr(x, "shape") else None


class Layer:
    """Base class of every layer and model. Subclasses override `build(input_shape)` and `call(inputs)`.

    Masking (Keras 3's rules): a layer whose `call` names a `mask` parameter gets the mask attached to its
    first input (`x._keras_mask`) unless one is passed. After the call, a layer with `supports_masking`
    attaches `compute_mask(inputs, mask)` to its outputs; any other layer drops a mask it receives.
    """
    _mask_warned = False         # a dropped mask is warned about once per layer, not on every batch
    _masks_from_graph = False    # True for Sequential and functional models: their layers attach the masks

    def __init__(self, trainable=True, name=None, dtype=None, *, autocast=True, **kwargs):
        unknown = sorted(set(kwargs) - set(_SHAPE_KWARGS))
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {', '.join(unknown)}; "
                            f"a layer also accepts {', '.join(_SHAPE_KWARGS)}")
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(f"{type(self).__name__}: name must be a non-empty string without '/', got {name!r}")
        self.name = name or _backend.unique_name(to_snake_case(type(self).__name__))
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

    # ---------------------------------------------------------------- tracking
    def __setattr__(self, key, value):
        if isinstance(value, Layer) and value is self:
            raise ValueError(f"{self.name}: a layer cannot track itself as attribute {key!r}")
        if key not in _UNTRACKED and (key == "_trainable" or isinstance(value, _CAN_TRACK)
                                      or isinstance(self.__dict__.get(key), _CAN_TRACK)):
            structure_changed()
        object.__setattr__(self, key, value)

    def __delattr__(self, key):
        if key not in _UNTRACKED and (key == "_trainable" or isinstance(self.__dict__.get(key), _CAN_TRACK)):
            structure_changed()
        object.__delattr__(self, key)

    def _tracked_values(self):
        """Layers and Variables held in attributes (and in lists/tuples/dicts of them), in assignment order."""
        out = []
        attrs = vars(self)
        for key in self._tracking_plan(attrs):
            if key == "_own_weights":
                out.extend([v for _, v, _ in attrs[key]])
            else:
                _collect_tracked(attrs[key], out)
        return out

    def _tracking_plan(self, attrs):
        """The attributes `_tracked_values` must visit: those whose value's type can hold a Layer or
        Variable. This runs several times per training step, and most attributes are names, flags
        and numbers. Whether a value can hold one depends on its type alone, so the plan is kept
        with the attribute names and value types it was made from and made again when either
        differs; the values themselves (lists appended to, attributes replaced) are read afresh on
        every walk."""
        if "_tracking_plan_cache" not in attrs:
            attrs["_tracking_plan_cache"] = None  # set first, so the names the plan is checked against include it
        names, kinds = tuple(attrs), tuple(map(type, attrs.values()))
        cached = attrs["_tracking_plan_cache"]
        if cached is not None and cached[0] == names and cached[1] == kinds:
            return cached[2]
        plan = tuple(key for key, value in attrs.items()
                     if key == "_own_weights" or (key not in _UNTRACKED and type(value) is not TensorShape
                                                  and isinstance(value, (Layer, Variable, list, tuple, dict))))
        attrs["_tracking_plan_cache"] = (names, kinds, plan)
        return plan

    def _walk(self):
        """(layers, (variable, trainable-by-its-layers) pairs) of the whole tree, from the cache when it is
        current: made at this structure version, every layer's attributes are the same names holding the
        very same objects (this sees writes past __setattr__, into `__dict__`), and every container walked
        still holds what it held then. (The cache lives in a holder list set once, so that storing it changes
        no attribute.)
        Layers come depth-first in assignment order (self first); variables deduplicated, each layer's own
        before its sublayers', `trainable` False below a non-trainable layer. A variable's own flag is
        left to the reader: it can change without the tree knowing."""
        holder = self.__dict__.get("_walk_cache")
        cache = holder[0] if holder is not None else None
        if cache is not None and cache[0] == _structure_version and all(
                len(attrs) == len(values) and all(map(operator.is_, attrs.values(), values)) and tuple(attrs) == names
                for attrs, names, values in cache[4]) and all(_unchanged(c, items) for c, items in cache[1]):
            return cache[2], cache[3]
        if holder is None:
            holder = self.__dict__["_walk_cache"] = [None]  # before the walk notes this layer's attributes
        version = _structure_version
        layers, pairs, containers, seen_layers, seen_vars, states = [], [], [], set(), set(), []

        def walk(layer, trainable):
            if id(layer) in seen_layers:
                return
            seen_layers.add(id(layer))
            layers.append(layer)
            trainable = trainable and layer._trainable
            values, attrs = [], vars(layer)
            plan = layer._tracking_plan(attrs)
            states.append((attrs, tuple(attrs), list(attrs.values())))
            for key in plan:
                if key == "_own_weights":
                    containers.append((attrs[key], list(attrs[key])))
                    values.extend([v for _, v, _ in attrs[key]])
                else:
                    _collect_noting_containers(attrs[key], values, containers)
            for v in values:
                if isinstance(v, Layer):
                    walk(v, trainable)
                elif id(v) not in seen_vars:
                    seen_vars.add(id(v))
                    pairs.append((v, trainable))
        walk(self, True)
        holder[0] = (version, containers, layers, pairs, states)
        return layers, pairs

    def _flatten_layers(self, include_self=True, recursive=True):
        if recursive:
            layers = self._walk()[0]
            return list(layers) if include_self else layers[1:]
        seen, out = set(), []

        def walk(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for v in layer._tracked_values():
                if isinstance(v, Layer) and recursive:
                    walk(v)
                elif isinstance(v, Layer) and id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        walk(self)
        return out if include_self else out[1:]

    def _walk_variables(self):
        """(variable, trainable) pairs, deduplicated, own weights before sublayers'."""
        return [(v, t and v.trainable) for v, t in self._walk()[1]]

    @property
    def _layers(self):
        """Direct sublayers, in assignment order."""
        return self._flatten_layers(include_self=False, recursive=False)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        for layer in self._flatten_layers():
            layer._trainable = bool(value)

    @property
    def weights(self):
        return [v for v, _ in self._walk()[1]]

    variables = weights

    @property
    def trainable_weights(self):
        return [v for v, t in self._walk()[1] if t and v.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        return [v for v, t in self._walk()[1] if not (t and v.trainable)]

    non_trainable_variables = non_trainable_weights

    # ---------------------------------------------------------------- dtypes (Keras 3: from the policy)
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

    # ---------------------------------------------------------------- weights
    def add_weight(self, name=None, shape=(), dtype=None, initializer="glorot_uniform", regularizer=None,
                   trainable=True, constraint=None, **kwargs):
        from .. import constraints, initializers, regularizers
        unknown = sorted(set(kwargs) - {"use_resource", "synchronization", "aggregation", "experimental_autocast",
                                        "autocast"})
        if unknown:
            raise TypeError(f"{self.name}.add_weight: unexpected keyword argument(s) {', '.join(unknown)}")
        shape = tuple(shape or ())
        if any(d is None or int(d) < 0 for d in shape):
            raise ValueError(f"{self.name}.add_weight({name!r}): shape {shape} must be fully known and non-negative; "
                             f"build the layer from a known input shape first")
        dtype = _dtypes.as_dtype(dtype or self._variable_dtype)
        name = name or f"weight_{len(self._own_weights)}"
        init = initializers.get(initializer)
        with init_scope():  # made eagerly, also when a layer first builds inside a traced call (gf.function, shapes)
            value = init(shape, dtype=dtype)
            var = Variable(value, trainable=trainable, name=f"{self.name}/{name}:0", dtype=dtype,
                           constraint=constraints.get(constraint))
        var._autocast = bool(kwargs.get("autocast", kwargs.get("experimental_autocast", True)))
        self._own_weights.append((name, var, regularizers.get(regularizer)))
        structure_changed()
        return var

    def get_weights(self):
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(f"{self.name}.set_weights: the layer has {len(params)} weights "
                             f"({', '.join(v.name for v in params) or 'none'}) but {len(weights)} values were given")
        bad = [f"{v.name}: expects shape {tuple(v.shape)}, got {tuple(np.shape(w))}"
               for v, w in zip(params, weights) if tuple(v.shape) != tuple(np.shape(w))]
        if bad:
            raise ValueError(f"{self.name}.set_weights: shape mismatch:\n  " + "\n  ".join(bad))
        for v, w in zip(params, weights):
            v.assign(np.asarray(w, dtype=v.dtype.np))

    def count_params(self):
        if not self.built and not self.weights:
            raise ValueError(f"{self.name}.count_params: the layer is not built yet, so its weights do not exist; "
                             f"call it on data or build it with an input shape first")
        return int(sum(int(np.prod(v.shape, dtype=np.int64)) for v in self.weights))

    # ---------------------------------------------------------------- losses
    def add_loss(self, loss):
        """A scalar (or callable giving one) added to the training loss; kept until the next outermost call."""
        self._call_losses.append(loss)

    @property
    def losses(self):
        out = []
        for layer in self._walk()[0]:
            for _, var, reg in layer._own_weights:
                if reg is not None:
                    out.append(reg(var))
            out.extend(loss() if callable(loss) else loss for loss in layer._call_losses)
        return out

    # ---------------------------------------------------------------- build and call
    def build(self, input_shape):
        self._build_input_shape = input_shape
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def _maybe_build(self, inputs):
        if self.built:
            return
        shapes = nest.map_structure(_shape_of, inputs)
        self.build(shapes)
        self._build_input_shape = shapes
        self.built = True
        structure_changed()

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
                x = _cast(x, dtype)
                if mask is not None:
                    x._keras_mask = mask
            return x
        return nest.map_structure(cast, list(args)), nest.map_structure(cast, kwargs)

    def __call__(self, *args, **kwargs):
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f"{self.name}: call the layer with its inputs as the first argument")
            args = (kwargs.pop("inputs"),)
        args = (self._convert_inputs(args[0]),) + args[1:]
        if _any_symbolic_call(args, kwargs):
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
        previous_mask = _masks_of(args[0])
        if kwargs.get("mask") is None and previous_mask is not None and _names(self.call, "mask"):
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

    # ---------------------------------------------------------------- masking
    @property
    def supports_masking(self):
        """Whether the layer passes masks on (or makes them): by default, whether it overrides compute_mask,
        as in Keras 3. Layers that pass their input's mask on unchanged set it to True."""
        value = self.__dict__.get("_supports_masking")
        return type(self).compute_mask is not Layer.compute_mask if value is None else value

    @supports_masking.setter
    def supports_masking(self, value):
        self._supports_masking = bool(value)

    def compute_mask(self, inputs, mask=None):
        """The mask of this layer's outputs for `inputs` carrying `mask`: by default the input mask for a layer
        that supports masking (it keeps the time axis), None otherwise."""
        return mask if self.supports_masking else None

    def _attach_masks(self, inputs, outputs, previous_mask):
        """Keras 3's `_set_mask_metadata`: outputs that have no mask yet get `compute_mask`'s; the outputs of a
        layer that does not support masking get none. An output that is one of the inputs (an identity layer)
        is replaced by a copy when its mask must differ, so the input keeps its own."""
        if self._masks_from_graph:
            return outputs  # a model's outputs already carry the masks its layers attached
        if self.supports_masking:
            if previous_mask is None and type(self).compute_mask is Layer.compute_mask:
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

    def _symbolic_call(self, args, kwargs):
        kwargs = self._without_own_mask(args[0], kwargs)
        specs = self._output_specs(args, kwargs)
        node = Node(self, args, kwargs)
        flat = [KerasTensor(s.shape, s.dtype, name=f"{self.name}/out_{i}" if i else self.name, node=node, index=i)
                for i, s in enumerate(nest.flatten(specs))]
        node.outputs = nest.pack_sequence_as(specs, flat)
        self._inbound_nodes.append(node)
        previous_mask = _masks_of(args[0])
        if self._masks_from_graph:
            self._graph_output_masks(args[0], node.outputs)
        elif previous_mask is None and type(self).compute_mask is Layer.compute_mask:
            pass  # no mask comes in and this layer makes none
        elif self.supports_masking:
            mask_specs = self._symbolic_masks(args[0], previous_mask)
            flat_masks = nest.flatten(mask_specs) if len(flat) > 1 else [mask_specs]
            for t, m in zip(flat, flat_masks):
                if m is not None:
                    t._keras_mask = KerasTensor(m.shape, m.dtype, name=f"{t.name}/mask")
        return node.outputs

    def _without_own_mask(self, inputs, kwargs):
        """`layer(x, mask=x._keras_mask)` in a functional graph: the mask is passed again when the model runs, as
        it is attached to x, so the call is recorded without it. Any other mask placeholder has no value to
        pass, so it is refused."""
        mask = kwargs.get("mask")
        own = nest.flatten(_masks_of(inputs)) if _masks_of(inputs) is not None else []
        if isinstance(mask, KerasTensor) and mask.node is None and any(mask is m for m in own):
            kwargs = {k: v for k, v in kwargs.items() if k != "mask"}
        if not any(isinstance(t, KerasTensor) and t.node is None for t in nest.flatten((inputs, kwargs))):
            return kwargs
        raise ValueError(f"{self.name} ({type(self).__name__}): was given a mask placeholder (some x._keras_mask) as "
                         f"an input or as the mask of another tensor; in a functional model a layer can be passed "
                         f"only its own input's mask as mask=, or tensors computed by layers (e.g. a Layer subclass "
                         f"whose call returns `ids != 0`)")

    def _symbolic_masks(self, inputs, previous_mask):
        """TensorSpecs of `compute_mask`'s output masks for symbolic inputs, found by running it on zeros (as for
        the outputs: see _abstract_specs); None where an output has no mask."""
        if previous_mask is None:
            return _abstract_specs(lambda c_inputs: self.compute_mask(c_inputs, None), inputs)
        return _abstract_specs(lambda both: self.compute_mask(*both), (inputs, previous_mask))

    def _graph_output_masks(self, inputs, outputs):
        """A model called on symbolic inputs: its outputs' masks, found by running it on zeros carrying all-True
        masks where the inputs have masks (unknown dims as 1). Without input masks, the model's own symbolic
        outputs already carry them."""
        own = getattr(self, "outputs", None)
        if _masks_of(inputs) is None and own and len(own) == len(nest.flatten(outputs)):
            for t, mine in zip(nest.flatten(outputs), own):
                mask = get_keras_mask(mine)
                if mask is not None:
                    t._keras_mask = KerasTensor(mask.shape, mask.dtype, name=f"{t.name}/mask")
            return

        def concrete(t):
            if not isinstance(t, KerasTensor):
                return t
            value = _creation.zeros(tuple(1 if d is None else d for d in t.shape), dtype=t.dtype)
            mask = get_keras_mask(t)
            if mask is not None:
                value._keras_mask = _creation.ones(tuple(1 if d is None else d for d in mask.shape), dtype="bool")
            return value
        out = self._dry_run([nest.map_structure(concrete, inputs)], {})
        for t, value in zip(nest.flatten(outputs), nest.flatten(out)):
            mask = get_keras_mask(value)
            if mask is not None:
                # The dims that are unknown in the output are unknown in its mask too (batch, time).
                shape = [None if i < len(t.shape) and t.shape[i] is None else d for i, d in enumerate(mask.shape)]
                t._keras_mask = KerasTensor(shape, mask.dtype, name=f"{t.name}/mask")

    def _output_specs(self, args, kwargs):
        """Output TensorSpecs of a symbolic call: from a `compute_output_shape` override if there is one, else by
        running `call` on zeros (unknown dims as 1, and again as 2 to see which output dims follow them)."""
        inputs = args[0]
        in_shapes = nest.map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else _shape_of(t), inputs)
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            if not self.built:
                self.build(in_shapes)
                self._build_input_shape, self.built = in_shapes, True
            out_shapes = self.compute_output_shape(in_shapes)
            dtype = self._dtype
            return map_shapes(lambda s: TensorSpec(s, dtype), out_shapes)
        return self._specs_by_running(args, kwargs)

    def _specs_by_running(self, args, kwargs):
        def run(both):
            c_args, c_kwargs = both
            self._maybe_build(c_args[0])
            return self._dry_run(c_args, c_kwargs)
        return _abstract_specs(run, (list(args), kwargs))

    def _dry_run(self, args, kwargs):
        """Calls `call` for its output shapes only: variable values and add_loss values are put back after."""
        saved = [(v, v._data) for v in self.weights]
        saved_losses = {id(layer): list(layer._call_losses) for layer in self._flatten_layers()}
        try:
            out = self._eager_call(list(args), dict(kwargs))
        finally:
            for v, data in saved:
                v._data = data
            for layer in self._flatten_layers():
                layer._call_losses = saved_losses.get(id(layer), [])
        for t in nest.flatten(out):
            if not isinstance(t, Tensor):
                raise TypeError(f"{self.name}.call returned {type(t).__name__}, not tensors; the functional API "
                                f"needs tensor outputs")
        return out

    def compute_output_shape(self, input_shape):
        """Output shape(s) for `input_shape`, found by running `call` on zeros; layers may override it."""
        def keras_tensor(shape):
            return KerasTensor(shape, self._dtype)
        symbolic = map_shapes(keras_tensor, input_shape)
        return nest.map_structure(lambda s: s.shape, self._specs_by_running((symbolic,), {}))

    # ---------------------------------------------------------------- functional-API views
    def _node_attr(self, which):
        if not self._inbound_nodes:
            raise AttributeError(f"layer {self.name!r} has not been called on symbolic inputs (Input or another "
                                 f"layer's output), so it has no defined {which}")
        node = self._inbound_nodes[0]
        return node.args[0] if which.startswith("input") else node.outputs

    @property
    def input(self):
        return self._node_attr("input")

    @property
    def output(self):
        return self._node_attr("output")

    @property
    def input_shape(self):
        return nest.map_structure(lambda t: t.shape, self._node_attr("input_shape"))

    @property
    def output_shape(self):
        return nest.map_structure(lambda t: t.shape, self._node_attr("output_shape"))

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": _policy.serialize(self._dtype_policy)}
        if not self.autocast and type(self).__init__ is Layer.__init__:  # a plain Layer made with autocast=False
            config["autocast"] = False
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = tuple(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    def __reduce__(self):
        raise TypeError("gpuflow layers are not pickled; save weights with save_weights (safetensors) and the "
                        "architecture with get_config()")


_CAN_TRACK = (Layer, Variable, list, tuple, dict)  # attribute values that can hold a Layer or Variable


def _is_shape(x) -> bool:
    return isinstance(x, (list, tuple)) and all(d is None or isinstance(d, (int, np.integer)) for d in x)


def map_shapes(fn, shapes):
    """`fn` over a shape or a nest (list/tuple/dict) of shapes; a shape is a tuple of ints and Nones."""
    if isinstance(shapes, dict):
        return {k: map_shapes(fn, v) for k, v in shapes.items()}
    if _is_shape(shapes):
        return fn(TensorShape(shapes))
    if isinstance(shapes, (list, tuple)):
        return type(shapes)(map_shapes(fn, s) for s in shapes)
    raise TypeError(f"expected a shape (a tuple of ints and Nones) or a list/dict of shapes, got {shapes!r:.100}")


def _abstract_specs(fn, structure):
    """TensorSpecs of what `fn` returns for `structure` with its KerasTensors replaced by symbolic tensors:
    abstract evaluation (gpuflow.graph.abstract), no kernel runs."""
    from ...graph.abstract import abstract_specs
    return abstract_specs(fn, structure, lambda t: t.spec if isinstance(t, KerasTensor) else None)

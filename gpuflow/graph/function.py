"""gf.function: tf.function's semantics on gpuflow's trace stack.

Calling a Function looks up a ConcreteFunction by the call's *signature* (the structure of the
arguments; each tensor's shape, dtype and device; each Python value itself; each Variable by
identity) and traces a new one on a miss: the Python function runs once with symbolic tensors under a
GraphTrace, so Python side effects happen then, and the graph it leaves behind is what every later
call with that signature runs (see executor.py). As in TF:
- an `input_signature` fixes the signature (None dims accept any size) and refuses other inputs;
- `reduce_retracing=True` traces with unknown dims where calls differed, instead of once per shape;
- variables may be created on the first trace only;
- after 5 traces a warning names the argument that keeps changing;
- `gf.config.run_functions_eagerly(True)` calls the Python function directly.
"""
from __future__ import annotations

import functools
import inspect
import logging
import threading
import weakref

import numpy as np

from .. import devices as _device
from .. import dtypes, nest
from ..backend.numerics import NUMERICS
from ..ops.dispatch import trace_stack
from ..tensor import Tensor, TensorSpec, Variable
from .executor import run_traced
from .ir import Graph
from .trace import GraphTrace
from .control_flow import graph_plan
from .passes import optimize

log = logging.getLogger("gpuflow")
RETRACE_WARNING_AFTER = 5

_RUN_EAGERLY = [False]


def run_functions_eagerly(run_eagerly: bool) -> None:
    """tf.config.run_functions_eagerly: every gf.function calls its Python function directly (for debugging)."""
    _RUN_EAGERLY[0] = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    return _RUN_EAGERLY[0]


# ---- signatures ------------------------------------------------------------------------------------------
def _leaf_key(x):
    """What about one argument leaf decides the trace: (kind, ...)."""
    if isinstance(x, Variable):
        return ("variable", x._id)
    if isinstance(x, Tensor):
        return ("tensor", x._shape, x._dtype, x._device)
    if isinstance(x, np.ndarray):
        return ("tensor", tuple(x.shape), dtypes.as_dtype(x.dtype), _device.current())
    try:
        hash(x)
    except TypeError:
        return ("object", id(x))
    return ("python", type(x), x)


def _is_tensor_leaf(x) -> bool:
    return (isinstance(x, Tensor) and not isinstance(x, Variable)) or isinstance(x, np.ndarray)


def _structure(x):
    if isinstance(x, dict):
        return ("dict", tuple((k, _structure(x[k])) for k in sorted(x)))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(_structure(c) for c in x))
    return "."


class ConcreteFunction:
    """One trace: its `graph` (print it: one line per op) and the structures of its inputs and outputs."""

    def __init__(self, name, graph, args_template, output_template, input_specs):
        self.name = name
        self.graph = graph
        self._args_template = args_template   # (args, kwargs) with tensor leaves (non-Variable) as placeholders
        self._output_template = output_template
        self.input_specs = input_specs         # TensorSpec per tensor leaf, in order
        self._devices = [x.device for x in nest.flatten(args_template) if _is_placeholder(x)]
        self._plan = None
        self._pack = _packer(output_template)

    @property
    def structured_input_signature(self):
        it = iter(self.input_specs)
        return nest.pack_sequence_as(self._args_template,
                                     [next(it) if _is_placeholder(x) else x for x in nest.flatten(self._args_template)])

    @property
    def structured_outputs(self):
        return self._output_template

    @property
    def output_shapes(self):
        return nest.map_structure(lambda t: t.shape if isinstance(t, Tensor) else None, self._output_template)

    def __repr__(self):
        return f"<ConcreteFunction {self.name} ({len(self.graph.nodes)} nodes)>"

    def __call__(self, *args, **kwargs):
        leaves = [x for x in nest.flatten((args, kwargs)) if _is_tensor_leaf(x)]
        if len(leaves) != len(self.input_specs):
            raise TypeError(f"{self.name}: this concrete function takes {len(self.input_specs)} tensors, got "
                            f"{len(leaves)}")
        return self._call_flat(leaves)

    def _call_flat(self, leaves, checked=False):
        """checked: the leaves are Tensors already known to fit this function's specs."""
        tensors = leaves if checked else self._inputs(leaves)
        if trace_stack() or NUMERICS.enabled:
            # a tape records the call, or an enclosing gf.function inlines it; or check_numerics checks each op
            flat = run_traced(self.graph, tensors)
        else:
            plan = self._plan or self._make_plan()
            arrays = plan.run([t._data for t in tensors])
            flat = [Tensor(a, s.dtype, _output_device(self.graph, s, tensors)) for a, s in zip(arrays, self.graph.outputs)]
        return self._pack(flat)

    def _inputs(self, leaves):
        """The leaves as tensors on this function's devices, each checked against its input spec."""
        tensors = []
        for x, spec, device in zip(leaves, self.input_specs, self._devices):
            t = x if isinstance(x, Tensor) else _upload(x, spec.dtype, device)
            if not spec.is_compatible_with(t):
                raise ValueError(f"{self.name}: argument {len(tensors)} is {t.dtype.name}{list(t.shape)}, which does "
                                 f"not match this function's {spec.dtype.name}{list(spec.shape)}")
            tensors.append(t)
        return tensors

    def _make_plan(self):
        # The traced graph stays as traced (printing, tapes, export); the plan runs its optimized copy.
        self._plan = graph_plan(optimize(self.graph))
        return self._plan


def _packer(template):
    """flat outputs → the function's output structure. Made once: one tensor and a flat dict of tensors (a Keras
    step's logs) need no walk of the template per call."""
    if type(template) is Tensor:
        return lambda flat: flat[0]
    if type(template) is dict and all(type(v) is Tensor for v in template.values()):
        position = {k: i for i, k in enumerate(sorted(template))}  # the graph's outputs: nest's sorted key order
        order = [(k, position[k]) for k in template]  # the dict itself: the function's own key order
        return lambda flat: {k: flat[i] for k, i in order}

    def pack(flat):
        it = iter(flat)
        return _in_order_of(template, nest.pack_sequence_as(
            template, [next(it) if isinstance(x, Tensor) else x for x in nest.flatten(template)]))
    return pack


def _in_order_of(template, value):
    """`value` with each dict's keys in the order of the function's own output (nest walks dicts sorted): a
    step's logs keep `loss` first, as the Python function returned them."""
    if isinstance(template, dict):
        return type(value)((k, _in_order_of(template[k], value[k])) for k in template) \
            if type(value) is dict else value
    if isinstance(template, (list, tuple)) and not hasattr(template, "_fields"):
        return type(value)(_in_order_of(t, v) for t, v in zip(template, value))
    return value


def _output_device(graph, symbol, inputs):
    device = graph.devices.get(symbol.index)
    return device if device is not None else (inputs[0]._device if inputs else _device.current())


def _upload(array, dtype, device):
    from ..ops.creation import constant
    with _device.device(device):
        return constant(array, dtype=dtype)


class _Placeholder:
    """Where a tensor argument sits in a concrete function's argument template."""
    __slots__ = ("spec", "device")

    def __init__(self, spec, device):
        self.spec, self.device = spec, device

    def __repr__(self):
        return repr(self.spec)


def _is_placeholder(x) -> bool:
    return isinstance(x, _Placeholder)


class Function:
    """What gf.function returns: callable like the Python function, tracing a ConcreteFunction per signature."""

    def __init__(self, python_function, name=None, input_signature=None, reduce_retracing=False,
                 jit_compile=None, autograph=True):
        if not callable(python_function):
            raise TypeError(f"gf.function: expected a callable, got {python_function!r:.80}")
        self._python_function = python_function
        self._name = name or getattr(python_function, "__name__", "function")
        self._input_signature = None if input_signature is None else list(input_signature)
        if self._input_signature is not None:
            for spec in nest.flatten(self._input_signature):
                if not isinstance(spec, TensorSpec):
                    raise TypeError(f"gf.function({self._name}): input_signature must hold gf.TensorSpec objects, "
                                    f"got {spec!r:.80}")
        self._reduce_retracing = reduce_retracing
        self._jit_compile = jit_compile
        self._cache: dict = {}
        self._by_tensors: dict = {}   # positional-tensor calls: (shape, dtype, device) per argument → concrete
        self._relaxed: dict = {}      # structure → the most general shapes seen (reduce_retracing)
        self._generic: dict = {}      # structure → (its latest trace, its non-tensor leaf keys) (reduce_retracing)
        self._tracing_count = 0
        self._specialize = False      # input_signature with unknown dims that some op cannot trace: per shape
        self._traced_once = False
        self._last_key = None
        self._bound = weakref.WeakKeyDictionary()
        self._lock = threading.RLock()
        functools.update_wrapper(self, python_function)

    @property
    def python_function(self):
        return self._python_function

    @property
    def input_signature(self):
        return self._input_signature

    def experimental_get_tracing_count(self) -> int:
        return self._tracing_count

    @property
    def concrete_functions(self) -> list:
        """The ConcreteFunctions traced so far, oldest first (each holds its IR `graph`)."""
        return list(dict.fromkeys(self._cache.values()))

    def __repr__(self):
        return f"<gf.function {self._name}>"

    def __get__(self, instance, owner):
        """A method: one Function (one trace cache) per instance, as tf.function does."""
        if instance is None:
            return self
        bound = self._bound.get(instance)
        if bound is None:
            bound = Function(self._python_function.__get__(instance, owner), self._name, self._input_signature,
                             self._reduce_retracing, self._jit_compile)
            self._bound[instance] = bound
        return bound

    def __call__(self, *args, **kwargs):
        if _RUN_EAGERLY[0]:
            return self._python_function(*args, **kwargs)
        fast_key, leaves = (None, None) if kwargs else _tensors_key(args)
        if fast_key is not None:
            # The common call, positional tensors (or tuples of them: a Keras batch): its signature is their
            # shapes, dtypes and devices, looked up directly (the general key walks nests and Python values).
            concrete = self._by_tensors.get(fast_key)
            if concrete is None:
                concrete = self._concrete(args, kwargs)[0]
                self._by_tensors[fast_key] = concrete
            return concrete._call_flat(leaves, checked=True)  # (found for these very shapes and dtypes)
        concrete, leaves = self._concrete(args, kwargs)
        return concrete._call_flat(leaves)

    def get_concrete_function(self, *args, **kwargs):
        """The ConcreteFunction for these arguments (tensors, or gf.TensorSpecs standing for them), traced if new."""
        if not args and not kwargs and self._input_signature is not None:
            args = tuple(self._input_signature)
        args, kwargs = nest.map_structure(_spec_to_placeholder, (args, kwargs))
        return self._concrete(args, kwargs)[0]

    # ---- tracing ------------------------------------------------------------------------------------------
    def _concrete(self, args, kwargs):
        leaves = [x for x in nest.flatten((args, kwargs)) if _is_tensor_leaf(x)]  # what the call passes in
        given = args
        if self._input_signature is not None:
            args = self._check_signature(args, kwargs)
            if self._specialize:
                args = _with_shapes_of(args, given)
        flat = nest.flatten((args, kwargs))
        structure = _structure((args, kwargs))
        key = (structure, tuple(_leaf_key(x) if not _is_placeholder(x) else ("tensor",) + _spec_key(x) for x in flat))
        concrete = self._cache.get(key)
        if concrete is None:
            with self._lock:
                concrete = self._cache.get(key) or self._relaxed_match(structure, key, flat)
                if concrete is None:
                    try:
                        concrete = self._trace(args, kwargs, flat, key, structure)
                    except Exception as e:  # noqa: BLE001 - re-raised unless unknown dims are the likely cause
                        if self._specialize or not _has_unknown_dims(flat):
                            raise
                        # Some op of the function needs known sizes (Keras layers often do): trace per shape
                        # instead, still checked against the signature. Said once, at info level.
                        log.info("gf.function %s: cannot trace with the input_signature's unknown dimensions "
                                 "(%s: %s); tracing once per input shape instead", self._name, type(e).__name__, e)
                        self._specialize = True
                        return self._concrete(given, kwargs)
                self._cache[key] = concrete
        return concrete, leaves

    def _relaxed_match(self, structure, key, flat):
        """reduce_retracing: the last trace made for this structure, if its unknown dims admit this call."""
        if not self._reduce_retracing:
            return None
        found = self._generic.get(structure)
        if found is None:
            return None
        concrete, python_leaves = found
        specs = iter(concrete.input_specs)
        for x, leaf_key in zip(flat, key[1]):
            if _is_tensor_leaf(x):
                t = x if isinstance(x, Tensor) else _spec_of_value(x, dtypes.as_dtype(x.dtype))
                if not next(specs).is_compatible_with(t):
                    return None
        return concrete if python_leaves == [k for x, k in zip(flat, key[1]) if not _is_tensor_leaf(x)] else None

    def _check_signature(self, args, kwargs):
        if kwargs:
            raise TypeError(f"{self._name}: a function with an input_signature takes positional arguments only, got "
                            f"{sorted(kwargs)}")
        signature = self._input_signature
        if len(args) != len(signature):
            raise TypeError(f"{self._name}: input_signature has {len(signature)} entries, the call gives "
                            f"{len(args)} arguments")
        for i, (arg, spec) in enumerate(zip(args, signature)):
            try:
                nest.assert_same_structure(arg, spec)
            except ValueError:
                raise TypeError(f"{self._name}: argument {i} ({arg!r:.80}) does not have the structure of the "
                                f"input_signature's {spec!r:.80}") from None
            for x, s in zip(nest.flatten(arg), nest.flatten(spec)):
                if _is_placeholder(x):
                    x = x.spec
                elif not isinstance(x, Tensor):
                    x = _spec_of_value(x, s.dtype)
                if not s.is_compatible_with(x):
                    raise ValueError(f"{self._name}: argument {i} is {x.dtype.name}{list(x.shape)}, incompatible with "
                                     f"the input_signature's {s.dtype.name}{list(s.shape)}")
        # Every call traces against the signature's specs (None dims stay unknown in the graph).
        return tuple(nest.map_structure(lambda x, s: _Placeholder(s, _leaf_device(x)) if not isinstance(x, Variable)
                                        else x, a, s) for a, s in zip(args, signature))

    def _trace(self, args, kwargs, flat, key, structure):
        if self._reduce_retracing and self._input_signature is None:
            args, kwargs, flat = self._relax(args, kwargs, flat, structure)
        self._warn_if_retracing(key, args, kwargs)
        graph = Graph(self._name)
        trace = GraphTrace(graph, allow_new_variables=not self._traced_once, owner=f"gf.function {self._name}")
        specs, placeholders = [], []
        self._tracing_count += 1
        with trace:
            def to_symbolic(x):
                if _is_placeholder(x):
                    spec, device = x.spec, x.device
                elif _is_tensor_leaf(x):
                    spec = TensorSpec(x.shape, x.dtype if isinstance(x, Tensor) else dtypes.as_dtype(x.dtype))
                    device = _leaf_device(x)
                else:
                    return x
                specs.append(spec)
                placeholders.append(_Placeholder(spec, device))
                return trace.placeholder(spec.shape, spec.dtype, device)
            sym_args, sym_kwargs = nest.map_structure(to_symbolic, (list(args), dict(kwargs)))
            out = self._python_function(*sym_args, **sym_kwargs)
            outputs = [x for x in nest.flatten(out) if isinstance(x, Tensor)]
            graph.outputs = [trace.symbol_of(t) for t in outputs]
            graph.devices = {s.index: t._device for s, t in zip(graph.outputs, outputs)}
        self._traced_once = True
        it = iter(placeholders)
        template = nest.map_structure(lambda x: next(it) if (_is_tensor_leaf(x) or _is_placeholder(x)) else x,
                                      (tuple(args), dict(kwargs)))
        concrete = ConcreteFunction(self._name, graph, template, out, specs)
        if self._reduce_retracing:
            self._generic[structure] = (concrete, [k for x, k in zip(flat, key[1])
                                                   if not (_is_tensor_leaf(x) or _is_placeholder(x))])
        return concrete

    def _relax(self, args, kwargs, flat, structure):
        """reduce_retracing: the shapes seen so far for this structure, with None where they differed."""
        seen = self._relaxed.get(structure)
        shapes = [tuple(x.shape) if _is_tensor_leaf(x) else None for x in flat]
        if seen is None:
            self._relaxed[structure] = shapes
            return args, kwargs, flat
        merged = [None if a is None else tuple(d if d == e else None for d, e in zip(a, b)) if len(a) == len(b) else a
                  for a, b in zip(shapes, seen)]
        self._relaxed[structure] = merged
        it = iter(merged)

        def relax(x):
            shape = next(it)
            if not _is_tensor_leaf(x):
                return x
            dtype = x.dtype if isinstance(x, Tensor) else dtypes.as_dtype(x.dtype)
            return _Placeholder(TensorSpec(shape, dtype), _leaf_device(x))
        args, kwargs = nest.map_structure(relax, (tuple(args), dict(kwargs)))
        return args, kwargs, nest.flatten((args, kwargs))

    def _warn_if_retracing(self, key, args, kwargs):
        previous, self._last_key = self._last_key, key
        if self._tracing_count < RETRACE_WARNING_AFTER or previous is None:
            return
        changed = _changed_argument(self._python_function, previous, key, args, kwargs)
        log.warning("gf.function %s has been traced %d times; the last trace came from a change in %s. Tracing is "
                    "expensive: pass tensors rather than Python numbers, give an input_signature with None for "
                    "dimensions that vary, or use reduce_retracing=True", self._name, self._tracing_count + 1, changed)


def _tensors_key(args):
    """(signature, tensor leaves) when every argument is a Tensor or a tuple of Tensors: per argument its (shape,
    dtype, device), or a tuple of those (so f(x, y) and f((x, y)) differ); (None, None) for any other call."""
    key, leaves = [], []
    for a in args:
        if type(a) is Tensor:
            key.append((a._shape, a._dtype, a._device))
            leaves.append(a)
        elif type(a) is tuple and a and all(type(t) is Tensor for t in a):
            key.append(tuple([(t._shape, t._dtype, t._device) for t in a]))
            leaves += a
        else:
            return None, None
    return tuple(key), leaves


def _changed_argument(fn, previous, key, args, kwargs) -> str:
    """The name of the first argument whose part of the signature differs between two keys."""
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    prev_structure, prev_leaves = previous
    structure, leaves = key
    if prev_structure != structure:
        return "the structure of the arguments"
    counts = [len(nest.flatten(a)) for a in args] + [len(nest.flatten(kwargs[k])) for k in sorted(kwargs)]
    labels = [names[i] if i < len(names) else f"argument {i}" for i in range(len(args))] + \
        [f"argument {k!r}" for k in sorted(kwargs)]
    position = 0
    for label, count in zip(labels, counts):
        if prev_leaves[position:position + count] != leaves[position:position + count]:
            return f"argument {label!r}" if not label.startswith("argument") else label
        position += count
    return "its arguments"


def _has_unknown_dims(flat) -> bool:
    return any(_is_placeholder(x) and None in tuple(x.spec.shape) for x in flat)


def _with_shapes_of(placeholders, given):
    """The signature's placeholders with the shapes of the tensors actually given (their dtype stays)."""
    def exact(p, x):
        if not _is_placeholder(p) or _is_placeholder(x):  # get_concrete_function(specs): the signature as given
            return p
        shape = tuple(x.shape) if hasattr(x, "shape") else np.shape(x)
        return _Placeholder(TensorSpec(shape, p.spec.dtype), p.device)
    return tuple(nest.map_structure(exact, p, g) for p, g in zip(placeholders, given))


def _leaf_device(x):
    if isinstance(x, Tensor):
        return x._device
    if _is_placeholder(x):
        return x.device
    return _device.current()


def _spec_key(placeholder):
    return (placeholder.spec.shape, placeholder.spec.dtype, placeholder.device)


def _spec_to_placeholder(x):
    return _Placeholder(x, _device.current()) if isinstance(x, TensorSpec) else x


def _spec_of_value(x, dtype):
    array = np.asarray(x)
    return TensorSpec(array.shape, dtypes.as_dtype(array.dtype) if isinstance(x, np.ndarray) else dtype)


def function(func=None, input_signature=None, autograph=True, jit_compile=None, reduce_retracing=False,
             experimental_relax_shapes=None, name=None, **kwargs):
    """tf.function: `@gf.function`, `@gf.function(input_signature=...)` or `gf.function(f)`.

    The function is traced into a graph once per input signature and the graph runs on later calls (no Python,
    no per-op dispatch). `jit_compile` and `autograph` are accepted for source compatibility: every graph is
    compiled the same way, and Python control flow on tensors needs gf.cond / gf.while_loop."""
    if kwargs:
        unknown = sorted(k for k in kwargs if not k.startswith("experimental_"))
        if unknown:
            raise TypeError(f"gf.function: unexpected arguments {unknown}")
    relax = bool(reduce_retracing or experimental_relax_shapes)

    def wrap(fn):
        return Function(fn, name=name, input_signature=input_signature, reduce_retracing=relax,
                        jit_compile=jit_compile, autograph=autograph)
    return wrap if func is None else wrap(func)

"""Calling a layer on KerasTensors (the functional API): the call is recorded as a Node, and its outputs'
shapes and dtypes (and masks) are found without running a kernel (abstract evaluation)."""
from __future__ import annotations

import numpy as np

from ... import nest
from ...graph.abstract import abstract_specs
from ...ops import creation as _creation
from ...tensor import Tensor, TensorShape, TensorSpec
from .keras_tensor import KerasTensor, Node, any_symbolic
from .layer_masking import get_keras_mask, masks_of


def any_symbolic_call(args, kwargs) -> bool:
    """`any_symbolic((args, kwargs))` without flattening the usual eager call (a tensor and flags such as
    training=True): only nested values are walked."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, KerasTensor):
            return True
        if isinstance(value, (list, tuple, dict)) and any_symbolic(value):
            return True
    return False


def shape_of(x):
    """A tensor's shape; None for a plain number among the inputs (an operand of `2 * x`)."""
    return TensorShape(x.shape) if hasattr(x, "shape") else None


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
    return abstract_specs(fn, structure, lambda t: t.spec if isinstance(t, KerasTensor) else None)


class LayerSymbolic:
    """The part of `Layer` that runs on KerasTensors, and the functional-API views of a called layer (`input`,
    `output`, their shapes). Relies on `_inbound_nodes`, `_maybe_build`, `_eager_call` and the masking part."""

    def _symbolic_call(self, args, kwargs):
        kwargs = self._without_own_mask(args[0], kwargs)
        specs = self._output_specs(args, kwargs)
        node = Node(self, args, kwargs)
        flat = [KerasTensor(s.shape, s.dtype, name=f"{self.name}/out_{i}" if i else self.name, node=node, index=i)
                for i, s in enumerate(nest.flatten(specs))]
        node.outputs = nest.pack_sequence_as(specs, flat)
        self._inbound_nodes.append(node)
        previous_mask = masks_of(args[0])
        if self._masks_from_graph:
            self._graph_output_masks(args[0], node.outputs)
        elif previous_mask is None and not self._makes_masks():
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
        own = nest.flatten(masks_of(inputs)) if masks_of(inputs) is not None else []
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
        if masks_of(inputs) is None and own and len(own) == len(nest.flatten(outputs)):
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
        in_shapes = nest.map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else shape_of(t), inputs)
        if type(self).compute_output_shape is not LayerSymbolic.compute_output_shape:
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

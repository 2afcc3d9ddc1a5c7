"""Merge layers: elementwise Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate and Dot,
each called on a list of tensors, plus the functional aliases (`add([a, b])`, ...).

Masks as in Keras 3: an elementwise merge keeps the steps every masked input keeps (logical and of
the masks given); Concatenate concatenates the masks along its axis (an unmasked input counts as all
True) and keeps a step where any of its concatenated entries is kept."""
from __future__ import annotations

import functools
import string

from ... import ops
from ...ops.einsum import einsum
from ...tensor import TensorShape
from ..engine.base_layer import Layer


def _shapes_text(shapes):
    return ", ".join(str(tuple(s)) for s in shapes)


def _input_masks(layer, inputs, mask):
    """The list of per-input masks (None entries for unmasked inputs), or None when no input is masked."""
    if mask is None:
        return None
    if not isinstance(mask, (list, tuple)) or not isinstance(inputs, (list, tuple)) or len(mask) != len(inputs):
        raise ValueError(f"{layer.name} ({type(layer).__name__}): expects one mask (or None) per input in a list of "
                         f"{len(inputs) if isinstance(inputs, (list, tuple)) else 1}, got {mask!r:.100}")
    return None if all(m is None for m in mask) else list(mask)


class _Merge(Layer):
    """Elementwise merge of a list of same-shape tensors (axes of size 1 broadcast, unknown sizes pass)."""
    _min_inputs, _max_inputs = 2, None
    supports_masking = True

    def _check_inputs(self, shapes):
        kind = type(self).__name__
        if not isinstance(shapes, (list, tuple)) or not shapes or not isinstance(shapes[0], (list, tuple)):
            raise ValueError(f"{self.name} ({kind}): call it on a list of tensors, e.g. {kind}()([a, b])")
        n = len(shapes)
        if n < self._min_inputs or (self._max_inputs and n > self._max_inputs):
            wanted = f"exactly {self._max_inputs}" if self._max_inputs == self._min_inputs else \
                f"at least {self._min_inputs}"
            raise ValueError(f"{self.name} ({kind}): needs {wanted} inputs, got {n}")
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise ValueError(f"{self.name} ({kind}): inputs have different ranks: {_shapes_text(shapes)}; reshape "
                             f"them to one shape")
        out = []
        for axis, dims in enumerate(zip(*shapes)):
            sizes = {d for d in dims if d is not None and d != 1}
            if len(sizes) > 1:
                raise ValueError(f"{self.name} ({kind}): input shapes differ on axis {axis} ({_shapes_text(shapes)}); "
                                 f"elementwise merges need equal shapes (or size 1 to broadcast)")
            out.append(sizes.pop() if sizes else (None if None in dims else 1))
        return TensorShape(out)

    def build(self, input_shape):
        self._check_inputs(input_shape)

    def call(self, inputs):
        self._check_inputs([tuple(t.shape) for t in inputs])
        return self._merge(list(inputs))

    def compute_output_shape(self, input_shape):
        return self._check_inputs(input_shape)

    def compute_mask(self, inputs, mask=None):
        masks = _input_masks(self, inputs, mask)
        if masks is None:
            return None
        return functools.reduce(ops.logical_and, [ops.cast(m, "bool") for m in masks if m is not None])


class Add(_Merge):
    """Adds a list of inputs of one shape, elementwise."""
    def _merge(self, xs):
        return ops.add_n(xs)


class Subtract(_Merge):
    """Subtracts the second of two inputs from the first, elementwise."""
    _min_inputs = _max_inputs = 2

    def _merge(self, xs):
        return xs[0] - xs[1]


class Multiply(_Merge):
    """Multiplies a list of inputs of one shape, elementwise."""
    def _merge(self, xs):
        return functools.reduce(ops.multiply, xs)


class Average(_Merge):
    """Averages a list of inputs of one shape, elementwise."""
    def _merge(self, xs):
        return ops.add_n(xs) * (1.0 / len(xs))


class Maximum(_Merge):
    """Elementwise maximum of a list of inputs of one shape (at a tie the gradient goes to the earlier input)."""
    def _merge(self, xs):
        return functools.reduce(ops.maximum, xs)


class Minimum(_Merge):
    """Elementwise minimum of a list of inputs of one shape (at a tie the gradient goes to the earlier input)."""
    def _merge(self, xs):
        return functools.reduce(ops.minimum, xs)


class Concatenate(Layer):
    """Joins a list of tensors along `axis`; every other axis must agree."""
    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _check_inputs(self, shapes):
        if not isinstance(shapes, (list, tuple)) or len(shapes) < 1 or not isinstance(shapes[0], (list, tuple)):
            raise ValueError(f"{self.name} (Concatenate): call it on a list of tensors, e.g. Concatenate()([a, b])")
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank:
            raise ValueError(f"{self.name} (Concatenate): inputs need one rank that has axis {self.axis}, got "
                             f"{_shapes_text(shapes)}")
        axis = self.axis % rank
        out = []
        for i, dims in enumerate(zip(*shapes)):
            if i == axis:
                out.append(None if None in dims else sum(dims))
                continue
            sizes = {d for d in dims if d is not None}
            if len(sizes) > 1:
                raise ValueError(f"{self.name} (Concatenate): input shapes differ on axis {i} "
                                 f"({_shapes_text(shapes)}); only the concatenation axis {self.axis} may differ")
            out.append(sizes.pop() if sizes else None)
        return TensorShape(out)

    def build(self, input_shape):
        self._check_inputs(input_shape)

    def call(self, inputs):
        self._check_inputs([tuple(t.shape) for t in inputs])
        return ops.concat(list(inputs), axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        masks = _input_masks(self, inputs, mask)
        if masks is None:
            return None
        full = []  # each mask brought to its input's shape, so they concatenate along any axis
        for x, m in zip(inputs, masks):
            if m is None:
                full.append(ops.ones(tuple(x.shape), dtype="bool"))
            elif m.ndim < x.ndim:
                full.append(ops.broadcast_to(ops.expand_dims(ops.cast(m, "bool"), -1), tuple(x.shape)))
            else:
                full.append(ops.cast(m, "bool"))
        return ops.reduce_any(ops.concat(full, axis=self.axis), axis=-1)

    def compute_output_shape(self, input_shape):
        return self._check_inputs(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Layer):
    """Per-sample dot products of two inputs (batch axis first) along `axes`: an int for both inputs, or
    [axis of the first, axis of the second]. The output has the first input's other axes, then the
    second's; two 2-D inputs give (batch, 1). `normalize=True` first scales both to unit L2 norm along
    those axes, so the output is their cosine similarity (Keras 3's `x * min(1 / |x|, 1e7)`)."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2 or not all(isinstance(a, int) for a in axes):
                raise ValueError(f"{self.name} (Dot): axes must be an int or a list of two ints (one axis per input), "
                                 f"got {axes!r}")
            axes = [int(a) for a in axes]
        elif not isinstance(axes, int):
            raise TypeError(f"{self.name} (Dot): axes must be an int or a list of two ints, got "
                            f"{type(axes).__name__}")
        self.axes, self.normalize = axes, bool(normalize)

    def _axes(self, shapes):
        """The two contracted axes, non-negative, after checking the inputs can be multiplied along them."""
        if not isinstance(shapes, (list, tuple)) or len(shapes) != 2 or not isinstance(shapes[0], (list, tuple)):
            raise ValueError(f"{self.name} (Dot): call it on a list of two tensors, e.g. Dot(axes=1)([a, b])")
        axes = self.axes if isinstance(self.axes, list) else [self.axes] * 2
        out = []
        for axis, shape in zip(axes, shapes):
            rank = len(shape)
            if rank < 2 or not -rank < axis < rank or axis % rank == 0:
                raise ValueError(f"{self.name} (Dot): axes {self.axes} must name a non-batch axis of each input, got "
                                 f"shapes {_shapes_text(shapes)}; inputs need a batch axis and rank >= 2")
            out.append(axis % rank)
        (x, y), (a, b) = shapes, out
        for what, dx, dy in (("axes", x[a], y[b]), ("batch sizes", x[0], y[0])):
            if dx is not None and dy is not None and dx != dy:
                raise ValueError(f"{self.name} (Dot): the inputs' {what} differ ({dx} != {dy}) for axes {self.axes}; "
                                 f"shapes {_shapes_text(shapes)}")
        return out

    def build(self, input_shape):
        self._axes(input_shape)

    def call(self, inputs):
        x, y = inputs
        a, b = self._axes([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x, y = _unit(x, a), _unit(y, b)
        # One einsum label per axis: the batch, the contracted axis, then each input's other axes in order.
        letters = iter(string.ascii_letters[2:])
        xs = ["a" if i == 0 else "b" if i == a else next(letters) for i in range(x.ndim)]
        ys = ["a" if i == 0 else "b" if i == b else next(letters) for i in range(y.ndim)]
        out_labels = [c for c in xs + ys if c not in "ab"]
        out = einsum(f"{''.join(xs)},{''.join(ys)}->a{''.join(out_labels)}", x, y)
        return ops.expand_dims(out, -1) if not out_labels else out

    def compute_output_shape(self, input_shape):
        a, b = self._axes(input_shape)
        x, y = list(input_shape[0]), list(input_shape[1])
        out = [d for i, d in enumerate(x) if i != a] + [d for i, d in enumerate(y) if i not in (0, b)]
        return TensorShape(out + [1] if len(out) == 1 else out)

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _unit(x, axis):
    """Keras 3's ops.normalize: x / |x| along `axis`, with 1 / |x| capped at 1 / epsilon (1e-7)."""
    return x * ops.minimum(ops.rsqrt(ops.reduce_sum(ops.square(x), axis=axis, keepdims=True)), 1e7)


def add(inputs, **kwargs):
    """`Add(**kwargs)(inputs)`: the functional form."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """`Subtract(**kwargs)(inputs)`: the functional form."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """`Multiply(**kwargs)(inputs)`: the functional form."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """`Average(**kwargs)(inputs)`: the functional form."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """`Maximum(**kwargs)(inputs)`: the functional form."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """`Minimum(**kwargs)(inputs)`: the functional form."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """`Concatenate(axis=axis, **kwargs)(inputs)`: the functional form."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize=False, **kwargs):
    """`Dot(axes=axes, normalize=normalize, **kwargs)(inputs)`: the functional form."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)

"""Recurrent layers (Keras 3 names, arguments, weight shapes and gate orders): SimpleRNN, LSTM, GRU,
and the Bidirectional wrapper.

The input projection x@W + b runs once for the whole sequence (one matmul); the time loop runs
in Python, one h@U matmul per step followed by the cell's pointwise math. With the default
activations (tanh / sigmoid) that math is one fused primitive (lstm_cell, gru_cell) with a
fused backward; any other activation runs the same formulas as gpuflow ops.

`dropout` and `recurrent_dropout` (training only) draw one mask per call, shared by every time
step (Gal & Ghahramani's variational dropout, as Keras does): `dropout` masks the input
features, `recurrent_dropout` the previous state where it enters the recurrent matmul.

A (batch, time) sequence mask (from Embedding(mask_zero=True), Masking, or mask=) skips steps as
Keras' backend.rnn does: at a masked step the states are carried over unchanged and the output is
the previous step's output (zeros with zero_output_for_mask=True, which Bidirectional sets when
returning sequences), so the last output is the one of the last unmasked step. The fused cells
run on every row; the mask picks rows with `where` around them.
"""
from __future__ import annotations

from ... import devices, ops
from ...ops import nn_ops, rnn_prims
from ...tensor import TensorShape
from .. import activations, constraints, initializers, regularizers
from ..engine.base_layer import Layer
from ..engine.layer_serialization import deserialize_layer, serialize_layer

__all__ = ["SimpleRNN", "LSTM", "GRU", "Bidirectional"]


def _fused(layer) -> bool:
    """Whether the fused cell primitives (tanh and sigmoid built in) compute this gated layer's step."""
    return (activations.serialize(layer.activation) == "tanh"
            and activations.serialize(layer.recurrent_activation) == "sigmoid")


class _RNN(Layer):
    """Shared sequence handling: weights, the time loop, return_sequences/return_state/go_backwards, masks."""
    gates = 1          # blocks of `units` columns in kernel and recurrent_kernel
    n_states = 1       # LSTM carries (h, c)
    supports_masking = True

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, zero_output_for_mask=False,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"{self.name} ({type(self).__name__}): units must be a positive integer, got {units!r}")
        for what, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= rate < 1:
                raise ValueError(f"{self.name} ({type(self).__name__}): {what} must be in [0, 1), got {rate!r}")
        self.units = units
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.kernel = self.recurrent_kernel = self.bias = None

    # ---------------------------------------------------------------- weights
    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        self._check_rank(input_shape)
        if input_shape[-1] is None:
            raise ValueError(f"{self.name} ({type(self).__name__}): the feature axis of the input must be known, "
                             f"got shape {input_shape}")
        width = self.gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", (self.units, width), initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", self._bias_shape(), initializer=self._bias_initializer(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _check_rank(self, shape):
        if len(shape) != 3:
            raise ValueError(f"{self.name} ({type(self).__name__}): expects inputs of rank 3 (batch, timesteps, "
                             f"features), got shape {tuple(shape)}")

    # ---------------------------------------------------------------- the time loop
    def _input_bias(self):
        return self.bias

    def _initial_states(self, inputs, initial_state):
        batch = inputs.shape[0]
        if initial_state is None:
            if batch is None:  # traced for any batch size: zeros as wide as the batch, whatever the inputs hold
                column = ops.cast(ops.gather(ops.gather(inputs, 0, axis=1), [0], axis=1), "bool")  # (batch, 1)
                zero = ops.zeros((1, self.units), dtype=inputs.dtype)
                return [ops.where(column, zero, zero)] * self.n_states
            return [ops.zeros((batch, self.units), dtype=inputs.dtype) for _ in range(self.n_states)]
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        states = [ops.convert_to_tensor(s, dtype=inputs.dtype) for s in states]
        if len(states) != self.n_states or any(tuple(s.shape) != (batch, self.units) for s in states):
            raise ValueError(f"{self.name} ({type(self).__name__}): initial_state must be {self.n_states} tensor(s) "
                             f"of shape ({batch}, {self.units}), got {[tuple(s.shape) for s in states]}")
        return states

    def _step_masks(self, mask, inputs):
        """The (batch, time) mask as one (batch, 1) boolean tensor per step, or None without a mask."""
        if mask is None:
            return None
        if isinstance(mask, (list, tuple)):  # a mask per input: every input shares the time steps
            mask = mask[0]
        shape = tuple(inputs.shape)
        with devices.device(inputs._device):
            mask = ops.convert_to_tensor(mask)
        if tuple(mask.shape) != tuple(shape[:2]):
            raise ValueError(f"{self.name} ({type(self).__name__}): the mask must have shape (batch, timesteps) = "
                             f"{tuple(shape[:2])} for inputs of shape {tuple(shape)}, got {tuple(mask.shape)}")
        mask = ops.cast(mask, "bool")
        return [ops.expand_dims(m, 1) for m in ops.unstack(mask, axis=1)] if shape[1] else []

    def call(self, inputs, initial_state=None, mask=None, training=None):
        shape = tuple(inputs.shape)
        self._check_rank(shape)
        if shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{self.name} ({type(self).__name__}): was built for {self.kernel.shape[0]} features but "
                             f"got inputs of shape {shape}; a layer keeps the input size it was built with")
        batch, steps, features = shape
        states = self._initial_states(inputs, initial_state)
        step_masks = self._step_masks(mask, inputs)
        if training and self.dropout:
            inputs = inputs * ops.expand_dims(self._mask((batch, features), self.dropout, inputs.dtype), 1)
        rec_mask = (self._mask((batch, self.units), self.recurrent_dropout, inputs.dtype)
                    if training and self.recurrent_dropout else None)
        projected = ops.matmul(ops.reshape(inputs, (-1 if batch is None else batch * steps, features)), self.kernel)
        bias = self._input_bias()
        if bias is not None:
            projected = projected + bias
        per_step = _time_steps(ops.reshape(projected, (batch, steps, self.gates * self.units)))
        outputs = []
        if step_masks is None:
            for x_t in (reversed(per_step) if self.go_backwards else per_step):
                states = self._step(x_t, states, rec_mask)
                outputs.append(states[0])
        else:
            with devices.device(inputs._device):
                zeros = ops.zeros((batch, self.units), dtype=inputs.dtype)
            order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
            previous = zeros  # Keras' output before the first step
            for t in order:
                new = self._step(per_step[t], states, rec_mask)
                keep = step_masks[t]
                states = [ops.where(keep, n, old) for n, old in zip(new, states)]
                previous = ops.where(keep, new[0], zeros if self.zero_output_for_mask else previous)
                outputs.append(previous)
        if self.return_sequences:
            result = ops.stack(outputs, axis=1) if outputs else ops.zeros((batch, 0, self.units), dtype=inputs.dtype)
        else:
            result = outputs[-1] if outputs else states[0]
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(result))
        return [result] + list(states) if self.return_state else result

    @staticmethod
    def _mask(shape, rate, dtype):
        return nn_ops.dropout(ops.ones(shape, dtype=dtype), rate)

    @staticmethod
    def _recurrent_input(h, rec_mask):
        """The previous state as the recurrent matmul sees it (masked under recurrent_dropout)."""
        return h if rec_mask is None else h * rec_mask

    def compute_mask(self, inputs, mask=None):
        """A returned sequence keeps the input's mask (in input order, also with go_backwards, as in Keras);
        a last output and the states have none."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        return [out] + [None] * self.n_states if self.return_state else out

    def compute_output_shape(self, input_shape):
        batch, steps = tuple(input_shape)[:2]
        out = TensorShape((batch, steps, self.units) if self.return_sequences else (batch, self.units))
        return [out] + [TensorShape((batch, self.units))] * self.n_states if self.return_state else out

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "zero_output_for_mask": self.zero_output_for_mask}


def _time_steps(sequence):
    """(batch, steps, n) → one (batch, n) tensor per step. Traced with an unknown batch size (a serving
    signature), each step is a gather along the time axis, since a slice needs every size known."""
    batch, steps = tuple(sequence.shape)[:2]
    if not steps:
        return []
    if batch is None:
        return [ops.gather(sequence, t, axis=1) for t in range(steps)]
    return ops.unstack(sequence, axis=1)


class SimpleRNN(_RNN):
    """h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)."""

    def _step(self, x_t, states, rec_mask):
        return [self.activation(x_t + ops.matmul(self._recurrent_input(states[0], rec_mask), self.recurrent_kernel))]


class LSTM(_RNN):
    """Keras' LSTM: gates i, f, c, o in kernel (input_dim, 4*units); `unit_forget_bias` starts the
    forget gate's bias at 1."""
    gates, n_states = 4, 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, init = self.units, self.bias_initializer

        def forget_ones(shape, dtype=None):
            return ops.concat([init((units,), dtype=dtype), ops.ones((units,), dtype=dtype),
                               init((2 * units,), dtype=dtype)], axis=0)
        return forget_ones

    def _step(self, x_t, states, rec_mask):
        h, c = states
        z = x_t + ops.matmul(self._recurrent_input(h, rec_mask), self.recurrent_kernel)
        if _fused(self):
            return list(rnn_prims.lstm_cell(z, c))
        i, f, g, o = ops.split(z, 4, axis=1)
        rec = self.recurrent_activation
        c = rec(f) * c + rec(i) * self.activation(g)
        return [rec(o) * self.activation(c), c]

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRU(_RNN):
    """Keras' GRU: gates z, r, h in kernel (input_dim, 3*units). With reset_after=True (the default)
    the reset gate applies after the recurrent matmul and bias is (2, 3*units): input and recurrent."""
    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        return self.bias[0] if self.reset_after and self.bias is not None else self.bias

    def _step(self, x_t, states, rec_mask):
        h = states[0]
        rec, act, u = self.recurrent_activation, self.activation, self.units
        if self.reset_after:
            zh = ops.matmul(self._recurrent_input(h, rec_mask), self.recurrent_kernel)
            if self.bias is not None:
                zh = zh + self.bias[1]
            if _fused(self):
                return [rnn_prims.gru_cell(x_t, zh, h)]
            xz, xr, xh = ops.split(x_t, 3, axis=1)
            hz, hr, hh = ops.split(zh, 3, axis=1)
            z, r = rec(xz + hz), rec(xr + hr)
            candidate = act(xh + r * hh)
        else:
            xz, xr, xh = ops.split(x_t, 3, axis=1)
            h_in = self._recurrent_input(h, rec_mask)
            hz, hr = ops.split(ops.matmul(h_in, self.recurrent_kernel[:, :2 * u]), 2, axis=1)
            z, r = rec(xz + hz), rec(xr + hr)
            candidate = act(xh + ops.matmul(r * h_in, self.recurrent_kernel[:, 2 * u:]))
        return [z * h + (1 - z) * candidate]

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


class Bidirectional(Layer):
    """Runs `layer` forwards and a go_backwards copy of it, and merges their outputs
    ('concat', 'sum', 'mul', 'ave', or None for a list of both). Returning sequences, both directions output
    zeros at masked steps (zero_output_for_mask, as Keras forces it)."""
    _MERGES = ("concat", "sum", "mul", "ave", None)
    supports_masking = True

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if isinstance(layer, dict):
            layer = deserialize_layer(layer)
        if isinstance(backward_layer, dict):
            backward_layer = deserialize_layer(backward_layer)
        if not isinstance(layer, _RNN):
            raise ValueError(f"Bidirectional: layer must be a SimpleRNN, LSTM or GRU instance, got {layer!r}")
        if merge_mode not in self._MERGES:
            raise ValueError(f"Bidirectional: merge_mode must be one of {self._MERGES}, got {merge_mode!r}")
        super().__init__(**kwargs)
        # The wrapped layer itself is never run (only its two copies are), so it is kept as its
        # config: tracking it would add its weights, if it has any, to this layer's.
        self._layer_entry = serialize_layer(layer)
        self.merge_mode = merge_mode
        self.forward_layer = self._copy(layer, "forward", layer.go_backwards)
        if backward_layer is None:
            backward_layer = self._copy(layer, "backward", not layer.go_backwards)
        self.backward_layer = backward_layer
        if backward_layer.go_backwards == layer.go_backwards or \
                backward_layer.return_sequences != layer.return_sequences or \
                backward_layer.return_state != layer.return_state:
            raise ValueError(f"{self.name} (Bidirectional): backward_layer must have go_backwards opposite to the "
                             f"layer's and the same return_sequences and return_state")
        for direction in (self.forward_layer, self.backward_layer):
            direction.zero_output_for_mask = direction.return_sequences

    @staticmethod
    def _copy(layer, direction, go_backwards):
        config = dict(layer.get_config(), name=f"{direction}_{layer.name}", go_backwards=go_backwards)
        return type(layer).from_config(config)

    def build(self, input_shape):
        for layer in (self.forward_layer, self.backward_layer):
            if not layer.built:
                layer.build(input_shape)
                layer._build_input_shape, layer.built = input_shape, True
        super().build(input_shape)

    def _merge(self, y_f, y_b):
        if self.merge_mode == "concat":
            return ops.concat([y_f, y_b], axis=-1)
        if self.merge_mode == "sum":
            return y_f + y_b
        if self.merge_mode == "mul":
            return y_f * y_b
        if self.merge_mode == "ave":
            return (y_f + y_b) * 0.5
        return [y_f, y_b]

    def call(self, inputs, initial_state=None, mask=None, training=None):
        f_state = b_state = None
        if initial_state is not None:
            states = list(initial_state)
            half = len(states) // 2
            f_state, b_state = states[:half], states[half:]
        y_f = self.forward_layer(inputs, initial_state=f_state, mask=mask, training=training)
        y_b = self.backward_layer(inputs, initial_state=b_state, mask=mask, training=training)
        states = []
        if self.forward_layer.return_state:
            (y_f, *s_f), (y_b, *s_b) = y_f, y_b
            states = s_f + s_b
        if self.forward_layer.return_sequences:
            y_b = y_b[:, ::-1]  # the backward pass emits its outputs last step first: put them back in time order
        merged = self._merge(y_f, y_b)
        if not states:
            return merged
        return (merged if isinstance(merged, list) else [merged]) + states

    def compute_mask(self, inputs, mask=None):
        """Keras 3's: the input mask on each returned sequence; none on last outputs and states."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        seq = mask if self.forward_layer.return_sequences else None
        out = [seq, seq] if self.merge_mode is None else [seq]
        if self.forward_layer.return_state:
            return out + [None] * (2 * self.forward_layer.n_states)
        return out if self.merge_mode is None else seq

    def compute_output_shape(self, input_shape):
        out = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.forward_layer.return_state:
            out, *states = out
            states = states * 2
        if self.merge_mode == "concat":
            out = TensorShape(tuple(out)[:-1] + (2 * out[-1],))
        merged = [out, out] if self.merge_mode is None else [out]
        return merged + states if states or self.merge_mode is None else out

    def get_config(self):
        return {**super().get_config(), "layer": self._layer_entry, "merge_mode": self.merge_mode,
                "backward_layer": serialize_layer(self.backward_layer)}

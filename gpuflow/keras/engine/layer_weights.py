"""A layer's own weights (`add_weight`), reading and writing them as NumPy, and the losses they and the
layer's calls add (`add_loss`, weight regularizers)."""
from __future__ import annotations

import numpy as np

from ... import dtypes as _dtypes
from ...ops.dispatch import init_scope
from ...tensor import Variable
from ...train.checkpoint import restore_deferred
from .. import constraints, initializers, regularizers
from .layer_tracking import structure_changed

_ADD_WEIGHT_KWARGS = {"use_resource", "synchronization", "aggregation", "experimental_autocast", "autocast"}


class LayerWeights:
    """The part of `Layer` that makes and sets weights and collects losses. Relies on `_own_weights`,
    `_call_losses`, `_variable_dtype`, `built` and the tree walk of LayerTracking."""

    def add_weight(self, name=None, shape=(), dtype=None, initializer="glorot_uniform", regularizer=None,
                   trainable=True, constraint=None, **kwargs):
        """A new Variable owned by this layer, named `<layer>/<name>:0`, made eagerly from `initializer`."""
        unknown = sorted(set(kwargs) - _ADD_WEIGHT_KWARGS)
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
        restore_deferred()  # a gf.train.Checkpoint restored before this layer was built: its value, if saved
        return var

    def _checkpoint_variables(self):
        """(path, Variable) of this layer's weights, as gf.train.Checkpoint keys them: save_weights' paths."""
        from .saving import weight_paths
        return weight_paths(self)

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

"""Helpers for layer tests: run a layer with some weights replaced by plain tensors (for check_grad)."""
import gpuflow as gf


def with_weights(layer, names, training=None):
    """fn(x, *weights) → layer(x) with layer.<name> replaced by each given tensor during the call."""
    def fn(x, *weights):
        saved = [getattr(layer, n) for n in names]
        try:
            for n, w in zip(names, weights):
                setattr(layer, n, w)
            return layer(x) if training is None else layer(x, training=training)
        finally:
            for n, w in zip(names, saved):
                setattr(layer, n, w)
    return fn


def built(layer, shape):
    """The layer, built for `shape` (so a later call keeps these weights)."""
    layer.build(shape)
    layer.built = True
    return layer


def np_weights(layer, *names):
    return [getattr(layer, n).numpy() for n in names]


__all__ = ["with_weights", "built", "np_weights", "gf"]

"""`gf.keras.activations`: elementwise activation functions, looked up by name (Keras 3 formulas)."""
from __future__ import annotations


from .. import ops
from ..ops import nn_ops



def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """x for threshold <= x < max_value, max_value above, negative_slope * (x - threshold) below."""
    if negative_slope == 0 and threshold == 0:
        y = ops.relu(x)
    else:
        x = ops.convert_to_tensor(x)
        y = ops.where(x >= threshold, x, (x - threshold) * float(negative_slope))
    return y if max_value is None else ops.minimum(y, float(max_value))


def leaky_relu(x, negative_slope=0.2):
    """x where x > 0, negative_slope * x elsewhere (Keras 3's default slope 0.2)."""
    return ops.leaky_relu(x, alpha=negative_slope)


def relu6(x):
    """min(max(x, 0), 6)."""
    return ops.relu6(x)


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return ops.sigmoid(x)


def tanh(x):
    """Hyperbolic tangent."""
    return ops.tanh(x)


def softmax(x, axis=-1):
    """exp(x) normalised along `axis` (default the last)."""
    return nn_ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """x - log(sum(exp(x))) along `axis` (default the last)."""
    return nn_ops.log_softmax(x, axis=axis)


def elu(x, alpha=1.0):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    return ops.elu(x, alpha=alpha)


def selu(x):
    """Scaled ELU: scale * elu(x, alpha) with the self-normalising constants (alpha 1.6733, scale 1.0507)."""
    return nn_ops.selu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit; `approximate=True` uses the tanh approximation."""
    return ops.gelu(x, approximate=approximate)


def silu(x):
    """x * sigmoid(x) (also named swish)."""
    return ops.silu(x)


def softplus(x):
    """log(1 + exp(x)), without overflow."""
    return ops.softplus(x)


def softsign(x):
    """x / (|x| + 1)."""
    return nn_ops.softsign(x)


def exponential(x):
    """exp(x)."""
    return ops.exp(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3 (Keras 3; Keras 2 used 0.2x + 0.5)."""
    return ops.relu6(ops.convert_to_tensor(x) + 3.0) * (1.0 / 6.0)


def mish(x):
    """x * tanh(softplus(x)) (Misra, 2019)."""
    x = ops.convert_to_tensor(x)
    return x * ops.tanh(ops.softplus(x))


def linear(x):
    """x unchanged (the identity; what `activation=None` means)."""
    return x


swish = silu
_BY_NAME = {fn.__name__: fn for fn in (relu, leaky_relu, relu6, sigmoid, tanh, softmax, log_softmax, elu, selu, gelu,
                                        silu, softplus, softsign, exponential, hard_sigmoid, mish, linear)}
_BY_NAME["swish"] = silu


def get(identifier):
    """None → linear; a name → the function; a callable (a function or a layer) → itself."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier)
        if fn is None:
            raise ValueError(f"unknown activation {identifier!r}; known: {', '.join(sorted(_BY_NAME))}")
        return fn
    if isinstance(identifier, dict) and "class_name" in identifier:
        return get(identifier["class_name"])
    if callable(identifier):
        return identifier
    raise ValueError(f"cannot interpret {identifier!r} as an activation: give a name or a callable")


def serialize(activation):
    """The name of one of these functions; anything else cannot be saved as a config."""
    name = getattr(activation, "__name__", None)
    if _BY_NAME.get(name) is activation:
        return "silu" if activation is silu else name
    raise ValueError(f"cannot serialize activation {activation!r}: only gpuflow.keras.activations functions are "
                     f"saved by name; pass its name (e.g. 'relu') or use a layer for a custom function")


deserialize = get

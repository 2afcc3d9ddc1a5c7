"""`gf.keras.backend`: the few global settings Keras code reads (floatx, epsilon) and the layer-name counters."""
from __future__ import annotations

import collections

from .. import dtypes as _dtypes

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
# One counter per name prefix, so default layer names run `dense`, `dense_1`, ... like Keras.
_uids: collections.Counter = collections.Counter()


def floatx() -> str:
    """The default float dtype name of new layers' weights and computation ('float32' unless set_floatx changed it)."""
    return _FLOATX


def set_floatx(value) -> None:
    """Sets the default float dtype ('float16', 'bfloat16', 'float32' or 'float64') for layers made from now on."""
    global _FLOATX
    dtype = _dtypes.as_dtype(value)
    if not dtype.is_floating:
        raise ValueError(f"set_floatx: {value!r} is not a floating dtype; use 'float16', 'bfloat16', 'float32' "
                         f"or 'float64'")
    _FLOATX = dtype.name


def epsilon() -> float:
    """The fuzz factor Keras losses and metrics add to avoid dividing by zero (1e-7 unless set_epsilon changed it)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Sets the fuzz factor that epsilon() returns."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    """Always 'channels_last': gpuflow's image layers are NHWC only.

        Differs from TF:
            There is no set_image_data_format; 'channels_first' is not supported.
    """
    return _IMAGE_DATA_FORMAT


def get_uid(prefix: str = "") -> int:
    """1 for the first call with `prefix`, then 2, 3, ... (Keras numbers names from the second one on)."""
    _uids[prefix] += 1
    return _uids[prefix]


def unique_name(prefix: str) -> str:
    """`prefix`, then `prefix_1`, `prefix_2`, ... on later calls: how default layer names are made."""
    uid = get_uid(prefix)
    return prefix if uid == 1 else f"{prefix}_{uid - 1}"


def clear_session() -> None:
    """Forget the name counters, so a fresh model's layers are named `dense`, `dense_1`, ... again."""
    _uids.clear()


def get_value(x):
    """A tensor's or variable's value as NumPy (like `optimizer.learning_rate`); plain numbers as they are."""
    from ..tensor import Tensor
    return x.numpy() if isinstance(x, Tensor) else x


def set_value(x, value) -> None:
    """Assign `value` to the variable `x` (tf.keras.backend.set_value), e.g. `set_value(optimizer.learning_rate,
    1e-4)`. The value is converted to the variable's dtype and device."""
    from .. import devices as _device
    from ..ops.creation import convert_to_tensor
    from ..tensor import Variable
    if not isinstance(x, Variable):
        raise TypeError(f"set_value needs a gf.Variable, got {type(x).__name__} {x!r:.60}. (An optimizer whose "
                        f"learning rate is a schedule or a callable has no rate variable: assign a new schedule "
                        f"with `optimizer.learning_rate = ...` instead)")
    with _device.device(x._device):
        x.assign(convert_to_tensor(value, dtype=x.dtype))

"""`gf.data`: tf.data input pipelines.

    ds = gf.data.Dataset.from_tensor_slices((x, y)).shuffle(1000, seed=0).batch(32).prefetch(gf.data.AUTOTUNE)
    for xb, yb in ds: ...   # Tensors on the current device
"""
from . import experimental  # noqa: F401
from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset  # noqa: F401

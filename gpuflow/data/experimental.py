"""`gf.data.experimental`: the constants tf code still reaches for here, and the device transformations."""
from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY  # noqa: F401
from .device import copy_to_device, prefetch_to_device  # noqa: F401


def cardinality(dataset):
    """The number of elements of `dataset` as an int64 scalar tensor, INFINITE_CARDINALITY (-1) or
    UNKNOWN_CARDINALITY (-2), as tf.data.experimental.cardinality (Dataset.cardinality())."""
    return dataset.cardinality()

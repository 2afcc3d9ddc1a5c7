"""`gf.data.experimental`: the constants tf code still reaches for here, and the device transformations."""
from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY  # noqa: F401
from .device import copy_to_device, prefetch_to_device  # noqa: F401

"""`gf.data.experimental`: the constants tf code still reaches for here."""
from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY  # noqa: F401

"""`gf.config.experimental` (tf.config.experimental): op determinism."""
from .determinism import disable_op_determinism, enable_op_determinism, is_op_determinism_enabled  # noqa: F401

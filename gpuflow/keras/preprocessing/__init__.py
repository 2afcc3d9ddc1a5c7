"""`gf.keras.preprocessing`: the tf.keras.preprocessing names that remain in use (`sequence.pad_sequences`)."""
from . import sequence  # noqa: F401

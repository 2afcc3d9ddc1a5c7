"""`gf.image`: resizing, flips, crops and pixel-value adjustments with TensorFlow's names (tf.image)."""
from .ops.image_ops import (ResizeMethod, central_crop, flip_left_right, flip_up_down,  # noqa: F401
                            random_crop, random_flip_left_right, random_flip_up_down, resize)
from .ops.image_adjust_ops import (adjust_brightness, adjust_contrast, convert_image_dtype,  # noqa: F401
                                   per_image_standardization)

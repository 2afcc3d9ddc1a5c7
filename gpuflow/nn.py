"""`gf.nn`: activations, softmax, cross-entropies, dropout (tf.nn names)."""
from .ops.math import elu, gelu, leaky_relu, relu, relu6, sigmoid, silu, softplus, swish, tanh  # noqa: F401
from .ops.nn_ops import (batch_normalization, bias_add, dropout, embedding_lookup, l2_loss, l2_normalize,  # noqa: F401
                         log_softmax, moments, selu, sigmoid_cross_entropy_with_logits, softmax,
                         softmax_cross_entropy_with_logits, softsign, sparse_softmax_cross_entropy_with_logits,
                         weighted_cross_entropy_with_logits)
from .ops.conv_ops import (avg_pool, avg_pool1d, avg_pool2d, conv1d, conv2d, conv2d_transpose,  # noqa: F401
                            convolution, depthwise_conv2d, max_pool, max_pool1d, max_pool2d, separable_conv2d)
from .distribute.losses import compute_average_loss, scale_regularization_loss  # noqa: F401,E402
from .ops.sort_ops import in_top_k, top_k  # noqa: F401

"""`gf.keras.layers`: every layer class, the functional merge aliases, and Input."""
from __future__ import annotations

from ..engine.base_layer import Layer  # noqa: F401
from ..engine.input_layer import Input, InputLayer  # noqa: F401
from .core import (Activation, Dense, Dropout, Embedding, Flatten, Lambda, LeakyReLU, Masking, Permute,  # noqa: F401
                   ReLU, Reshape, Softmax)
from .merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,  # noqa: F401
                    average, concatenate, dot, maximum, minimum, multiply, subtract)
from .normalization import BatchNormalization, LayerNormalization  # noqa: F401
from .group_normalization import GroupNormalization  # noqa: F401
from .spatial_dropout import SpatialDropout1D, SpatialDropout2D  # noqa: F401
from .preprocessing import Normalization, Rescaling  # noqa: F401
from .image_preprocessing import (CenterCrop, RandomFlip, RandomRotation, RandomTranslation,  # noqa: F401
                                  RandomZoom, Resizing)
from .convolutional import Conv1D, Conv2D, Convolution1D, Convolution2D  # noqa: F401
from .convolutional_transpose import Conv2DTranspose, Convolution2DTranspose  # noqa: F401
from .depthwise import DepthwiseConv2D, SeparableConv2D, SeparableConvolution2D  # noqa: F401
from .pooling import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D, GlobalAveragePooling1D,  # noqa: F401
                      GlobalAveragePooling2D, GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D,
                      GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D)
from .recurrent import GRU, LSTM, Bidirectional, SimpleRNN  # noqa: F401
from .padding import ZeroPadding1D, ZeroPadding2D  # noqa: F401
from .wrappers import TimeDistributed  # noqa: F401
from .attention import AdditiveAttention, Attention, MultiHeadAttention  # noqa: F401
from .reshaping import Cropping1D, Cropping2D, RepeatVector, UpSampling1D, UpSampling2D  # noqa: F401
from .activation_layers import ELU, ActivityRegularization, GaussianNoise, PReLU, UnitNormalization  # noqa: F401

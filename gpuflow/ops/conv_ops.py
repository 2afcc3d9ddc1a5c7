"""Public convolution and pooling ops with tf.nn's names and arguments (NHWC / NWC only).

conv2d = im2col + one matmul (cuBLAS on a GPU); grouped convolution (input channels a multiple
of the filters' input channels, as tf.nn.conv2d infers it) is a batched matmul over groups.
conv1d and the 1-D pools run the 2-D ones with H = 1; depthwise and separable convolutions are grouped ones;
conv2d_transpose is conv2d's input gradient (one matmul, then col2im). Their gradients come from the primitives'.
"""
from __future__ import annotations

from ..errors import InvalidArgumentError
from . import conv_prims, pool_prims
from .array import reshape, squeeze, transpose, expand_dims
from .linalg_ops import matmul
from .math import operands


def _hw(op, what, value, rank=2):
    """tf's stride/size forms: an int, `rank` ints, or rank + 2 ints with 1 for batch and channels."""
    if isinstance(value, int) or hasattr(value, "__index__"):
        return (int(value),) * rank if rank == 2 else (1, int(value))
    items = tuple(int(v) for v in value)
    if len(items) == 1:
        return items * 2 if rank == 2 else (1, items[0])
    if len(items) == rank + 2:
        if items[0] != 1 or items[-1] != 1:
            raise InvalidArgumentError(f"{op}: {what} {list(items)} must be 1 on the batch and channel axes")
        items = items[1:-1]
    if len(items) != rank:
        raise InvalidArgumentError(f"{op}: {what} must be an int or {rank} ints, got {value!r}")
    return items if rank == 2 else (1,) + items


def _channels_last(op, data_format, allowed):
    if data_format is not None and data_format not in allowed:
        raise InvalidArgumentError(f"{op}: only data_format={allowed[0]!r} (channels last) is supported, got "
                                   f"{data_format!r}; transpose the input to channels last first")


def _rank(op, x, rank, layout):
    if x.ndim != rank:
        raise InvalidArgumentError(f"{op}: input must be {layout} (rank {rank}), got {x.dtype.name}{list(x.shape)}")


def conv2d(input, filters, strides=1, padding="VALID", data_format="NHWC", dilations=None, name=None):  # noqa: A002
    """tf.nn.conv2d: input (N, H, W, C), filters (KH, KW, C / groups, F)."""
    x, k = operands(input, filters)
    _channels_last("conv2d", data_format, ("NHWC",))
    _rank("conv2d", x, 4, "NHWC")
    if k.ndim != 4:
        raise InvalidArgumentError(f"conv2d: filters must be HWIO (rank 4), got {k.dtype.name}{list(k.shape)}")
    n, h, w, c = x.shape
    kh, kw, cg, f = k.shape
    if cg == 0 or c % cg or f % (c // cg):
        raise InvalidArgumentError(
            f"conv2d: input has {c} channels ({list(x.shape)}) but filters {list(k.shape)} take {cg} per group: the "
            f"input channels must be a multiple of filters.shape[2], and the filter count of the number of groups")
    groups = c // cg
    strides = _hw("conv2d", "strides", strides)
    dilations = _hw("conv2d", "dilations", 1 if dilations is None else dilations)
    pads, (oh, ow) = conv_prims.window_geometry("conv2d", (h, w), (kh, kw), strides, dilations, padding)
    if (kh, kw, *strides) == (1, 1, 1, 1) and not any(pads):
        cols = x  # a pointwise convolution's patches are the pixels: skip im2col's copy
    else:
        cols = conv_prims.im2col(x, kernel_size=(kh, kw), strides=strides, dilations=dilations, pads=pads)
    m, taps = None if n is None else n * oh * ow, kh * kw  # None: a batch of any size (traced), reshape's -1
    if groups == 1:
        out = matmul(reshape(cols, (m, taps * c)), reshape(k, (taps * c, f)))
        return reshape(out, (n, oh, ow, f))
    # Group g reads input channels [g*cg, (g+1)*cg) and writes filters [g*fg, (g+1)*fg).
    fg = f // groups
    cols = transpose(reshape(cols, (m, taps, groups, cg)), (2, 0, 1, 3))
    kernels = transpose(reshape(k, (taps * cg, groups, fg)), (1, 0, 2))
    out = matmul(reshape(cols, (groups, m, taps * cg)), kernels)          # (groups, m, fg)
    return reshape(transpose(out, (1, 0, 2)), (n, oh, ow, f))


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NHWC", dilations=None,  # noqa: A002
                     name=None):
    """tf.nn.conv2d_transpose: the gradient of conv2d with respect to its input, as an op. input (N, H, W, C),
    filters (KH, KW, F, C), output (N, OH, OW, F) = `output_shape`: the shape a conv2d with these strides,
    padding and dilations would take to give an (N, H, W, C) result."""
    x, k = operands(input, filters)
    _channels_last("conv2d_transpose", data_format, ("NHWC",))
    _rank("conv2d_transpose", x, 4, "NHWC")
    if k.ndim != 4:
        raise InvalidArgumentError(f"conv2d_transpose: filters must be (height, width, out_channels, in_channels), "
                                   f"got {k.dtype.name}{list(k.shape)}")
    n, h, w, c = x.shape
    kh, kw, f, kc = k.shape
    shape = [int(d) for d in (output_shape.numpy() if hasattr(output_shape, "numpy") else output_shape)]
    if kc != c or len(shape) != 4 or shape[3] != f or (n is not None and shape[0] != n):
        raise InvalidArgumentError(
            f"conv2d_transpose: input {list(x.shape)} (channels last), filters {list(k.shape)} (out_channels "
            f"third, in_channels last) and output_shape {shape} (batch, height, width, out_channels) do not agree")
    strides = _hw("conv2d_transpose", "strides", strides)
    dilations = _hw("conv2d_transpose", "dilations", 1 if dilations is None else dilations)
    pads, conv_hw = conv_prims.window_geometry("conv2d_transpose", tuple(shape[1:3]), (kh, kw), strides, dilations,
                                               padding)
    if tuple(conv_hw) != (h, w):
        raise InvalidArgumentError(
            f"conv2d_transpose: output_shape {shape} does not fit the input {list(x.shape)}: a conv2d of that shape "
            f"with kernel {(kh, kw)}, strides {strides}, dilations {dilations} and {padding} padding gives "
            f"{list(conv_hw)}, not {[h, w]}")
    m = None if n is None else n * h * w
    cols = matmul(reshape(x, (m, c)), reshape(k, (kh * kw * f, c)), transpose_b=True)   # (m, taps * F)
    cols = reshape(cols, (n, h, w, kh, kw, f))
    return conv_prims.col2im(cols, input_hw=tuple(shape[1:3]), kernel_size=(kh, kw), strides=strides,
                             dilations=dilations, pads=pads)


def depthwise_conv2d(input, filter, strides, padding, data_format="NHWC", dilations=None, name=None):  # noqa: A002
    """tf.nn.depthwise_conv2d: each input channel convolved with its own `channel_multiplier` filters. input
    (N, H, W, C), filter (KH, KW, C, M) → (N, OH, OW, C * M), output channel c * M + m from filter [:, :, c, m]."""
    x, k = operands(input, filter)
    _rank("depthwise_conv2d", x, 4, "NHWC")
    if k.ndim != 4 or k.shape[2] != x.shape[3]:
        raise InvalidArgumentError(f"depthwise_conv2d: filter must be (height, width, in_channels={x.shape[3]}, "
                                   f"channel_multiplier), got {k.dtype.name}{list(k.shape)} for input {list(x.shape)}")
    kh, kw, c, mult = k.shape
    # a grouped conv2d with one input channel per group: group c writes filters [c * M, (c + 1) * M)
    return conv2d(x, reshape(k, (kh, kw, 1, c * mult)), strides=strides, padding=padding, data_format=data_format,
                  dilations=dilations)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding, data_format="NHWC",  # noqa: A002
                     dilations=None, name=None):
    """tf.nn.separable_conv2d: depthwise_conv2d, then a 1x1 conv2d with pointwise_filter (1, 1, C * M, F)."""
    x = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format, dilations)
    return conv2d(x, pointwise_filter, strides=1, padding="VALID", data_format=data_format)


def conv1d(input, filters, stride=1, padding="VALID", data_format="NWC", dilations=None, name=None):  # noqa: A002
    """tf.nn.conv1d: input (N, W, C), filters (KW, C / groups, F); conv2d with H = 1."""
    x, k = operands(input, filters)
    _channels_last("conv1d", data_format, ("NWC",))
    _rank("conv1d", x, 3, "NWC")
    if k.ndim != 3:
        raise InvalidArgumentError(f"conv1d: filters must be (width, in, out), got {k.dtype.name}{list(k.shape)}")
    out = conv2d(expand_dims(x, 1), expand_dims(k, 0), strides=_hw("conv1d", "stride", stride, rank=1),
                 padding=padding, dilations=_hw("conv1d", "dilations", 1 if dilations is None else dilations, rank=1))
    return squeeze(out, 1)


def _pool2d(op, input, ksize, strides, padding, data_format):  # noqa: A002
    x = operands(input)[0]
    _channels_last(op, data_format, ("NHWC",))
    _rank(op, x, 4, "NHWC")
    pool = _hw(op, "ksize", ksize)
    strides = _hw(op, "strides", strides)
    if not isinstance(padding, str):
        raise InvalidArgumentError(f"{op}: padding must be 'SAME' or 'VALID', got {padding!r}")
    pads, _ = conv_prims.window_geometry(op, tuple(x.shape[1:3]), pool, strides, (1, 1), padding)
    return x, dict(pool_size=pool, strides=strides, pads=pads)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """Maximum over `ksize` windows of NHWC `input`, moved by `strides`, with padding 'VALID' or 'SAME'.

        The gradient goes to the first maximum of each window (row-major order), as in TF.

        Differs from TF:
            Channels-last (NHWC) only.
    """
    x, params = _pool2d("max_pool2d", input, ksize, strides, padding, data_format)
    return pool_prims.max_pool2d(x, **params)[0]


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """Mean over `ksize` windows of NHWC `input`, moved by `strides`; with 'SAME' padding the mean is
        over the window's real elements only, as in TF.

        Differs from TF:
            Channels-last (NHWC) only.
    """
    x, params = _pool2d("avg_pool2d", input, ksize, strides, padding, data_format)
    return pool_prims.avg_pool2d(x, **params)


def _pool1d(pool2d, op, input, ksize, strides, padding, data_format):  # noqa: A002
    x = operands(input)[0]
    _channels_last(op, data_format, ("NWC",))
    _rank(op, x, 3, "NWC")
    out = pool2d(expand_dims(x, 1), _hw(op, "ksize", ksize, rank=1), _hw(op, "strides", strides, rank=1), padding)
    return squeeze(out, 1)


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """tf.nn.max_pool1d: max_pool2d over (N, W, C) `input` with H = 1."""
    return _pool1d(max_pool2d, "max_pool1d", input, ksize, strides, padding, data_format)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """tf.nn.avg_pool1d: avg_pool2d over (N, W, C) `input` with H = 1."""
    return _pool1d(avg_pool2d, "avg_pool1d", input, ksize, strides, padding, data_format)


def _by_rank(op, x, ops_by_rank):
    fn = ops_by_rank.get(len(x.shape))
    if fn is None:
        raise InvalidArgumentError(f"{op}: input must be (N, W, C) or (N, H, W, C), got {x.dtype.name}{list(x.shape)}"
                                   f"; 3-D data (rank 5) is not supported")
    return fn


def max_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """tf.nn.max_pool: max_pool1d or max_pool2d, by the rank of `input` (3 or 4)."""
    x = operands(input)[0]
    return _by_rank("max_pool", x, {3: max_pool1d, 4: max_pool2d})(x, ksize, strides, padding,
                                                                   data_format=data_format)


def avg_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """tf.nn.avg_pool: avg_pool1d or avg_pool2d, by the rank of `input` (3 or 4)."""
    x = operands(input)[0]
    return _by_rank("avg_pool", x, {3: avg_pool1d, 4: avg_pool2d})(x, ksize, strides, padding,
                                                                   data_format=data_format)


def convolution(input, filters, strides=None, padding="VALID", data_format=None, dilations=None, name=None):  # noqa: A002
    """tf.nn.convolution: conv1d or conv2d, by the rank of `input` (3 or 4)."""
    x = operands(input)[0]
    fn = _by_rank("convolution", x, {3: conv1d, 4: conv2d})
    return fn(x, filters, 1 if strides is None else strides, padding, data_format=data_format, dilations=dilations)
